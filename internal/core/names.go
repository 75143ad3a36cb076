package core

import (
	"fmt"
	"strings"
)

// CheckNamespace tells whether namespace nsp can be shared through Redis.
// Both wire formats build channels as P#N# and P#N#R#, so a namespace
// containing '#' would share its channels with another namespace's rooms
// ("/a#b" and room "b" of "/a"), or its answers with another server's
// private channel (room or namespace named after a uid). Such a namespace is
// refused: counted, logged at Warn, and the binding serves it locally only.
// Node does not check; a Node server would use those channels.
func (h *Hub) CheckNamespace(nsp string) error {
	if !strings.Contains(nsp, "#") {
		return nil
	}
	h.stats.refusedNamespaces.Add(1)
	err := fmt.Errorf("%w: %q is served without Redis (its channels would be another namespace's)", ErrInvalidNamespace, nsp)
	h.log.warn("namespace-refused", "namespace refused", "nsp", nsp, "err", err)
	return err
}
