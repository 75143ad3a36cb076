// Package events names what the demo's hosts, its cron job and its web page
// say to each other, so that a process that only emits (the cron job) does
// not need to link the socket.io server.
package events

const (
	// Room is the chat room every connected tab joins, on every host.
	Room = "lobby"

	// Welcome (server → one client) tells a tab which host serves it:
	// {"host", "id", "name"}.
	Welcome = "welcome"
	// Chat (client → server, with an ack) sends a message; the host
	// broadcasts it to Room on every host as {"id", "name", "host", "text",
	// "at"}.
	Chat = "chat"
	// Presence (server → every client) carries the cluster-wide online count
	// {"online", "servers", "perHost", "at"}; a client can also emit it with
	// an ack to ask for a fresh snapshot.
	Presence = "presence"
	// Announcement (cron job → Room) is a scheduled message: {"text",
	// "from", "at"}.
	Announcement = "announcement"
)

// StickyCookie is the cookie a host sets on the first page request of a
// browser. Both load balancers (nginx.conf and package balancer) hash it to
// pick a host, so every later request of that browser, long-polling ones
// included, reaches the same host. Requests without it are spread round
// robin.
const StickyCookie = "sioredis_lb"

const (
	// HostStatus (host → the other hosts, a server-side emit) is a host's
	// heartbeat: {"name", "clients", "rate", "healthy", "at"}.
	HostStatus = "host-status"
	// Cluster (host → its clients) is the live cluster view, sent every
	// heartbeat: {"hosts": [status...], "at"}.
	Cluster = "cluster"
)
