package redisadapter_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	client "github.com/zishang520/socket.io/clients/socket/v3"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/sio3/internal/siotest"
	"github.com/sioredis/sioredis/sio3/redisadapter"
)

// TestHandshakeRedaction: fetchSockets answers of the v3 binding redact
// credentials headers by default; WithoutHandshakes publishes none of what
// the client sent; the local socket's own handshake is left intact.
func TestHandshakeRedaction(t *testing.T) {
	srv := redistest.Start(t)
	hdr := http.Header{"Cookie": {"session=s3cret"}, "Authorization": {"Bearer t0ken"}, "X-Trace": {"abc"}}
	for _, tc := range []struct {
		name  string
		opts  []redisadapter.Option
		check func(t *testing.T, hs *socket.Handshake)
	}{
		{"default", nil, func(t *testing.T, hs *socket.Handshake) {
			for _, h := range []string{"cookie", "authorization"} {
				if v := headerOf(hs, h); !isRedacted(v) {
					t.Fatalf("%s = %#v, want redacted (headers %#v)", h, v, hs.Headers)
				}
			}
			if v := headerOf(hs, "x-trace"); isRedacted(v) || v == nil {
				t.Fatalf("x-trace = %#v, want kept", v)
			}
		}},
		{"without handshakes", []redisadapter.Option{redisadapter.WithoutHandshakes()}, func(t *testing.T, hs *socket.Handshake) {
			if len(hs.Headers) != 0 || len(hs.Query) != 0 || hs.Url != "" {
				t.Fatalf("handshake published: %+v", hs)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ra, rb := redis.NewClient(srv.Options()), redis.NewClient(srv.Options())
			a := siotest.StartNode(t, "a", ra, redisadapter.New(ra))
			b := siotest.StartNode(t, "b", rb, redisadapter.New(rb, tc.opts...))
			siotest.DialWith(t, b.URL, "/", func(o *client.Options) { o.SetExtraHeaders(hdr) })
			var got []*socket.RemoteSocket
			var err error
			a.IO.FetchSockets()(func(s []*socket.RemoteSocket, e error) { got, err = s, e })
			if err != nil || len(got) != 1 {
				t.Fatalf("fetchSockets: %d, %v", len(got), err)
			}
			tc.check(t, got[0].Handshake())
		})
	}
}

// headerOf finds a header whatever the case of its key.
func headerOf(hs *socket.Handshake, name string) any {
	for k, v := range hs.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

func isRedacted(v any) bool {
	switch l := v.(type) {
	case string:
		return l == "[redacted]"
	case []string:
		return len(l) == 1 && l[0] == "[redacted]"
	case []any:
		return len(l) == 1 && l[0] == "[redacted]"
	}
	return false
}
