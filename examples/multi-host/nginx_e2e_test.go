package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sioredis/sioredis/examples/multi-host/events"
	"github.com/sioredis/sioredis/examples/multi-host/internal/hosttest"
	"github.com/sioredis/sioredis/internal/redistest"
	"github.com/sioredis/sioredis/internal/siotest"
)

// TestNginx runs the demo as deployed: 3 hosts behind real nginx with the
// repository's nginx.conf (upstream addresses swapped for loopback ones),
// Redis in between, and the cron job as a process of its own.
func TestNginx(t *testing.T) {
	nginx := requireTool(t, "nginx", "nginx")
	rs := redistest.Start(t)
	key := randomKey("mh-nginx-")
	logs := newLogBuffer(t, "hosts")
	var backends []string
	for i := 1; i <= 3; i++ {
		backends = append(backends, hosttest.Start(t, rs, fmt.Sprintf("host-%d", i), key, logs))
	}
	lb := startNginx(t, nginx, backends)
	evs := []string{events.Welcome, events.Chat, events.Announcement, events.Presence}

	// WebSocket clients carry no cookie, so nginx spreads them round robin
	// (per worker process): they land on different hosts.
	type wsClient struct {
		c    *siotest.Client
		host string
	}
	var clients []wsClient
	seen := map[string]bool{}
	for i := 0; i < 9 && (len(clients) < 3 || len(seen) < 3); i++ {
		c := siotest.Dial(t, lb, "/", url.Values{"name": {fmt.Sprintf("ws-%d", i)}}, evs...)
		h := welcomeHost(t, c)
		clients = append(clients, wsClient{c, h})
		seen[h] = true
	}
	if len(seen) < 2 {
		t.Fatalf("every WebSocket client landed on the same host: %v", seen)
	}
	a := clients[0]
	var b wsClient
	for _, c := range clients[1:] {
		if c.host != a.host {
			b = c
			break
		}
	}
	t.Logf("%d WebSocket clients on hosts %v", len(clients), seen)

	// A chat message crosses hosts: every client gets it, on every host.
	text1 := "hello from " + a.host
	if ack := object(t, a.c.Call(events.Chat, text1)); ack["ok"] != true {
		t.Fatalf("chat ack %v", ack)
	}
	for _, c := range clients {
		expectChat(t, c.c, text1, a.host)
	}

	// A long-polling-only client, with the cookie a browser gets with the
	// page: nginx must send every request of its session to one host.
	// The first page load: the host that served the page is the one its
	// cookie routes to (nginx hashed the request on the id it then gave as
	// the cookie).
	for range 5 {
		served, first := firstPage(t, lb)
		if got := hostFor(t, lb, first); got != served {
			t.Fatalf("the first page came from %s, but its cookie routes to %s", served, got)
		}
	}
	cookie := stickyCookie(t, lb)
	p := dialPolling(t, lb, cookie, "poller", evs...)
	pHost := welcomeHost(t, p)
	if got := hostFor(t, lb, cookie); got != pHost {
		t.Fatalf("the cookie routes plain requests to %s but the polling session is on %s", got, pHost)
	}
	text2 := "hello over long-polling from " + pHost
	if ack := object(t, p.Call(events.Chat, text2)); ack["ok"] != true {
		t.Fatalf("chat ack %v", ack)
	}
	expectChat(t, p, text2, pHost)
	for _, c := range clients {
		expectChat(t, c.c, text2, pHost)
	}
	text3 := "reply from " + b.host
	object(t, b.c.Call(events.Chat, text3))
	expectChat(t, p, text3, b.host)

	// The online count covers every host.
	total := len(clients) + 1
	pres := expectOnline(t, a.c, total, 3)
	sum := 0
	for _, v := range pres["perHost"].(map[string]any) {
		sum += num(v)
	}
	if sum != total {
		t.Fatalf("perHost %v does not add up to %d", pres["perHost"], total)
	}
	expectPresenceBroadcast(t, b.c, total)

	// The cron job, a process that serves no client, reaches every tab.
	announcement := randomKey("announcement ")
	runCron(t, rs.URL(), key, announcement)
	expectAnnouncement(t, p, announcement)
	for _, c := range clients {
		expectAnnouncement(t, c.c, announcement)
	}

	// A user leaves: the count follows.
	p.S.Disconnect()
	expectOnline(t, a.c, total-1, 3)
}

// expectPresenceBroadcast waits until c receives a pushed presence
// snapshot reporting online users.
func expectPresenceBroadcast(t *testing.T, c eventClient, online int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if num(object(t, c.Expect(events.Presence))["online"]) == online {
			return
		}
	}
	t.Fatalf("no presence broadcast with %d online", online)
}

// stickyCookie loads the page through the balancer, as a browser does, and
// returns the sticky cookie the host set.
func stickyCookie(t *testing.T, base string) *http.Cookie {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 5 * time.Second}
	resp, err := hc.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("page: %s", resp.Status)
	}
	u, _ := url.Parse(base)
	for _, c := range jar.Cookies(u) {
		if c.Name == events.StickyCookie {
			return c
		}
	}
	t.Fatalf("the page set no %s cookie", events.StickyCookie)
	return nil
}

// firstPage loads the page without a cookie and returns the host that
// served it and the sticky cookie it came with.
func firstPage(t *testing.T, base string) (string, *http.Cookie) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`data-served-by="([^"]+)"`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("the page names no host: %.200s", body)
	}
	var sticky []*http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == events.StickyCookie {
			sticky = append(sticky, c)
		}
	}
	if len(sticky) != 1 {
		t.Fatalf("the first page set %d %s cookies, want 1", len(sticky), events.StickyCookie)
	}
	return string(m[1]), sticky[0]
}

// hostFor returns the host that serves /healthz for a request with cookie.
func hostFor(t *testing.T, base string, cookie *http.Cookie) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/healthz", nil)
	req.AddCookie(cookie)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct{ Host string }
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return h.Host
}

var (
	hostsBlock = regexp.MustCompile(`(?s)# BEGIN hosts\n.*?# END hosts\n`)
	listenLine = regexp.MustCompile(`(?m)^(\s*)listen 8080;$`)
)

// nginxConf is nginx.conf with the given upstream servers and listen
// address, and with nginx's temporary files under dir.
func nginxConf(t *testing.T, backends []string, listen, dir string) string {
	t.Helper()
	raw, err := os.ReadFile("nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	conf := string(raw)
	if !hostsBlock.MatchString(conf) || !listenLine.MatchString(conf) || !strings.Contains(conf, "\nhttp {\n") {
		t.Fatal("nginx.conf lost the markers this test templates: '# BEGIN hosts' ... '# END hosts', 'listen 8080;', 'http {'")
	}
	var servers strings.Builder
	servers.WriteString("# BEGIN hosts\n")
	for _, b := range backends {
		u, _ := url.Parse(b)
		fmt.Fprintf(&servers, "        server %s max_fails=1 fail_timeout=5s;\n", u.Host)
	}
	servers.WriteString("        # END hosts\n")
	conf = hostsBlock.ReplaceAllLiteralString(conf, servers.String())
	conf = listenLine.ReplaceAllString(conf, "${1}listen "+listen+";")
	var temp strings.Builder
	temp.WriteString("\nhttp {\n")
	for _, d := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&temp, "    %s_temp_path %s;\n", d, filepath.Join(dir, d+"_temp"))
	}
	return strings.Replace(conf, "\nhttp {\n", temp.String(), 1)
}

// startNginx runs nginx with nginx.conf in front of backends.
func startNginx(t *testing.T, bin string, backends []string) string {
	t.Helper()
	return startProxy(t, "nginx", func(listen, dir string) string {
		return nginxConf(t, backends, listen, dir)
	}, nginxCommand(bin))
}

// nginxCommand runs nginx in the foreground with a private prefix
// directory.
func nginxCommand(bin string) func(conf, dir string) *exec.Cmd {
	return func(conf, dir string) *exec.Cmd {
		global := "daemon off; pid " + filepath.Join(dir, "nginx.pid") + ";"
		if os.Geteuid() == 0 {
			// Workers would run as nobody, who cannot enter t.TempDir().
			global += " user root;"
		}
		return exec.Command(bin, "-p", dir+"/", "-c", conf, "-e", "stderr", "-g", global)
	}
}

// waitUp polls u until it answers 200, for at most 10 s or until exited is
// closed.
func waitUp(u string, exited <-chan struct{}) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hc := &http.Client{Timeout: time.Second}
	for {
		if resp, err := hc.Get(u); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		select {
		case <-exited:
			return false
		case <-ctx.Done():
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
}
