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
// sends (a message larger than 2 KiB may be split into fragments, as with the
// stock transport); clients see no difference.
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
package wstransport
