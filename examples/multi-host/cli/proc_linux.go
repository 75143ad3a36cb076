package cli

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal makes Linux send SIGTERM to the child if this
// process dies without stopping it (e.g. kill -9), so that no host or
// redis-server outlives "all".
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
