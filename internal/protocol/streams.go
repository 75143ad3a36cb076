package protocol

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/sioredis/sioredis/internal/codec"
)

// The Redis Streams format of @socket.io/redis-streams-adapter 0.3.1: every
// ClusterAdapter envelope that must survive goes into a stream as one entry
// with the fields uid, nsp, type (decimal) and data (JSON, or base64 msgpack
// when it holds binary); the ephemeral ones (broadcasts with ack,
// server-side emits, fetchSockets) and every answer go over pub/sub as
// msgpack envelopes on the namespace channel P#N# and the private channel
// P#N#U#. Sessions of connection state recovery are base64 msgpack
// {sid, pid, rooms, data} under sessionKeyPrefix + pid.

// Streams adapter defaults (Node's option names in the comments).
const (
	DefaultStreamName       = "socket.io"    // streamName
	DefaultStreamCount      = 1              // streamCount
	DefaultStreamMaxLen     = 10000          // maxLen
	DefaultStreamReadCount  = 100            // readCount
	DefaultBlockTimeInMs    = 5000           // blockTimeInMs
	DefaultSessionKeyPrefix = "sio:session:" // sessionKeyPrefix
)

// StreamFor returns the stream that carries namespace nsp: streamName when
// count is 1, else streamName-i with i = hashCode(nsp) % count, computed
// like the JavaScript of Node's adapter (UTF-16 code units, 32-bit
// wrap-around, a remainder that keeps the sign of a negative hash).
func StreamFor(streamName string, count int, nsp string) string {
	if count <= 1 {
		return streamName
	}
	var h int32
	for _, c := range utf16.Encode([]rune(nsp)) {
		h = h*31 + int32(c)
	}
	return streamName + "-" + strconv.Itoa(int(h%int32(count)))
}

// Streams returns every stream of a cluster, in Node's order.
func Streams(streamName string, count int) []string {
	if count <= 1 {
		return []string{streamName}
	}
	out := make([]string, count)
	for i := range out {
		out[i] = streamName + "-" + strconv.Itoa(i)
	}
	return out
}

// StreamEntry is the field list of one stream entry, in the order Node
// writes it: uid, nsp, type, data (data absent for types without data).
type StreamEntry []string

// IsEphemeral reports whether Node's streams adapter sends the envelope over
// pub/sub instead of the stream: broadcasts with ack, server-side emits and
// fetchSockets, whose answers are only wanted while the sender waits.
func IsEphemeral(m *Envelope) bool {
	switch m.Type {
	case MsgBroadcast:
		return m.RequestID != ""
	case MsgServerSideEmit, MsgFetchSockets:
		return true
	}
	return false
}

// EncodeStreamEntry encodes an envelope as a stream entry. The data is JSON
// unless it holds binary in a type that may carry it and onlyPlaintext is
// off (Node's onlyPlaintext option), then base64 msgpack.
func EncodeStreamEntry(m *Envelope, onlyPlaintext bool) (StreamEntry, error) {
	data, binaryCapable, err := envelopeData(m)
	if err != nil {
		return nil, err
	}
	e := StreamEntry{"uid", m.UID, "nsp", m.Nsp, "type", strconv.Itoa(int(m.Type))}
	if data == nil {
		return e, nil
	}
	if !onlyPlaintext && binaryCapable && codec.HasBinary(data) {
		b, err := codec.MarshalMsgpack(data)
		if err != nil {
			return nil, err
		}
		return append(e, "data", base64.StdEncoding.EncodeToString(b)), nil
	}
	b, err := codec.MarshalJSON(data)
	if err != nil {
		return nil, err
	}
	return append(e, "data", string(b)), nil
}

// Args returns the fields as XADD arguments.
func (e StreamEntry) Args() []any {
	out := make([]any, len(e))
	for i, s := range e {
		out[i] = s
	}
	return out
}

// maxStreamField bounds each field of an entry read from the stream; the
// decoders bound what is inside.
const maxStreamField = 64 << 20

// DecodeStreamEntry decodes the fields of a stream entry (as go-redis
// returns them) into an envelope. Node skips entries without nsp; so does
// this (codec.ErrMalformed). The data is JSON when it starts with '{', base64
// msgpack otherwise, as Node decides.
func DecodeStreamEntry(fields map[string]any) (*Envelope, error) {
	str := func(k string) (string, bool, error) {
		v, ok := fields[k]
		if !ok {
			return "", false, nil
		}
		s, ok := v.(string)
		if !ok {
			return "", false, fmt.Errorf("%w: stream field %q is %s", codec.ErrMalformed, k, codec.TypeName(v))
		}
		if len(s) > maxStreamField {
			return "", false, fmt.Errorf("%w: stream field %q too large", codec.ErrMalformed, k)
		}
		return s, true, nil
	}
	uid, _, err := str("uid")
	if err != nil {
		return nil, err
	}
	nsp, _, err := str("nsp")
	if err != nil {
		return nil, err
	}
	if nsp == "" {
		return nil, fmt.Errorf("%w: stream entry without nsp", codec.ErrMalformed)
	}
	ts, _, err := str("type")
	if err != nil {
		return nil, err
	}
	t, err := strconv.Atoi(ts)
	if err != nil || t < 0 || t > 1<<20 {
		return nil, fmt.Errorf("%w: stream entry type %q", codec.ErrMalformed, ts)
	}
	data, hasData, err := str("data")
	if err != nil {
		return nil, err
	}
	if hasData && data == "" {
		hasData = false // Node: if (rawMessage.data)
	}
	if hasData && strings.HasPrefix(data, "{") {
		b := make([]byte, 0, len(data)+len(uid)+len(nsp)+40)
		b = append(b, `{"type":`...)
		b = strconv.AppendInt(b, int64(t), 10)
		b = append(b, `,"uid":`...)
		b = codec.AppendJSONString(b, uid)
		b = append(b, `,"nsp":`...)
		b = codec.AppendJSONString(b, nsp)
		b = append(b, `,"data":`...)
		b = append(b, data...)
		b = append(b, '}')
		return DecodeEnvelope(b)
	}
	var raw []byte
	if hasData {
		if raw, err = base64.StdEncoding.DecodeString(data); err != nil {
			return nil, fmt.Errorf("%w: stream entry data: %v", codec.ErrMalformed, err)
		}
	}
	n := 3
	if hasData {
		n = 4
	}
	b := make([]byte, 0, len(raw)+len(uid)+len(nsp)+32)
	b = append(b, 0x80|byte(n))
	b = codec.AppendMsgpackString(b, "type")
	b = codec.AppendMsgpackInt(b, int64(t))
	b = codec.AppendMsgpackString(b, "uid")
	b = codec.AppendMsgpackString(b, uid)
	b = codec.AppendMsgpackString(b, "nsp")
	b = codec.AppendMsgpackString(b, nsp)
	if hasData {
		b = codec.AppendMsgpackString(b, "data")
		b = append(b, raw...)
	}
	return DecodeEnvelope(b)
}

// Session is what connection state recovery keeps of a disconnected
// socket: Node's {sid, pid, rooms, data}.
type Session struct {
	Sid   string
	Pid   string
	Rooms []string
	// Data is socket.data in wire form (see ToWire).
	Data any
}

// EncodeSession encodes a session as Node's streams adapter stores it:
// base64 of its msgpack.
func EncodeSession(s *Session) (string, error) {
	data, err := codec.ToWire(s.Data)
	if err != nil {
		return "", err
	}
	b, err := codec.MarshalMsgpack(codec.Object{{"sid", s.Sid}, {"pid", s.Pid}, {"rooms", stringsToAny(s.Rooms)}, {"data", data}})
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// DecodeSession decodes a stored session.
func DecodeSession(text string) (*Session, error) {
	if len(text) > maxStreamField {
		return nil, fmt.Errorf("%w: session too large", codec.ErrMalformed)
	}
	raw, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return nil, fmt.Errorf("%w: session: %v", codec.ErrMalformed, err)
	}
	v, err := codec.UnmarshalMsgpack(raw)
	if err != nil {
		return nil, err
	}
	m, err := asMap(v, "session")
	if err != nil {
		return nil, err
	}
	s := &Session{Data: m["data"]}
	if s.Sid, _, err = optString(m, "sid"); err != nil {
		return nil, err
	}
	if s.Pid, _, err = optString(m, "pid"); err != nil {
		return nil, err
	}
	if s.Rooms, err = optStrings(m, "rooms"); err != nil {
		return nil, err
	}
	if s.Sid == "" {
		return nil, fmt.Errorf("%w: session without sid", codec.ErrMalformed)
	}
	if s.Rooms == nil {
		s.Rooms = []string{}
	}
	return s, nil
}

// ValidOffset reports whether s is a stream entry id (Node checks
// /^[0-9]+-[0-9]+$/ before restoring a session).
func ValidOffset(s string) bool {
	ms, seq, ok := strings.Cut(s, "-")
	return ok && allDigits(ms) && allDigits(seq)
}

func allDigits(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// SessionIncludes reports whether a packet broadcast with opts reached a
// socket whose rooms were rooms (Node's shouldIncludePacket): no rooms or
// one of its rooms, and none of its rooms excluded.
func SessionIncludes(rooms []string, opts Options) bool {
	included := len(opts.Rooms) == 0
	for _, r := range rooms {
		for _, e := range opts.Except {
			if r == e {
				return false
			}
		}
		if !included {
			for _, t := range opts.Rooms {
				if r == t {
					included = true
					break
				}
			}
		}
	}
	return included
}
