package redisadapter

// CachedHandshakes is the number of encoded handshakes a namespace keeps
// for fetchSockets answers.
func CachedHandshakes(a *Adapter) int { return a.handshakes.cached() }

// The socket.io v2 conversions, for the benchmarks and the conversion tests
// of the external test package.
var (
	PacketFromSocket  = packetFromSocket
	OptionsFromSocket = optionsFromSocket
	SocketOptions     = socketOptions
	SocketPacket      = socketPacket
	RemoteDetails     = remoteDetails
)
