// Package interop holds the interoperability tests of the socket.io v3
// binding (tests only): socket.io v3.0.6 servers with Node's socket.io 4.8
// servers and @socket.io/redis-adapter 8.3, with @socket.io/redis-emitter
// 5.1, and with socket.io v2.5.0 servers of the root module, each kind in
// its own process where they cannot share one (v2 and v3 cannot be linked
// together). The Node scripts and packages are the root interop module's:
// they need `(cd interop && npm ci)` at the repository root.
package interop
