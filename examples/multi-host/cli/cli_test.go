package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestUsageHidesRedisPassword: -h prints every flag's default; a default
// taken from REDIS_URL would print its password.
func TestUsageHidesRedisPassword(t *testing.T) {
	t.Setenv("REDIS_URL", "redis://user:s3cret-pw@127.0.0.1:6390")
	t.Setenv("REDIS_PASSWORD", "s3cret-pw")
	for _, cmd := range []string{"host", "cron", "all", "balancer"} {
		var out bytes.Buffer
		if code := Main(context.Background(), []string{cmd, "-h"}, &out, &out); code != 0 {
			t.Fatalf("%s -h: exit %d\n%s", cmd, code, out.String())
		}
		if strings.Contains(out.String(), "s3cret-pw") {
			t.Errorf("%s -h shows the password:\n%s", cmd, out.String())
		}
	}
}

// TestBadRedisURLHidesPassword: a Redis URL that does not parse is
// reported without its password.
func TestBadRedisURLHidesPassword(t *testing.T) {
	var out bytes.Buffer
	code := Main(context.Background(), []string{"host", "-listen", "127.0.0.1:0", "-redis", "redis://user:s3cret-pw@host:notaport"}, &out, &out)
	if code == 0 || !strings.Contains(out.String(), "bad Redis URL") {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	if strings.Contains(out.String(), "s3cret-pw") {
		t.Fatalf("the error shows the password: %s", out.String())
	}
}

// TestBalancerListensOnLoopbackByDefault: the load balancer of "all" and
// "balancer" is reachable from this machine only unless -listen says
// otherwise.
func TestBalancerListensOnLoopbackByDefault(t *testing.T) {
	for _, cmd := range []string{"all", "balancer"} {
		var out bytes.Buffer
		Main(context.Background(), []string{cmd, "-h"}, &out, &out)
		if !strings.Contains(out.String(), `(default "127.0.0.1:8080")`) {
			t.Errorf("%s -h: the default listen address is not loopback:\n%s", cmd, out.String())
		}
	}
}
