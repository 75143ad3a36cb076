package emitter_test

import (
	"errors"
	"math"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/emitter"
)

// unreachable returns a client that is never dialled: every error below is
// returned before anything is published.
func unreachable(t *testing.T) *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

func TestRejectedBeforePublishing(t *testing.T) {
	t.Parallel()
	e := emitter.New(unreachable(t))
	for _, ev := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
		if err := e.Emit(ev, 1); !errors.Is(err, emitter.ErrReservedEvent) {
			t.Errorf("Emit(%q) = %v, want ErrReservedEvent", ev, err)
		}
	}
	for _, ev := range []string{"connect", "connection", "new_namespace"} {
		if err := e.ServerSideEmit(ev); !errors.Is(err, emitter.ErrReservedEvent) {
			t.Errorf("ServerSideEmit(%q) = %v, want ErrReservedEvent", ev, err)
		}
	}
	acks := []any{
		func([]any, error) {},
		socket.Ack(func([]any, error) {}),
		func() {},
		(func(int))(nil),
	}
	for _, ack := range acks {
		if err := e.Emit("ev", 1, ack); !errors.Is(err, emitter.ErrAckNotSupported) {
			t.Errorf("Emit with %T = %v, want ErrAckNotSupported", ack, err)
		}
		if err := e.To("r").Emit("ev", ack, 1); !errors.Is(err, emitter.ErrAckNotSupported) {
			t.Errorf("Emit with leading %T = %v, want ErrAckNotSupported", ack, err)
		}
		if err := e.ServerSideEmit("ev", ack); !errors.Is(err, emitter.ErrAckNotSupported) {
			t.Errorf("ServerSideEmit with %T = %v, want ErrAckNotSupported", ack, err)
		}
	}
	for _, bad := range []any{make(chan int), math.NaN(), map[string]any{"f": func() {}}, map[int]bool{1: true}} {
		if err := e.Emit("ev", bad); !errors.Is(err, emitter.ErrUnsupportedValue) {
			t.Errorf("Emit(%T) = %v, want ErrUnsupportedValue", bad, err)
		}
	}
	sharded := emitter.New(unreachable(t), emitter.WithSharded(true))
	if err := sharded.Emit("disconnect"); !errors.Is(err, emitter.ErrReservedEvent) {
		t.Errorf("sharded: %v", err)
	}
	if err := sharded.ServerSideEmit("x", func([]any, error) {}); !errors.Is(err, emitter.ErrAckNotSupported) {
		t.Errorf("sharded: %v", err)
	}
}

func TestNewNilClientPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	emitter.New(nil)
}
