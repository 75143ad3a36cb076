package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/sioredis/sioredis/examples/multi-host/balancer"
	"github.com/sioredis/sioredis/examples/multi-host/cli"
	"github.com/sioredis/sioredis/examples/multi-host/events"
)

// testBrowser opens the page in two isolated browser contexts (like two
// browsers: each has its own sticky cookie) of headless Chromium, through
// the load balancer, on two different hosts, and checks that each tab sees
// the other's message, the online count and the cron job's announcement.
//
// It drives Chromium over the DevTools protocol with chromedp: plain Go, a
// pinned module version, no Node.js toolchain in CI.
func testBrowser(t *testing.T, top cli.Topology) {
	chrome := requireTool(t, "chromium", "chromium", "chromium-browser", "google-chrome")
	logs := newLogBuffer(t, "chromium")
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chrome),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.CombinedOutput(logs),
	)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	if err := chromedp.Do(browser); err != nil { // starts Chromium; no timeout on this one
		t.Fatalf("start %s: %v", chrome, err)
	}
	newTab := func() context.Context {
		ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel)
		if err := chromedp.Do(ctx); err != nil {
			t.Fatal(err)
		}
		return ctx
	}

	// Tab 1 gets its sticky cookie from the host that served its page, and
	// its socket.io connection (long-polling, then the upgrade to
	// WebSocket) follows that cookie.
	tab1 := newTab()
	do(t, tab1, chromedp.Navigate(top.URL+"/?name=alice"))
	host1 := waitJS[string](t, tab1, `document.body.dataset.host`, "tab 1 to connect")
	// The first page load: the host that served the page is the one the
	// socket connected to (the balancer's cookie maps to it).
	if servedBy := waitJS[string](t, tab1, `document.body.dataset.servedBy`, "the page's host"); servedBy != host1 {
		t.Fatalf("the first page load was served by %s, but its socket connected to %s", servedBy, host1)
	}
	cookie := browserCookie(t, tab1, top.URL)
	if want := hostName(balancer.Pick(cookie, len(top.Hosts))); host1 != want {
		t.Fatalf("tab 1 has cookie %s=%s, which the balancer maps to %s, but its socket is on %s", events.StickyCookie, cookie, want, host1)
	}

	// Tab 2 carries a cookie that maps to another host, as a second browser
	// would one time out of three or so.
	var cookie2 string
	for i := 0; cookie2 == ""; i++ {
		if v := "tab2-" + strconv.Itoa(i); hostName(balancer.Pick(v, len(top.Hosts))) != host1 {
			cookie2 = v
		}
	}
	tab2 := newTab()
	do(t, tab2, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: events.StickyCookie, Value: cookie2, URL: top.URL})
		return chromedp.Void{}, err
	}, chromedp.Navigate(top.URL+"/?name=bob"))
	host2 := waitJS[string](t, tab2, `document.body.dataset.host`, "tab 2 to connect")
	if host2 == host1 {
		t.Fatalf("both tabs are on %s", host1)
	}
	t.Logf("tab 1 on %s, tab 2 on %s", host1, host2)
	for _, tab := range []context.Context{tab1, tab2} {
		waitJS[bool](t, tab, `document.getElementById("status").textContent === "via websocket"`, "the upgrade to WebSocket through the balancer")
	}

	// Each tab sees the other's message, tagged with the sender's host.
	say := func(from context.Context, to context.Context, text, host string) {
		do(t, from, chromedp.SendKeys(chromedp.ID("text"), text), chromedp.Click(chromedp.ID("send")))
		waitJS[bool](t, to, fmt.Sprintf(`[...document.querySelectorAll("#messages li.chat")].some(li => li.textContent.includes(%s) && li.textContent.includes(%s))`,
			jsString(text), jsString("@ "+host)), fmt.Sprintf("%q from %s", text, host))
	}
	say(tab1, tab2, "hello from alice on "+host1, host1)
	say(tab2, tab1, "hi alice, bob here on "+host2, host2)

	// Presence counts both tabs, across hosts; the cron job's
	// announcements reach the page.
	for _, tab := range []context.Context{tab1, tab2} {
		waitJS[bool](t, tab, `document.getElementById("online").textContent === "2" && document.getElementById("servers").textContent === "3"`, "2 online on 3 hosts")
		waitJS[bool](t, tab, `document.querySelectorAll("#messages li.announcement").length > 0`, "an announcement from the cron job")
	}

	// The live cluster view: the third host, which neither tab uses, is
	// killed (SIGKILL: no goodbye) and leaves both pages within the 3 s
	// heartbeat timeout; "all" restarts it 6 s later, and it comes back.
	all := "host-1,host-2,host-3"
	for _, tab := range []context.Context{tab1, tab2} {
		waitJS[bool](t, tab, `document.body.dataset.cluster === "`+all+`"`, "the 3 hosts in the cluster view")
	}
	victim := ""
	for _, h := range []string{"host-1", "host-2", "host-3"} {
		if h != host1 && h != host2 {
			victim = h
		}
	}
	if err := syscall.Kill(top.HostPIDs[victim], syscall.SIGKILL); err != nil {
		t.Fatalf("kill %s: %v", victim, err)
	}
	rest := strings.Join(slices.DeleteFunc([]string{"host-1", "host-2", "host-3"}, func(h string) bool { return h == victim }), ",")
	for _, tab := range []context.Context{tab1, tab2} {
		waitJS[bool](t, tab, `document.body.dataset.cluster === "`+rest+`"`, victim+" gone from the cluster view")
	}
	t.Logf("%s killed: the pages show %s", victim, rest)
	for _, tab := range []context.Context{tab1, tab2} {
		waitJSFor[bool](t, tab, 20*time.Second, `document.body.dataset.cluster === "`+all+`"`, victim+" back in the cluster view")
	}
	// Its row counts its clients (none) and the others' count theirs. The
	// rows follow the hosts' periodic reports, which a restart and a loaded
	// machine can delay by several report intervals.
	waitJSFor[bool](t, tab1, 30*time.Second, `[...document.querySelectorAll("#hosts tr")].every(tr => tr.children.length === 4) &&
		document.querySelector('#hosts tr[data-host="`+host1+`"] td:nth-child(2)').textContent !== "0" &&
		document.querySelector('#hosts tr[data-host="`+victim+`"] td:nth-child(2)').textContent === "0"`, "the clients per host")

	if path := os.Getenv("MULTIHOST_SCREENSHOT"); path != "" {
		png, err := chromedp.Run(tab1, chromedp.FullScreenshot(100)) // quality 100: PNG
		if err == nil {
			err = os.WriteFile(path, png, 0o644)
		}
		if err != nil {
			t.Errorf("screenshot: %v", err)
		}
	}
}

func hostName(i int) string { return "host-" + strconv.Itoa(i+1) }

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// do runs actions on a tab, for at most 15 s.
func do(t *testing.T, tab context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// waitJS evaluates expr in the tab until it gives a non-zero value (10 s at
// most) and returns it.
func waitJS[T comparable](t *testing.T, tab context.Context, expr, what string) T {
	t.Helper()
	return waitJSFor[T](t, tab, 10*time.Second, expr, what)
}

// waitJSFor is waitJS with another bound.
func waitJSFor[T comparable](t *testing.T, tab context.Context, bound time.Duration, expr, what string) T {
	t.Helper()
	var zero, v T
	var err error
	deadline := time.Now().Add(bound)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(tab, 2*time.Second)
		v, err = chromedp.Run(ctx, chromedp.Evaluate[T](expr))
		cancel()
		if err == nil && v != zero {
			return v
		}
		time.Sleep(100 * time.Millisecond)
	}
	page, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.body.innerText`))
	t.Fatalf("waiting for %s: %s gave %v (err %v); page text:\n%s", what, expr, v, err, strings.TrimSpace(page))
	return zero
}

// browserCookie returns the tab's sticky cookie for u.
func browserCookie(t *testing.T, tab context.Context, u string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 5*time.Second)
	defer cancel()
	res, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (network.GetCookiesResult, error) {
		return cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{u}})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Cookies {
		if c.Name == events.StickyCookie {
			return c.Value
		}
	}
	t.Fatalf("the browser got no %s cookie", events.StickyCookie)
	return ""
}
