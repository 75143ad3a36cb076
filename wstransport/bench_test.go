//go:build unix

package wstransport_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/redis/go-redis/v9"
	"github.com/sioredis/sioredis/internal/protocol"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/redisadapter"
	"github.com/sioredis/sioredis/wstransport"
	"github.com/zishang520/socket.io/v2/socket"
)

// BenchmarkTrickle is the delivery path at a moderate rate (the harness's
// S3L): per op, one emitter-format broadcast published to Redis reaches 100
// raw WebSocket clients of a Redis-adapter node, through wstransport and
// Handler; between ops the connections are idle (2 ms, outside the timer),
// so nothing batches. inline=true is the default transport, inline=false
// NoInlineWrites (a writer goroutine per delivery).
//
// ns/op is the publish-to-last-receipt time; cpu-ns/delivery the process's
// CPU time (user+sys) during the timed part per delivery, which includes
// the in-process clients' reads (the same for both). Measures only.
//
//	go test -run '^$' -bench Trickle -benchmem ./wstransport/
func BenchmarkTrickle(b *testing.B) {
	for _, inline := range []bool{true, false} {
		b.Run(fmt.Sprintf("inline=%v/clients=100", inline), func(b *testing.B) {
			benchTrickle(b, !inline, 100)
		})
	}
}

func benchTrickle(b *testing.B, noInline bool, clients int) {
	wstransport.InstallWith(wstransport.Options{NoInlineWrites: noInline})
	b.Cleanup(func() { wstransport.InstallWith(wstransport.Options{}) })
	srv := redistest.Start(b)
	rdb := redis.NewClient(srv.Options())
	b.Cleanup(func() { _ = rdb.Close() })
	sio := socket.NewServer(nil, socket.DefaultServerOptions())
	sio.On("connection", func(args ...any) {
		s := args[0].(*socket.Socket)
		s.Join("bench")
		s.Emit("ready")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	builder := redisadapter.New(rdb)
	sio.SetAdapter(builder)
	hs := &http.Server{Handler: wstransport.Handler(sio.ServeHandler(nil))}
	go func() { _ = hs.Serve(ln) }()
	b.Cleanup(func() {
		done := make(chan struct{})
		sio.Close(func(error) { close(done) })
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
		_ = hs.Close()
	})
	ctx := context.Background()
	if err := builder.WaitHealthy(ctx); err != nil {
		b.Fatal(err)
	}

	var received atomic.Int64
	url := "ws://" + ln.Addr().String() + "/socket.io/?EIO=4&transport=websocket"
	for i := 0; i < clients; i++ {
		c, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = c.Close() })
		for _, want := range []string{"0{", "40{", `42["ready"]`} {
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, msg, err := c.ReadMessage()
			if err != nil || !strings.HasPrefix(string(msg), want) {
				b.Fatalf("client %d: got %q, %v; want %q", i, msg, err, want)
			}
			if want == "0{" {
				_ = c.WriteMessage(websocket.TextMessage, []byte("40"))
			}
		}
		_ = c.SetReadDeadline(time.Time{})
		go func() {
			buf := make([]byte, 512)
			for {
				_, r, err := c.NextReader()
				if err != nil {
					return
				}
				n, _ := io.ReadFull(r, buf[:1])
				if n == 1 && buf[0] == '2' {
					_ = c.WriteMessage(websocket.TextMessage, []byte("3"))
					continue
				}
				_, _ = io.CopyBuffer(io.Discard, r, buf)
				received.Add(1)
			}
		}()
	}

	channel := protocol.RoomChannel(protocol.DefaultPrefix, "/", "bench")
	pad := strings.Repeat("x", 100)
	payload := func(seq int) []byte {
		p, err := protocol.EncodeEmitterBroadcast(&protocol.Broadcast{
			UID: "emitter",
			Packet: protocol.Packet{Type: protocol.EventPacketType, Nsp: "/",
				Data: []any{"tick", map[string]any{"seq": seq, "t": 1732180000000.123, "pad": pad}}},
			Opts: protocol.Options{Rooms: []string{"bench"}, Except: []string{}},
		})
		if err != nil {
			b.Fatal(err)
		}
		return p
	}
	payloads := make([][]byte, 64)
	for i := range payloads {
		payloads[i] = payload(i)
	}
	var cpu time.Duration
	want := int64(0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		time.Sleep(2 * time.Millisecond) // every connection idle
		want += int64(clients)
		c0 := cpuTime()
		b.StartTimer()
		if err := rdb.Publish(ctx, channel, payloads[i%len(payloads)]).Err(); err != nil {
			b.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for received.Load() < want {
			if time.Now().After(deadline) {
				b.Fatalf("op %d: %d of %d deliveries", i, received.Load(), want)
			}
			time.Sleep(20 * time.Microsecond)
		}
		b.StopTimer()
		cpu += cpuTime() - c0
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/float64(clients), "cpu-ns/delivery")
}

// cpuTime is the process's user+sys CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
