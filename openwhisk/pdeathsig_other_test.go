//go:build !linux

package openwhisk_test

import "os/exec"

// dieWithParent does nothing where there is no parent-death signal: the test's cleanup stops
// the containers.
func dieWithParent(*exec.Cmd) {}
