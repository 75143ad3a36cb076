package protocol_test

import (
	"fmt"

	"github.com/sioredis/sioredis/internal/protocol"
)

// A classic broadcast: io.to("room1").except("room2").emit("hello", "world", 42).
// The bytes are those Node's adapter publishes (vector V1.1).
func ExampleEncodeBroadcast() {
	msg := &protocol.Broadcast{
		UID:    "nodeA1",
		Packet: protocol.Packet{Type: protocol.EventPacketType, Data: []any{"hello", "world", 42}, Nsp: "/"},
		Opts:   protocol.Options{Rooms: []string{"room1"}, Except: []string{"room2"}},
	}
	payload, err := protocol.EncodeBroadcast(msg)
	if err != nil {
		panic(err)
	}
	fmt.Println(protocol.BroadcastChannelFor(protocol.DefaultPrefix, "/", msg.Opts.Rooms))
	fmt.Printf("%x\n", payload)

	back, err := protocol.DecodeBroadcast(payload)
	if err != nil {
		panic(err)
	}
	fmt.Println(back.UID, back.Packet.Data, back.Opts.Rooms, back.Opts.Except)
	// Output:
	// socket.io#/#room1#
	// 93a66e6f6465413183a47479706502a46461746193a568656c6c6fa5776f726c642aa36e7370a12f83a5726f6f6d7391a5726f6f6d31a665786365707491a5726f6f6d32a5666c61677380
	// nodeA1 [hello world 42] [room1] [room2]
}

// A sharded server-side emit with an acknowledgement, as JSON.
func ExampleEncodeEnvelope() {
	payload, err := protocol.EncodeEnvelope(&protocol.Envelope{
		Type: protocol.MsgServerSideEmit, UID: "a1a1a1a1a1a1a1a1", Nsp: "/",
		RequestID: "fedcba9876543210", EmitData: []any{"ping", 2},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(string(payload))
	// Output:
	// {"type":9,"data":{"requestId":"fedcba9876543210","packet":["ping",2]},"uid":"a1a1a1a1a1a1a1a1","nsp":"/"}
}
