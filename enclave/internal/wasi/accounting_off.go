//go:build reclave_nohostcalls

package wasi

// accounting is false: this build measures what counting host calls costs by leaving it out
// (see accounting_on.go). Never ship it: accounts are empty and budgets are not enforced.
const accounting = false
