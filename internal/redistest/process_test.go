package redistest

import (
	"errors"
	"net"
	"testing"
)

// A port taken between picking and binding is reported as errPortInUse,
// which makes startInstance try another one.
func TestPortInUseIsDetected(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	in := newInstance(t.TempDir(), port)
	err = in.start()
	if !errors.Is(err, errPortInUse) {
		in.stop(true)
		t.Fatalf("start on a taken port: %v, want errPortInUse", err)
	}
	if in.running() {
		t.Fatal("running after a failed start")
	}
}
