package codec

// protocolKey returns the key names that Socket.IO messages repeat (those
// of the adapters' messages and of handshakes) as constants, "" for any
// other name.
func protocolKey(p []byte) string {
	switch string(p) {
	case "type":
		return "type"
	case "data":
		return "data"
	case "nsp":
		return "nsp"
	case "uid":
		return "uid"
	case "rooms":
		return "rooms"
	case "except":
		return "except"
	case "flags":
		return "flags"
	case "opts":
		return "opts"
	case "packet":
		return "packet"
	case "requestId":
		return "requestId"
	case "volatile":
		return "volatile"
	case "compress":
		return "compress"
	case "timeout":
		return "timeout"
	case "expectSingleResponse":
		return "expectSingleResponse"
	case "clientCount":
		return "clientCount"
	case "sockets":
		return "sockets"
	case "id":
		return "id"
	case "handshake":
		return "handshake"
	case "headers":
		return "headers"
	case "time":
		return "time"
	case "address":
		return "address"
	case "xdomain":
		return "xdomain"
	case "secure":
		return "secure"
	case "issued":
		return "issued"
	case "url":
		return "url"
	case "query":
		return "query"
	case "auth":
		return "auth"
	}
	return ""
}

// internTable shares the strings that repeat from socket to socket in one
// answer (header names and most header values), so that they are allocated
// once per answer rather than once per socket. It is bounded, and only
// short strings are kept.
type internTable map[string]string

const (
	internMaxEntries = 512
	internMaxLen     = 128
)

func (t *internTable) get(p []byte) string {
	if len(p) > internMaxLen {
		return string(p)
	}
	if s, ok := (*t)[string(p)]; ok {
		return s
	}
	s := string(p)
	if *t == nil {
		*t = make(internTable, 32)
	}
	if len(*t) < internMaxEntries {
		(*t)[s] = s
	}
	return s
}
