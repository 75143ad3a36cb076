package wstransport

import (
	"bytes"
	"net"
	"sync"
	"testing"
	"time"
)

// countingConn records each Write it gets.
type countingConn struct {
	net.Conn
	mu     sync.Mutex
	writes [][]byte
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.writes = append(c.writes, append([]byte(nil), p...))
	c.mu.Unlock()
	return len(p), nil
}

func TestCorkCollectsWritesIntoOne(t *testing.T) {
	under := &countingConn{}
	c := &corkConn{Conn: under}

	// Uncorked: straight through.
	if _, err := c.Write([]byte("a")); err != nil {
		t.Fatal(err)
	}
	c.Cork()
	for _, s := range []string{"bb", "ccc", "dddd"} {
		if n, err := c.Write([]byte(s)); err != nil || n != len(s) {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if len(under.writes) != 1 {
		t.Fatalf("corked writes reached the connection: %q", under.writes)
	}
	if err := c.Uncork(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("e")); err != nil {
		t.Fatal(err)
	}
	want := []string{"a", "bbcccdddd", "e"}
	if len(under.writes) != len(want) {
		t.Fatalf("writes %q, want %q", under.writes, want)
	}
	for i, w := range want {
		if string(under.writes[i]) != w {
			t.Fatalf("write %d = %q, want %q", i, under.writes[i], w)
		}
	}
	if c.buf != nil {
		t.Fatal("an uncorked connection keeps its batch buffer")
	}
}

func TestCorkStreamsLargeBatches(t *testing.T) {
	under := &countingConn{}
	c := &corkConn{Conn: under}
	c.Cork()
	chunk := bytes.Repeat([]byte("x"), 10<<10)
	for i := 0; i < 20; i++ { // 200 KiB
		if _, err := c.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Uncork(); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, w := range under.writes {
		if len(w) > maxCorked+len(chunk) {
			t.Fatalf("a write of %d bytes: the batch buffer grew past its bound", len(w))
		}
		total += len(w)
	}
	if total != 20*len(chunk) {
		t.Fatalf("wrote %d bytes, want %d", total, 20*len(chunk))
	}
	if len(under.writes) < 3 || len(under.writes) > 5 {
		t.Fatalf("%d writes for 200 KiB in 64 KiB batches", len(under.writes))
	}
}

func TestCorkReportsWriteErrors(t *testing.T) {
	a, b := net.Pipe()
	b.Close()
	c := &corkConn{Conn: a}
	c.Cork()
	if _, err := c.Write([]byte("lost")); err != nil {
		t.Fatalf("corked write failed early: %v", err)
	}
	if err := c.Uncork(); err == nil {
		t.Fatal("Uncork on a closed pipe: no error")
	}
	if _, err := c.Write([]byte("x")); err == nil {
		t.Fatal("Write on a closed pipe: no error")
	}
}

// deadlineConn counts SetWriteDeadline calls.
type deadlineConn struct {
	countingConn
	sets int
}

func (c *deadlineConn) SetWriteDeadline(time.Time) error { c.sets++; return nil }

func TestCorkSkipsUnchangedWriteDeadlines(t *testing.T) {
	under := &deadlineConn{}
	c := &corkConn{Conn: under}
	for i := 0; i < 3; i++ {
		if err := c.SetWriteDeadline(time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if under.sets != 0 {
		t.Fatalf("%d calls to set the unset deadline", under.sets)
	}
	d := time.Now().Add(time.Second)
	_ = c.SetWriteDeadline(d)
	_ = c.SetWriteDeadline(d)
	_ = c.SetWriteDeadline(time.Time{})
	if under.sets != 2 {
		t.Fatalf("%d deadline changes reached the connection, want 2", under.sets)
	}
}
