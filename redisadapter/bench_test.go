package redisadapter_test

// Micro-benchmarks of the broadcast hot paths (see bench/README.md for the
// cluster-level harness):
//
//	go test -run '^$' -bench . -benchmem ./redisadapter/
//
// They measure; they assert nothing about time. Setup (Redis, servers,
// client connections) is outside the timer.

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zishang520/engine.io/v2/types"
	"github.com/zishang520/socket.io-go-parser/v2/parser"
	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/internal/enginefix"
	"github.com/sioredis/sioredis/internal/protocol"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/internal/siotest"
	"github.com/sioredis/sioredis/redisadapter"
)

const (
	benchRoom    = "bench"
	benchClients = 100
	benchPad     = 100 // bytes of padding, as the harness's S2
)

// benchPayload is the harness's tick payload {seq, t, pad}.
func benchPayload(seq int) map[string]any {
	return map[string]any{"seq": seq, "t": 1732180000000.123, "pad": strings.Repeat("x", benchPad)}
}

func benchOpts() *socket.BroadcastOptions {
	return &socket.BroadcastOptions{
		Rooms:  types.NewSet[socket.Room](benchRoom),
		Except: types.NewSet[socket.Room](),
		Flags:  &socket.BroadcastFlags{},
	}
}

// BenchmarkEncodeBroadcast is what Adapter.Broadcast does before handing a
// room broadcast to the publisher: convert the packet and options, encode
// the msgpack [uid, packet, opts], pick the channel.
func BenchmarkEncodeBroadcast(b *testing.B) {
	p := &parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{"tick", benchPayload(1)}}
	opts := benchOpts()
	var size int
	b.ReportAllocs()
	for b.Loop() {
		wp, err := redisadapter.PacketFromSocket(p)
		if err != nil {
			b.Fatal(err)
		}
		wp.Nsp = "/"
		wo := redisadapter.OptionsFromSocket(opts)
		payload, err := protocol.EncodeBroadcast(&protocol.Broadcast{UID: "abcdef", Packet: wp, Opts: wo})
		if err != nil {
			b.Fatal(err)
		}
		_ = protocol.BroadcastChannelFor(protocol.DefaultPrefix, "/", wo.Rooms)
		size = len(payload)
	}
	b.SetBytes(int64(size))
}

// BenchmarkDecodeBroadcast is what a node does with a broadcast it receives
// before the local fan-out: decode and convert packet and options. The
// emitter payload is what the harness's S2/S3/S4 publisher sends.
func BenchmarkDecodeBroadcast(b *testing.B) {
	msg := &protocol.Broadcast{
		UID:    "emitter",
		Packet: protocol.Packet{Type: protocol.EventPacketType, Data: []any{"tick", benchPayload(1)}, Nsp: "/"},
		Opts:   protocol.Options{Rooms: []string{benchRoom}, Except: []string{}},
	}
	for _, c := range []struct {
		name string
		enc  func(*protocol.Broadcast) ([]byte, error)
	}{
		{"emitter", protocol.EncodeEmitterBroadcast},
		{"adapter", protocol.EncodeBroadcast},
	} {
		b.Run(c.name, func(b *testing.B) {
			payload, err := c.enc(msg)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			for b.Loop() {
				m, err := protocol.DecodeBroadcast(payload)
				if err != nil {
					b.Fatal(err)
				}
				_ = redisadapter.SocketOptions(m.Opts)
				_ = redisadapter.SocketPacket(m.Packet, "/")
			}
		})
	}
}

// benchServer is a socket.io server on a loopback listener, like
// siotest.StartNode but with enginefix.Parser and only the "join" handler.
type benchServer struct {
	IO  *socket.Server
	URL string
}

func startBenchServer(b *testing.B, adapter socket.AdapterConstructor) *benchServer {
	b.Helper()
	opts := socket.DefaultServerOptions()
	opts.SetParser(enginefix.Parser())
	if adapter != nil {
		opts.SetAdapter(adapter)
	}
	io := socket.NewServer(nil, opts)
	io.On("connection", func(args ...any) {
		s := args[0].(*socket.Socket)
		s.On("join", func(a ...any) {
			s.Join(socket.Room(a[0].(string)))
			a[len(a)-1].(socket.Ack)([]any{"ok"}, nil)
		})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io.ServeHandler(nil))
	hs := &http.Server{Handler: mux}
	go func() { _ = hs.Serve(ln) }()
	b.Cleanup(func() {
		done := make(chan struct{})
		io.Close(func(error) { close(done) })
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
		_ = hs.Close()
	})
	return &benchServer{IO: io, URL: "http://" + ln.Addr().String()}
}

// fanoutNode is a benchServer with n real clients (siotest.Dial) in
// benchRoom that count the ticks they receive.
type fanoutNode struct {
	*benchServer
	received atomic.Int64
}

func startFanoutNode(b *testing.B, adapter socket.AdapterConstructor, n int) *fanoutNode {
	b.Helper()
	f := &fanoutNode{benchServer: startBenchServer(b, adapter)}
	for i := 0; i < n; i++ {
		f.dialJoined(b)
	}
	return f
}

// dialJoined connects one counting client and makes it join benchRoom.
// socket.io-client-go v1.1.0 occasionally loses an emit right after
// connecting (see siotest.Dial); the join is retried, then the client
// redialled.
func (f *fanoutNode) dialJoined(b *testing.B) {
	b.Helper()
	for attempt := 0; attempt < 3; attempt++ {
		c := siotest.Dial(b, f.URL, "/", nil)
		for try := 0; try < 3; try++ {
			acked := make(chan struct{}, 1)
			if err := c.S.Emit("join", benchRoom, func([]any, error) { acked <- struct{}{} }); err != nil {
				b.Fatal(err)
			}
			select {
			case <-acked:
				c.S.On("tick", func(...any) { f.received.Add(1) })
				return
			case <-time.After(2 * time.Second):
			}
		}
		c.S.Disconnect()
	}
	b.Fatal("client could not join the room")
}

// emitPaced emits count broadcasts with emit, keeping at most window
// broadcasts in flight, then waits until every client got every one. It
// returns the time spent inside emit and the number of ticks that never
// arrived. socket.io-client-go v1.1.0 very rarely loses a message on the
// client side (the harness's Node clients see no loss from the same server),
// so a wait gives up after 2 s without progress instead of failing; the
// timer is stopped while a wait makes no progress.
func (f *fanoutNode) emitPaced(b *testing.B, count, clients int, emit func(seq int)) (time.Duration, int64) {
	const window = 256
	base := f.received.Load()
	var inEmit time.Duration
	waitFor := func(want int64) {
		last, lastAt, stopped := f.received.Load(), time.Now(), false
		for f.received.Load()-base < want {
			now := time.Now()
			if got := f.received.Load(); got != last {
				last, lastAt = got, now
				if stopped {
					b.StartTimer()
					stopped = false
				}
			}
			if idle := now.Sub(lastAt); idle > 200*time.Millisecond && !stopped {
				b.StopTimer()
				stopped = true
			} else if idle > 2*time.Second {
				break
			}
			time.Sleep(50 * time.Microsecond)
		}
		if stopped {
			b.StartTimer()
		}
	}
	for i := 0; i < count; i++ {
		t0 := time.Now()
		emit(i)
		inEmit += time.Since(t0)
		if i >= window && i%64 == 0 {
			waitFor(int64(i-window) * int64(clients))
		}
	}
	want := int64(count) * int64(clients)
	waitFor(want)
	return inEmit, want - (f.received.Load() - base)
}

// BenchmarkLocalFanout measures one io.To(room).Emit to 100 real WebSocket
// clients connected to the same process: per op, the whole delivery (encode
// once, per-socket engine write, WebSocket frame; the in-process Go clients
// decoding the frames are included, so ns/op is an upper bound of the
// server's cost). emit-ns/op is the part spent synchronously inside Emit.
// With the Redis adapter the broadcast is also encoded and published.
func BenchmarkLocalFanout(b *testing.B) {
	for _, withRedis := range []bool{false, true} {
		name := "memory"
		if withRedis {
			name = "redis"
		}
		b.Run(fmt.Sprintf("%s/clients=%d", name, benchClients), func(b *testing.B) {
			var adapter socket.AdapterConstructor
			if withRedis {
				srv := redistest.Start(b)
				adapter = redisadapter.New(srv.Client(b), redisadapter.WithPublishQueueSize(1<<16))
			}
			f := startFanoutNode(b, adapter, benchClients)
			p := benchPayload(0)
			b.ReportAllocs()
			b.ResetTimer()
			inEmit, lost := f.emitPaced(b, b.N, benchClients, func(seq int) {
				p["seq"] = seq
				_ = f.IO.To(benchRoom).Emit("tick", p)
			})
			b.StopTimer()
			b.ReportMetric(float64(inEmit.Nanoseconds())/float64(b.N), "emit-ns/op")
			b.ReportMetric(float64(lost), "lost-ticks")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchClients, "ns/delivery")
		})
	}
}

// BenchmarkRemoteFanout is the receiving side of the harness's S2: another
// process (here a plain Redis client) publishes emitter-format broadcasts to
// the room channel; the node decodes each and fans it out to its 100 local
// clients. Per op: one published broadcast delivered to every client.
func BenchmarkRemoteFanout(b *testing.B) {
	b.Run(fmt.Sprintf("clients=%d", benchClients), benchRemoteFanout)
}

func benchRemoteFanout(b *testing.B) {
	srv := redistest.Start(b)
	f := startFanoutNode(b, redisadapter.New(srv.Client(b)), benchClients)
	pub := srv.Client(b)
	channel := protocol.RoomChannel(protocol.DefaultPrefix, "/", benchRoom)
	payloads := make([][]byte, 64)
	for i := range payloads {
		var err error
		payloads[i], err = protocol.EncodeEmitterBroadcast(&protocol.Broadcast{
			UID:    "emitter",
			Packet: protocol.Packet{Type: protocol.EventPacketType, Data: []any{"tick", benchPayload(i)}, Nsp: "/"},
			Opts:   protocol.Options{Rooms: []string{benchRoom}, Except: []string{}},
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	_, lost := f.emitPaced(b, b.N, benchClients, func(seq int) {
		if err := pub.Publish(ctx, channel, payloads[seq%len(payloads)]).Err(); err != nil {
			b.Fatal(err)
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchClients, "ns/delivery")
	b.ReportMetric(float64(lost), "lost-ticks")
}

// BenchmarkAdapterPublish is the publishing side alone: io.To(room).Emit on
// a Redis-adapter node without local members of the room, until Redis
// accepted every PUBLISH (the publisher pipelines what accumulates).
func BenchmarkAdapterPublish(b *testing.B) {
	srv := redistest.Start(b)
	builder := redisadapter.New(srv.Client(b), redisadapter.WithPublishQueueSize(1<<20))
	node := startBenchServer(b, builder)
	p := benchPayload(0)
	base := builder.Stats().Published
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p["seq"] = i
		_ = node.IO.To(benchRoom).Emit("tick", p)
	}
	deadline := time.Now().Add(30 * time.Second)
	for builder.Stats().Published-base < uint64(b.N) {
		if st := builder.Stats(); st.PublishDropped > 0 || st.PublishErrors > 0 {
			b.Fatalf("publish dropped %d, errors %d", st.PublishDropped, st.PublishErrors)
		}
		if time.Now().After(deadline) {
			b.Fatalf("published %d of %d", builder.Stats().Published-base, b.N)
		}
		time.Sleep(20 * time.Microsecond)
	}
}

// benchSockets describes n sockets the way a fetchSockets answer carries
// them, with the handshake of a socket.io-client 4.x WebSocket connection.
func benchSockets(n int) []protocol.SocketInfo {
	out := make([]protocol.SocketInfo, n)
	for i := range out {
		id := fmt.Sprintf("sock%016dAAAB", i)
		out[i] = protocol.SocketInfo{
			ID: id,
			Handshake: &protocol.Handshake{
				Headers: map[string][]string{
					"Host":                     {"127.0.0.1:3001"},
					"Connection":               {"Upgrade"},
					"Upgrade":                  {"websocket"},
					"Sec-Websocket-Version":    {"13"},
					"Sec-Websocket-Key":        {"dGhlIHNhbXBsZSBub25jZQ=="},
					"Sec-Websocket-Extensions": {"permessage-deflate; client_max_window_bits"},
				},
				Time:    "Thu Nov 21 2026 10:27:00 GMT+0000 (Coordinated Universal Time)",
				Address: "127.0.0.1",
				Issued:  1795257879711,
				Url:     "/socket.io/?EIO=4&transport=websocket",
				Query:   map[string][]string{"EIO": {"4"}, "transport": {"websocket"}},
				Auth:    map[string]any{},
			},
			Rooms: []string{id, benchRoom},
			Data:  nil,
		}
	}
	return out
}

// BenchmarkFetchSocketsResponse is the classic fetchSockets answer of one
// server with 100 sockets (the harness's S6): encoded by every answering
// server, decoded by every server subscribed to the shared response channel
// (the requester and, before it can tell the answer is not for it, every
// other server).
func BenchmarkFetchSocketsResponse(b *testing.B) {
	resp := &protocol.Response{Type: protocol.RequestRemoteFetch, RequestID: "abcdef123456", Sockets: benchSockets(benchClients)}
	b.Run(fmt.Sprintf("encode/sockets=%d", benchClients), func(b *testing.B) {
		var size int
		b.ReportAllocs()
		for b.Loop() {
			payload, err := protocol.EncodeResponse(resp)
			if err != nil {
				b.Fatal(err)
			}
			size = len(payload)
		}
		b.SetBytes(int64(size))
	})
	b.Run(fmt.Sprintf("decode/sockets=%d", benchClients), func(b *testing.B) {
		payload, err := protocol.EncodeResponse(resp)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(payload)))
		b.ReportAllocs()
		for b.Loop() {
			r, err := protocol.DecodeResponse(payload)
			if err != nil {
				b.Fatal(err)
			}
			for _, s := range r.Sockets {
				_ = redisadapter.RemoteDetails(s)
			}
		}
	})
}

// BenchmarkFetchSocketsCluster is one cluster-wide FetchSockets on a
// cluster of three classic nodes with 100 clients each (the harness's S6).
func BenchmarkFetchSocketsCluster(b *testing.B) {
	srv := redistest.Start(b)
	var nodes []*fanoutNode
	for i := 0; i < 3; i++ {
		nodes = append(nodes, startFanoutNode(b, redisadapter.New(srv.Client(b)), benchClients))
	}
	b.ReportAllocs()
	b.ResetTimer()
	gc0 := gcCPU()
	for i := 0; i < b.N; i++ {
		var n int
		var err error
		nodes[0].IO.FetchSockets()(func(s []*socket.RemoteSocket, e error) { n, err = len(s), e })
		if err != nil || n != 3*benchClients {
			b.Fatalf("%d sockets, %v", n, err)
		}
	}
	b.ReportMetric(float64((gcCPU()-gc0).Nanoseconds())/float64(b.N), "gc-cpu-ns/op")
}

// BenchmarkFetchSocketsAnswer splits what the requesting server does with
// one 100-socket fetchSockets answer (the harness's S6 gets two per call)
// into its stages:
//
//   - redis-copy: go-redis returns the PUBLISHed payload as a string (one
//     copy out of its read buffer), the core decodes a []byte (a second);
//   - decode: protocol.DecodeResponse, typed;
//   - remote-sockets: each socket's SocketDetails for socket.io, and the
//     rooms set socket.io reads from it once;
//   - all: the three in a row, what one answer costs.
//
// gc-cpu-ns/op is the GC's CPU time per op (runtime/metrics), which the
// allocations cost besides the allocation itself.
func BenchmarkFetchSocketsAnswer(b *testing.B) {
	resp := &protocol.Response{Type: protocol.RequestRemoteFetch, RequestID: "abcdef123456", Sockets: benchSockets(benchClients)}
	payload, err := protocol.EncodeResponse(resp)
	if err != nil {
		b.Fatal(err)
	}
	var sink any
	stages := []struct {
		name string
		run  func(b *testing.B)
	}{
		{"redis-copy", func(b *testing.B) {
			s := string(payload)
			sink = []byte(s)
		}},
		{"decode", func(b *testing.B) {
			r, err := protocol.DecodeResponse(payload)
			if err != nil {
				b.Fatal(err)
			}
			sink = r
		}},
		{"remote-sockets", func(b *testing.B) {
			out := make([]socket.SocketDetails, len(resp.Sockets))
			for i, s := range resp.Sockets {
				out[i] = redisadapter.RemoteDetails(s)
				sink = out[i].Rooms() // socket.io reads them once, to copy them
			}
			sink = out
		}},
		{"all", func(b *testing.B) {
			s := string(payload)
			r, err := protocol.DecodeResponse([]byte(s))
			if err != nil {
				b.Fatal(err)
			}
			out := make([]socket.SocketDetails, len(r.Sockets))
			for i, s := range r.Sockets {
				out[i] = redisadapter.RemoteDetails(s)
				sink = out[i].Rooms()
			}
			sink = out
		}},
	}
	for _, st := range stages {
		b.Run(fmt.Sprintf("%s/sockets=%d", st.name, benchClients), func(b *testing.B) {
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			gc0 := gcCPU()
			for b.Loop() {
				st.run(b)
			}
			b.ReportMetric(float64((gcCPU()-gc0).Nanoseconds())/float64(b.N), "gc-cpu-ns/op")
		})
	}
	_ = sink
}

// gcCPU is the CPU time the GC used so far (an estimate of the runtime's).
func gcCPU() time.Duration {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	return time.Duration(s[0].Value.Float64() * float64(time.Second))
}
