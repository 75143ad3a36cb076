package core

import (
	"strings"

	"github.com/sioredis/sioredis/internal/protocol"
)

// Redacted replaces the values of the headers RedactCredentials hides.
const Redacted = "[redacted]"

// credentialHeaders are the headers RedactCredentials hides, lower case.
var credentialHeaders = map[string]bool{"cookie": true, "authorization": true, "proxy-authorization": true}

// RedactCredentials is the default handshake filter: it replaces the
// values of the Cookie, Authorization and Proxy-Authorization headers with
// Redacted, so that a session cookie or bearer token does not travel to
// every server and to whoever can read the Redis channels. Query and auth
// are kept (applications read them on remote sockets); a filter of one's
// own can clear them. h is a copy the filter may edit; its header map is
// its own.
func RedactCredentials(h *protocol.Handshake) {
	for k := range h.Headers {
		if IsCredentialHeader(k) {
			h.Headers[k] = []string{Redacted}
		}
	}
}

// IsCredentialHeader reports whether RedactCredentials hides the header
// name (any case), for the bindings whose handshake types differ.
func IsCredentialHeader(name string) bool { return credentialHeaders[strings.ToLower(name)] }

// FilterHandshake returns the handshake to publish for hs: a copy with its
// own header, query and auth maps, edited by filter (hs itself when filter is
// nil).
func FilterHandshake(hs *protocol.Handshake, filter func(*protocol.Handshake)) *protocol.Handshake {
	if hs == nil || filter == nil {
		return hs
	}
	cp := *hs
	cp.Headers = make(map[string][]string, len(hs.Headers))
	for k, v := range hs.Headers {
		cp.Headers[k] = v
	}
	cp.Query = make(map[string][]string, len(hs.Query))
	for k, v := range hs.Query {
		cp.Query[k] = v
	}
	if auth, ok := hs.Auth.(map[string]any); ok {
		m := make(map[string]any, len(auth))
		for k, v := range auth {
			m[k] = v
		}
		cp.Auth = m
	}
	filter(&cp)
	return &cp
}
