package core

import (
	"context"
	"fmt"
	"time"
)

// What the bindings' calls share once they have converted socket.io's
// types: their deadlines, and serverSideEmit's handling of its
// acknowledgement.

// Bounded gives ctx the requests timeout when it has no deadline, for the
// calls that take a context: a cluster call must end even when its caller
// set no bound.
func (a *Adapter) Bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, a.RequestsTimeout())
}

// CallTimeout is the timeout of a socket.io callback call: the broadcast
// flags' timeout (flag, nil when unset) when positive, else the requests
// timeout.
func (a *Adapter) CallTimeout(flag *time.Duration) time.Duration {
	if flag != nil && *flag > 0 {
		return *flag
	}
	return a.RequestsTimeout()
}

// EmitServerSide is socket.io's ServerSideEmit once the binding has taken
// the acknowledgement (nil: none) off the end of the packet and converted
// the rest into data, or failed to (convErr). With an ack it waits, at most
// the requests timeout, for one answer per other server and gives the ack
// the answers (those so far on timeout, with the error); it returns the
// publishing and conversion errors, not the timeout, which the ack gets.
func (a *Adapter) EmitServerSide(data []any, convErr error, ack func([]any, error)) error {
	if convErr != nil {
		err := fmt.Errorf("sioredis: serverSideEmit: %w", convErr)
		if ack != nil {
			ack(nil, err)
		}
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.RequestsTimeout())
	defer cancel()
	if ack == nil {
		return a.ServerSideEmit(ctx, data)
	}
	values, err := a.ServerSideEmitWithAck(ctx, data)
	if values == nil && err == nil {
		values = []any{}
	}
	ack(values, err)
	if err != nil && !isTimeout(err) {
		return err
	}
	return nil
}

// maxAckExpiry caps how long a remote broadcast's acknowledgement closures
// wait, whatever timeout the requester asked for.
const maxAckExpiry = 10 * time.Minute

// AckExpiry is how long the closures of a broadcast with acks received
// from another server wait for their clients: the requester's timeout
// (flags.timeout, Node's io.timeout(ms)), else the requests timeout, at
// most maxAckExpiry. The requester has given up by then, so a later
// acknowledgement would be dropped anyway; socket.io keeps a closure on its
// socket until the client answers or disconnects, so a client that never
// answers would otherwise hold one per such broadcast.
func (a *Adapter) AckExpiry(flag *time.Duration) time.Duration {
	// Some slack, so that an acknowledgement on time still travels.
	return min(a.CallTimeout(flag)+time.Second, maxAckExpiry)
}

// AckValue is the value an acknowledgement sends back to a requester: its
// first argument, in wire form (toWire, the binding's conversion). A value
// that cannot be converted is left for the encoder to refuse (the response
// is then logged, not published).
func AckValue(args []any, toWire func(any) (any, error)) any {
	if len(args) == 0 {
		return nil
	}
	if w, err := toWire(args[0]); err == nil {
		return w
	}
	return args[0]
}
