package announce_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sioredis/sioredis/emitter"
	"github.com/sioredis/sioredis/examples/multi-host/announce"
	"github.com/sioredis/sioredis/examples/multi-host/internal/hosttest"
	"github.com/sioredis/sioredis/internal/redistest"
)

// TestRunSaysHowManyHosts: the cron job logs how many hosts Redis delivered
// its announcement to, and warns when none listened (a wrong prefix).
func TestRunSaysHowManyHosts(t *testing.T) {
	rs := redistest.Start(t)
	key := fmt.Sprintf("mh-announce-%d", time.Now().UnixNano())
	hosttest.Start(t, rs, "host-1", key, nil)
	hosttest.Start(t, rs, "host-2", key, nil)
	rdb := rs.Client(t)
	for _, c := range []struct {
		key, want string
	}{
		{key, `"msg":"announcement posted","job":"cron","room":"lobby","hosts":2`},
		{"wrong-" + key, `"level":"WARN","msg":"announcement reached 0 hosts`},
	} {
		var logs bytes.Buffer
		log := slog.New(slog.NewJSONHandler(&logs, nil)).With("job", "cron")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := announce.Run(ctx, emitter.New(rdb, emitter.WithKey(c.key)), announce.Message{Text: "hi"}, 0, log)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(logs.String(), c.want) {
			t.Errorf("key %s: log %q, want it to contain %q", c.key, logs.String(), c.want)
		}
	}
}
