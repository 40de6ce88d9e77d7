package openwhisk_test

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes a container get SIGTERM when the test binary dies, so that a test killed
// before its cleanup leaves no `reclave serve` process behind.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
