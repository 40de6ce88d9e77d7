//go:build !reclave_nohostcalls

package wasi

// accounting is true: host calls are counted (calls.go). Building with the tag
// reclave_nohostcalls sets it to false and compiles the counting out, only to measure what it
// costs (see BenchmarkHostCallAccounting in enclave/bench_test.go); budgets then count
// nothing either, and no call is ever refused.
const accounting = true
