package protocol

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/sioredis/sioredis/internal/codec"
	"github.com/sioredis/sioredis/internal/wiretest"
)

// The fuzz targets share one property per decoder: no input panics, every
// error wraps codec.ErrMalformed, and a value that decodes re-encodes with
// the Go encoder into a payload that decodes to the same value (after the
// normalizations the encoders document: local never published, except
// deduplicated, flags dropped where Node drops them, fields the message type
// does not carry cleared). Their seed corpora (every vector plus hostile
// seeds, and testdata/fuzz/<Target>) run as ordinary tests.

func addSeeds(f *testing.F, own [][]byte) {
	b, r, s, c := vectorPayloads(f)
	for _, group := range [][][]byte{own, b, r, s, c} {
		for _, p := range group {
			f.Add(p)
		}
	}
	for _, p := range wiretest.Bombs() {
		f.Add(p)
	}
	f.Add([]byte{})
	f.Add([]byte("{}"))
	f.Add([]byte(`{"type":6,"requestId":null,"data":["e"]}`))
}

func FuzzDecodeBroadcast(f *testing.F) {
	own, _, _, _ := vectorPayloads(f)
	addSeeds(f, own)
	f.Fuzz(func(t *testing.T, payload []byte) {
		b, err := DecodeBroadcast(payload)
		if err != nil {
			mustWrap(t, err)
			return
		}
		for _, encode := range []func(*Broadcast) ([]byte, error){EncodeBroadcast, EncodeEmitterBroadcast} {
			enc, err := encode(b)
			if err != nil {
				t.Fatalf("re-encoding %+v: %v", b, err)
			}
			back, err := DecodeBroadcast(enc)
			if err != nil {
				t.Fatalf("decoding the re-encoded %x: %v", enc, err)
			}
			want := *b
			want.Opts = wireOptions(b.Opts, true)
			compareRoundTrip(t, &want, back, enc)
		}
	})
}

func FuzzDecodeRequest(f *testing.F) {
	_, own, _, _ := vectorPayloads(f)
	addSeeds(f, own)
	f.Fuzz(func(t *testing.T, payload []byte) {
		r, err := DecodeRequest(payload)
		if err != nil {
			mustWrap(t, err)
			return
		}
		if r.Type < RequestSockets || r.Type > RequestBroadcast {
			return // unknown types are ignored by the caller; nothing to encode
		}
		enc, err := EncodeRequest(r)
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", r, err)
		}
		back, err := DecodeRequest(enc)
		if err != nil {
			t.Fatalf("decoding the re-encoded %q: %v", enc, err)
		}
		want := &Request{UID: r.UID, RequestID: r.RequestID, Type: r.Type}
		switch r.Type {
		case RequestSockets:
			want.Rooms = r.Rooms
		case RequestRemoteJoin, RequestRemoteLeave, RequestRemoteDisconnect:
			if r.Legacy {
				want.Legacy, want.Sid, want.Room, want.Close = true, r.Sid, r.Room, r.Close
				if r.Type == RequestRemoteDisconnect {
					want.Room = ""
				} else {
					want.Close = false
				}
			} else {
				want.RequestID = "" // not written: these requests are never answered
				want.Opts = wireOptions(r.Opts, false)
				if r.Type == RequestRemoteDisconnect {
					want.Close = r.Close
				} else {
					want.Rooms = r.Rooms
				}
			}
		case RequestRemoteFetch:
			want.Opts = wireOptions(r.Opts, false)
		case RequestServerSideEmit:
			want.Data = r.Data
		case RequestBroadcast:
			want.Packet = r.Packet
			want.Opts = wireOptions(r.Opts, true)
		}
		// An empty or null requestId is not written (never null on the wire).
		want.HasRequestID = want.RequestID != ""
		compareRoundTrip(t, want, back, enc)
	})
}

func FuzzDecodeResponse(f *testing.F) {
	_, _, own, _ := vectorPayloads(f)
	addSeeds(f, own)
	f.Fuzz(func(t *testing.T, payload []byte) {
		r, err := DecodeResponse(payload)
		if err != nil {
			mustWrap(t, err)
			return
		}
		// Node writes the type only for 6, 8 and 9; a requester goes by its
		// pending request otherwise. Re-encode as every type the decoded
		// fields can answer.
		types := []RequestType{r.Type}
		if r.Type == -1 {
			types = []RequestType{RequestSockets, RequestAllRooms, RequestRemoteFetch, RequestRemoteJoin}
		}
		for _, ty := range types {
			if ty < RequestSockets || ty > RequestBroadcastAck || ty == RequestServerSideEmit+1 {
				continue // 7 is not a response
			}
			in := *r
			in.Type = ty
			enc, err := EncodeResponse(&in)
			if err != nil {
				t.Fatalf("re-encoding %+v: %v", in, err)
			}
			back, err := DecodeResponse(enc)
			if err != nil {
				t.Fatalf("decoding the re-encoded %q: %v", enc, err)
			}
			want := &Response{Type: -1, RequestID: r.RequestID, UID: r.UID}
			switch ty {
			case RequestSockets:
				want.SocketIDs = r.SocketIDs
			case RequestAllRooms:
				want.Rooms = r.Rooms
			case RequestRemoteFetch:
				want.Sockets = wireSockets(r.Sockets)
			case RequestServerSideEmit:
				want.Type, want.Data = ty, r.Data
			case RequestBroadcastClientCount:
				want.Type, want.ClientCount = ty, r.ClientCount
			case RequestBroadcastAck:
				want.Type, want.Ack = ty, r.Ack
			}
			compareRoundTrip(t, want, back, enc)
		}
	})
}

func FuzzDecodeEnvelope(f *testing.F) {
	_, _, _, own := vectorPayloads(f)
	addSeeds(f, own)
	f.Fuzz(func(t *testing.T, payload []byte) {
		m, err := DecodeEnvelope(payload)
		if err != nil {
			mustWrap(t, err)
			return
		}
		if m.Type < MsgInitialHeartbeat || m.Type > MsgAdapterClose {
			return
		}
		enc, err := EncodeEnvelope(m)
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", m, err)
		}
		back, err := DecodeEnvelope(enc)
		if err != nil {
			t.Fatalf("decoding the re-encoded %q: %v", enc, err)
		}
		want := &Envelope{Type: m.Type, UID: m.UID, Nsp: m.Nsp}
		switch m.Type {
		case MsgBroadcast:
			want.RequestID, want.Packet, want.Opts = m.RequestID, m.Packet, wireOptions(m.Opts, true)
		case MsgSocketsJoin, MsgSocketsLeave:
			want.Opts, want.Rooms = wireOptions(m.Opts, true), m.Rooms
		case MsgDisconnectSockets:
			want.Opts, want.Close = wireOptions(m.Opts, true), m.Close
		case MsgFetchSockets:
			want.Opts, want.RequestID = wireOptions(m.Opts, true), m.RequestID
		case MsgFetchSocketsResponse:
			want.RequestID, want.Sockets = m.RequestID, wireSockets(m.Sockets)
		case MsgServerSideEmit:
			want.RequestID, want.EmitData = m.RequestID, m.EmitData
		case MsgServerSideEmitResponse, MsgBroadcastAck:
			want.RequestID, want.Value = m.RequestID, m.Value
		case MsgBroadcastClientCount:
			want.RequestID, want.ClientCount = m.RequestID, m.ClientCount
		case MsgInitialHeartbeat, MsgHeartbeat:
			want.Member = m.Member
			if want.Member != nil && want.Member.Capabilities != nil {
				want.Member.HasCapabilities = true
			}
		}
		want.HasRequestID = want.RequestID != ""
		compareRoundTrip(t, want, back, enc)
	})
}

func mustWrap(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, codec.ErrMalformed) {
		t.Fatalf("error %q does not wrap codec.ErrMalformed", err)
	}
}

// wireOptions is what an Options looks like after an encode/decode trip:
// local is never published, except is deduplicated, and the classic
// REMOTE_* requests carry no flags.
func wireOptions(o Options, withFlags bool) Options {
	out := Options{Rooms: o.Rooms, Except: dedupe(o.Except)}
	if withFlags {
		out.Flags = o.Flags
		out.Flags.Local = false
	}
	return out
}

// wireSockets is what socket descriptions look like after a trip: header
// names are lowercased on the wire and canonicalized back (names differing
// only by case merge), auth null becomes {}.
func wireSockets(s []SocketInfo) []SocketInfo {
	out := make([]SocketInfo, len(s))
	for i, e := range s {
		e.Handshake = wireHandshake(e.Handshake)
		out[i] = e
	}
	return out
}

func wireHandshake(h *Handshake) *Handshake {
	c := *h
	keys := make([]string, 0, len(h.Headers))
	for k := range h.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	c.Headers = map[string][]string{}
	for _, k := range keys {
		name := http.CanonicalHeaderKey(strings.ToLower(k))
		c.Headers[name] = append(c.Headers[name], h.Headers[k]...)
	}
	if c.Auth == nil {
		c.Auth = map[string]any{}
	}
	return &c
}

// compareRoundTrip compares the decoded re-encoding with the expected value.
// Through JSON, strings holding invalid UTF-8 come back with U+FFFD.
func compareRoundTrip(t *testing.T, want, got any, enc []byte) {
	t.Helper()
	var d string
	if len(enc) > 0 && enc[0] == '{' {
		d = diff(jsonStrings(want), got)
	} else {
		d = diff(want, got)
	}
	if d != "" {
		t.Fatalf("round trip through %q: %s", enc, d)
	}
}

// jsonStrings deep-copies v with every string (map keys included) replaced
// by what a JSON round trip gives for it.
func jsonStrings(v any) any {
	return sanitizeValue(reflect.ValueOf(v)).Interface()
}

func sanitizeString(s string) string {
	var out string
	if err := json.Unmarshal(codec.AppendJSONString(nil, s), &out); err != nil {
		panic(err)
	}
	return out
}

func sanitizeValue(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.String:
		out := reflect.New(v.Type()).Elem()
		out.SetString(sanitizeString(v.String()))
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(sanitizeValue(v.Elem()))
		return out
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type()).Elem()
		out.Set(sanitizeValue(v.Elem()))
		return out
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		out.Set(v)
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				out.Field(i).Set(sanitizeValue(v.Field(i)))
			}
		}
		return out
	case reflect.Slice:
		if v.IsNil() || v.Type().Elem().Kind() == reflect.Uint8 {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := 0; i < v.Len(); i++ {
			out.Index(i).Set(sanitizeValue(v.Index(i)))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		iter := v.MapRange()
		for iter.Next() {
			out.SetMapIndex(sanitizeValue(iter.Key()), sanitizeValue(iter.Value()))
		}
		return out
	}
	return v
}
