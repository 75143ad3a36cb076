package redistest

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// fakeDocker stands in for the docker client on a machine without an
// engine: each "container" is a redis-server process on the 127.0.0.1 port
// given to --publish. It answers the subcommands container.go uses, in the
// forms container.go uses them, and records every call in $STATE/calls.
const fakeDocker = `#!/bin/sh
set -e
state="${FAKE_DOCKER_STATE:?}"
echo "$*" >> "$state/calls"
cmd="$1"; shift
last() { for a in "$@"; do l="$a"; done; echo "$l"; }
up() {
	redis-server --port "$(cat "$state/$1.port")" --bind 127.0.0.1 --save "" --appendonly no \
		--daemonize yes --pidfile "$state/$1.pid" --dir "$state" >/dev/null
}
down() {
	[ -f "$state/$1.pid" ] || return 0
	pid="$(cat "$state/$1.pid")"
	kill "$2" "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
	rm -f "$state/$1.pid"
}
case "$cmd" in
version) echo 0.0-fake ;;
context) echo unix:///var/run/fake-docker.sock ;;
run)
	while [ $# -gt 0 ]; do
		case "$1" in
		--detach) shift ;;
		--label) shift 2 ;;
		--publish) publish="$2"; shift 2 ;;
		*) break ;;
		esac
	done
	[ "$1" = redis:7.2-alpine ] || { echo "unexpected image $1" >&2; exit 1; }
	id="fake$$"
	echo "$publish" | cut -d: -f2 > "$state/$id.port"
	up "$id"
	echo "$id" ;;
start) up "$1" ;;
stop) down "$(last "$@")" -TERM ;;
kill) down "$(last "$@")" -KILL ;;
rm) id="$(last "$@")"; down "$id" -KILL; rm -f "$state/$id.port"; echo "$id" ;;
port) echo "127.0.0.1:$(cat "$state/$1.port")" ;;
*) echo "fake docker: unknown command $cmd" >&2; exit 1 ;;
esac
`

// TestContainerFallbackDrivesDockerCLI runs the Docker fallback against a
// stand-in docker client whose containers are local redis-server processes:
// a container is published on a fixed loopback port, serves commands,
// survives Restart on the same port, goes down on Kill and is removed when
// its test ends.
func TestContainerFallbackDrivesDockerCLI(t *testing.T) {
	if _, err := redisServerBin(); err != nil {
		t.Skip("the stand-in docker client starts redis-server, which is not on PATH")
	}
	bin, state := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "docker"), []byte(fakeDocker), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("FAKE_DOCKER_STATE", state)

	var addr string
	t.Run("container", func(t *testing.T) {
		s := &Server{b: startContainer(t)}
		addr = s.Addr()
		if !strings.HasPrefix(addr, "127.0.0.1:") {
			t.Fatalf("Addr() = %q, want a 127.0.0.1 port", addr)
		}
		ctx := context.Background()
		rdb := s.Client(t)
		if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
			t.Fatal(err)
		}

		s.Restart(t)
		if s.Addr() != addr {
			t.Fatalf("after Restart: Addr() = %q, want %q", s.Addr(), addr)
		}
		if err := rdb.Get(ctx, "k").Err(); err != redis.Nil {
			t.Fatalf("after Restart: GET k = %v, want an empty data set", err)
		}

		s.Kill(t)
		if s.Running() {
			t.Fatal("Running() after Kill")
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Fatalf("%s still accepts connections after Kill", addr)
		}
		s.Restart(t)
		if err := rdb.Ping(ctx).Err(); err != nil {
			t.Fatalf("PING after Kill and Restart: %v", err)
		}
	})

	// The subtest's cleanup removed the container.
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatalf("%s still accepts connections after the test ended", addr)
	}
	calls, err := os.ReadFile(filepath.Join(state, "calls"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"context inspect", "run --detach --label " + containerLabel + " --publish " + addr + ":" + redisPort,
		"stop --time", "start ", "kill ", "start ", "rm --force --volumes "}
	got := string(calls)
	for _, w := range want {
		i := strings.Index(got, w)
		if i < 0 {
			t.Fatalf("docker calls (in order) lack %q:\n%s", w, calls)
		}
		got = got[i+len(w):]
	}
}
