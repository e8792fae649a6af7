package integration

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// BenchmarkDataPlane measures berth's HTTP forwarding path with wrk,
// against a backend directly and against nginx doing the same job: a path
// rule to a group of two backends, with an upstream keep-alive pool. wrk
// runs on core 0; the backends and the proxies share core 1. The runs
// are interleaved, round by round, so that the machine's drift hits each
// alike; the medians of the rounds are reported.
func BenchmarkDataPlane(b *testing.B) {
	for _, tool := range []string{"wrk", "nginx", "taskset"} {
		if _, err := exec.LookPath(tool); err != nil {
			b.Fatalf("%s is needed (make bench installs it): %v", tool, err)
		}
	}
	dir := b.TempDir()
	ports := freePorts(b, 4)
	backend1, backend2, nginxPort, listenerPort := ports[0], ports[1], ports[2], ports[3]

	// Backends: nginx answering a fixed body, one worker, on core 1.
	startNginx(b, dir, "backends", fmt.Sprintf(`
		server { listen 127.0.0.1:%d; access_log off; location / { return 200 "hello from a backend\n"; } }
		server { listen 127.0.0.1:%d; access_log off; location / { return 200 "hello from a backend\n"; } }`, backend1, backend2))
	// The reference proxy: nginx with a keep-alive pool to both backends.
	startNginx(b, dir, "proxy", fmt.Sprintf(`
		upstream pool { server 127.0.0.1:%d; server 127.0.0.1:%d; keepalive 64; }
		server {
			listen 127.0.0.1:%d; access_log off;
			location /api/ { proxy_pass http://pool; proxy_http_version 1.1; proxy_set_header Connection ""; }
			location / { return 404; }
		}`, backend1, backend2, nginxPort))

	// berth with the same routing, set up through the SDK, on one core
	// like nginx's one worker.
	b.Setenv("GOMAXPROCS", "1")
	srv, err := start(filepath.Join(dir, "berth"), "--log-level", "error", "--runtime", "none")
	if err != nil {
		b.Fatal(err)
	}
	defer srv.kill()
	pin(b, srv.cmd.Process.Pid, "1")
	ctx, c := b.Context(), srv.clients("us-east-1")
	lb := try(c.elbv2.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("bench"), Subnets: subnets(b, ctx, c)[:2]})).must(&testing.T{}).LoadBalancers[0]
	tg := try(c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
		Name: aws.String("pool"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: lb.VpcId, TargetType: types.TargetTypeEnumIp,
	})).must(&testing.T{}).TargetGroups[0]
	try(c.elbv2.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: tg.TargetGroupArn, Targets: []types.TargetDescription{
		{Id: aws.String("127.0.0.1"), Port: aws.Int32(int32(backend1))}, {Id: aws.String("127.0.0.1"), Port: aws.Int32(int32(backend2))},
	}})).must(&testing.T{})
	l := try(c.elbv2.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: types.ProtocolEnumHttp,
		Port: aws.Int32(int32(listenerPort)), DefaultActions: []types.Action{{Type: types.ActionTypeEnumFixedResponse,
			FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("404")}}}})).must(&testing.T{}).Listeners[0]
	try(c.elbv2.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(1),
		Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/api/*"}}},
		Actions:    []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: tg.TargetGroupArn}}})).must(&testing.T{})
	berthURL := "http://" + net.JoinHostPort(hostAddress(&testing.T{}, srv, *lb.DNSName), strconv.Itoa(listenerPort)) + "/api/x"
	poll(b, func() bool { code, _ := fetch(berthURL, ""); return code == 200 })

	targets := []struct{ name, url string }{
		{"direct", fmt.Sprintf("http://127.0.0.1:%d/api/x", backend1)},
		{"berth", berthURL},
		{"nginx", fmt.Sprintf("http://127.0.0.1:%d/api/x", nginxPort)},
	}
	const rounds = 3
	for _, load := range []struct {
		name        string
		connections int
	}{{"c64", 64}, {"c4", 4}} {
		results := map[string][]wrkResult{}
		for range rounds {
			for _, t := range targets {
				results[t.name] = append(results[t.name], runWrk(b, t.url, load.connections))
			}
		}
		direct := median(results["direct"])
		for _, t := range targets {
			m := median(results[t.name])
			b.ReportMetric(m.rps, load.name+"-"+t.name+"-req/s")
			b.ReportMetric(m.p50, load.name+"-"+t.name+"-p50-ms")
			b.ReportMetric(m.p99, load.name+"-"+t.name+"-p99-ms")
			if t.name != "direct" {
				b.ReportMetric((m.p50-direct.p50)*1000, load.name+"-"+t.name+"-added-p50-µs")
			}
		}
		b.Logf("%s: berth %.0f req/s = %.2f× nginx %.0f (direct %.0f)", load.name, median(results["berth"]).rps,
			median(results["berth"]).rps/median(results["nginx"]).rps, median(results["nginx"]).rps, direct.rps)
	}
}

func freePorts(b *testing.B, n int) []int {
	var out []int
	for range n {
		p, err := freePort()
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// startNginx runs an nginx of one worker on core 1 with the given http
// block contents, until the benchmark ends.
func startNginx(b *testing.B, dir, name, servers string) {
	prefix := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Join(prefix, "logs"), 0o755); err != nil {
		b.Fatal(err)
	}
	conf := fmt.Sprintf(`worker_processes 1; daemon off; pid %s/nginx.pid; error_log %s/logs/error.log;
events { worker_connections 1024; }
http { keepalive_requests 100000; %s }`, prefix, prefix, servers)
	path := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command("taskset", "-c", "1", "nginx", "-p", prefix, "-c", path)
	if out, err := exec.Command("nginx", "-t", "-p", prefix, "-c", path).CombinedOutput(); err != nil {
		b.Fatalf("nginx config: %v\n%s", err, out)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	time.Sleep(200 * time.Millisecond)
}

// pin moves process pid, every thread of it, to the cores given.
func pin(b *testing.B, pid int, cores string) {
	if out, err := exec.Command("taskset", "-a", "-pc", cores, strconv.Itoa(pid)).CombinedOutput(); err != nil {
		b.Fatalf("taskset: %v: %s", err, out)
	}
}

type wrkResult struct{ rps, p50, p99 float64 } // latencies in ms

// runWrk loads url for 5 s from core 0 with the given connections.
func runWrk(b *testing.B, url string, connections int) wrkResult {
	out, err := exec.Command("taskset", "-c", "0", "wrk", "-t1", "-c"+strconv.Itoa(connections), "-d5s", "--latency", url).CombinedOutput()
	if err != nil {
		b.Fatalf("wrk: %v\n%s", err, out)
	}
	text := string(out)
	if strings.Contains(text, "Non-2xx") || strings.Contains(text, "Socket errors") {
		b.Fatalf("wrk saw errors against %s:\n%s", url, text)
	}
	var r wrkResult
	if m := regexp.MustCompile(`Requests/sec:\s+([\d.]+)`).FindStringSubmatch(text); m != nil {
		r.rps, _ = strconv.ParseFloat(m[1], 64)
	}
	r.p50 = wrkLatency(text, "50%")
	r.p99 = wrkLatency(text, "99%")
	return r
}

// wrkLatency reads a percentile of wrk's latency distribution, in ms.
func wrkLatency(text, pct string) float64 {
	m := regexp.MustCompile(regexp.QuoteMeta(pct) + `\s+([\d.]+)(us|ms|s)`).FindStringSubmatch(text)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	switch m[2] {
	case "us":
		return v / 1000
	case "s":
		return v * 1000
	}
	return v
}

func median(rs []wrkResult) wrkResult {
	pick := func(f func(wrkResult) float64) float64 {
		vs := make([]float64, len(rs))
		for i, r := range rs {
			vs[i] = f(r)
		}
		slices.Sort(vs)
		return vs[len(vs)/2]
	}
	return wrkResult{
		rps: pick(func(r wrkResult) float64 { return r.rps }),
		p50: pick(func(r wrkResult) float64 { return r.p50 }),
		p99: pick(func(r wrkResult) float64 { return r.p99 }),
	}
}
