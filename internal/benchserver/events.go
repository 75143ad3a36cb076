package benchserver

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"time"
)

// Handlers returns the handlers of the contract's client events (all with
// an ack) for one socket: join(room), ping(), blast({count, size, rate?,
// room?, event?}), fetch({count}). join makes the socket join a room
// (synchronously: effective before the ack); emit broadcasts through the
// adapter (io.To(room).Emit: local sockets directly, other nodes via
// Redis); fetch runs one cluster-wide fetchSockets() and counts the
// sockets. A is the socket.io version's Ack type.
func Handlers[A ~func([]any, error)](join func(room string), emit func(room, event string, payload map[string]any), fetch func() (int, error)) map[string]func(...any) {
	return map[string]func(...any){
		"join": func(args ...any) {
			a, rest := splitAck[A](args)
			join(room(rest))
			reply(a, map[string]any{"ok": true})
		},
		"ping": func(args ...any) {
			a, _ := splitAck[A](args)
			reply(a, map[string]any{"ok": true})
		},
		"blast": func(args ...any) {
			a, rest := splitAck[A](args)
			// Off the socket's read goroutine: a long blast must not stall
			// the control socket (Node yields to its event loop every 64
			// emits).
			go func() { reply(a, blast(object(rest), emit)) }()
		},
		"fetch": func(args ...any) {
			a, rest := splitAck[A](args)
			go func() { reply(a, fetchAll(object(rest), fetch)) }()
		},
	}
}

// splitAck takes the trailing acknowledgement callback (A, the socket.io
// version's Ack, or a plain func) off an event's arguments.
func splitAck[A ~func([]any, error)](args []any) (func([]any, error), []any) {
	if n := len(args); n > 0 {
		if a, ok := args[n-1].(A); ok {
			return a, args[:n-1]
		}
		if a, ok := args[n-1].(func([]any, error)); ok {
			return a, args[:n-1]
		}
	}
	return nil, args
}

// reply acknowledges with v, which gets this server's NodeID; without an
// ack it does nothing.
func reply(a func([]any, error), v map[string]any) {
	if a == nil {
		return
	}
	v["node"] = NodeID
	a([]any{v}, nil)
}

// room is the room of a join event: its first argument, else "bench".
func room(args []any) string {
	if len(args) > 0 {
		return fmt.Sprint(args[0])
	}
	return "bench"
}

// object is an event's first argument as an object (nil when it is not).
func object(args []any) map[string]any {
	if len(args) > 0 {
		o, _ := args[0].(map[string]any)
		return o
	}
	return nil
}

func num(o map[string]any, key string) float64 {
	switch v := o[key].(type) {
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0
		}
		return v
	case int:
		return float64(v)
	case int64:
		return float64(v)
	}
	return 0
}

func str(o map[string]any, key, def string) string {
	if v, ok := o[key].(string); ok && v != "" {
		return v
	}
	return def
}

var (
	padMu    sync.Mutex
	padCache = map[int]string{}
)

// pad is the payload padding of size bytes, made once per size.
func pad(size int) string {
	padMu.Lock()
	defer padMu.Unlock()
	p, ok := padCache[size]
	if !ok {
		p = strings.Repeat("x", size)
		padCache[size] = p
	}
	return p
}

// blast emits count events through emit, paced at rate msg/s when
// rate > 0, and returns the ack's value.
func blast(o map[string]any, emit func(room, event string, payload map[string]any)) map[string]any {
	count := int(max(0, num(o, "count")))
	size := int(max(0, num(o, "size")))
	rate := num(o, "rate")
	to := str(o, "room", "bench")
	event := str(o, "event", "tick")
	p := pad(size)
	start := time.Now()
	startMs := NowMs()
	seq := 0
	emitOne := func() {
		emit(to, event, map[string]any{"seq": seq, "t": NowMs(), "pad": p})
		seq++
	}
	if rate > 0 {
		for seq < count {
			due := min(count, int(math.Floor(float64(time.Since(start).Nanoseconds())/1e6*rate/1000))+1)
			for seq < due {
				emitOne()
			}
			if seq < count {
				time.Sleep(time.Millisecond)
			}
		}
	} else {
		for seq < count {
			emitOne()
		}
	}
	return map[string]any{"ok": true, "emitted": seq, "elapsedMs": NowMs() - startMs}
}

// fetchAll runs count sequential fetchOnce calls and returns the ack's
// value.
func fetchAll(o map[string]any, fetchOnce func() (int, error)) map[string]any {
	count := int(max(1, num(o, "count")))
	perCall := make([]any, 0, count)
	n := 0
	start := NowMs()
	for range count {
		t0 := NowMs()
		got, err := fetchOnce()
		perCall = append(perCall, NowMs()-t0)
		if err != nil {
			return map[string]any{"ok": false, "error": err.Error(), "count": got}
		}
		n = got
	}
	return map[string]any{"ok": true, "count": n, "elapsedMs": NowMs() - start, "perCallMs": perCall}
}
