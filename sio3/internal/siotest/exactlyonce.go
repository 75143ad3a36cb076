package siotest

import (
	"net/url"
	"testing"

	"github.com/sioredis/sioredis/internal/exactlyonce"
	"github.com/sioredis/sioredis/internal/rawclient"
)

// The socket.io-free parts of the kit live in the root module's
// internal/exactlyonce and internal/rawclient; these names keep the kit's
// callers as they are.

// Quiet is how long the exactly-once checks wait for silence before they
// look for a repeat (see [exactlyonce.Quiet]).
const Quiet = exactlyonce.Quiet

type (
	// RawClient is the raw-frame client of internal/rawclient.
	RawClient = rawclient.Client
	// Frame is one EVENT packet as a RawClient read it off the wire.
	Frame = rawclient.Frame
	// RawOptions are the extras of DialRawWith.
	RawOptions = rawclient.Options
)

// DialRaw connects a RawClient to the server at baseURL (see
// [rawclient.Dial]); with wait set it waits for a Node's ready event.
func DialRaw(t testing.TB, baseURL, nsp string, query url.Values, wait bool) *RawClient {
	t.Helper()
	return rawclient.Dial(t, baseURL, nsp, query, wait)
}

// DialRawWith is DialRaw with a CONNECT payload (connection state
// recovery's pid and offset) and upgrade headers.
func DialRawWith(t testing.TB, baseURL, nsp string, query url.Values, o RawOptions, wait bool) *RawClient {
	t.Helper()
	return rawclient.DialWith(t, baseURL, nsp, query, o, wait)
}
