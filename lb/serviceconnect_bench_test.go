package lb

import (
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"berth/lb/balance"
	"berth/lb/rules"
)

// BenchmarkServiceConnectHop measures what berth's Service Connect proxy
// adds to a call: the p50 latency of a keep-alive GET through a listener
// shaped as backend/ecs builds it (a host-header rule per client alias,
// a target group with outlier detection and no health checks) against
// the p50 of the same GET sent straight to the target. One client, calls
// in sequence; the two are interleaved call by call so that the
// machine's drift hits both alike.
func BenchmarkServiceConnectHop(b *testing.B) {
	target := rawHTTPTarget(b)
	m := New(zerolog.Nop(), time.Now, nil)
	defer m.Close()
	addr := loopback()
	port := freePort(b, addr)
	outlier := balance.Outlier{Consecutive: 5, Ejection: 30 * time.Second}
	cfg := Config{
		TargetGroups: map[string]TargetGroup{"sc/backend": {ARN: "sc/backend", Protocol: "HTTP", Algorithm: balance.RoundRobin,
			DeregistrationDelay: 3 * time.Second, Outlier: &outlier, Targets: []Target{target}}},
		LoadBalancers: []LoadBalancer{{ARN: "service-connect", Type: "application", Address: addr,
			Listeners: []Listener{{ARN: "l", Protocol: "HTTP", Port: port, Rules: []Rule{
				{ARN: "users", Conditions: []rules.Condition{{Field: "host-header", Values: []string{"users"}}}, Action: forward("sc/users")},
				{ARN: "backend", Conditions: []rules.Condition{{Field: "host-header", Values: []string{"backend"}}}, Action: forward("sc/backend")},
				{ARN: "default", Action: Action{Type: "fixed-response", Fixed: &FixedResponse{StatusCode: 404}}},
			}}}}},
	}
	if failed := m.Apply(cfg); len(failed) > 0 {
		b.Fatal(failed)
	}
	direct := "http://" + net.JoinHostPort(target.Host, strconv.Itoa(target.Port)) + "/"
	proxied := "http://" + net.JoinHostPort(addr, strconv.Itoa(port)) + "/"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	get := func(url, host string) time.Duration {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Host = host
		began := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%s: %s", url, resp.Status)
		}
		return time.Since(began)
	}
	get(direct, "backend:8080")
	get(proxied, "backend:8080") // both connections open
	var d, p []time.Duration
	b.ResetTimer()
	for b.Loop() {
		d = append(d, get(direct, "backend:8080"))
		p = append(p, get(proxied, "backend:8080"))
	}
	b.StopTimer()
	p50 := func(s []time.Duration) time.Duration { slices.Sort(s); return s[len(s)/2] }
	dp, pp := p50(d), p50(p)
	µs := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	b.ReportMetric(µs(dp), "direct-p50-µs")
	b.ReportMetric(µs(pp), "proxied-p50-µs")
	b.ReportMetric(µs(pp-dp), "added-p50-µs")
}
