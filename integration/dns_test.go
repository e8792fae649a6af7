package integration

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	mdns "github.com/miekg/dns"
)

// TestDNSResolvesLoadBalancers: berth's DNS server answers a load
// balancer's DNS name with the address its listeners are on, as soon as
// it is created, whatever the case of the question, over UDP and TCP; the
// name is gone once the load balancer is deleted. /_berth/health says
// where the server listens.
func TestDNSResolvesLoadBalancers(t *testing.T) {
	t.Parallel()
	b := startT(t, t.TempDir(), "--dns-listen", "127.0.0.1:0", "--runtime", "none")
	var health struct{ DNS string }
	if err := json.Unmarshal([]byte(get(t, b.url+"/_berth/health")), &health); err != nil || health.DNS == "" {
		t.Fatalf("/_berth/health names no DNS server: %+v, %v", health, err)
	}
	ctx, c := context.Background(), b.clients("us-east-1")
	lb := try(c.elbv2.CreateLoadBalancer(ctx, &elasticloadbalancingv2.CreateLoadBalancerInput{Name: aws.String("dns"), Subnets: subnets(t, ctx, c)[:2]})).must(t).LoadBalancers[0]
	address := hostAddress(t, b, *lb.DNSName)
	resolve := func(network, name string) *mdns.Msg {
		m := new(mdns.Msg)
		m.SetQuestion(mdns.Fqdn(name), mdns.TypeA)
		reply, _, err := (&mdns.Client{Net: network}).Exchange(m, health.DNS)
		if err != nil {
			t.Fatalf("asking %s over %s: %v", name, network, err)
		}
		return reply
	}
	for _, network := range []string{"udp", "tcp"} {
		var got string
		eventually(t, "the load balancer's name in berth's DNS", func() bool {
			r := resolve(network, strings.ToUpper(*lb.DNSName))
			if len(r.Answer) == 1 {
				got = r.Answer[0].(*mdns.A).A.String()
			}
			return got != ""
		})
		if got != address {
			t.Errorf("%s: %s resolves to %s, want %s (its listeners' address)", network, *lb.DNSName, got, address)
		}
	}
	try(c.elbv2.DeleteLoadBalancer(ctx, &elasticloadbalancingv2.DeleteLoadBalancerInput{LoadBalancerArn: lb.LoadBalancerArn})).must(t)
	eventually(t, "the deleted load balancer's name gone from berth's DNS", func() bool {
		r := resolve("udp", *lb.DNSName)
		return len(r.Answer) == 0
	})
}

// sharedDNS is where the shared berth's DNS server listens.
func sharedDNS(t *testing.T) string {
	t.Helper()
	var health struct{ DNS string }
	if err := json.Unmarshal([]byte(get(t, shared.url+"/_berth/health")), &health); err != nil || health.DNS == "" {
		t.Fatalf("the shared berth has no DNS server: %+v, %v", health, err)
	}
	return health.DNS
}
