package ecs

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth/awsproto"
	"berth/lb"
	"berth/sqlite"
)

// scTaskDefinition has one container with the named port mapping "api"
// (http, 8080), one unnamed, and "tcp" (no appProtocol, 5432).
func scTaskDefinition() *types.TaskDefinition {
	return &types.TaskDefinition{TaskDefinitionArn: aws.String("arn:aws:ecs:us-east-1:000000000000:task-definition/backend:1"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), PortMappings: []types.PortMapping{
			{Name: aws.String("api"), ContainerPort: aws.Int32(8080), AppProtocol: types.ApplicationProtocolHttp},
			{ContainerPort: aws.Int32(9090)},
			{Name: aws.String("tcp"), ContainerPort: aws.Int32(5432)},
		}}}}
}

// TestValidServiceConnect checks ServiceConnectService's rules: portName
// names one of the task definition's port mappings; discoveryName
// defaults to portName and is unique; an alias's dnsName defaults to
// discoveryName.namespace; at most one client alias.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceConnectService.html
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceConnectClientAlias.html
func TestValidServiceConnect(t *testing.T) {
	t.Parallel()
	td := scTaskDefinition()
	svc := func(port, discovery string, aliases ...types.ServiceConnectClientAlias) types.ServiceConnectService {
		s := types.ServiceConnectService{PortName: aws.String(port), ClientAliases: aliases}
		if discovery != "" {
			s.DiscoveryName = aws.String(discovery)
		}
		return s
	}
	alias := func(dns string, port int32) types.ServiceConnectClientAlias {
		a := types.ServiceConnectClientAlias{Port: aws.Int32(port)}
		if dns != "" {
			a.DnsName = aws.String(dns)
		}
		return a
	}
	out, err := validServiceConnect(types.ServiceConnectConfiguration{Enabled: true, Services: []types.ServiceConnectService{svc("api", "", alias("", 80))}}, td, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if s := out.Services[0]; aws.ToString(s.DiscoveryName) != "api" || aws.ToString(s.ClientAliases[0].DnsName) != "api.shop" {
		t.Fatalf("defaults: discoveryName %q dnsName %q", aws.ToString(s.DiscoveryName), aws.ToString(s.ClientAliases[0].DnsName))
	}
	for _, dns := range []string{"db", "my_db-1.internal", strings.Repeat("a.", 63) + "a", strings.Repeat("a", 63) + ".b"} {
		if _, err := validServiceConnect(types.ServiceConnectConfiguration{Enabled: true, Services: []types.ServiceConnectService{svc("api", "", alias(dns, 80))}}, td, "shop"); err != nil {
			t.Errorf("dnsName %q: %v", dns, err)
		}
	}
	for name, cfg := range map[string]types.ServiceConnectConfiguration{
		"unknown portName":       {Enabled: true, Services: []types.ServiceConnectService{svc("nope", "")}},
		"no portName":            {Enabled: true, Services: []types.ServiceConnectService{{}}},
		"duplicate discovery":    {Enabled: true, Services: []types.ServiceConnectService{svc("api", "x"), svc("api", "x")}},
		"discovery with capital": {Enabled: true, Services: []types.ServiceConnectService{svc("api", "Backend")}},
		"discovery with hyphen":  {Enabled: true, Services: []types.ServiceConnectService{svc("api", "-b")}},
		"two aliases":            {Enabled: true, Services: []types.ServiceConnectService{svc("api", "", alias("a", 80), alias("b", 80))}},
		"alias port 0":           {Enabled: true, Services: []types.ServiceConnectService{svc("api", "", alias("a", 0))}},
		// API_TimeoutConfiguration: "perRequestTimeout can only be set if
		// Service Connect appProtocol isn't TCP."
		"perRequestTimeout on a TCP port": {Enabled: true, Services: []types.ServiceConnectService{{PortName: aws.String("tcp"),
			Timeout: &types.TimeoutConfiguration{PerRequestTimeoutSeconds: aws.Int32(5)}}}},
		// dnsName: a valid DNS name of up to 127 lowercase letters,
		// numbers, underscores, hyphens and periods, not starting with a
		// hyphen (API_ServiceConnectClientAlias).
		"dnsName with a newline": {Enabled: true, Services: []types.ServiceConnectService{svc("api", "", alias("a b\n1.2.3.4 evil", 80))}},
		"dnsName with a colon":   {Enabled: true, Services: []types.ServiceConnectService{svc("api", "", alias("x:1", 80))}},
		"dnsName wildcard":       {Enabled: true, Services: []types.ServiceConnectService{svc("api", "", alias("*", 80))}},
		"dnsName uppercase":      {Enabled: true, Services: []types.ServiceConnectService{svc("api", "", alias("Api", 80))}},
		"dnsName hyphen first":   {Enabled: true, Services: []types.ServiceConnectService{svc("api", "", alias("-api", 80))}},
		"dnsName empty label":    {Enabled: true, Services: []types.ServiceConnectService{svc("api", "", alias("a..b", 80))}},
		"dnsName a period":       {Enabled: true, Services: []types.ServiceConnectService{svc("api", "", alias(".", 80))}},
		"dnsName 128 characters": {Enabled: true, Services: []types.ServiceConnectService{svc("api", "", alias(strings.Repeat("a.", 63)+"ab", 80))}},
		"dnsName label of 64":    {Enabled: true, Services: []types.ServiceConnectService{svc("api", "", alias(strings.Repeat("a", 64), 80))}},
	} {
		_, err := validServiceConnect(cfg, td, "shop")
		var e *awsproto.Error
		if !errors.As(err, &e) || e.Code != "InvalidParameterException" || e.Status != 400 {
			t.Errorf("%s: err = %v, want InvalidParameterException", name, err)
		}
	}
}

// TestServiceConnectConfig checks the proxy's snapshot: one listener per
// alias port, one host-header rule per alias, a 404 default, one target
// group per discovery name with the running tasks, draining ones until
// their drain ends, and the first alias to claim a name and port keeping
// it.
func TestServiceConnectConfig(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	aliases := []scAlias{
		{Namespace: "ns1", DiscoveryName: "backend", DNSName: "backend", Port: 8080, HTTP: true},
		{Namespace: "ns1", DiscoveryName: "users", DNSName: "users", Port: 8080, HTTP: true},
		{Namespace: "ns2", DiscoveryName: "other", DNSName: "BACKEND", Port: 8080, HTTP: true}, // taken by ns1
		{Namespace: "ns1", DiscoveryName: "db", DNSName: "db", Port: 5432},
		{Namespace: "ns2", DiscoveryName: "db2", DNSName: "db2", Port: 5432}, // a TCP port serves one alias
	}
	endpoints := []scEndpoint{
		{TaskArn: "arn:aws:ecs:r:1:task/c/b", Namespace: "ns1", DiscoveryName: "backend", Host: "10.0.0.2", Port: 8080},
		{TaskArn: "arn:aws:ecs:r:1:task/c/a", Namespace: "ns1", DiscoveryName: "backend", Host: "10.0.0.1", Port: 8080},
		{TaskArn: "arn:aws:ecs:r:1:task/c/d", Namespace: "ns1", DiscoveryName: "backend", Host: "10.0.0.3", Port: 8080, DrainUntil: now.Add(2 * time.Second)},
		{TaskArn: "arn:aws:ecs:r:1:task/c/e", Namespace: "ns1", DiscoveryName: "backend", Host: "10.0.0.4", Port: 8080, DrainUntil: now},
		{TaskArn: "arn:aws:ecs:r:1:task/c/f", Namespace: "ns1", DiscoveryName: "gone", Host: "10.0.0.5", Port: 8080},
	}
	cfg, next := serviceConnectConfig("169.254.171.1", aliases, endpoints, now)
	if len(cfg.LoadBalancers) != 1 {
		t.Fatalf("load balancers = %+v", cfg.LoadBalancers)
	}
	b := cfg.LoadBalancers[0]
	// Service Connect's default idle timeouts: 5 minutes for HTTP, an hour
	// for TCP (API_TimeoutConfiguration).
	if b.Address != "169.254.171.1" || len(b.Listeners) != 2 || b.IdleTimeout != 5*time.Minute || b.Listeners[0].IdleTimeout != time.Hour {
		t.Fatalf("load balancer = %+v", b)
	}
	tcp, http := b.Listeners[0], b.Listeners[1]
	if tcp.Port != 5432 || tcp.Protocol != "TCP" || len(tcp.Rules) != 1 || tcp.Rules[0].Action.Forward.Groups[0].ARN != scTargetGroup("ns1", "db") {
		t.Fatalf("TCP listener = %+v", tcp)
	}
	if http.Port != 8080 || http.Protocol != "HTTP" || len(http.Rules) != 3 {
		t.Fatalf("HTTP listener = %+v", http)
	}
	for i, want := range []struct{ host, group string }{{"backend", scTargetGroup("ns1", "backend")}, {"users", scTargetGroup("ns1", "users")}} {
		r := http.Rules[i]
		if len(r.Conditions) != 1 || r.Conditions[0].Field != "host-header" || r.Conditions[0].Values[0] != want.host || r.Action.Forward.Groups[0].ARN != want.group {
			t.Errorf("rule %d = %+v", i, r)
		}
	}
	if d := http.Rules[2]; d.Action.Type != "fixed-response" || d.Action.Fixed.StatusCode != 404 {
		t.Errorf("default rule = %+v", d)
	}
	g := cfg.TargetGroups[scTargetGroup("ns1", "backend")]
	want := []lb.Target{{ID: "a", Port: 8080, Host: "10.0.0.1"}, {ID: "b", Port: 8080, Host: "10.0.0.2"}, {ID: "d", Port: 8080, Host: "10.0.0.3", DrainUntil: now.Add(2 * time.Second)}}
	if len(g.Targets) != len(want) {
		t.Fatalf("targets = %+v", g.Targets)
	}
	for i := range want {
		if g.Targets[i] != want[i] {
			t.Errorf("target %d = %+v, want %+v", i, g.Targets[i], want[i])
		}
	}
	if g.HealthCheck != nil || g.Outlier == nil || g.Outlier.Consecutive != 5 || g.Outlier.Ejection != 30*time.Second {
		t.Errorf("target group health = %+v, outlier %+v", g.HealthCheck, g.Outlier)
	}
	if !next.Equal(now.Add(2 * time.Second)) {
		t.Errorf("next = %v", next)
	}
	if _, ok := cfg.TargetGroups[scTargetGroup("ns2", "other")]; ok {
		t.Error("the alias ns1 claimed first has a target group in ns2")
	}
	if empty, _ := serviceConnectConfig("169.254.171.1", nil, nil, now); len(empty.LoadBalancers) != 0 {
		t.Errorf("no aliases: %+v", empty.LoadBalancers)
	}
}

// TestNamespaceDefaults checks that an empty namespace in
// serviceConnectDefaults removes the cluster's default rather than
// keeping an empty one: "If you update the cluster with an empty string
// "" for the namespace name, the cluster configuration for Service
// Connect is removed."
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ClusterServiceConnectDefaultsRequest.html
func TestNamespaceDefaults(t *testing.T) {
	t.Parallel()
	if d := namespaceDefaults(&types.ClusterServiceConnectDefaultsRequest{Namespace: aws.String("")}); d != nil {
		t.Fatalf("empty namespace: %+v, want no defaults", d)
	}
	if d := namespaceDefaults(nil); d != nil {
		t.Fatalf("nil: %+v, want no defaults", d)
	}
	if d := namespaceDefaults(&types.ClusterServiceConnectDefaultsRequest{Namespace: aws.String("shop")}); d == nil || aws.ToString(d.Namespace) != "shop" {
		t.Fatalf("shop: %+v", d)
	}
}

// TestRequestTimeout: a call through an HTTP alias has the service's
// perRequestTimeoutSeconds to answer (0 disables it), and without one
// Envoy's route timeout, 15 s; a TCP alias has none
// (API_TimeoutConfiguration; RouteAction.timeout,
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto).
func TestRequestTimeout(t *testing.T) {
	t.Parallel()
	seconds := func(n int32) *types.TimeoutConfiguration {
		return &types.TimeoutConfiguration{PerRequestTimeoutSeconds: aws.Int32(n)}
	}
	for _, c := range []struct {
		http bool
		t    *types.TimeoutConfiguration
		want time.Duration
	}{
		{true, nil, 15 * time.Second},
		{true, &types.TimeoutConfiguration{IdleTimeoutSeconds: aws.Int32(60)}, 15 * time.Second},
		{true, seconds(3), 3 * time.Second},
		{true, seconds(0), 0},
		{false, nil, 0},
	} {
		if got := requestTimeout(c.http, c.t); got != c.want {
			t.Errorf("requestTimeout(%v, %+v) = %v, want %v", c.http, c.t, got, c.want)
		}
	}
	cfg, _ := serviceConnectConfig("169.254.171.1", []scAlias{{Namespace: "ns", DiscoveryName: "api", DNSName: "api", Port: 80, HTTP: true, RequestTimeout: 3 * time.Second}}, nil, time.Now())
	if g := cfg.TargetGroups[scTargetGroup("ns", "api")]; g.RequestTimeout != 3*time.Second {
		t.Errorf("target group's request timeout = %v", g.RequestTimeout)
	}
}

// TestServiceConnectHostsSkipBadNames checks that an alias whose name is
// no DNS name (stored before dnsName was checked, or the default name of
// an HTTP namespace named with other printable characters, which Cloud
// Map allows: API_CreateHttpNamespace's Name, [!-~]{1,1024}) neither
// reaches a task's hosts file, where a space, a newline or a colon would
// break every task of the namespace, nor the proxy.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceConnectClientAlias.html
// https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateHttpNamespace.html
func TestServiceConnectHostsSkipBadNames(t *testing.T) {
	t.Parallel()
	b, ctx, now := testBackend(t)
	s := scopeOf(ctx)
	ns := "arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-1"
	var services []types.ServiceConnectService
	for i, dns := range []string{"good.shop", "a b\n1.2.3.4 evil", "x:1", "*", "Upper.Shop"} {
		services = append(services, types.ServiceConnectService{PortName: aws.String("api"), DiscoveryName: aws.String("d" + string(rune('a'+i))),
			ClientAliases: []types.ServiceConnectClientAlias{{DnsName: aws.String(dns), Port: aws.Int32(int32(80 + i))}}})
	}
	svc := types.Service{ServiceArn: aws.String(s.arn("service/c/odd")), ServiceName: aws.String("odd"), ClusterArn: aws.String(s.arn("cluster/c")),
		Status: aws.String("ACTIVE"), CreatedAt: now, TaskDefinition: aws.String(s.arn("task-definition/web:1")),
		Deployments: []types.Deployment{{TaskDefinition: aws.String(s.arn("task-definition/web:1")),
			ServiceConnectConfiguration: &types.ServiceConnectConfiguration{Enabled: true, Namespace: aws.String(ns), Services: services}}}}
	if err := b.store.Update(ctx, func(tx *sqlite.Tx) error { return putService(tx, s, svc) }); err != nil {
		t.Fatal(err)
	}
	hosts, err := b.serviceConnectHosts(ctx, ns, "169.254.171.1")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"good.shop:169.254.171.1", "Upper.Shop:169.254.171.1"}; !slices.Equal(hosts, want) {
		t.Errorf("hosts = %q, want %q", hosts, want)
	}
}
