// Package conformance holds the cross-server scenarios every socket.io
// binding of the core must pass, written once: each binding's tests
// implement Binding (start a server node with an adapter built in a given
// mode, and drive it through the few calls the scenarios make) and call the
// Run functions. The package needs no socket.io library: where the
// scenarios need a client of their own they use the raw-frame client of
// internal/rawclient; the clients a Node dials are the binding's.
package conformance

import (
	"context"
	"log/slog"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sioredis/sioredis"
)

// Kind selects the adapter constructor: New, NewSharded or NewStreams.
type Kind int

// The adapter constructors.
const (
	Classic Kind = iota
	Sharded
	Streams
)

// Config is how a Node's adapter is built; zero fields keep the binding's
// defaults.
type Config struct {
	Kind            Kind
	RequestsTimeout time.Duration
	// SpecificResponse publishes answers on each requester's own response
	// channel (WithPublishOnSpecificResponseChannel).
	SpecificResponse  bool
	SubscriptionMode  sioredis.SubscriptionMode
	InboxSize         int
	Logger            *slog.Logger
	HeartbeatInterval time.Duration
	HeartbeatTimeout  time.Duration
	// HealthCheckInterval is WithHealthCheckInterval.
	HealthCheckInterval time.Duration
}

// Binding is what a binding's tests give the scenarios.
type Binding struct {
	// Package marks the binding's goroutines in stack dumps, for the
	// goroutine-leak checks (e.g. "sioredis/redisadapter.").
	Package string
	// New builds an adapter on rdb as cfg says.
	New func(rdb redis.UniversalClient, cfg Config) Builder
	// Serve starts a server node named name with the adapter of b, with
	// namespaces "/" and "/admin" and the test handlers of the binding's
	// siotest ("join", "leave", "set-data"). The node and rdb close when
	// the test ends.
	Serve func(t testing.TB, name string, rdb redis.UniversalClient, b Builder) Node
	// ServeDynamic is Serve for a server with dynamic namespaces: every
	// namespace matching ^/dyn-\d+$ exists on demand, emits "ready" to each
	// socket once its connection handler ran, and is removed once its last
	// socket left (CleanupEmptyChildNamespaces). Its Dial waits for
	// "ready"; it has no "/admin" namespace and no test handlers.
	ServeDynamic func(t testing.TB, name string, rdb redis.UniversalClient, b Builder) Node
	// Bytes returns the bytes of a binary value as the binding's client
	// delivers it (nil if v is not binary).
	Bytes func(v any) []byte
	// Binary returns the values of a broadcast that carries binary data in
	// every form the binding's server accepts, and the bytes each holds:
	// the arguments of the conformance Binary scenario.
	Binary func() []any
}

// Target selects sockets as socket.io's broadcast operator does.
type Target struct {
	// Nsp is the namespace ("" is "/").
	Nsp string
	// Rooms and Except are the operator's To (or In) and Except rooms.
	Rooms, Except []string
	// Volatile and Compress are the operator's flags.
	Volatile, Compress bool
}

// All is the Target of every socket of the main namespace.
var All = Target{}

// To is the Target of the main namespace's rooms.
func To(rooms ...string) Target { return Target{Rooms: rooms} }

// Excluding returns t without the sockets of rooms.
func (t Target) Excluding(rooms ...string) Target {
	t.Except = append(append([]string{}, t.Except...), rooms...)
	return t
}

// RemoteSocket is what fetchSockets returned for one socket.
type RemoteSocket struct {
	ID    string
	Rooms []string
	Data  any
	// Query, Headers and Issued are the socket's handshake; a value of
	// Query or Headers is a string or a []string, as the binding has it.
	Query   map[string]any
	Headers map[string]any
	Issued  int64
	// Handshake is the binding's whole handshake (a pointer to its
	// socket.Handshake), for comparisons.
	Handshake any
}

// Node is one socket.io server of a binding, with its adapter.
type Node interface {
	Name() string
	// URL is the node's base URL, for rawclient.Dial.
	URL() string
	// Close closes the server (and its adapters), the listener and the
	// Redis client; it is safe to call more than once.
	Close()
	// CloseServer closes only the socket.io server (io.Close, and so its
	// adapters), and returns when io.Close returns.
	CloseServer()
	// Dial connects a client of the binding's socket.io client library
	// that records events, and waits until the server's handlers are in
	// place.
	Dial(t testing.TB, nsp string, query url.Values, events ...string) Client

	// Emit broadcasts ev to the sockets of to.
	Emit(to Target, ev string, args ...any)
	// EmitWithAck broadcasts ev with an ack and returns the first call of
	// the ack (socket.io's operator may call it twice).
	EmitWithAck(to Target, timeout time.Duration, ev string, args ...any) ([]any, error)
	FetchSockets(from Target) ([]RemoteSocket, error)
	SocketsJoin(from Target, room string)
	SocketsLeave(from Target, room string)
	DisconnectSockets(from Target, close bool)
	ServerSideEmit(ev string, args ...any) error
	// ServerSideEmitWithAck returns the answers, and the error of the call
	// or else of its ack.
	ServerSideEmitWithAck(ev string, args ...any) ([]any, error)
	// On handles the server-side event ev of the main namespace: fn gets
	// its arguments, and what fn returns answers its ack if it has one.
	On(ev string, fn func(args []any) []any)
	// OnConnect makes every socket that connects to a namespace matching
	// pattern join room if its namespace is nsp.
	OnConnect(pattern *regexp.Regexp, nsp, room string)
	// Namespace creates namespace nsp (without sockets).
	Namespace(nsp string)
	// Socket is the server-side socket id of namespace nsp, if it is
	// connected to this node.
	Socket(nsp, id string) (LocalSocket, bool)
	// HasSocket reports whether socket id is connected to namespace nsp.
	HasSocket(nsp, id string) bool
	// Adapter is the Redis adapter of namespace nsp; false if the
	// namespace has another adapter.
	Adapter(nsp string) (Adapter, bool)

	// Builder is the node's adapter builder.
	Builder
}

// Builder is a binding's adapter builder (its *redisadapter.Builder), as
// far as the scenarios look at it.
type Builder interface {
	Healthy() bool
	WaitHealthy(ctx context.Context) error
	Stats() sioredis.Stats
	Members() []sioredis.Member
}

// Start starts a node of b on rdb with an adapter built as cfg says.
func (b Binding) Start(t testing.TB, name string, rdb redis.UniversalClient, cfg Config) Node {
	t.Helper()
	return b.Serve(t, name, rdb, b.New(rdb, cfg))
}

// LocalSocket is a server-side socket of a Node.
type LocalSocket interface {
	Join(room string)
	Leave(room string)
}

// Adapter is the Redis adapter of one namespace of a Node.
type Adapter interface {
	Uid() string
	ServerCount() int64
	ServerCountContext(ctx context.Context) (int64, error)
	PendingRequests() int
	// AllRooms is the rooms of every server (nil with the error).
	AllRooms(ctx context.Context) ([]string, error)
	// Rooms is the rooms of this server's sockets.
	Rooms() []string
	ActiveRoomChannels() []string
	// CachedHandshakes is the number of encoded handshakes the adapter
	// keeps for fetchSockets answers.
	CachedHandshakes() int
}

// Client is a socket.io client of the binding's client library that
// records the events it receives (the binding's siotest.Client).
type Client interface {
	ID() string
	// Expect waits (at most 5 s) for one ev event and returns its
	// arguments.
	Expect(ev string) []any
	// ExpectNone asserts that no ev event arrives within d.
	ExpectNone(ev string, d time.Duration)
	// ExpectNoMore asserts that no further ev event arrives.
	ExpectNoMore(ev string)
	// ExpectExactly waits for n ev events, then asserts that no more
	// arrive.
	ExpectExactly(ev string, n int) [][]any
	// Chan returns the channel on which recorded ev events arrive.
	Chan(ev string) <-chan []any
	// Call emits an event with an ack and waits for the server's answer.
	Call(ev string, args ...any) []any
	// Answer acknowledges ev events sent with an ack with fn's result.
	Answer(ev string, fn func(args []any) []any)
	Disconnect()
	// Connected reports whether the client's socket is connected.
	Connected() bool
}
