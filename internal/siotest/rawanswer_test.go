package siotest

import (
	"reflect"
	"testing"
	"time"

	"github.com/zishang520/socket.io/v2/socket"

	"github.com/sioredis/sioredis/internal/rawclient"
)

// TestRawClientAnswers broadcasts with an ack to a raw client that answers
// "ask" and to one that does not: the server gets the one answer, with the
// arguments the client computed from the event's, and both record the event.
func TestRawClientAnswers(t *testing.T) {
	n := startMemoryNode(t)
	answering := rawclient.Dial(t, n.URL, "/", nil, true)
	answering.Answer("ask", func(args []any) []any { return []any{"re", args[0]} })
	silent := rawclient.Dial(t, n.URL, "/", nil, true)
	type result struct {
		got []any
		err error
	}
	first := make(chan result, 1)
	n.IO.Timeout(time.Second).EmitWithAck("ask", "q")(func(a []any, err error) {
		select {
		case first <- result{a, err}:
		default:
		}
	})
	r := <-first
	// socket.io appends each client's answer arguments to one list.
	if want := []any{"re", "q"}; !reflect.DeepEqual(r.got, want) {
		t.Fatalf("answers %#v, want %#v", r.got, want)
	}
	// Whether that first callback carries the timeout depends on when
	// socket.io v2.5.0 counts the clients (it can complete on one answer
	// under load); asked alone, the silent client must let it time out.
	alone := make(chan error, 1)
	n.IO.To(socket.Room(silent.ID)).Timeout(300*time.Millisecond).EmitWithAck("ask", "q")(func(_ []any, err error) {
		select {
		case alone <- err:
		default:
		}
	})
	if err := <-alone; err == nil {
		t.Fatal("no timeout error though the client asked never answered")
	}
	answering.ExpectExactly("ask", 1)
	silent.ExpectExactly("ask", 2)
}
