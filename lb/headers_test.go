package lb

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"berth/lb/rules"
)

// TestHeaderModification: a listener's response headers reach the client
// on every response, replacing a target's own; with the Server header off
// the load balancer's own responses carry none, while a target's Server
// passes as it is; on both the lean path (forward) and net/http's (a
// fixed response, a sticky group).
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/header-modification.html
func TestHeaderModification(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Frame-Options", "ALLOWALL")
		w.Header().Set("Server", "app/1.0")
		fmt.Fprint(w, "from target")
	}))
	t.Cleanup(target.Close)
	b := &backend{name: "app", srv: target}
	h := newHarness(t)
	addr := loopback()
	port := freePort(t, addr)
	tg := tgroup("tg", b)
	tg.HealthCheck = nil
	sticky := tgroup("sticky", b)
	sticky.HealthCheck, sticky.Stickiness = nil, Stickiness{Type: "lb_cookie", Duration: 60e9}
	cfg := alb(addr, port, []Rule{
		{ARN: "app", Conditions: []rules.Condition{{Field: "path-pattern", Values: []string{"/app"}}}, Action: forward("tg")},
		{ARN: "sticky", Conditions: []rules.Condition{{Field: "path-pattern", Values: []string{"/sticky"}}}, Action: forward("sticky")},
		{ARN: "default", Action: Action{Type: "fixed-response", Fixed: &FixedResponse{StatusCode: 404, ContentType: "text/plain", Body: "none"}}},
	}, tg, sticky)
	cfg.LoadBalancers[0].Listeners[0].Headers = Headers{OmitServer: true, Response: []Header{
		{Name: "Strict-Transport-Security", Value: "max-age=31536000"}, {Name: "X-Frame-Options", Value: "DENY"}}}
	h.apply(cfg)
	base := fmt.Sprintf("http://%s:%d", addr, port)
	for _, path := range []string{"/app", "/sticky", "/other"} {
		code, body, header := get(t, base+path)
		if header.Get("Strict-Transport-Security") != "max-age=31536000" || len(header.Values("X-Frame-Options")) != 1 || header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: %d %q, headers %v", path, code, body, header)
		}
		want := "app/1.0"
		if path == "/other" {
			want = "" // the load balancer's own answer, Server off
		}
		if got := header.Get("Server"); got != want {
			t.Errorf("%s: Server %q, want %q", path, got, want)
		}
	}
}
