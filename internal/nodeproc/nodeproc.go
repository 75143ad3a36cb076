// Package nodeproc runs the child processes of the interop tests (Node.js
// scripts, test binaries of another socket.io version) that speak
// line-delimited JSON: a command {"id":n,...} written to stdin is answered by
// a stdout line {"id":n,"result":...} or {"id":n,"error":"..."}; every other
// line goes to the caller. It needs no socket.io library, so the interop
// tests of both bindings share it.
package nodeproc

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// Buffer collects a process's output, up to 1 MiB; it is safe for
// concurrent use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p, or drops it once the buffer holds 1 MiB.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 1<<20 {
		return len(p), nil
	}
	return s.b.Write(p)
}

// String returns what was collected.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Tail is the last n bytes of s, marked as cut when it is longer.
func Tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// Options are the extras of Start.
type Options struct {
	// OnLine receives, on the reading goroutine, every stdout line that
	// is not an answer (JSON or not); nil drops them.
	OnLine func(line []byte)
	// Interrupt sends SIGINT after closing stdin when the test ends, for
	// processes that do not stop at the end of their input.
	Interrupt bool
}

// Proc is a started child process.
type Proc struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *Buffer
	exited chan struct{}
	onLine func(line []byte)

	wmu sync.Mutex // serialises writes to stdin

	mu      sync.Mutex
	nextID  int
	waiters map[int]chan reply
	log     []string // stdout lines that are not JSON
}

type reply struct {
	ID     int             `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *string         `json:"error"`
}

// Start starts cmd (its Stdout, Stdin and Stderr are the Proc's) and stops
// it when the test ends: stdin closed (and SIGINT if o.Interrupt), then
// SIGKILL after 3 s. If the test failed, its stderr and its stdout lines
// that were not JSON are logged.
func Start(t testing.TB, name string, cmd *exec.Cmd, o Options) *Proc {
	t.Helper()
	p := &Proc{name: name, cmd: cmd, stderr: &Buffer{}, exited: make(chan struct{}), onLine: o.OnLine,
		waiters: map[int]chan reply{}}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go p.read(stdout)
	t.Cleanup(func() {
		_ = p.stdin.Close()
		if o.Interrupt {
			_ = cmd.Process.Signal(os.Interrupt)
		}
		select {
		case <-p.exited:
		case <-time.After(3 * time.Second):
			_ = cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			if s := p.stderr.String(); s != "" {
				t.Logf("%s stderr:\n%s", name, Tail(s, 4000))
			}
			p.mu.Lock()
			if len(p.log) > 0 {
				t.Logf("%s other output:\n%s", name, Tail(strings.Join(p.log, "\n"), 4000))
			}
			p.mu.Unlock()
		}
	})
	return p
}

// Name is the name the process was started with.
func (p *Proc) Name() string { return p.name }

// Exited is closed once the process has exited.
func (p *Proc) Exited() <-chan struct{} { return p.exited }

// Stderr is what the process wrote to stderr so far.
func (p *Proc) Stderr() string { return p.stderr.String() }

func (p *Proc) read(r io.Reader) {
	defer func() {
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	br := bufio.NewReaderSize(r, 1<<16)
	for {
		line, err := br.ReadBytes('\n')
		if line = bytes.TrimSpace(line); len(line) > 0 {
			p.dispatch(line)
		}
		if err != nil {
			return
		}
	}
}

// dispatch hands an answer to its caller and any other line to onLine.
func (p *Proc) dispatch(line []byte) {
	var probe struct {
		ID *int `json:"id"`
	}
	if err := json.Unmarshal(line, &probe); err != nil {
		p.mu.Lock()
		p.log = append(p.log, string(line))
		p.mu.Unlock()
	} else if probe.ID != nil {
		var r reply
		_ = json.Unmarshal(line, &r)
		p.mu.Lock()
		ch := p.waiters[r.ID]
		delete(p.waiters, r.ID)
		p.mu.Unlock()
		if ch != nil {
			ch <- r
		}
		return
	}
	if p.onLine != nil {
		p.onLine(line)
	}
}

// Try sends cmd, with an "id" added, as one JSON line and waits at most
// within for its answer: the result, or the error the process answered.
func (p *Proc) Try(cmd map[string]any, within time.Duration) (json.RawMessage, error) {
	ch := make(chan reply, 1)
	p.mu.Lock()
	p.nextID++
	id := p.nextID
	p.waiters[id] = ch
	p.mu.Unlock()
	c := make(map[string]any, len(cmd)+1)
	for k, v := range cmd {
		c[k] = v
	}
	c["id"] = id
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	p.wmu.Lock()
	_, err = p.stdin.Write(append(b, '\n'))
	p.wmu.Unlock()
	if err != nil {
		return nil, err
	}
	timer := time.NewTimer(within)
	defer timer.Stop()
	select {
	case r := <-ch:
		if r.Error != nil {
			return nil, errors.New(*r.Error)
		}
		return r.Result, nil
	case <-p.exited:
		return nil, fmt.Errorf("process exited; stderr:\n%s", Tail(p.stderr.String(), 2000))
	case <-timer.C:
		return nil, fmt.Errorf("no answer within %v", within)
	}
}

// Call is Try that fails the test on an error.
func (p *Proc) Call(t testing.TB, cmd map[string]any, within time.Duration) json.RawMessage {
	t.Helper()
	res, err := p.Try(cmd, within)
	if err != nil {
		t.Fatalf("%s %v: %v", p.name, cmd["op"], err)
	}
	return res
}
