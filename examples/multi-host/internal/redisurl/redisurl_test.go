package redisurl

import (
	"strings"
	"testing"
)

// TestNoPasswordInErrors: a URL that does not parse is reported without
// its password (url.Parse quotes the whole URL in its error).
func TestNoPasswordInErrors(t *testing.T) {
	for _, raw := range []string{
		"redis://user:s3cret@host:notaport",
		"redis://:s3cret@host:6379/notadb",
		"http://user:s3cret@host:6379",
	} {
		_, err := Options(raw)
		if err == nil {
			t.Fatalf("%s: no error", raw)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Fatalf("the error shows the password: %v", err)
		}
	}
}

func TestPasswordFromEnvironment(t *testing.T) {
	t.Setenv("REDIS_URL", "redis://127.0.0.1:7000")
	t.Setenv("REDIS_PASSWORD", "s3cret")
	raw := Resolve("")
	opts, err := Options(raw)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Addr != "127.0.0.1:7000" || opts.Password != "s3cret" {
		t.Fatalf("addr %q password %q", opts.Addr, opts.Password)
	}
	if got := Resolve("redis://other:7001"); got != "redis://other:7001" {
		t.Fatalf("a flag value does not win over REDIS_URL: %q", got)
	}
	if got := Redact("rediss://user:s3cret@host:6380/0"); got != "rediss://***@host:6380/0" {
		t.Fatalf("Redact: %q", got)
	}
}
