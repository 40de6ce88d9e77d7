//go:build !race

package wasmbin

// raceEnabled is true when the tests run under the race detector.
const raceEnabled = false
