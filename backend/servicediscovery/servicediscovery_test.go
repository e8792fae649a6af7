package servicediscovery

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2api "github.com/aws/aws-sdk-go-v2/service/ec2"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	"berth/awsproto"
	"berth/backend"
	"berth/backend/ec2"
	"berth/sqlite"
)

var scope = backend.Scope{Account: "000000000000", Region: "us-east-1"}

func newBackend(tb testing.TB) (*Backend, *ec2.Backend, context.Context) {
	store, err := sqlite.Open(filepath.Join(tb.TempDir(), "berth.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	now := func() time.Time { return time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC) }
	env := backend.Env{Clock: now, IDs: &backend.SequentialIDs{}}
	vpcs := ec2.New(store, env)
	return New(store, env, vpcs), vpcs, backend.WithScope(context.Background(), scope)
}

func code(err error) string {
	if ae, ok := err.(*awsproto.Error); ok {
		return ae.Code
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func records(ts ...types.RecordType) []types.DnsRecord {
	var out []types.DnsRecord
	for _, t := range ts {
		out = append(out, types.DnsRecord{Type: t, TTL: aws.Int64(60)})
	}
	return out
}

// TestValidDNS: the record type combinations "A, AAAA, A and AAAA, SRV,
// CNAME", and CNAME only with WEIGHTED and without HealthCheckConfig
// (https://docs.aws.amazon.com/cloud-map/latest/api/API_DnsRecord.html).
func TestValidDNS(t *testing.T) {
	const (
		A, AAAA, SRV, CNAME = types.RecordTypeA, types.RecordTypeAaaa, types.RecordTypeSrv, types.RecordTypeCname
		multi, weighted     = types.RoutingPolicyMultivalue, types.RoutingPolicyWeighted
	)
	hc := &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp}
	for _, c := range []struct {
		types  []types.RecordType
		policy types.RoutingPolicy
		hc     *types.HealthCheckConfig
		code   string
	}{
		{[]types.RecordType{A}, multi, nil, ""},
		{[]types.RecordType{AAAA}, weighted, nil, ""},
		{[]types.RecordType{AAAA, A}, multi, hc, ""},
		{[]types.RecordType{SRV}, multi, nil, ""},
		{[]types.RecordType{CNAME}, weighted, nil, ""},
		{nil, multi, nil, "InvalidInput"},                      // no record
		{[]types.RecordType{A, A}, multi, nil, "InvalidInput"}, // a type twice
		{[]types.RecordType{A, SRV}, multi, nil, ""},           // taken (aws/aws-cdk#18894, hashicorp/consul-aws#20)
		{[]types.RecordType{SRV, AAAA, A}, multi, nil, ""},
		{[]types.RecordType{CNAME, A}, weighted, nil, "InvalidInput"}, // CNAME alone
		{[]types.RecordType{CNAME}, multi, nil, "InvalidInput"},       // CNAME needs WEIGHTED
		{[]types.RecordType{CNAME}, weighted, hc, "InvalidInput"},     // CNAME with a health check
	} {
		if got := code(validDNS(records(c.types...), c.policy, c.hc)); got != c.code {
			t.Errorf("validDNS(%v, %s, hc=%v) = %q, want %q", c.types, c.policy, c.hc != nil, got, c.code)
		}
	}
}

// TestValidHealth: HealthCheckConfig for public DNS and HTTP namespaces
// only, not with HealthCheckCustomConfig
// (https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateService.html),
// no ResourcePath for TCP
// (https://docs.aws.amazon.com/cloud-map/latest/api/API_HealthCheckConfig.html).
func TestValidHealth(t *testing.T) {
	httpCheck := &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp, ResourcePath: aws.String("/health")}
	tcpPath := &types.HealthCheckConfig{Type: types.HealthCheckTypeTcp, ResourcePath: aws.String("/")}
	custom := &types.HealthCheckCustomConfig{}
	for _, c := range []struct {
		ns     types.NamespaceType
		hc     *types.HealthCheckConfig
		custom *types.HealthCheckCustomConfig
		code   string
	}{
		{types.NamespaceTypeDnsPublic, httpCheck, nil, ""},
		{types.NamespaceTypeHttp, httpCheck, nil, ""},
		{types.NamespaceTypeDnsPrivate, nil, custom, ""},
		{types.NamespaceTypeDnsPrivate, httpCheck, nil, "InvalidInput"},
		{types.NamespaceTypeDnsPublic, httpCheck, custom, "InvalidInput"},
		{types.NamespaceTypeDnsPublic, tcpPath, nil, "InvalidInput"},
	} {
		if got := code(validHealth(c.ns, c.hc, c.custom)); got != c.code {
			t.Errorf("validHealth(%s, %+v, %v) = %q, want %q", c.ns, c.hc, c.custom != nil, got, c.code)
		}
	}
}

// TestValidAttributes: the attributes each record type and health check
// needs, and AWS_ALIAS_DNS_NAME's terms, from RegisterInstance's
// Attributes
// (https://docs.aws.amazon.com/cloud-map/latest/api/API_RegisterInstance.html).
func TestValidAttributes(t *testing.T) {
	svc := func(policy types.RoutingPolicy, hc *types.HealthCheckConfig, ts ...types.RecordType) service {
		return service{DNS: &types.DnsConfig{DnsRecords: records(ts...), RoutingPolicy: policy}, HealthCheck: hc}
	}
	multi, weighted := types.RoutingPolicyMultivalue, types.RoutingPolicyWeighted
	a := svc(multi, nil, types.RecordTypeA)
	aWeighted := svc(weighted, nil, types.RecordTypeA)
	aaaa := svc(multi, nil, types.RecordTypeAaaa)
	srv := svc(multi, nil, types.RecordTypeSrv)
	cname := svc(weighted, nil, types.RecordTypeCname)
	checked := svc(multi, &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp}, types.RecordTypeA)
	httpSvc := service{}
	dns, http := types.NamespaceTypeDnsPrivate, types.NamespaceTypeHttp
	for i, c := range []struct {
		attrs map[string]string
		svc   service
		ns    types.NamespaceType
		code  string
	}{
		{map[string]string{AttrIPv4: "10.0.0.1"}, a, dns, ""},                                             // (0)
		{map[string]string{AttrIPv6: "2001:db8::1"}, a, dns, "InvalidInput"},                              // (1) A needs IPv4
		{map[string]string{AttrIPv6: "2001:db8::1"}, aaaa, dns, ""},                                       // (2)
		{map[string]string{AttrIPv4: "10.0.0.1"}, aaaa, dns, "InvalidInput"},                              // (3) AAAA needs IPv6
		{map[string]string{AttrIPv4: "10.0.0.1", AttrPort: "80"}, srv, dns, ""},                           // (4)
		{map[string]string{AttrIPv4: "10.0.0.1"}, srv, dns, "InvalidInput"},                               // (5) SRV needs a port
		{map[string]string{AttrPort: "80"}, srv, dns, "InvalidInput"},                                     // (6) SRV needs an address
		{map[string]string{AttrCNAME: "db.example.com"}, cname, dns, ""},                                  // (7)
		{map[string]string{AttrIPv4: "10.0.0.1"}, cname, dns, "InvalidInput"},                             // (8) CNAME needs AWS_INSTANCE_CNAME
		{map[string]string{AttrIPv4: "10.0.0.1"}, checked, dns, "InvalidInput"},                           // (9) a health check needs a port
		{map[string]string{AttrIPv4: "10.0.0.1", AttrPort: "8080"}, checked, dns, ""},                     // (10)
		{map[string]string{AttrAliasDNSName: "lb.elb.amazonaws.com"}, aWeighted, dns, ""},                 // (11)
		{map[string]string{AttrAliasDNSName: "lb.elb.amazonaws.com"}, a, dns, "InvalidInput"},             // (12) alias needs WEIGHTED
		{map[string]string{AttrAliasDNSName: "lb", AttrIPv4: "10.0.0.1"}, aWeighted, dns, "InvalidInput"}, // (13) no AWS_INSTANCE_* beside an alias
		{map[string]string{AttrAliasDNSName: "lb"}, srv, dns, "InvalidInput"},                             // (14) alias needs A or AAAA
		{map[string]string{AttrInitHealth: "SICK"}, httpSvc, http, "InvalidInput"},                        // (15)
		{map[string]string{AttrEC2Instance: "i-1", AttrInitHealth: "HEALTHY"}, httpSvc, http, ""},         // (16)
		{map[string]string{AttrEC2Instance: "i-1", "color": "blue"}, httpSvc, http, "InvalidInput"},       // (17) only AWS_INIT_HEALTH_STATUS beside it
		{map[string]string{"anything": "goes"}, httpSvc, http, ""},                                        // (18) an HTTP service needs nothing
		{map[string]string{AttrIPv4: "10.0.0.300"}, a, dns, "InvalidInput"},                               // (19)
		{map[string]string{AttrIPv4: "10.0.0.1", AttrPort: "0"}, srv, dns, "InvalidInput"},                // (20)
	} {
		if got := code(validAttributes(c.attrs, c.svc, c.ns)); got != c.code {
			t.Errorf("(%d) validAttributes(%v) = %q, want %q", i, c.attrs, got, c.code)
		}
	}
	many := map[string]string{}
	for i := range 31 { // "You can add up to 30 custom attributes."
		many[string(rune('a'+i%26))+string(rune('a'+i/26))] = "v"
	}
	if got := code(validAttributes(many, httpSvc, http)); got != "InvalidInput" {
		t.Errorf("31 custom attributes = %q, want InvalidInput", got)
	}
}

// TestDiscover: QueryParameters must all match; OptionalParameters narrow
// the result only when some instance matches them; HealthStatus is
// ignored without a health check, and HEALTHY_OR_ELSE_ALL fails open
// (https://docs.aws.amazon.com/cloud-map/latest/api/API_DiscoverInstances.html).
func TestDiscover(t *testing.T) {
	inst := func(id, color string, health types.HealthStatus) instance {
		return instance{ID: id, Attributes: map[string]string{"color": color, "stage": "prod"}, Health: health}
	}
	all := []instance{inst("a", "blue", types.HealthStatusHealthy), inst("b", "green", types.HealthStatusUnhealthy), inst("c", "blue", types.HealthStatusUnhealthy)}
	ids := func(is []instance) (out []string) {
		for _, i := range is {
			out = append(out, i.ID)
		}
		return out
	}
	plain, custom := service{}, service{CustomHealth: &types.HealthCheckCustomConfig{}}
	for _, c := range []struct {
		svc             service
		query, optional map[string]string
		status          types.HealthStatusFilter
		want            []string
	}{
		{plain, nil, nil, types.HealthStatusFilterHealthy, []string{"a", "b", "c"}},
		{plain, map[string]string{"color": "blue", "stage": "prod"}, nil, "", []string{"a", "c"}},
		{plain, map[string]string{"color": "red"}, nil, "", nil},
		{plain, map[string]string{"stage": "prod"}, map[string]string{"color": "green"}, "", []string{"b"}},
		{plain, map[string]string{"stage": "prod"}, map[string]string{"color": "red"}, "", []string{"a", "b", "c"}},
		{custom, nil, nil, types.HealthStatusFilterHealthy, []string{"a"}},
		{custom, nil, nil, types.HealthStatusFilterUnhealthy, []string{"b", "c"}},
		{custom, nil, nil, types.HealthStatusFilterAll, []string{"a", "b", "c"}},
		{custom, map[string]string{"color": "green"}, nil, types.HealthStatusFilterHealthyOrElseAll, []string{"b"}},
		{custom, map[string]string{"color": "blue"}, nil, types.HealthStatusFilterHealthyOrElseAll, []string{"a"}},
	} {
		got := ids(discover(all, c.svc, c.query, c.optional, c.status))
		if len(got) != len(c.want) || (len(got) > 0 && !equal(got, c.want)) {
			t.Errorf("discover(query %v, optional %v, %s) = %v, want %v", c.query, c.optional, c.status, got, c.want)
		}
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestNamespaceLifecycle: a private DNS namespace needs an existing VPC;
// a retried create with the same CreatorRequestId is the same create, a
// second with another is NamespaceAlreadyExists; a namespace with
// services is ResourceInUse
// (https://docs.aws.amazon.com/cloud-map/latest/api/API_CreatePrivateDnsNamespace.html,
// https://docs.aws.amazon.com/cloud-map/latest/api/API_DeleteNamespace.html).
func TestNamespaceLifecycle(t *testing.T) {
	b, vpcs, ctx := newBackend(t)
	_, err := b.CreatePrivateDnsNamespace(ctx, &sd.CreatePrivateDnsNamespaceInput{Name: aws.String("local"), Vpc: aws.String("vpc-nope"), CreatorRequestId: aws.String("r1")})
	if code(err) != "InvalidInput" {
		t.Fatalf("unknown VPC: %v", err)
	}
	vs, err := vpcs.DescribeVpcs(ctx, &ec2api.DescribeVpcsInput{})
	if err != nil || len(vs.Vpcs) == 0 {
		t.Fatalf("DescribeVpcs = %v, %v", vs, err)
	}
	vpc := vs.Vpcs[0].VpcId
	first, err := b.CreatePrivateDnsNamespace(ctx, &sd.CreatePrivateDnsNamespaceInput{Name: aws.String("local"), Vpc: vpc, CreatorRequestId: aws.String("r1")})
	if err != nil {
		t.Fatal(err)
	}
	again, err := b.CreatePrivateDnsNamespace(ctx, &sd.CreatePrivateDnsNamespaceInput{Name: aws.String("local"), Vpc: vpc, CreatorRequestId: aws.String("r1")})
	if err != nil || *again.OperationId != *first.OperationId {
		t.Fatalf("retried create = %v, %v; want operation %s", again, err, *first.OperationId)
	}
	_, err = b.CreatePrivateDnsNamespace(ctx, &sd.CreatePrivateDnsNamespaceInput{Name: aws.String("local"), Vpc: vpc, CreatorRequestId: aws.String("r2")})
	if code(err) != "NamespaceAlreadyExists" {
		t.Fatalf("second create: %v", err)
	}
	op, err := b.GetOperation(ctx, &sd.GetOperationInput{OperationId: first.OperationId})
	if err != nil || op.Operation.Status != types.OperationStatusSuccess || op.Operation.Type != types.OperationTypeCreateNamespace {
		t.Fatalf("GetOperation = %+v, %v", op, err)
	}
	nsID := op.Operation.Targets["NAMESPACE"]
	svc, err := b.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("web"), NamespaceId: aws.String(nsID),
		DnsConfig: &types.DnsConfig{DnsRecords: records(types.RecordTypeA)}})
	if err != nil || svc.Service.Type != types.ServiceTypeDnsHttp {
		t.Fatalf("CreateService = %+v, %v", svc, err)
	}
	if _, err := b.DeleteNamespace(ctx, &sd.DeleteNamespaceInput{Id: aws.String(nsID)}); code(err) != "ResourceInUse" {
		t.Fatalf("DeleteNamespace with a service: %v", err)
	}
	// Records: the zone with its service's records and instances; a
	// service without DNS records (here an HTTP one) is left out.
	if _, err := b.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("jobs"), NamespaceId: aws.String(nsID)}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: svc.Service.Id, InstanceId: aws.String("i-1"),
		Attributes: map[string]string{AttrIPv4: "10.0.0.5"}}); err != nil {
		t.Fatal(err)
	}
	zones, err := b.Records(ctx)
	if err != nil || len(zones) != 1 || zones[0].Name != "local" || !zones[0].Private || zones[0].Vpc != *vpc || zones[0].Scope != scope || len(zones[0].Services) != 1 {
		t.Fatalf("Records = %+v, %v", zones, err)
	}
	web := zones[0].Services[0]
	if web.Name != "web" || web.RoutingPolicy != types.RoutingPolicyMultivalue || len(web.Records) != 1 || len(web.Instances) != 1 ||
		web.Instances[0].Attributes[AttrIPv4] != "10.0.0.5" || !web.Instances[0].Healthy {
		t.Fatalf("Records' service = %+v", web)
	}
}

// TestNames: the model's ServiceName pattern (dot-separated labels of
// letters, digits, '-' and '_', not starting or ending with '-', at most
// 127 characters, or ".") and the namespace names that are no ARNs
// (https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateService.html,
// https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateHttpNamespace.html).
func TestNames(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"web", true}, {"_exampleservice._tcp", true}, {"api-1.5", true}, {".", true}, {"a", true},
		{"", false}, {"-web", false}, {"web-", false}, {"a..b", false}, {"we b", false}, {"web.", false},
		{string(make([]byte, 128)), false},
	} {
		if err := validServiceName("name", c.name); (err == nil) != c.ok {
			t.Errorf("validServiceName(%q) = %v, want ok %v", c.name, err, c.ok)
		}
	}
	if err := validNamespaceName("name", "arn:aws:x", httpNamePattern); code(err) != "InvalidInput" {
		t.Errorf("an ARN as a namespace name: %v", err)
	}
	if err := validNamespaceName("name", "my.namespace", httpNamePattern); err != nil {
		t.Errorf("my.namespace: %v", err)
	}
}

// TestNullMembers: a required structure left out is InvalidInput, as
// AWS's common validation answers it ("Value null at 'id' failed to
// satisfy constraint: Member must not be null",
// https://github.com/aws/aws-sdk-java/issues/1973), never a fault.
func TestNullMembers(t *testing.T) {
	b, _, ctx := newBackend(t)
	op, err := b.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("apps")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.GetOperation(ctx, &sd.GetOperationInput{OperationId: op.OperationId})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.String(got.Operation.Targets["NAMESPACE"])
	svc, err := b.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("jobs"), NamespaceId: id})
	if err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() error{
		"UpdateHttpNamespace": func() error { _, err := b.UpdateHttpNamespace(ctx, &sd.UpdateHttpNamespaceInput{Id: id}); return err },
		"UpdatePrivateDnsNamespace": func() error {
			_, err := b.UpdatePrivateDnsNamespace(ctx, &sd.UpdatePrivateDnsNamespaceInput{Id: id})
			return err
		},
		"UpdatePublicDnsNamespace": func() error {
			_, err := b.UpdatePublicDnsNamespace(ctx, &sd.UpdatePublicDnsNamespaceInput{Id: id})
			return err
		},
		"UpdateService":       func() error { _, err := b.UpdateService(ctx, &sd.UpdateServiceInput{Id: svc.Service.Id}); return err },
		"CreateHttpNamespace": func() error { _, err := b.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{}); return err },
		"CreateService":       func() error { _, err := b.CreateService(ctx, &sd.CreateServiceInput{NamespaceId: id}); return err },
	} {
		if err := call(); code(err) != "InvalidInput" {
			t.Errorf("%s without a required member: %v", name, err)
		}
	}
}

// TestHTTPNames: a namespace whose name another namespace's HTTP name
// has gets a generated suffix on its HttpName, by which DiscoverInstances
// finds it ("if you reuse Name for namespace creation, a generated hash is
// added to HttpName to distinguish the two",
// https://docs.aws.amazon.com/cloud-map/latest/api/API_DiscoverInstances.html).
func TestHTTPNames(t *testing.T) {
	b, _, ctx := newBackend(t)
	if _, err := b.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("shop")}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.CreatePublicDnsNamespace(ctx, &sd.CreatePublicDnsNamespaceInput{Name: aws.String("shop")}); err != nil {
		t.Fatal(err)
	}
	list, err := b.ListNamespaces(ctx, &sd.ListNamespacesInput{Filters: []types.NamespaceFilter{{Name: types.NamespaceFilterNameName, Values: []string{"shop"}}}})
	if err != nil || len(list.Namespaces) != 2 {
		t.Fatalf("ListNamespaces(NAME=shop) = %+v, %v", list, err)
	}
	names := map[types.NamespaceType]string{}
	for _, n := range list.Namespaces {
		names[n.Type] = aws.ToString(n.Properties.HttpProperties.HttpName)
	}
	if names[types.NamespaceTypeHttp] != "shop" || names[types.NamespaceTypeDnsPublic] == "shop" || len(names[types.NamespaceTypeDnsPublic]) <= len("shop") {
		t.Fatalf("HttpNames = %v", names)
	}
	if _, err := b.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("shop")}); code(err) != "NamespaceAlreadyExists" {
		t.Fatalf("a second HTTP namespace shop: %v", err)
	}
	// The model's bounds, for callers that skip the generic validation
	// (ECS creating a cluster's default namespace): ^(?!arn:)[!-~]{1,1024}$
	// (API_CreateHttpNamespace), ^(?!arn:)[!-~]{1,253}$
	// (API_CreatePrivateDnsNamespace).
	if _, err := b.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String(strings.Repeat("a", 1025))}); code(err) != "InvalidInput" {
		t.Errorf("an HTTP namespace of 1025 characters: %v", err)
	}
	if _, err := b.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String(strings.Repeat("a", 1024))}); err != nil {
		t.Errorf("an HTTP namespace of 1024 characters: %v", err)
	}
	if _, err := b.CreatePrivateDnsNamespace(ctx, &sd.CreatePrivateDnsNamespaceInput{Name: aws.String(strings.Repeat("a", 254)), Vpc: aws.String("vpc-1")}); code(err) != "InvalidInput" {
		t.Errorf("a private DNS namespace of 254 characters: %v", err)
	}
}

// TestOperationFilter: NAMESPACE_ID and SERVICE_ID take EQ with one value,
// STATUS and TYPE EQ or IN, UPDATE_DATE BETWEEN a start and an end in Unix
// time; EQ is the default
// (https://docs.aws.amazon.com/cloud-map/latest/api/API_OperationFilter.html).
func TestOperationFilter(t *testing.T) {
	at := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	op := operation{Type: types.OperationTypeRegisterInstance, Status: types.OperationStatusSuccess, Updated: at,
		Targets: map[string]string{"SERVICE": "srv-1", "INSTANCE": "i-1"}}
	unix := func(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
	for _, c := range []struct {
		f    types.OperationFilter
		want bool
		code string
	}{
		{types.OperationFilter{Name: types.OperationFilterNameServiceId, Values: []string{"srv-1"}}, true, ""},
		{types.OperationFilter{Name: types.OperationFilterNameNamespaceId, Values: []string{"ns-1"}}, false, ""},
		{types.OperationFilter{Name: types.OperationFilterNameStatus, Condition: types.FilterConditionIn, Values: []string{"FAIL", "SUCCESS"}}, true, ""},
		{types.OperationFilter{Name: types.OperationFilterNameType, Values: []string{"DEREGISTER_INSTANCE"}}, false, ""},
		{types.OperationFilter{Name: types.OperationFilterNameUpdateDate, Condition: types.FilterConditionBetween,
			Values: []string{unix(at.Add(-time.Hour)), unix(at.Add(time.Hour))}}, true, ""},
		{types.OperationFilter{Name: types.OperationFilterNameUpdateDate, Condition: types.FilterConditionBetween,
			Values: []string{unix(at.Add(time.Hour)), unix(at.Add(2 * time.Hour))}}, false, ""},
		{types.OperationFilter{Name: types.OperationFilterNameServiceId, Condition: types.FilterConditionIn, Values: []string{"srv-1"}}, false, "InvalidInput"},
		{types.OperationFilter{Name: types.OperationFilterNameUpdateDate, Values: []string{"1"}}, false, "InvalidInput"},
		{types.OperationFilter{Name: types.OperationFilterNameStatus, Values: []string{"A", "B"}}, false, "InvalidInput"},
	} {
		match, err := operationFilter(c.f)
		if code(err) != c.code {
			t.Errorf("operationFilter(%+v) = %v, want %q", c.f, err, c.code)
			continue
		}
		if err == nil && match(op) != c.want {
			t.Errorf("operationFilter(%+v) matches = %v, want %v", c.f, !c.want, c.want)
		}
	}
}
