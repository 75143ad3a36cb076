package balancer

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func backendServer(name string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, name)
	}))
}

func get(t *testing.T, url, cookie string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "lb", Value: cookie})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, b)
}

// TestStickyRoundRobinFailover: a cookie always reaches the same backend,
// requests without one rotate, and a backend that fails its health check is
// skipped until it is back.
func TestStickyRoundRobinFailover(t *testing.T) {
	a, b := backendServer("a"), backendServer("b")
	defer a.Close()
	bal, err := New(Config{Backends: []string{a.URL, b.URL}, Cookie: "lb", HealthInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer bal.Close()
	lb := httptest.NewServer(bal)
	defer lb.Close()

	// A cookie value per backend.
	var toA, toB string
	for i := 0; toA == "" || toB == ""; i++ {
		v := fmt.Sprint("c", i)
		if Pick(v, 2) == 0 {
			toA = v
		} else {
			toB = v
		}
	}
	for range 3 {
		if got := get(t, lb.URL, toA); got != "200 a" {
			t.Fatalf("cookie for a: %s", got)
		}
		if got := get(t, lb.URL, toB); got != "200 b" {
			t.Fatalf("cookie for b: %s", got)
		}
	}
	seen := map[string]int{}
	for range 4 {
		seen[get(t, lb.URL, "")]++
	}
	if seen["200 a"] != 2 || seen["200 b"] != 2 {
		t.Fatalf("round robin without cookie: %v", seen)
	}

	b.Close() // b goes down: its clients move to a
	deadline := time.Now().Add(5 * time.Second)
	for get(t, lb.URL, toB) != "200 a" {
		if time.Now().After(deadline) {
			t.Fatal("requests for the failed backend were not moved")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := get(t, lb.URL, ""); got != "200 a" {
		t.Fatalf("round robin with b down: %s", got)
	}
}

// TestNoBackendAddressInResponses: neither a proxied response nor the
// error for a backend that fails tells the client a backend's address.
func TestNoBackendAddressInResponses(t *testing.T) {
	a := backendServer("a")
	defer a.Close()
	// broken passes its health checks but drops every other request.
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			return
		}
		if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
			c.Close()
		}
	}))
	defer broken.Close()
	bal, err := New(Config{Backends: []string{a.URL, broken.URL}, Cookie: "lb", HealthInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer bal.Close()
	lb := httptest.NewServer(bal)
	defer lb.Close()

	addrs := []string{a.Listener.Addr().String(), broken.Listener.Addr().String()}
	statuses := map[int]bool{}
	for i := range 2 {
		cookie := "c0"
		for j := 1; Pick(cookie, 2) != i; j++ {
			cookie = fmt.Sprint("c", j)
		}
		req, _ := http.NewRequest(http.MethodGet, lb.URL, nil)
		req.AddCookie(&http.Cookie{Name: "lb", Value: cookie})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		statuses[resp.StatusCode] = true
		for _, addr := range addrs {
			for k, vs := range resp.Header {
				for _, v := range vs {
					if strings.Contains(v, addr) {
						t.Errorf("header %s: %s names backend %s", k, v, addr)
					}
				}
			}
			if strings.Contains(string(body), addr) {
				t.Errorf("body %q names backend %s", body, addr)
			}
		}
	}
	if !statuses[http.StatusOK] || !statuses[http.StatusBadGateway] {
		t.Fatalf("statuses %v, want a 200 and a 502", statuses)
	}
}
