//go:build !linux

package sgx

const populate = 0
