package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// readyTimeout bounds how long a freshly started server may take to
	// answer PING.
	readyTimeout = 10 * time.Second
	// stopTimeout bounds how long a server may take to exit after SIGTERM
	// before it is killed.
	stopTimeout = 10 * time.Second
	// pollInterval is how often readiness and cluster state are polled.
	pollInterval = 25 * time.Millisecond
	// startAttempts is how many fresh ports are tried when a port turns out
	// to be taken by someone else between picking it and binding it.
	startAttempts = 5
)

var (
	redisServerOnce sync.Once
	redisServerPath string
	redisServerErr  error
)

// redisServerBin returns the path of redis-server on PATH.
func redisServerBin() (string, error) {
	redisServerOnce.Do(func() {
		redisServerPath, redisServerErr = exec.LookPath("redis-server")
	})
	return redisServerPath, redisServerErr
}

var (
	portMu   sync.Mutex
	portUsed = map[int]bool{}
)

// freePort returns a loopback TCP port that was free a moment ago and that
// this process has not handed out before, so parallel tests in one binary
// never race for the same port. Collisions with other processes are handled
// by retrying the start (see errPortInUse).
func freePort() (int, error) {
	portMu.Lock()
	defer portMu.Unlock()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("pick a free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !portUsed[port] {
			portUsed[port] = true
			return port, nil
		}
	}
	return 0, errors.New("pick a free port: no unused port after 100 tries")
}

// errPortInUse reports that redis-server could not bind one of its ports.
var errPortInUse = errors.New("port already in use")

// instance is a redis-server we own: a fixed port (and, for cluster nodes,
// bus port) and directory, and at most one running process at a time.
type instance struct {
	dir  string
	port int
	args []string // all command-line arguments

	mu   sync.Mutex
	proc *process // nil while stopped
}

// newInstance describes a redis-server on port, working in dir, with extra
// arguments appended to the common ones.
func newInstance(dir string, port int, extra ...string) *instance {
	args := []string{
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--dir", dir,
		"--logfile", filepath.Join(dir, "redis.log"),
		"--daemonize", "no",
		"--save", "",
		"--appendonly", "no",
	}
	return &instance{dir: dir, port: port, args: append(args, extra...)}
}

func (in *instance) addr() string { return "127.0.0.1:" + strconv.Itoa(in.port) }

// start starts the server (if it is not running) and waits until it
// answers. The error wraps errPortInUse if a port was taken.
func (in *instance) start() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.proc != nil && !in.proc.exited() {
		return nil
	}
	p, err := startProcess(in.dir, in.port, in.args)
	if err != nil {
		return err
	}
	in.proc = p
	return nil
}

// stop stops the server if it is running: SIGTERM (or SIGKILL if kill is
// set), then SIGKILL after stopTimeout, and waits for it to exit.
func (in *instance) stop(kill bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.proc != nil {
		in.proc.stop(kill)
		in.proc = nil
	}
}

// running reports whether the server process is alive.
func (in *instance) running() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.proc != nil && !in.proc.exited()
}

// process is one redis-server child process.
type process struct {
	cmd  *exec.Cmd
	logs []logFile     // where this run's output goes
	done chan struct{} // closed once the process has been reaped
}

// logFile is a file a server writes to, and its size before this run, so
// that errors quote only this run's lines.
type logFile struct {
	path  string
	start int64
}

// startProcess runs redis-server with args and waits (up to readyTimeout)
// until it answers PING on 127.0.0.1:port as itself (INFO's process_id is
// the child's pid, so a server of someone else's on the same port is never
// mistaken for ours).
func startProcess(dir string, port int, args []string) (*process, error) {
	bin, err := redisServerBin()
	if err != nil {
		return nil, err
	}
	// A restarted server appends to the same files.
	logs := []logFile{{path: filepath.Join(dir, "redis.stdout")}, {path: filepath.Join(dir, "redis.log")}}
	for i := range logs {
		if st, err := os.Stat(logs[i].path); err == nil {
			logs[i].start = st.Size()
		}
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.SysProcAttr = sysProcAttr()
	// Output before the log file is opened (bad arguments) lands here.
	out, err := os.OpenFile(logs[0].path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	p := &process{cmd: cmd, logs: logs, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	if err := p.waitReady("127.0.0.1:"+strconv.Itoa(port), cmd.Process.Pid); err != nil {
		p.stop(true)
		return nil, err
	}
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitReady polls addr until the server answers PING and, if pid is not
// zero, reports that pid in INFO server.
func (p *process) waitReady(addr string, pid int) error {
	err := waitServing(addr, pid, readyTimeout, p.done)
	if err == nil {
		return nil
	}
	if p.exited() {
		tail := p.logTail()
		if strings.Contains(tail, "in use") {
			return fmt.Errorf("redis-server on %s exited: %w\n%s", addr, errPortInUse, tail)
		}
		return fmt.Errorf("redis-server on %s exited during startup (%v); log:\n%s", addr, p.cmd.ProcessState, tail)
	}
	return fmt.Errorf("redis-server on %s: %w; log:\n%s", addr, err, p.logTail())
}

// waitServing polls addr every pollInterval until it answers PING (and its
// INFO process_id equals pid, unless pid is 0), timeout passes, or abort is
// closed.
func waitServing(addr string, pid int, timeout time.Duration, abort <-chan struct{}) error {
	rdb := probeClient(addr)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if abort != nil {
		// Give up at once, even mid-probe, when the server exits.
		go func() {
			select {
			case <-abort:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	for {
		err := pingAs(ctx, rdb, pid)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			select {
			case <-abort:
				return fmt.Errorf("aborted: %w", err)
			default:
				return fmt.Errorf("not answering after %v: %w", timeout, err)
			}
		case <-time.After(pollInterval):
		}
	}
}

// pingAs checks that rdb's server answers PING and, if pid is not zero,
// runs as process pid.
func pingAs(ctx context.Context, rdb *redis.Client, pid int) error {
	// A plain dial first: go-redis logs every failed dial, and a server
	// that is starting or stopped refuses many.
	var d net.Dialer
	dctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	conn, err := d.DialContext(dctx, "tcp", rdb.Options().Addr)
	cancel()
	if err != nil {
		return err
	}
	conn.Close()
	ctx, cancel = context.WithTimeout(ctx, time.Second)
	defer cancel()
	// go-redis does not abandon a read when ctx is cancelled: don't wait
	// for it then (closing rdb ends the read).
	res := make(chan error, 1)
	go func() { res <- pingAsRedis(ctx, rdb, pid) }()
	select {
	case err := <-res:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func pingAsRedis(ctx context.Context, rdb *redis.Client, pid int) error {
	if err := rdb.Ping(ctx).Err(); err != nil {
		return err
	}
	if pid == 0 {
		return nil
	}
	info, err := rdb.Info(ctx, "server").Result()
	if err != nil {
		return err
	}
	if got := infoField(info, "process_id"); got != strconv.Itoa(pid) {
		return fmt.Errorf("server answering is pid %s, not ours (%d)", got, pid)
	}
	return nil
}

// probeClient returns a client for quick, retry-less health probes.
func probeClient(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr:                  addr,
		DialTimeout:           500 * time.Millisecond,
		ReadTimeout:           2 * time.Second,
		WriteTimeout:          2 * time.Second,
		MaxRetries:            -1,
		DialerRetries:         1,
		ContextTimeoutEnabled: true,
		PoolSize:              2,
		DisableIdentity:       true,
		Protocol:              2,
	})
}

// infoField returns the value of "name:value" in an INFO reply.
func infoField(info, name string) string {
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			return v
		}
	}
	return ""
}

// stop ends the process (SIGTERM, or SIGKILL if kill is set; SIGKILL after
// stopTimeout in any case) and waits until it has been reaped.
func (p *process) stop(kill bool) {
	if p.exited() {
		return
	}
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		_ = p.cmd.Process.Kill()
	}
	select {
	case <-p.done:
		return
	case <-time.After(stopTimeout):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// logTail returns the end of what this run of the server wrote to its log
// and to stdout/stderr.
func (p *process) logTail() string {
	var b strings.Builder
	for _, f := range p.logs {
		data, err := os.ReadFile(f.path)
		if err != nil || int64(len(data)) <= f.start {
			continue
		}
		data = data[f.start:]
		if len(data) > 2048 {
			data = data[len(data)-2048:]
		}
		b.Write(data)
	}
	return b.String()
}
