package wstransport_test

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/sioredis/sioredis/wstransport"
	"github.com/zishang520/socket.io/v2/socket"
)

func Example() {
	// Once, before any server accepts connections.
	wstransport.Install()

	io := socket.NewServer(nil, nil)
	defer io.Close(nil)
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", wstransport.Handler(io.ServeHandler(nil)))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Close()

	// Any Socket.IO client works; a bare WebSocket shows the first frame.
	conn, _, err := websocket.DefaultDialer.Dial("ws://"+ln.Addr().String()+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	_, open, err := conn.ReadMessage()
	if err != nil {
		panic(err)
	}
	fmt.Println(wstransport.Installed(), strings.HasPrefix(string(open), "0{"), strings.Contains(string(open), `"sid":`))
	// Output: true true true
}

func ExampleInstallWith() {
	// Tighter bounds than the defaults for clients that stop reading, and
	// the counters to export (e.g. to Prometheus).
	wstransport.InstallWith(wstransport.Options{
		WriteTimeout:   5 * time.Second,
		MaxQueuedBytes: 2 << 20,
	})
	defer wstransport.InstallWith(wstransport.Options{}) // (for the other examples)
	// Connections closed for these bounds, and for decompression bombs.
	s := wstransport.ReadStats()
	_ = s.QueueOverflows + s.WriteTimeouts + s.MessagesTooBig
	fmt.Println(wstransport.Installed())
	// Output: true
}
