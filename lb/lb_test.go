package lb

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"berth/lb/health"
	"berth/lb/rules"
)

// These tests run the data plane on real sockets, on loopback addresses
// of their own, with plain Go servers as targets.

// backend is a target server that answers with its name.
type backend struct {
	name string
	srv  *httptest.Server
	mu   sync.Mutex
	code int // health check answer
	last *http.Request
	slow atomic.Int32 // requests for /slow begun
}

func newBackend(t *testing.T, name string) *backend {
	b := &backend{name: name, code: http.StatusOK}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		code := b.code
		b.last = r
		b.mu.Unlock()
		switch r.URL.Path {
		case "/health":
			w.WriteHeader(code)
		case "/slow":
			b.slow.Add(1)
			time.Sleep(3 * time.Second)
			fmt.Fprint(w, b.name+" slow")
		default:
			fmt.Fprint(w, b.name)
		}
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *backend) target() Target {
	u, _ := url.Parse(b.srv.URL)
	port, _ := strconv.Atoi(u.Port())
	return Target{ID: u.Hostname(), Port: port, Host: u.Hostname()}
}

func (b *backend) setHealth(code int) {
	b.mu.Lock()
	b.code = code
	b.mu.Unlock()
}

func (b *backend) lastRequest() *http.Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last
}

var fastChecks = &health.Config{Protocol: "HTTP", Port: "traffic-port", Path: "/health", Matcher: "200",
	Interval: 50 * time.Millisecond, Timeout: time.Second, HealthyThreshold: 2, UnhealthyThreshold: 2}

func tgroup(arn string, targets ...*backend) TargetGroup {
	tg := TargetGroup{ARN: arn, Name: arn, Protocol: "HTTP", HealthCheck: fastChecks}
	for _, b := range targets {
		tg.Targets = append(tg.Targets, b.target())
	}
	return tg
}

func forward(arns ...string) Action {
	f := &Forward{}
	for _, arn := range arns {
		f.Groups = append(f.Groups, WeightedGroup{ARN: arn, Weight: 1})
	}
	return Action{Type: "forward", Forward: f}
}

// nextAddress hands each test load balancer a loopback address of its own.
var (
	addrMu   sync.Mutex
	addrNext = 1
)

func loopback() string {
	addrMu.Lock()
	defer addrMu.Unlock()
	addrNext++
	return fmt.Sprintf("127.77.%d.%d", addrNext/250, addrNext%250+1)
}

func freePort(t testing.TB, address string) int {
	ln, err := net.Listen("tcp", address+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

type harness struct {
	t       *testing.T
	m       *Manager
	mu      sync.Mutex
	reports []HealthReport
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t}
	h.m = New(zerolog.Nop(), time.Now, func(r HealthReport) {
		h.mu.Lock()
		h.reports = append(h.reports, r)
		h.mu.Unlock()
	})
	t.Cleanup(h.m.Close)
	return h
}

func (h *harness) apply(cfg Config) {
	h.t.Helper()
	if failed := h.m.Apply(cfg); len(failed) > 0 {
		h.t.Fatalf("Apply: %v", failed)
	}
}

// alb is a config of one HTTP load balancer with one listener.
func alb(address string, port int, rs []Rule, groups ...TargetGroup) Config {
	cfg := Config{TargetGroups: map[string]TargetGroup{}, LoadBalancers: []LoadBalancer{{
		ARN: "lb-" + address, Name: "lb", Type: "application", Address: address,
		Listeners: []Listener{{ARN: "listener-" + address, Protocol: "HTTP", Port: port, Rules: rs}},
	}}}
	for _, g := range groups {
		cfg.TargetGroups[g.ARN] = g
	}
	return cfg
}

func get(t *testing.T, u string, header ...string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
	}
}

func TestPathAndHostRouting(t *testing.T) {
	h := newHarness(t)
	api, web := newBackend(t, "api"), newBackend(t, "web")
	addr := loopback()
	port := freePort(t, addr)
	h.apply(alb(addr, port, []Rule{
		{ARN: "r1", Conditions: []rules.Condition{{Field: "path-pattern", Values: []string{"/api/*"}}}, Action: forward("api")},
		{ARN: "r2", Conditions: []rules.Condition{{Field: "host-header", Values: []string{"*.api.example.com"}}}, Action: forward("api")},
		{ARN: "default", Action: forward("web")},
	}, tgroup("api", api), tgroup("web", web)))
	base := fmt.Sprintf("http://%s:%d", addr, port)
	eventually(t, "targets healthy", func() bool { _, body, _ := get(t, base+"/api/x"); return body == "api" })
	for _, c := range []struct {
		path, host, want string
	}{
		{"/api/users", "", "api"}, {"/apix", "", "web"}, {"/", "", "web"}, {"/", "v1.api.example.com", "api"}, {"/", "api.example.com", "web"},
	} {
		header := []string{}
		if c.host != "" {
			header = []string{"Host", c.host}
		}
		if code, body, _ := get(t, base+c.path, header...); code != 200 || body != c.want {
			t.Errorf("%s %s → %d %q, want %q", c.host, c.path, code, body, c.want)
		}
	}
	// ALB's headers reach the target.
	get(t, base+"/api/h", "X-Forwarded-For", "203.0.113.9", "Connection", "X-Drop", "X-Drop", "1")
	r := api.lastRequest()
	if r.Header.Get("X-Forwarded-For") != "203.0.113.9, 127.0.0.1" || r.Header.Get("X-Forwarded-Proto") != "http" ||
		r.Header.Get("X-Forwarded-Port") != strconv.Itoa(port) || !strings.HasPrefix(r.Header.Get("X-Amzn-Trace-Id"), "Root=1-") ||
		r.Header.Get("X-Drop") != "" {
		t.Errorf("target saw headers %v", r.Header)
	}
	get(t, base+"/api/h", "X-Amzn-Trace-Id", "Root=1-67891233-abcdef012345678912345678")
	if got := api.lastRequest().Header.Get("X-Amzn-Trace-Id"); !strings.HasPrefix(got, "Self=1-") || !strings.HasSuffix(got, ";Root=1-67891233-abcdef012345678912345678") {
		t.Errorf("trace id with a client root = %q", got)
	}
}

func TestWeightedForward(t *testing.T) {
	h := newHarness(t)
	blue, green := newBackend(t, "blue"), newBackend(t, "green")
	addr := loopback()
	port := freePort(t, addr)
	action := Action{Type: "forward", Forward: &Forward{Groups: []WeightedGroup{{"blue", 80}, {"green", 20}, {"none", 0}}}}
	h.apply(alb(addr, port, []Rule{{ARN: "default", Action: action}}, tgroup("blue", blue), tgroup("green", green), tgroup("none", newBackend(t, "none"))))
	base := fmt.Sprintf("http://%s:%d/", addr, port)
	counts := map[string]int{}
	for range 1000 {
		_, body, _ := get(t, base)
		counts[body]++
	}
	if counts["none"] != 0 || counts["blue"] < 760 || counts["blue"] > 840 {
		t.Fatalf("1000 requests split %v, want 800/200 ± 40 and none to weight 0", counts)
	}
}

func TestRedirectAndFixedResponse(t *testing.T) {
	h := newHarness(t)
	addr := loopback()
	port := freePort(t, addr)
	h.apply(alb(addr, port, []Rule{
		{ARN: "r1", Conditions: []rules.Condition{{Field: "path-pattern", Values: []string{"/old/*"}}},
			Action: Action{Type: "redirect", Redirect: &Redirect{Protocol: "HTTPS", Port: "443", Path: "/new/#{path}", Query: "#{query}&from=old", StatusCode: 301}}},
		{ARN: "r2", Conditions: []rules.Condition{{Field: "path-pattern", Values: []string{"/login"}}},
			Action: Action{Type: "authenticate-oidc"}},
		{ARN: "default", Action: Action{Type: "fixed-response", Fixed: &FixedResponse{StatusCode: 418, ContentType: "application/json", Body: `{"teapot":true}`}}},
	}))
	base := fmt.Sprintf("http://%s:%d", addr, port)
	code, _, header := get(t, base+"/old/page?a=1", "Host", "shop.example.com")
	// #{path} is the request's path without its leading slash, so the
	// default Path "/#{path}" keeps it as it was.
	// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RedirectActionConfig.html
	if code != 301 || header.Get("Location") != "https://shop.example.com/new/old/page?a=1&from=old" {
		t.Errorf("redirect: %d to %q", code, header.Get("Location"))
	}
	code, body, header := get(t, base+"/anything")
	if code != 418 || body != `{"teapot":true}` || header.Get("Content-Type") != "application/json" || header.Get("Server") != "awselb/2.0" {
		t.Errorf("fixed response: %d %q %v", code, body, header)
	}
	if code, _, _ := get(t, base+"/login"); code != 501 {
		t.Errorf("authenticate action: %d, want 501", code)
	}
}

func TestHealthChecksAndFailOpen(t *testing.T) {
	h := newHarness(t)
	a, b := newBackend(t, "a"), newBackend(t, "b")
	addr := loopback()
	port := freePort(t, addr)
	h.apply(alb(addr, port, []Rule{{ARN: "default", Action: forward("tg")}}, tgroup("tg", a, b)))
	base := fmt.Sprintf("http://%s:%d/", addr, port)
	seen := func(n int) map[string]int {
		counts := map[string]int{}
		for range n {
			_, body, _ := get(t, base)
			counts[body]++
		}
		return counts
	}
	eventually(t, "both targets in rotation", func() bool { c := seen(10); return c["a"] > 0 && c["b"] > 0 })
	b.setHealth(http.StatusInternalServerError)
	eventually(t, "b out of rotation", func() bool { return seen(10)["b"] == 0 })
	h.mu.Lock()
	last := h.reports[len(h.reports)-1]
	h.mu.Unlock()
	if last.Status.Reason != health.ResponseCodeMismatch || last.Port != b.target().Port {
		t.Errorf("last report %+v", last)
	}
	// None healthy: ALB fails open and routes to all.
	a.setHealth(http.StatusInternalServerError)
	eventually(t, "fail open", func() bool { c := seen(10); return c["a"] > 0 && c["b"] > 0 })
	b.setHealth(http.StatusOK)
	eventually(t, "b back, alone", func() bool { c := seen(10); return c["b"] == 10 })
}

func TestDraining(t *testing.T) {
	h := newHarness(t)
	a, b := newBackend(t, "a"), newBackend(t, "b")
	addr := loopback()
	port := freePort(t, addr)
	tg := tgroup("tg", a, b)
	tg.DeregistrationDelay = 10 * time.Second
	h.apply(alb(addr, port, []Rule{{ARN: "default", Action: forward("tg")}}, tg))
	base := fmt.Sprintf("http://%s:%d", addr, port)
	eventually(t, "both serve", func() bool {
		_, x, _ := get(t, base+"/")
		_, y, _ := get(t, base+"/")
		return x != y
	})
	// Find a slow request in flight on a, then deregister a.
	type result struct {
		code int
		body string
	}
	done := make(chan result, 1)
	go func() {
		for {
			code, body, _ := get(t, base+"/slow")
			if body == "a slow" || code != 200 {
				done <- result{code, body}
				return
			}
		}
	}()
	// At the backend itself: a's in-flight count may still hold a quick
	// request of the loop above while the slow one went to b, which would
	// leave the goroutine asking b for ever once a drains.
	eventually(t, "a slow request on a", func() bool { return a.slow.Load() > 0 })
	tg.Targets[0].DrainUntil = time.Now().Add(tg.DeregistrationDelay)
	h.apply(alb(addr, port, []Rule{{ARN: "default", Action: forward("tg")}}, tg))
	for range 20 {
		if _, body, _ := get(t, base+"/"); body != "b" {
			t.Fatalf("a draining target got a new request")
		}
	}
	if r := <-done; r.code != 200 || r.body != "a slow" {
		t.Fatalf("in-flight request on the draining target: %+v", r)
	}
}

func TestUpgradeEcho(t *testing.T) {
	h := newHarness(t)
	// The target accepts an upgrade and echoes lines.
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" {
			w.WriteHeader(http.StatusOK) // health checks
			return
		}
		conn, brw, _ := http.NewResponseController(w).Hijack()
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		for {
			line, err := brw.ReadString('\n')
			if err != nil {
				return
			}
			brw.WriteString("echo " + line)
			brw.Flush()
		}
	}))
	defer echo.Close()
	u, _ := url.Parse(echo.URL)
	p, _ := strconv.Atoi(u.Port())
	addr := loopback()
	port := freePort(t, addr)
	tg := TargetGroup{ARN: "tg", Targets: []Target{{ID: "127.0.0.1", Port: p, Host: "127.0.0.1"}}}
	h.apply(alb(addr, port, []Rule{{ARN: "default", Action: forward("tg")}}, tg))
	conn, err := net.Dial("tcp", net.JoinHostPort(addr, strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	for _, msg := range []string{"hello\n", "again\n"} {
		fmt.Fprint(conn, msg)
		if got, _ := br.ReadString('\n'); got != "echo "+msg {
			t.Fatalf("echo %q, want %q", got, "echo "+msg)
		}
	}
}

func TestTCPEcho(t *testing.T) {
	h := newHarness(t)
	echo := tcpEcho(t)
	addr := loopback()
	port := freePort(t, addr)
	cfg := Config{
		TargetGroups: map[string]TargetGroup{"tg": {ARN: "tg", Protocol: "TCP",
			HealthCheck: &health.Config{Protocol: "TCP", Port: "traffic-port", Interval: time.Second, Timeout: time.Second, HealthyThreshold: 2, UnhealthyThreshold: 2},
			Targets:     []Target{echo}}},
		LoadBalancers: []LoadBalancer{{ARN: "nlb", Type: "network", Address: addr,
			Listeners: []Listener{{ARN: "l", Protocol: "TCP", Port: port, Rules: []Rule{{Action: forward("tg")}}}}}},
	}
	h.apply(cfg)
	conn, err := net.Dial("tcp", net.JoinHostPort(addr, strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(conn, "ping over tcp")
	conn.(*net.TCPConn).CloseWrite() // the half-close reaches the target, whose echo then ends
	got, _ := io.ReadAll(conn)
	if string(got) != "ping over tcp" {
		t.Fatalf("echo %q", got)
	}
}

func TestUDPEcho(t *testing.T) {
	h := newHarness(t)
	echo, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := echo.ReadFromUDP(buf)
			if err != nil {
				return
			}
			echo.WriteToUDP(append([]byte("echo "), buf[:n]...), from)
		}
	}()
	addr := loopback()
	port := freePort(t, addr)
	h.apply(Config{
		TargetGroups: map[string]TargetGroup{"tg": {ARN: "tg", Protocol: "UDP",
			Targets: []Target{{ID: "127.0.0.1", Port: echo.LocalAddr().(*net.UDPAddr).Port, Host: "127.0.0.1"}}}},
		LoadBalancers: []LoadBalancer{{ARN: "nlb", Type: "network", Address: addr,
			Listeners: []Listener{{ARN: "l", Protocol: "UDP", Port: port, Rules: []Rule{{Action: forward("tg")}}}}}},
	})
	for _, client := range []string{"one", "two"} {
		conn, err := net.Dial("udp", net.JoinHostPort(addr, strconv.Itoa(port)))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for i := range 3 { // the same flow, answered every time
			fmt.Fprintf(conn, "%s %d", client, i)
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 1500)
			n, err := conn.Read(buf)
			if want := fmt.Sprintf("echo %s %d", client, i); err != nil || string(buf[:n]) != want {
				t.Fatalf("got %q %v, want %q", buf[:n], err, want)
			}
		}
	}
}

// Two load balancers both listen on port 80, each on its own address.
func TestTwoLoadBalancersOnPort80(t *testing.T) {
	h := newHarness(t)
	one, two := newBackend(t, "one"), newBackend(t, "two")
	a1, a2 := loopback(), loopback()
	c1 := alb(a1, 80, []Rule{{ARN: "d1", Action: forward("g1")}}, tgroup("g1", one))
	c2 := alb(a2, 80, []Rule{{ARN: "d2", Action: forward("g2")}}, tgroup("g2", two))
	c1.LoadBalancers = append(c1.LoadBalancers, c2.LoadBalancers...)
	c1.TargetGroups["g2"] = c2.TargetGroups["g2"]
	h.apply(c1)
	for addr, want := range map[string]string{a1: "one", a2: "two"} {
		if _, body, _ := get(t, "http://"+addr+"/"); body != want {
			t.Errorf("%s:80 answered %q, want %q", addr, body, want)
		}
	}
}

// A port that cannot be bound is reported by listener, and the others
// serve.
func TestBindFailure(t *testing.T) {
	h := newHarness(t)
	addr := loopback()
	taken, err := net.Listen("tcp", addr+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg := alb(addr, taken.Addr().(*net.TCPAddr).Port, []Rule{{Action: Action{Type: "fixed-response", Fixed: &FixedResponse{StatusCode: 200}}}})
	failed := h.m.Apply(cfg)
	if err := failed[cfg.LoadBalancers[0].Listeners[0].ARN]; err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("Apply = %v", failed)
	}
}

// The data plane never reads the store: lb imports neither sqlite nor the
// backends nor the Docker client.
func TestImportsNoStore(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "berth/lb").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "berth/sqlite") || strings.HasPrefix(dep, "berth/backend") || strings.Contains(dep, "moby") {
			t.Errorf("lb depends on %s", dep)
		}
	}
}

// cookieGet sends GET u with the cookies given and returns the body and
// the cookies set.
func cookieGet(t *testing.T, u string, cookies ...*http.Cookie) (string, map[string]string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	set := map[string]string{}
	for _, c := range resp.Cookies() {
		set[c.Name] = c.Value
	}
	return string(body), set
}

// TestStickiness: lb_cookie (AWSALB) and app_cookie (AWSALBAPP-0) keep a
// client on one target, AWSALBTG on one group of a weighted forward.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/sticky-sessions.html
func TestStickiness(t *testing.T) {
	h := newHarness(t)
	a, b := newBackend(t, "a"), newBackend(t, "b")
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "1"})
		fmt.Fprint(w, "app")
	}))
	defer app.Close()
	addr := loopback()
	port := freePort(t, addr)
	lbSticky := tgroup("lb", a, b)
	lbSticky.HealthCheck = nil
	lbSticky.Stickiness = Stickiness{Type: "lb_cookie", Duration: time.Hour}
	u, _ := url.Parse(app.URL)
	appPort, _ := strconv.Atoi(u.Port())
	appSticky := TargetGroup{ARN: "app", Stickiness: Stickiness{Type: "app_cookie", Duration: time.Hour, CookieName: "session"},
		Targets: []Target{{ID: "127.0.0.1", Port: appPort, Host: "127.0.0.1"}}}
	groups := Action{Type: "forward", Forward: &Forward{Groups: []WeightedGroup{{"lb", 50}, {"app", 50}}, Stickiness: time.Hour}}
	h.apply(alb(addr, port, []Rule{
		{ARN: "groups", Conditions: []rules.Condition{{Field: "path-pattern", Values: []string{"/groups"}}}, Action: groups},
		{ARN: "default", Action: forward("lb")},
	}, lbSticky, appSticky))
	base := fmt.Sprintf("http://%s:%d", addr, port)

	first, set := cookieGet(t, base+"/")
	if set["AWSALB"] == "" {
		t.Fatalf("no AWSALB cookie: %v", set)
	}
	for range 20 {
		if body, _ := cookieGet(t, base+"/", &http.Cookie{Name: "AWSALB", Value: set["AWSALB"]}); body != first {
			t.Fatalf("a sticky client went to %s, then %s", first, body)
		}
	}
	seen := map[string]bool{}
	for range 20 {
		body, _ := cookieGet(t, base+"/")
		seen[body] = true
	}
	if !seen["a"] || !seen["b"] {
		t.Errorf("clients without the cookie went only to %v", seen)
	}

	// The group cookie pins a client to the group it was first sent to.
	var group string
	for range 20 {
		body, set := cookieGet(t, base+"/groups")
		if set["AWSALBTG"] == "" {
			t.Fatalf("no AWSALBTG cookie: %v", set)
		}
		if body == "app" {
			if set["AWSALBAPP-0"] == "" {
				t.Fatalf("the application set its cookie, berth no AWSALBAPP-0: %v", set)
			}
			group = set["AWSALBTG"]
			break
		}
	}
	if group == "" {
		t.Fatal("no request went to the app group of a 50/50 forward")
	}
	for range 20 {
		if body, _ := cookieGet(t, base+"/groups", &http.Cookie{Name: "AWSALBTG", Value: group}); body != "app" {
			t.Fatalf("a client sticky to the app group went to %s", body)
		}
	}
}
