package wstransport

import (
	"errors"
	"io"
	"net"
	"reflect"
	"sync"
	"time"

	ws "github.com/gorilla/websocket"
	"github.com/zishang520/engine.io-go-parser/packet"
	eioparser "github.com/zishang520/engine.io-go-parser/parser"
	"github.com/zishang520/engine.io/v2/transports"
	"github.com/zishang520/engine.io/v2/types"
)

// Sentinel errors a connection is closed with (engine.io reports them as
// the description of a "transport error").
var (
	// ErrQueueFull: more than Options.MaxQueuedBytes waited for the
	// connection.
	ErrQueueFull = errors.New("wstransport: too much queued for a connection that does not read")
	// ErrMessageTooBig: the client sent a message larger than the server's
	// MaxHttpBufferSize once decompressed.
	ErrMessageTooBig = errors.New("wstransport: message larger than MaxHttpBufferSize")
)

// openAfter is how long a write may take before the transport takes
// engine.io's buffer into its own counted queue: engine.io holds at most what
// was sent to the connection during that time.
const openAfter = 20 * time.Millisecond

// inlineGap, busyGap and inlineMax decide when Send writes on the caller's
// goroutine (see Send): the connection's previous Send was at least
// inlineGap ago, none within busyGap was busy (found a write in progress,
// or carried several packets: engine.io collected them during a write), and
// the batch holds at most about inlineMax bytes. A connection sent to more
// often than that goes through the writer goroutine, whose write lets
// engine.io collect the next packets into one batch; busyGap keeps a
// saturated connection there through a pause of the sender (a GC, a
// descheduled thread), where batching is what saves the most.
const (
	inlineGap = time.Millisecond
	busyGap   = 20 * time.Millisecond
	inlineMax = 16 << 10
)

// epoch anchors the monotonic send times.
var epoch = time.Now()

// packetOverhead is what a queued packet costs besides its payload, roughly
// (the packet, its options, the queue slot): it keeps a flood of empty
// packets within MaxQueuedBytes too.
const packetOverhead = 64

// transport is engine.io's WebSocket transport with batched, loss-free
// writes. The rest of engine.io sees the same events as from the stock one:
// "packet" per received packet, "drain" per batch written and "ready" when
// the writes are done, and "error"/"close" from the connection.
//
// As the stock transport, it is not writable while a write is in progress,
// so that engine.io collects what comes meanwhile into the next batch (and
// drops volatile packets). engine.io's buffer is invisible from here and
// unbounded, though: once a write has taken longer than openAfter, the
// transport becomes writable again and queues what engine.io hands it
// itself, counted and capped (Options.MaxQueuedBytes).
type transport struct {
	transports.Transport

	conn      *types.WebSocketConn
	cork      *corkConn // nil unless the connection was upgraded through Handler
	cfg       *config
	readLimit int64 // the server's MaxHttpBufferSize; 0: none
	inline    bool  // Send may write on the caller's goroutine
	// frames: messages are framed here, straight into cork (no
	// permessage-deflate was negotiated, so gorilla would only copy them).
	frames bool

	mu       sync.Mutex // guards the fields below
	queue    []*packet.Packet
	batches  int           // Send calls in queue: one "drain" each once written
	queued   int64         // estimated bytes in queue
	writing  bool          // a write is in progress (inline or the writer goroutine)
	open     *time.Timer   // makes the transport writable during a long write (writer goroutine only)
	closing  bool          // DoClose came during a write: close when it ends
	failure  error         // the connection was closed for this (no more writes)
	lastSend time.Duration // when Send was called last, since epoch
	lastBusy time.Duration // when a Send was last busy (see busyGap)
}

func newTransport(ctx *types.HttpContext) transports.Transport {
	t := &transport{Transport: transports.MakeTransport(), cfg: current.Load()}
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
	t.readLimit = readLimit(t.conn.Conn)
	t.inline = t.cfg.inline && t.cork != nil && t.cork.writesNow()
	t.frames = t.cork != nil && !compressionNegotiated(t.conn.Conn)

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

// compressionNegotiated reports whether gorilla/websocket may compress
// c's messages (permessage-deflate was agreed at the upgrade). The field is
// read by reflection, as readLimit; should gorilla rename it, the answer is
// true and every message keeps going through gorilla.
func compressionNegotiated(c *ws.Conn) bool {
	if c == nil {
		return true
	}
	f := reflect.ValueOf(c).Elem().FieldByName("newCompressionWriter")
	if !f.IsValid() || f.Kind() != reflect.Func {
		return true
	}
	return !f.IsNil()
}

// readLimit is the read limit engine.io set on c: the server's
// MaxHttpBufferSize. gorilla/websocket keeps it private and applies it to
// the bytes of the frames, compressed or not; the transport applies it to
// the decompressed message too. The field is read by reflection (it is only
// read); should gorilla rename it, engine.io's default applies and
// TestReadLimitFollowsServer fails.
func readLimit(c *ws.Conn) int64 {
	if c == nil {
		return 0
	}
	if f := reflect.ValueOf(c).Elem().FieldByName("readLimit"); f.IsValid() && f.CanInt() {
		return f.Int()
	}
	return defaultMaxHttpBufferSize
}

// defaultMaxHttpBufferSize is engine.io's default MaxHttpBufferSize.
const defaultMaxHttpBufferSize = 1e6

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
		if t.readLimit > 0 {
			// One byte more than allowed tells a message at the limit
			// from one past it, without inflating the rest.
			r = io.LimitReader(r, t.readLimit+1)
		}
		n, err := data.ReadFrom(r)
		if err != nil {
			t.connFailed(err)
			return
		}
		if t.readLimit > 0 && n > t.readLimit {
			t.messageTooBig()
			return
		}
		t.OnData(data)
	}
}

// messageTooBig closes the connection as gorilla does for a message over
// its read limit: a close frame saying so, then an error for engine.io.
func (t *transport) messageTooBig() {
	counters.messagesTooBig.Add(1)
	t.cfg.log.warn("message-too-big", "closing a connection that sent a message larger than MaxHttpBufferSize once decompressed",
		"limit", t.readLimit, "remote", t.conn.RemoteAddr().String())
	_ = t.conn.WriteControl(ws.CloseMessage, ws.FormatCloseMessage(ws.CloseMessageTooBig, ""), time.Now().Add(time.Second))
	t.conn.Emit("error", ErrMessageTooBig)
}

// connFailed reports a read or write error the way the stock transport
// does: a close (from the peer or a closed connection) as "close", anything
// else as "error". A connection this transport closed on purpose reports
// why.
func (t *transport) connFailed(err error) {
	t.mu.Lock()
	failure := t.failure
	t.mu.Unlock()
	if failure != nil {
		t.conn.Emit("error", failure)
		return
	}
	var ce *ws.CloseError
	if errors.As(err, &ce) || errors.Is(err, net.ErrClosed) {
		t.conn.Emit("close")
		return
	}
	t.conn.Emit("error", err)
}

// Send writes packets, or queues them for the writer goroutine. It never
// blocks: engine.io calls it with its socket's flush lock held.
//
// A connection that is idle (no write in progress, nothing queued, no Send
// within inlineGap, no busy one within busyGap) gets a small batch written right here, with one
// write(2) that does not wait (corkConn.UncorkNow): at a moderate rate this
// saves each delivery the start and wake-up of a goroutine. What the socket
// does not take at once, and every batch of a busy connection, goes to the
// writer goroutine, during whose write engine.io collects the next packets
// into one batch, as before.
func (t *transport) Send(packets []*packet.Packet) {
	t.mu.Lock()
	if t.failure != nil || t.closing {
		t.mu.Unlock()
		return
	}
	now := time.Since(epoch)
	if t.writing || len(packets) > 1 {
		t.lastBusy = now
	}
	idle := now-t.lastSend >= inlineGap && now-t.lastBusy >= busyGap
	t.lastSend = now
	if !t.writing {
		t.writing = true
		if t.inline && idle && inlineable(packets) {
			t.mu.Unlock()
			t.writeInline(packets)
			return
		}
		t.SetWritable(false)
		t.mu.Unlock()
		go t.writeLoop(packets, false)
		return
	}
	n := queuedSize(packets)
	if limit := t.cfg.maxQueued; limit > 0 && t.queued+n > limit {
		queued := t.queued + n
		t.failure = ErrQueueFull
		t.queue, t.batches, t.queued = nil, 0, 0
		t.mu.Unlock()
		counters.queueOverflows.Add(1)
		t.cfg.log.warn("queue-full", "closing a connection that does not read: too much queued for it",
			"queued", queued, "limit", limit, "remote", t.conn.RemoteAddr().String())
		// Closing the socket (not the WebSocket: that would emit "close"
		// here, under engine.io's lock) fails the blocked write and the
		// reader, which reports ErrQueueFull.
		_ = t.conn.NetConn().Close()
		return
	}
	t.queue = append(t.queue, packets...)
	t.batches++
	t.queued += n
	t.mu.Unlock()
}

// writeInline writes packets on the caller's goroutine without waiting for
// the peer; a rest the socket did not take goes to the writer goroutine.
// The transport stays writable unless that happens.
func (t *transport) writeInline(packets []*packet.Packet) {
	t.cork.Cork()
	var err error
	for _, p := range packets {
		if err = t.write(p); err != nil {
			break
		}
	}
	rest, uerr := t.cork.UncorkNow()
	if err == nil {
		err = uerr
	}
	counters.inlineWrites.Add(1)
	if rest {
		counters.inlineRests.Add(1)
	}
	if err != nil || rest {
		t.mu.Lock()
		t.SetWritable(false)
		t.mu.Unlock()
		if err != nil {
			go t.writeFailed(err)
		} else {
			go t.writeLoop(nil, true)
		}
		return
	}
	t.mu.Lock()
	t.writing = false
	closing := t.closing
	t.mu.Unlock()
	t.Emit("drain")
	if closing {
		_ = t.conn.Close()
	}
}

// inlineable reports whether packets may be written on the sending
// goroutine: at most about inlineMax bytes, and no socket.io CONNECT
// packet. socket.io v2.5.0 writes a namespace's CONNECT before it emits
// "connection" to the application, and reads the client's next packets
// concurrently: an event the client sends as soon as it is connected is
// lost if it arrives before the application's "connection" handler has
// registered its listener. Written inline, the CONNECT would reach the
// client a goroutine hand-off sooner and widen that window, so it goes
// through the writer goroutine, as it always did.
func inlineable(packets []*packet.Packet) bool {
	n := int64(0)
	for _, p := range packets {
		n += packetOverhead
		switch d := p.Data.(type) {
		case *types.StringBuffer:
			b := d.Bytes()
			if p.Type == packet.MESSAGE && len(b) > 0 && b[0] == '0' {
				return false // socket.io CONNECT
			}
			n += int64(len(b))
		case nil:
		default:
			return false // binary or foreign data: the writer goroutine's path
		}
	}
	return n <= inlineMax
}

// queuedSize estimates what packets hold in memory.
func queuedSize(packets []*packet.Packet) int64 {
	n := int64(len(packets)) * packetOverhead
	for _, p := range packets {
		if p.Options != nil && p.Options.WsPreEncodedFrame != nil {
			n += int64(p.Options.WsPreEncodedFrame.Len())
			continue
		}
		if l, ok := p.Data.(interface{ Len() int }); ok {
			n += int64(l.Len())
		}
	}
	return n
}

// writeLoop writes batch (or, with rest, what writeInline left in the
// corked connection), then what queued meanwhile, until the queue is empty,
// emitting "drain" per batch Send was given; then it makes the transport
// writable and says "ready" (engine.io hands over what it collected).
func (t *transport) writeLoop(batch []*packet.Packet, rest bool) {
	batches := 1
	for {
		t.startBatch()
		var err error
		if rest {
			err, rest = t.writeRest(), false
		} else {
			err = t.writeBatch(batch)
		}
		t.open.Stop()
		if err != nil {
			t.writeFailed(err)
			return
		}
		for ; batches > 0; batches-- {
			t.Emit("drain")
		}
		t.mu.Lock()
		if len(t.queue) == 0 || t.failure != nil {
			t.writing = false
			closing := t.closing
			t.SetWritable(true)
			t.mu.Unlock()
			if closing {
				_ = t.conn.Close()
				return
			}
			t.Emit("ready")
			return
		}
		batch, batches = t.queue, t.batches
		t.queue, t.batches, t.queued = nil, 0, 0
		t.SetWritable(false)
		t.mu.Unlock()
	}
}

// startBatch arms the timer that opens the transport if writing the batch
// takes long. The timer is the transport's own, re-armed per batch (a new
// one per batch cost an allocation and more timer work).
func (t *transport) startBatch() {
	if t.open == nil {
		t.open = time.AfterFunc(openAfter, t.openDuring)
	} else {
		t.open.Reset(openAfter)
	}
}

// openDuring makes the transport writable while a batch is still being
// written, and takes what engine.io collected so far into the queue. A
// late run for a batch already written may open the next one early: its
// packets then queue here, counted, instead of in engine.io.
func (t *transport) openDuring() {
	t.mu.Lock()
	if !t.writing || t.failure != nil || t.closing {
		t.mu.Unlock()
		return
	}
	t.SetWritable(true)
	t.mu.Unlock()
	t.Emit("ready")
}

// writeFailed ends the writes after an error.
func (t *transport) writeFailed(err error) {
	t.mu.Lock()
	t.writing = false
	t.SetWritable(true)
	t.queue, t.batches, t.queued = nil, 0, 0
	closing, failure := t.closing, t.failure
	if failure == nil {
		t.failure = err
	}
	t.mu.Unlock()
	if closing {
		_ = t.conn.Close()
		return
	}
	if failure != nil {
		return // closed on purpose: the reader reports it
	}
	// gorilla/websocket hides the deadline error behind its own net.Error.
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		counters.writeTimeouts.Add(1)
		t.cfg.log.warn("write-timeout", "closing a connection that accepts no data",
			"timeout", t.cfg.writeTimeout, "remote", t.conn.RemoteAddr().String())
	}
	// The failure is set: no more writes. Report the error itself.
	var ce *ws.CloseError
	if errors.As(err, &ce) || errors.Is(err, net.ErrClosed) {
		t.conn.Emit("close")
		return
	}
	t.conn.Emit("error", err)
}

// writeRest writes what writeInline left in the corked connection, within
// the write timeout.
func (t *transport) writeRest() error {
	if timeout := t.cfg.writeTimeout; timeout > 0 {
		if err := t.cork.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
			return err
		}
	}
	return t.cork.Uncork()
}

// writeBatch writes packets, through one corked write when possible, each
// packet within the write timeout.
func (t *transport) writeBatch(packets []*packet.Packet) error {
	if t.cork != nil {
		t.cork.Cork()
	}
	var err error
	var renew time.Time
	// The clock is read before the first packet and then once at least
	// maxCorked bytes were added, the most that goes out between two
	// reads (the corked connection writes at maxCorked); the deadline is
	// renewed (each costs a lock in the runtime poller) once an eighth of
	// the timeout went by: every write(2) of the batch starts with between
	// 7/8 and all of it. A clock read per packet was 5 % of a saturated
	// server's CPU.
	unread := int64(maxCorked) // bytes added since the clock was read
	for i, p := range packets {
		if timeout := t.cfg.writeTimeout; timeout > 0 && unread >= maxCorked {
			unread = 0
			if now := time.Now(); !now.Before(renew) {
				_ = t.conn.SetWriteDeadline(now.Add(timeout))
				if t.frames {
					// The frames written here bypass gorilla, which
					// would set it on cork per frame.
					_ = t.cork.SetWriteDeadline(now.Add(timeout))
				}
				renew = now.Add(timeout / 8)
			}
		}
		unread += queuedSize(packets[i : i+1])
		if err = t.write(p); err != nil {
			break
		}
	}
	if t.cork != nil {
		if uerr := t.cork.Uncork(); err == nil {
			err = uerr
		}
	}
	if t.inline && !renew.IsZero() {
		// gorilla applies its deadline to every frame: frames written
		// inline must not carry this one (past, it fails them).
		_ = t.conn.SetWriteDeadline(time.Time{})
	}
	return err
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
	if t.frames {
		return t.cork.writeFrame(byte(mt), prefix, body)
	}
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

// DoClose closes the connection (engine.io calls it through Close), once
// the write in progress, if any, is done (within the write timeout): the
// packets handed over before, a disconnect among them, reach the client.
func (t *transport) DoClose(fn types.Callable) {
	if fn != nil {
		fn()
	}
	t.mu.Lock()
	t.closing = true
	writing := t.writing
	t.mu.Unlock()
	if !writing {
		_ = t.conn.Close()
	}
}
