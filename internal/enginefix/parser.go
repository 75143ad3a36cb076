// Package enginefix works around a message-loss bug of
// github.com/zishang520/engine.io v2.5.0 for servers that deliver
// broadcasts through socket.io's in-memory adapter (the benchmarks' single
// node baseline). redisadapter does not need it: its own local delivery
// never attaches a pre-encoded frame.
package enginefix

import (
	"github.com/zishang520/engine.io/v2/types"
	"github.com/zishang520/socket.io-go-parser/v2/parser"
)

// Parser returns the socket.io parser with an encoder that never lets
// socket.io attach a pre-encoded WebSocket frame: pass it to
// ServerOptions.SetParser.
//
// It works around a bug in github.com/zishang520/engine.io
// v2.5.0, transports/websocket.go (*websocket).send: for a packet that
// carries a pre-encoded WebSocket frame (Options.WsPreEncodedFrame, which
// socket.io's in-memory adapter sets on every broadcast whose encoding is a
// single text buffer) it writes the frame and then returns instead of
// continuing the loop, so every other packet of the same flushed batch is
// silently dropped. Under load (several broadcasts queued per socket) that
// loses most broadcasts: 95 % in the harness's S2/S5 (fixed upstream in the
// v3 line, which continues and queues writes in order).
//
// The encoder's single text buffer is wrapped in a type that is not a
// *types.StringBuffer, so socket.io's adapter does not attach a pre-encoded
// frame; the engine then encodes each packet with its parser as for any
// other message ("4" + payload, one text frame). What reaches the engine is
// the wrapped buffer's Clone(), a plain *types.StringBuffer, and the bytes
// on the wire are identical.
func Parser() parser.Parser { return plainFrameParser{parser.NewParser()} }

type plainFrameParser struct{ parser.Parser }

func (p plainFrameParser) NewEncoder() parser.Encoder {
	return plainFrameEncoder{p.Parser.NewEncoder()}
}

type plainFrameEncoder struct{ parser.Encoder }

type plainFrame struct{ *types.StringBuffer }

func (e plainFrameEncoder) Encode(p *parser.Packet) []types.BufferInterface {
	out := e.Encoder.Encode(p)
	if len(out) == 1 {
		if sb, ok := out[0].(*types.StringBuffer); ok {
			out[0] = plainFrame{sb}
		}
	}
	return out
}
