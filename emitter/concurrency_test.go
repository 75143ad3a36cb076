package emitter_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/sioredis/sioredis/emitter"
	"github.com/sioredis/sioredis/internal/protocol"
	"github.com/sioredis/sioredis/internal/redistest"
)

// TestSharedAcrossGoroutines shares one operator between goroutines that
// derive new operators from it and emit concurrently (run with -race): every
// message must carry exactly its own targeting, and the shared value must
// be unchanged afterwards.
func TestSharedAcrossGoroutines(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	capt := psubscribeAll(t, srv.Client(t))
	base := emitter.New(srv.Client(t)).Of("g").To("shared").Except("x")

	const goroutines, perG = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*perG)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < perG; i++ {
				op := base.Except(fmt.Sprint("e", g)).Compress(true)
				if i%2 == 0 {
					op = base.To(fmt.Sprint("g", g)).Volatile()
				}
				if err := op.Emit("ev", g, i); err != nil {
					errs <- err
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for n := 0; n < goroutines*perG; n++ {
		m := capt.next(t)
		b, err := protocol.DecodeBroadcast([]byte(m.Payload))
		if err != nil {
			t.Fatal(err)
		}
		g, i := int(b.Packet.Data[1].(float64)), int(b.Packet.Data[2].(float64))
		id := fmt.Sprint(g, "/", i)
		if seen[id] {
			t.Fatalf("duplicate %s", id)
		}
		seen[id] = true
		if b.UID != protocol.EmitterUID || b.Packet.Nsp != "/g" {
			t.Fatalf("%s: uid %q nsp %q", id, b.UID, b.Packet.Nsp)
		}
		wantRooms, wantExcept, wantChan := []string{"shared", fmt.Sprint("g", g)}, []string{"x"}, "socket.io#/g#"
		if i%2 == 1 {
			wantRooms, wantExcept, wantChan = []string{"shared"}, []string{"x", fmt.Sprint("e", g)}, "socket.io#/g#shared#"
		}
		if !slices.Equal(b.Opts.Rooms, wantRooms) || !slices.Equal(b.Opts.Except, wantExcept) || m.Channel != wantChan {
			t.Fatalf("%s: %s rooms %v except %v", id, m.Channel, b.Opts.Rooms, b.Opts.Except)
		}
		if vol := i%2 == 0; b.Opts.Flags.Volatile != vol || (b.Opts.Flags.Compress != nil) == vol {
			t.Fatalf("%s: flags %+v", id, b.Opts.Flags)
		}
	}

	must(t, base.Emit("final"))
	m := capt.next(t)
	b, err := protocol.DecodeBroadcast([]byte(m.Payload))
	if err != nil {
		t.Fatal(err)
	}
	if m.Channel != "socket.io#/g#shared#" || !slices.Equal(b.Opts.Rooms, []string{"shared"}) ||
		!slices.Equal(b.Opts.Except, []string{"x"}) || b.Opts.Flags.Volatile || b.Opts.Flags.Compress != nil {
		t.Fatalf("shared operator changed: %s %+v", m.Channel, b.Opts)
	}
}
