package protocol

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// benchBroadcast is a typical room broadcast:
// io.to("room1").emit("tick", {seq: 1, t: 1.7e12, pad: "x"*100}).
func benchBroadcast() *Broadcast {
	return &Broadcast{
		UID: "nodeA1",
		Packet: Packet{
			Type: EventPacketType,
			Data: []any{"tick", map[string]any{"seq": 1, "t": 1.7e12, "pad": strings.Repeat("x", 100)}},
			Nsp:  "/",
		},
		Opts: Options{Rooms: []string{"room1"}, Except: []string{}},
	}
}

func BenchmarkEncodeBroadcast(b *testing.B) {
	msg := benchBroadcast()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EncodeBroadcast(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBroadcast(b *testing.B) {
	payload, err := EncodeBroadcast(benchBroadcast())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeBroadcast(payload); err != nil {
			b.Fatal(err)
		}
	}
}

// benchRequests are a server-side emit (JSON) and a broadcast with ack
// (msgpack map).
func benchRequests() map[string]*Request {
	timeout := 5 * time.Second
	return map[string]*Request{
		"ServerSideEmit": {
			UID: "nodeA1", RequestID: "req0000001", Type: RequestServerSideEmit,
			Data: []any{"ping", map[string]any{"seq": 1, "t": 1.7e12, "pad": strings.Repeat("x", 100)}},
		},
		"BroadcastAck": {
			UID: "nodeA1", RequestID: "req0000002", Type: RequestBroadcast,
			Packet: benchBroadcast().Packet,
			Opts:   Options{Rooms: []string{"room1"}, Except: []string{}, Flags: Flags{Timeout: &timeout}},
		},
	}
}

func BenchmarkEncodeRequest(b *testing.B) {
	for name, r := range benchRequests() {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := EncodeRequest(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeRequest(b *testing.B) {
	for name, r := range benchRequests() {
		payload, err := EncodeRequest(r)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeRequest(payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchCluster is a sharded room broadcast (JSON envelope).
func benchCluster() *Envelope {
	p := benchBroadcast().Packet
	p.Nsp = ""
	return &Envelope{
		Type: MsgBroadcast, UID: "a1a1a1a1a1a1a1a1", Nsp: "/",
		Packet: p,
		Opts:   Options{Rooms: []string{"room1"}, Except: []string{}},
	}
}

func BenchmarkEncodeEnvelope(b *testing.B) {
	m := benchCluster()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EncodeEnvelope(m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeEnvelope(b *testing.B) {
	payload, err := EncodeEnvelope(benchCluster())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeEnvelope(payload); err != nil {
			b.Fatal(err)
		}
	}
}

// benchFetchSockets is a fetchSockets answer of one server with 100
// sockets (the harness's S6), each with the handshake of a socket.io-client
// 4.x WebSocket connection as Node writes it.
func benchFetchSockets() *Response {
	socks := make([]SocketInfo, 100)
	for i := range socks {
		id := fmt.Sprintf("sock%016dAAAB", i)
		socks[i] = SocketInfo{
			ID: id,
			Handshake: &Handshake{
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
				Issued:  1795257879711 + int64(i),
				Url:     "/socket.io/?EIO=4&transport=websocket",
				Query:   map[string][]string{"EIO": {"4"}, "transport": {"websocket"}},
				Auth:    map[string]any{},
			},
			Rooms: []string{id, "bench"},
		}
	}
	return &Response{Type: RequestRemoteFetch, RequestID: "abcdef123456", Sockets: socks}
}

func BenchmarkFetchSocketsResponse(b *testing.B) {
	for _, format := range []string{"msgpack", "json"} {
		r := benchFetchSockets()
		r.Msgpack = format == "msgpack"
		b.Run("encode/"+format, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := EncodeResponse(r); err != nil {
					b.Fatal(err)
				}
			}
		})
		if r.Msgpack {
			// What the adapter sends: handshakes encoded once per socket.
			cached := *r
			cached.Sockets = append([]SocketInfo(nil), r.Sockets...)
			for i := range cached.Sockets {
				enc, err := EncodeHandshake(cached.Sockets[i].Handshake)
				if err != nil {
					b.Fatal(err)
				}
				cached.Sockets[i].EncodedHandshake = enc
			}
			b.Run("encode/msgpack-cached", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := EncodeResponse(&cached); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run("decode/"+format, func(b *testing.B) {
			payload, err := EncodeResponse(r)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeResponse(payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
