package bench

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the child proxy get SIGKILL if bench dies without
// stopping it, so no stray llmedge outlives a killed compare.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
