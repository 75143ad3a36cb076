package redisadapter

import "github.com/sioredis/sioredis/internal/core"

// CachedHandshakes is the number of encoded handshakes a namespace keeps
// for fetchSockets answers.
func CachedHandshakes(a *Adapter) int { return a.handshakes.Len() }

// The socket.io v2 conversions, for the benchmarks and the conversion tests
// of the external test package.
var (
	PacketFromSocket  = packetFromSocket
	OptionsFromSocket = optionsFromSocket
	SocketOptions     = socketOptions
	SocketPacket      = socketPacket
	RemoteDetails     = remoteDetails
)

// WithCapabilities makes a server answer and announce only caps (core
// capability names), to play an older server in a rolling upgrade.
func WithCapabilities(caps ...string) Option {
	return func(c *core.Config) { c.Capabilities = append([]string{}, caps...) }
}
