package redisadapter_test

import (
	"net/http"
	"testing"

	"github.com/redis/go-redis/v9"
	client "github.com/zishang520/socket.io/clients/socket/v3"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/sio3/internal/siotest"
	"github.com/sioredis/sioredis/sio3/redisadapter"
)

// TestHandshakeFilterOption: a filter of one's own (WithHandshakeFilter,
// shared with the v2 binding) decides what fetchSockets answers carry of
// the handshake; RedactCredentials called from it keeps the default
// redaction, and WithoutCredentialRedaction publishes credentials as sent.
func TestHandshakeFilterOption(t *testing.T) {
	srv := redistest.Start(t)
	hdr := http.Header{"Cookie": {"session=s3cret"}, "X-Trace": {"abc"}}
	for _, tc := range []struct {
		name  string
		opt   redisadapter.Option
		check func(t *testing.T, hs *socket.Handshake)
	}{
		{"custom", redisadapter.WithHandshakeFilter(func(h *socket.Handshake) {
			redisadapter.RedactCredentials(h)
			for k := range h.Headers {
				if k == "x-trace" || k == "X-Trace" {
					delete(h.Headers, k)
				}
			}
			h.Query = nil
		}), func(t *testing.T, hs *socket.Handshake) {
			if v := headerOf(hs, "cookie"); !isRedacted(v) {
				t.Fatalf("cookie = %#v, want redacted", v)
			}
			if v := headerOf(hs, "x-trace"); v != nil {
				t.Fatalf("x-trace = %#v, want dropped by the filter", v)
			}
			if len(hs.Query) != 0 {
				t.Fatalf("query = %#v, want cleared by the filter", hs.Query)
			}
		}},
		{"no redaction", redisadapter.WithoutCredentialRedaction(), func(t *testing.T, hs *socket.Handshake) {
			if v := headerOf(hs, "cookie"); v == nil || isRedacted(v) {
				t.Fatalf("cookie = %#v, want as sent", v)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ra, rb := redis.NewClient(srv.Options()), redis.NewClient(srv.Options())
			a := siotest.StartNode(t, "a", ra, redisadapter.New(ra))
			b := siotest.StartNode(t, "b", rb, redisadapter.New(rb, tc.opt))
			siotest.DialWith(t, b.URL, "/", func(o *client.Options) { o.SetExtraHeaders(hdr) })
			var got []*socket.RemoteSocket
			var err error
			a.IO.FetchSockets()(func(s []*socket.RemoteSocket, e error) { got, err = s, e })
			if err != nil || len(got) != 1 {
				t.Fatalf("fetchSockets: %d, %v", len(got), err)
			}
			tc.check(t, got[0].Handshake())
			local, ok := b.IO.Of("/", nil).Sockets().Load(socket.SocketId(got[0].Id()))
			if !ok {
				t.Fatal("local socket not found")
			}
			if v := headerOf(local.Handshake(), "cookie"); v == nil || isRedacted(v) {
				t.Fatalf("the local socket's own cookie = %#v, want untouched", v)
			}
		})
	}
}
