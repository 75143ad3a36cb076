//go:build !linux

package cli

import "os/exec"

// setParentDeathSignal does nothing outside Linux: children are stopped by
// "all" itself on Ctrl-C.
func setParentDeathSignal(*exec.Cmd) {}
