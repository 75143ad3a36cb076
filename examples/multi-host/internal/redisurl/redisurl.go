// Package redisurl reads the demo's Redis settings so that a password never
// shows: the URL comes from a flag or the environment (REDIS_URL), the
// password may come from REDIS_PASSWORD, and what is printed is redacted.
//
// Flags are visible to every user of the machine in the process list;
// environment variables only to the process's user (and root). Hence the
// demo passes the URL to the processes it starts through the environment.
package redisurl

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Default is the Redis URL without flag or environment.
const Default = "redis://localhost:6379"

// FlagUsage is the help text of a -redis flag whose default is empty (a
// default read from the environment would print the password in -h).
const FlagUsage = "Redis URL (default: env REDIS_URL, else " + Default + "). " +
	"Prefer REDIS_URL and REDIS_PASSWORD for credentials: every user sees flags in the process list"

// Resolve is flagValue, else env REDIS_URL, else Default.
func Resolve(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if v := os.Getenv("REDIS_URL"); v != "" {
		return v
	}
	return Default
}

// Options parses a redis:// or rediss:// URL (a bare host:port is accepted
// too); env REDIS_PASSWORD, when set, is the password. An error names the
// URL redacted.
func Options(raw string) (*redis.Options, error) {
	full := raw
	if !strings.Contains(full, "://") {
		full = "redis://" + full
	}
	opts, err := redis.ParseURL(full)
	if err != nil {
		// url.Error quotes the whole URL, password included: keep only
		// its cause.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return nil, fmt.Errorf("bad Redis URL %s: %s", Redact(full), redactIn(err.Error(), full))
	}
	if pw := os.Getenv("REDIS_PASSWORD"); pw != "" {
		opts.Password = pw
	}
	return opts, nil
}

// Redact hides the user information (user and password) of a URL.
func Redact(raw string) string {
	if i := strings.Index(raw, "://"); i >= 0 {
		if j := strings.LastIndex(raw, "@"); j > i {
			return raw[:i+3] + "***@" + raw[j+1:]
		}
	}
	return raw
}

// redactIn replaces the user information of raw wherever it shows in s.
func redactIn(s, raw string) string {
	i := strings.Index(raw, "://")
	j := strings.LastIndex(raw, "@")
	if i < 0 || j <= i+3 {
		return s
	}
	return strings.ReplaceAll(s, raw[i+3:j], "***")
}
