package protocol

import (
	"fmt"
	"time"

	"github.com/sioredis/sioredis/internal/codec"
)

// EventPacketType is the Socket.IO EVENT packet type as Node writes it on the
// wire. Cross-server broadcasts always carry it, even with binary arguments.
const EventPacketType = 2

// Packet is a Socket.IO packet as carried inside adapter messages.
type Packet struct {
	// Type is Node's numeric packet type (0..6), not zishang's ASCII digit.
	Type int
	// Data is [event, args...] in wire form (see ToWire).
	Data []any
	// Nsp is the namespace. Classic and emitter messages carry it; the packet
	// inside a ClusterAdapter envelope does not (the envelope has it).
	Nsp string
}

// Flags are the broadcast flags Node puts on the wire. Only Node's keys are
// written; unknown keys are ignored when decoding.
type Flags struct {
	// Volatile lets servers drop the packet for clients that are not ready.
	Volatile bool
	// Compress is nil when unset (Node then compresses when it can).
	Compress *bool
	// Local is never published; decoders keep it so that a message that
	// carries it can be recognised.
	Local bool
	// Timeout is written in whole milliseconds, as Node's io.timeout(ms).
	Timeout *time.Duration
	// ExpectSingleResponse is set by RemoteSocket.emit (one target socket).
	ExpectSingleResponse bool
}

// Options selects the target sockets of a broadcast or socket operation.
type Options struct {
	// Rooms are the target rooms; none means the whole namespace.
	Rooms []string
	// Except excludes the sockets of these rooms.
	Except []string
	// Flags are the broadcast flags.
	Flags Flags
}

// optsLayout is the key order and key set of an encoded Options.
type optsLayout int

const (
	layoutAdapter optsLayout = iota // rooms, except, flags
	layoutEmitter                   // rooms, flags, except
	layoutNoFlags                   // rooms, except
)

func (f Flags) wire() codec.Object {
	o := codec.Object{}
	if f.Volatile {
		o = append(o, codec.Member{"volatile", true})
	}
	if f.Compress != nil {
		o = append(o, codec.Member{"compress", *f.Compress})
	}
	if f.Timeout != nil {
		o = append(o, codec.Member{"timeout", f.Timeout.Milliseconds()})
	}
	if f.ExpectSingleResponse {
		o = append(o, codec.Member{"expectSingleResponse", true})
	}
	return o
}

func (o Options) wire(layout optsLayout) codec.Object {
	rooms := codec.Member{"rooms", stringsToAny(o.Rooms)}
	except := codec.Member{"except", stringsToAny(dedupe(o.Except))}
	switch layout {
	case layoutEmitter:
		return codec.Object{rooms, {"flags", o.Flags.wire()}, except}
	case layoutNoFlags:
		return codec.Object{rooms, except}
	default:
		return codec.Object{rooms, except, {"flags", o.Flags.wire()}}
	}
}

func dedupe(s []string) []string {
	if len(s) < 2 {
		return s
	}
	seen := make(map[string]struct{}, len(s))
	out := make([]string, 0, len(s))
	for _, e := range s {
		if _, ok := seen[e]; !ok {
			seen[e] = struct{}{}
			out = append(out, e)
		}
	}
	return out
}

func decodeFlags(v any) (Flags, error) {
	var f Flags
	if v == nil {
		return f, nil
	}
	m, err := asMap(v, "flags")
	if err != nil {
		return f, err
	}
	if f.Volatile, err = optBool(m, "volatile"); err != nil {
		return f, err
	}
	if f.Local, err = optBool(m, "local"); err != nil {
		return f, err
	}
	if f.ExpectSingleResponse, err = optBool(m, "expectSingleResponse"); err != nil {
		return f, err
	}
	if c, ok := m["compress"]; ok && c != nil {
		b, ok := c.(bool)
		if !ok {
			return f, fmt.Errorf("%w: \"compress\" is %s, want a boolean", codec.ErrMalformed, codec.TypeName(c))
		}
		f.Compress = &b
	}
	ms, ok, err := optInt(m, "timeout")
	if err != nil {
		return f, err
	}
	if ok {
		if ms < 0 || ms > int64(24*time.Hour/time.Millisecond) {
			return f, fmt.Errorf("%w: timeout %d ms out of range", codec.ErrMalformed, ms)
		}
		d := time.Duration(ms) * time.Millisecond
		f.Timeout = &d
	}
	return f, nil
}

func decodeOptions(v any) (Options, error) {
	var o Options
	m, err := asMap(v, "opts")
	if err != nil {
		return o, err
	}
	if o.Rooms, err = optStrings(m, "rooms"); err != nil {
		return o, err
	}
	if o.Except, err = optStrings(m, "except"); err != nil {
		return o, err
	}
	o.Flags, err = decodeFlags(m["flags"])
	return o, err
}

// wire returns the packet object; withNsp selects the classic form.
func (p Packet) wire(withNsp bool) codec.Object {
	o := make(codec.Object, 2, 3)
	o[0], o[1] = codec.Member{"type", p.Type}, codec.Member{"data", p.Data}
	if withNsp {
		o = append(o, codec.Member{"nsp", p.Nsp})
	}
	return o
}

// decodePacket reads a packet object. A missing nsp means "/" (legacy
// emitters). The data must be [event, ...args] with a string event name.
func decodePacket(v any) (Packet, error) {
	var p Packet
	m, err := asMap(v, "packet")
	if err != nil {
		return p, err
	}
	t, ok, err := optInt(m, "type")
	if err != nil {
		return p, err
	}
	if !ok || t < 0 || t > 6 {
		return p, fmt.Errorf("%w: packet type missing or out of range", codec.ErrMalformed)
	}
	p.Type = int(t)
	if p.Data, err = asArray(m["data"], "packet data"); err != nil {
		return p, err
	}
	if len(p.Data) == 0 {
		return p, fmt.Errorf("%w: packet data is empty", codec.ErrMalformed)
	}
	if _, ok := p.Data[0].(string); !ok {
		return p, fmt.Errorf("%w: event name is %s", codec.ErrMalformed, codec.TypeName(p.Data[0]))
	}
	nsp, ok, err := optString(m, "nsp")
	if err != nil {
		return p, err
	}
	if !ok {
		nsp = "/"
	}
	p.Nsp = nsp
	return p, nil
}

// decodeEventData reads [event, ...args] (server-side emits).
func decodeEventData(v any, what string) ([]any, error) {
	a, err := asArray(v, what)
	if err != nil {
		return nil, err
	}
	if len(a) == 0 {
		return nil, fmt.Errorf("%w: %s is empty", codec.ErrMalformed, what)
	}
	if _, ok := a[0].(string); !ok {
		return nil, fmt.Errorf("%w: event name is %s", codec.ErrMalformed, codec.TypeName(a[0]))
	}
	return a, nil
}
