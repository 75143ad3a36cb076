package wstransport

import (
	"errors"
	"io"
	"net"
	"sync"

	ws "github.com/gorilla/websocket"
	"github.com/zishang520/engine.io-go-parser/packet"
	eioparser "github.com/zishang520/engine.io-go-parser/parser"
	"github.com/zishang520/engine.io/v2/transports"
	"github.com/zishang520/engine.io/v2/types"
)

// transport is engine.io's WebSocket transport with batched, loss-free
// writes. The rest of engine.io sees the same events as from the stock one:
// "packet" per received packet, "drain" then "ready" after each batch, and
// "error"/"close" from the connection.
type transport struct {
	transports.Transport

	conn *types.WebSocketConn
	cork *corkConn // nil unless the connection was upgraded through Handler
	mu   sync.Mutex
}

func newTransport(ctx *types.HttpContext) transports.Transport {
	t := &transport{Transport: transports.MakeTransport()}
	t.Prototype(t)
	t.Construct(ctx)
	return t
}

// Construct binds the transport to the upgraded connection and starts
// reading from it.
func (t *transport) Construct(ctx *types.HttpContext) {
	t.Transport.Construct(ctx)
	t.conn = ctx.Websocket
	t.cork, _ = t.conn.NetConn().(*corkConn)

	t.conn.On("error", func(args ...any) {
		err, _ := firstArg(args).(error)
		if err == nil {
			err = errors.New("websocket error")
		}
		t.OnError("websocket error", err)
	})
	t.conn.Once("close", func(...any) { t.OnClose() })

	go t.receive()

	t.SetWritable(true)
	// As the stock transport: engine.io-level compression settings do not
	// apply; gorilla compresses only what was negotiated at the upgrade.
	t.SetPerMessageDeflate(nil)
}

func firstArg(args []any) any {
	if len(args) == 0 {
		return nil
	}
	return args[0]
}

// Name is engine.io's transport name.
func (t *transport) Name() string { return transports.WEBSOCKET }

// HandlesUpgrades is true: a polling connection may upgrade to this one.
func (t *transport) HandlesUpgrades() bool { return true }

// receive reads messages until the connection fails or closes.
func (t *transport) receive() {
	for {
		mt, r, err := t.conn.NextReader()
		if err != nil {
			t.connFailed(err)
			return
		}
		var data types.BufferInterface
		switch mt {
		case ws.TextMessage:
			data = types.NewStringBuffer(nil)
		case ws.BinaryMessage:
			data = types.NewBytesBuffer(nil)
		default: // gorilla handles control frames itself
			continue
		}
		if _, err := data.ReadFrom(r); err != nil {
			t.connFailed(err)
			return
		}
		t.OnData(data)
	}
}

// connFailed reports a read or write error the way the stock transport
// does: a close (from the peer or a closed connection) as "close", anything
// else as "error".
func (t *transport) connFailed(err error) {
	var ce *ws.CloseError
	if errors.As(err, &ce) || errors.Is(err, net.ErrClosed) {
		t.conn.Emit("close")
		return
	}
	t.conn.Emit("error", err)
}

// Send writes packets in the background; engine.io queues what comes
// meanwhile and flushes it on "drain".
func (t *transport) Send(packets []*packet.Packet) {
	t.SetWritable(false)
	go t.send(packets)
}

func (t *transport) send(packets []*packet.Packet) {
	defer func() {
		t.Emit("drain")
		t.SetWritable(true)
		t.Emit("ready")
	}()

	t.mu.Lock()
	defer t.mu.Unlock()

	if t.cork != nil {
		t.cork.Cork()
	}
	var err error
	for _, p := range packets {
		if err = t.write(p); err != nil {
			break
		}
	}
	if t.cork != nil {
		if uerr := t.cork.Uncork(); err == nil {
			err = uerr
		}
	}
	if err != nil {
		t.connFailed(err)
	}
}

// typePrefix holds the one-byte engine.io v4 type prefixes, sliced without
// allocating.
var typePrefix = func() (b [256][1]byte) {
	for i := range b {
		b[i][0] = byte(i)
	}
	return b
}()

// write sends one packet as one WebSocket message.
func (t *transport) write(p *packet.Packet) error {
	// Engine.IO closes closable packet data once written. Our buffers are
	// not closable; test the concrete type first, an interface assertion
	// per packet is measurable.
	if _, plain := p.Data.(*types.StringBuffer); !plain {
		if c, ok := p.Data.(io.Closer); ok {
			defer c.Close()
		}
	}
	compress := false
	if p.Options != nil {
		compress = p.Options.Compress
		// A pre-encoded frame (type prefix included) is shared by every
		// socket of a broadcast: write its bytes, do not consume it.
		if f := p.Options.WsPreEncodedFrame; f != nil {
			return t.message(messageType(f), compress, nil, f.Bytes())
		}
	}
	if t.Protocol() == 4 {
		if prefix, ok := packetType(p.Type); ok {
			switch d := p.Data.(type) {
			case nil:
				return t.message(ws.TextMessage, compress, typePrefix[prefix][:], nil)
			case *types.StringBuffer:
				return t.message(ws.TextMessage, compress, typePrefix[prefix][:], d.Bytes())
			}
		}
	}
	// Everything else (binary payloads, base64 clients, Engine.IO v3, the
	// upgrade probe) takes the parser's encoding, as in the stock transport.
	data, err := t.Parser().EncodePacket(p, t.SupportsBinary())
	if err != nil {
		return err
	}
	return t.message(messageType(data), compress, nil, data.Bytes())
}

// packetType is the Engine.IO type prefix of t, without a map lookup for
// the packet type that matters (messages).
func packetType(t packet.Type) (byte, bool) {
	if t == packet.MESSAGE {
		return '4', true
	}
	b, ok := eioparser.PACKET_TYPES[t]
	return b, ok
}

func messageType(b types.BufferInterface) int {
	if _, ok := b.(*types.StringBuffer); ok {
		return ws.TextMessage
	}
	return ws.BinaryMessage
}

// message writes prefix+body as one WebSocket message.
func (t *transport) message(mt int, compress bool, prefix, body []byte) error {
	t.conn.EnableWriteCompression(compress)
	w, err := t.conn.NextWriter(mt)
	if err != nil {
		return err
	}
	if len(prefix) > 0 {
		if _, err := w.Write(prefix); err != nil {
			_ = w.Close()
			return err
		}
	}
	if len(body) > 0 {
		if _, err := w.Write(body); err != nil {
			_ = w.Close()
			return err
		}
	}
	return w.Close()
}

// DoClose closes the connection (engine.io calls it through Close).
func (t *transport) DoClose(fn types.Callable) {
	defer t.conn.Close()
	if fn != nil {
		fn()
	}
}
