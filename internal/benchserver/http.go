package benchserver

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

// Serve serves sio, the socket.io handler, on /socket.io/ of
// 127.0.0.1:$PORT (a free port when PORT is unset), HTTP/1.1 only since
// WebSocket upgrades need it; every other path is not found. A serving
// error after the start ends the process.
func Serve(sio http.Handler) (*http.Server, error) {
	port := os.Getenv("PORT")
	if port == "" {
		port = "0"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", sio)
	mux.HandleFunc("/", http.NotFound)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	srv.Protocols = &protocols
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(os.Stderr, "[%s] http: %v\n", NodeID, err)
			os.Exit(1)
		}
	}()
	return srv, nil
}
