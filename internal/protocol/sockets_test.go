package protocol

import (
	"bytes"
	"testing"
)

// TestEncodedHandshake: an answer whose handshakes were encoded ahead is
// byte for byte the answer encoded from the handshakes, in msgpack; JSON
// answers ignore the encoding.
func TestEncodedHandshake(t *testing.T) {
	socks := append([]SocketInfo{fixtureSocket()}, benchFetchSockets().Sockets[:3]...)
	socks[1].Handshake.Headers["X-Multi"] = []string{"a", "b"}
	socks[1].Handshake.Headers["x-multi"] = []string{"c"}
	socks[2].Handshake.Auth = map[string]any{"token": []byte{1, 2}}
	cached := append([]SocketInfo(nil), socks...)
	for i := range cached {
		enc, err := EncodeHandshake(cached[i].Handshake)
		if err != nil {
			t.Fatal(err)
		}
		cached[i].EncodedHandshake = enc
	}
	for _, mp := range []bool{true, false} {
		encode := []func([]SocketInfo) ([]byte, error){
			func(s []SocketInfo) ([]byte, error) {
				return EncodeResponse(&Response{Type: RequestRemoteFetch, RequestID: "r", Sockets: s, Msgpack: mp})
			},
			func(s []SocketInfo) ([]byte, error) {
				return EncodeEnvelope(&Envelope{Type: MsgFetchSocketsResponse, UID: "u", Nsp: "/",
					RequestID: "r", Sockets: s, Msgpack: mp})
			},
		}
		for i, enc := range encode {
			want, err := enc(socks)
			if err != nil {
				t.Fatal(err)
			}
			got, err := enc(cached)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(want, got) {
				t.Errorf("msgpack=%v encoder %d: cached %x, want %x", mp, i, got, want)
			}
		}
	}
}
