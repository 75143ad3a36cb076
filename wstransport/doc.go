// Package wstransport is a drop-in WebSocket transport for
// github.com/zishang520/engine.io v2.5.0 (the engine of
// github.com/zishang520/socket.io/v2) that fixes two problems of the stock
// one:
//
//   - Loss: the stock transport stops writing a flushed batch after a packet
//     that carries a pre-encoded frame (socket.io's in-memory adapter attaches
//     one to every broadcast), so clients lose the broadcasts queued behind
//     it (zishang520/socket.io#101). This transport writes every packet.
//   - Cost: the stock transport re-encodes every packet into a new buffer and
//     sends each one with its own write(2). This transport writes the
//     engine.io prefix and the payload straight into the WebSocket frame and,
//     on connections upgraded through [Handler], sends a whole batch with one
//     write(2), as Node's ws does under load.
//
// Frames on the wire are the same WebSocket messages the stock transport
// sends; clients see no difference. Through Handler, on a connection without
// permessage-deflate, the transport frames each message itself, as one
// frame (gorilla/websocket's writer only copied it, under a lock and with a
// deadline reset per frame); otherwise gorilla/websocket writes it, and may
// split a large one into fragments, as with the stock transport.
//
// Use it by calling [Install] once before the server accepts connections and
// wrapping the socket.io HTTP handler with [Handler]:
//
//	wstransport.Install()
//	io := socket.NewServer(nil, opts)
//	http.Handle("/socket.io/", wstransport.Handler(io.ServeHandler(nil)))
//
// Without Handler the transport still delivers every packet and skips the
// re-encoding, but writes one frame per write(2).
//
// Through Handler (on Unix, without TLS) a batch for an idle connection
// (nothing being written or queued, nothing sent to it within the last
// millisecond, no backlog within the last 20 ms) is written on the sending goroutine, with a write(2) that
// does not wait for the peer; what the socket does not take at once, and
// every batch of a busy connection, goes through a writer goroutine as
// before, while engine.io collects the next packets into one batch. At a
// moderate rate (a chat, a dashboard) this saves each delivery a goroutine
// start and wake-up; [Options].NoInlineWrites turns it off.
//
// # Limits
//
// A client that stops reading (its TCP window full) while it keeps the
// connection alive costs the stock transport everything sent to it:
// engine.io buffers without bound. This transport keeps what waits behind
// the write in progress in its own queue and closes the connection when
//
//   - more than [Options].MaxQueuedBytes wait for it (default
//     [DefaultMaxQueuedBytes], 8 MiB), or
//   - a packet cannot be written within [Options].WriteTimeout (default
//     [DefaultWriteTimeout], 10 s).
//
// With permessage-deflate, gorilla/websocket's read limit (engine.io's
// MaxHttpBufferSize, default 1 MB) counts compressed bytes: 200 KB of a
// compressed message can inflate to a gigabyte. This transport stops
// inflating a message at MaxHttpBufferSize and closes the connection with
// code 1009, as gorilla does for an uncompressed message over the limit.
//
// Each of these closes is counted ([ReadStats]) and logged at Warn (at most
// once a minute per kind; the rest at Debug). Set the bounds with
// [InstallWith]. While a write is in progress engine.io collects what is
// sent into the next batch, as with the stock transport (volatile packets
// are dropped meanwhile); once a write has taken more than 20 ms the packets
// queue here instead, where they are counted (and volatile ones queue too).
package wstransport
