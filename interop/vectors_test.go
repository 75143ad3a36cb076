package interop_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// vectorsFile is the one copy of the golden Node vectors; the Go encoders
// are checked against it by internal/protocol (TestNodeVectors) and emitter
// (TestGoldenNode*).
const vectorsFile = "../internal/protocol/testdata/node-vectors.json"

// TestRecordedVectors re-records the golden vectors with the pinned npm
// packages (node/record-vectors.js on a private redis-server) and requires
// the recording to equal the committed file byte for byte. Together with
// TestNodeVectors this fails whenever what Node sends and what the Go
// encoders produce drift apart: after a package upgrade, run `npm run
// record-vectors` here and then the Go tests.
func TestRecordedVectors(t *testing.T) {
	t.Parallel()
	bin := requireNode(t)
	stop := t.Skipf
	if os.Getenv("CI") != "" {
		stop = t.Fatalf
	}
	if _, err := os.Stat(filepath.Join("node_modules", "@socket.io", "redis-streams-adapter", "package.json")); err != nil {
		stop("interop: node_modules/@socket.io/redis-streams-adapter is missing: run `cd interop && npm ci`")
		return
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		stop("interop: redis-server is not on PATH: apt-get install -y redis-server")
		return
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "node/record-vectors.js", "-")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	got, err := cmd.Output()
	if err != nil {
		t.Fatalf("record-vectors: %v\n%s", err, tail(stderr.String(), 4000))
	}
	want, err := os.ReadFile(vectorsFile)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(got, want) {
		return
	}
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(gl), len(wl)) {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Fatalf("the recording differs from %s at line %d:\n got %q\nwant %q\n"+
				"(re-record with `npm run record-vectors` in interop/ and check the Go tests)", vectorsFile, i+1, g, w)
		}
	}
	t.Fatalf("the recording differs from %s", vectorsFile)
}
