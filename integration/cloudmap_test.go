package integration

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// noHostPrefix turns off the SDK's endpoint host prefix: it sends
// DiscoverInstances to data-<endpoint host>, which does not resolve for
// 127.0.0.1.
func noHostPrefix(s *middleware.Stack) error {
	return s.Initialize.Add(middleware.InitializeMiddlewareFunc("NoHostPrefix",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
		}), middleware.Before)
}

// cloudMap is a Cloud Map client of the shared berth in region.
func cloudMap(region string) *sd.Client { return cloudMapAt(shared.url, region) }

// cloudMapAt is a Cloud Map client of the berth at url in region.
func cloudMapAt(url, region string) *sd.Client {
	return sd.New(sd.Options{Region: region, BaseEndpoint: aws.String(url), Retryer: connectionRetryer(),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""), APIOptions: []func(*middleware.Stack) error{noHostPrefix}})
}

// defaultVpc is the id of the region's default VPC.
func defaultVpc(t *testing.T, ctx context.Context, c clients) string {
	t.Helper()
	vpcs := try(c.ec2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{{Name: aws.String("is-default"), Values: []string{"true"}}}})).must(t)
	if len(vpcs.Vpcs) == 0 {
		t.Fatal("no default VPC")
	}
	return aws.ToString(vpcs.Vpcs[0].VpcId)
}

// namespaceOf runs a namespace create and returns the namespace id its
// operation names, checking the operation as GetOperation shows it
// (https://docs.aws.amazon.com/cloud-map/latest/api/API_GetOperation.html).
func namespaceOf(t *testing.T, ctx context.Context, cm *sd.Client, opID *string) string {
	t.Helper()
	op := try(cm.GetOperation(ctx, &sd.GetOperationInput{OperationId: opID})).must(t).Operation
	if op.Status != types.OperationStatusSuccess || op.Type != types.OperationTypeCreateNamespace || op.CreateDate == nil || op.UpdateDate == nil {
		t.Fatalf("GetOperation = %+v", op)
	}
	return op.Targets[string(types.OperationTargetTypeNamespace)]
}

// TestCloudMap drives namespaces, services, instances, discovery,
// operations and tags through aws-sdk-go-v2 with the values and errors of
// https://docs.aws.amazon.com/cloud-map/latest/api/API_Operations.html
func TestCloudMap(t *testing.T) {
	ctx, c := setup(t)
	cm := cloudMap(c.region)
	vpc := defaultVpc(t, ctx, c)

	// Namespaces: a private one needs a VPC that exists.
	_, err := cm.CreatePrivateDnsNamespace(ctx, &sd.CreatePrivateDnsNamespaceInput{Name: aws.String("local"), Vpc: aws.String("vpc-0123456789abcdef0")})
	wantErr[*types.InvalidInput](t, err)
	created := try(cm.CreatePrivateDnsNamespace(ctx, &sd.CreatePrivateDnsNamespaceInput{Name: aws.String("local"), Vpc: aws.String(vpc),
		CreatorRequestId: aws.String("create-local"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("core")}}})).must(t)
	local := namespaceOf(t, ctx, cm, created.OperationId)
	// A create retried with its CreatorRequestId is the same create; another is NamespaceAlreadyExists.
	again := try(cm.CreatePrivateDnsNamespace(ctx, &sd.CreatePrivateDnsNamespaceInput{Name: aws.String("local"), Vpc: aws.String(vpc), CreatorRequestId: aws.String("create-local")})).must(t)
	if aws.ToString(again.OperationId) != aws.ToString(created.OperationId) {
		t.Fatalf("retried create = %s, want %s", aws.ToString(again.OperationId), aws.ToString(created.OperationId))
	}
	_, err = cm.CreatePrivateDnsNamespace(ctx, &sd.CreatePrivateDnsNamespaceInput{Name: aws.String("local"), Vpc: aws.String(vpc), CreatorRequestId: aws.String("other")})
	// The exception names the namespace and its creator's request id.
	if e := wantErr[*types.NamespaceAlreadyExists](t, err); aws.ToString(e.NamespaceId) != local || aws.ToString(e.CreatorRequestId) != "create-local" {
		t.Fatalf("NamespaceAlreadyExists = %+v", e)
	}

	ns := try(cm.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(local)})).must(t).Namespace
	// ns- and 16 characters; a Route 53 hosted zone id (Z and upper-case letters and digits).
	if !regexp.MustCompile(`^ns-[a-z0-9]{16}$`).MatchString(local) || aws.ToString(ns.Arn) != "arn:aws:servicediscovery:"+c.region+":000000000000:namespace/"+local ||
		ns.Type != types.NamespaceTypeDnsPrivate || aws.ToString(ns.Name) != "local" || ns.Properties == nil || ns.Properties.DnsProperties == nil ||
		!regexp.MustCompile(`^Z[0-9A-Z]{13,21}$`).MatchString(aws.ToString(ns.Properties.DnsProperties.HostedZoneId)) ||
		aws.ToString(ns.Properties.HttpProperties.HttpName) != "local" || aws.ToInt32(ns.ServiceCount) != 0 || aws.ToString(ns.CreatorRequestId) != "create-local" {
		t.Fatalf("GetNamespace = %+v", ns)
	}
	_, err = cm.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String("ns-0000000000000000")})
	wantErr[*types.NamespaceNotFound](t, err)
	// The model's constraints: a ResourceId is at most 64 characters.
	_, err = cm.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(strings.Repeat("n", 300))})
	if e := wantErr[*types.InvalidInput](t, err); !strings.Contains(e.ErrorMessage(), "validation error detected") {
		t.Fatalf("a long id: %v", e)
	}
	apps := namespaceOf(t, ctx, cm, try(cm.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("apps")})).must(t).OperationId)
	namespaceOf(t, ctx, cm, try(cm.CreatePublicDnsNamespace(ctx, &sd.CreatePublicDnsNamespaceInput{Name: aws.String("example.com")})).must(t).OperationId)
	httpOnly := try(cm.ListNamespaces(ctx, &sd.ListNamespacesInput{Filters: []types.NamespaceFilter{{Name: types.NamespaceFilterNameType, Values: []string{"HTTP"}}}})).must(t).Namespaces
	if len(httpOnly) != 1 || aws.ToString(httpOnly[0].Id) != apps || httpOnly[0].Properties.DnsProperties != nil {
		t.Fatalf("ListNamespaces(TYPE=HTTP) = %+v", httpOnly)
	}
	seen := 0
	for p := sd.NewListNamespacesPaginator(cm, &sd.ListNamespacesInput{MaxResults: aws.Int32(1)}); p.HasMorePages(); {
		page := try(p.NextPage(ctx)).must(t)
		if len(page.Namespaces) > 1 {
			t.Fatalf("a page of %d namespaces", len(page.Namespaces))
		}
		seen += len(page.Namespaces)
	}
	if seen != 3 {
		t.Fatalf("paged %d namespaces, want 3", seen)
	}
	updated := try(cm.UpdatePrivateDnsNamespace(ctx, &sd.UpdatePrivateDnsNamespaceInput{Id: aws.String(local), UpdaterRequestId: aws.String("u1"),
		Namespace: &types.PrivateDnsNamespaceChange{Description: aws.String("internal"), Properties: &types.PrivateDnsNamespacePropertiesChange{
			DnsProperties: &types.PrivateDnsPropertiesMutableChange{SOA: &types.SOAChange{TTL: aws.Int64(30)}}}}})).must(t)
	if op := try(cm.GetOperation(ctx, &sd.GetOperationInput{OperationId: updated.OperationId})).must(t).Operation; op.Type != types.OperationTypeUpdateNamespace {
		t.Fatalf("UpdatePrivateDnsNamespace's operation = %+v", op)
	}
	ns = try(cm.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(local)})).must(t).Namespace
	if aws.ToString(ns.Description) != "internal" || aws.ToInt64(ns.Properties.DnsProperties.SOA.TTL) != 30 {
		t.Fatalf("after UpdatePrivateDnsNamespace: %+v", ns)
	}

	// Services: the rules of DnsConfig and the health checks
	// (https://docs.aws.amazon.com/cloud-map/latest/api/API_DnsRecord.html,
	// https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateService.html).
	a60 := []types.DnsRecord{{Type: types.RecordTypeA, TTL: aws.Int64(60)}}
	for _, bad := range []*sd.CreateServiceInput{
		{Name: aws.String("x"), NamespaceId: aws.String(apps), DnsConfig: &types.DnsConfig{DnsRecords: a60}},                                                                                                                                                              // DNS records in an HTTP namespace
		{Name: aws.String("x"), NamespaceId: aws.String(local), DnsConfig: &types.DnsConfig{DnsRecords: []types.DnsRecord{{Type: types.RecordTypeCname, TTL: aws.Int64(60)}}}},                                                                                            // CNAME needs WEIGHTED
		{Name: aws.String("x"), NamespaceId: aws.String(local), DnsConfig: &types.DnsConfig{DnsRecords: []types.DnsRecord{{Type: types.RecordTypeCname, TTL: aws.Int64(60)}, {Type: types.RecordTypeA, TTL: aws.Int64(60)}}, RoutingPolicy: types.RoutingPolicyWeighted}}, // CNAME alone
		{Name: aws.String("x"), NamespaceId: aws.String(local), DnsConfig: &types.DnsConfig{DnsRecords: a60}, HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp}},                                                                               // Route 53 health checks: public DNS and HTTP namespaces only
	} {
		_, err = cm.CreateService(ctx, bad)
		wantErr[*types.InvalidInput](t, err)
	}
	_, err = cm.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("x"), NamespaceId: aws.String("ns-0000000000000000")})
	wantErr[*types.NamespaceNotFound](t, err)
	web := try(cm.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("web"), NamespaceId: aws.String(local),
		DnsConfig: &types.DnsConfig{DnsRecords: a60, RoutingPolicy: types.RoutingPolicyMultivalue}})).must(t).Service
	if !regexp.MustCompile(`^srv-[a-z0-9]{16}$`).MatchString(aws.ToString(web.Id)) || web.Type != types.ServiceTypeDnsHttp ||
		aws.ToString(web.Arn) != "arn:aws:servicediscovery:"+c.region+":000000000000:service/"+aws.ToString(web.Id) || aws.ToString(web.NamespaceId) != local {
		t.Fatalf("CreateService = %+v", web)
	}
	_, err = cm.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("WEB"), NamespaceId: aws.String(local), DnsConfig: &types.DnsConfig{DnsRecords: a60}})
	// DNS names differ not by case; the exception names the service.
	if e := wantErr[*types.ServiceAlreadyExists](t, err); aws.ToString(e.ServiceId) != aws.ToString(web.Id) || aws.ToString(e.ServiceArn) != aws.ToString(web.Arn) {
		t.Fatalf("ServiceAlreadyExists = %+v", e)
	}
	api := try(cm.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("api"), NamespaceId: aws.String(local),
		DnsConfig:               &types.DnsConfig{DnsRecords: []types.DnsRecord{{Type: types.RecordTypeSrv, TTL: aws.Int64(10)}}},
		HealthCheckCustomConfig: &types.HealthCheckCustomConfig{}})).must(t).Service
	if got := try(cm.ListServices(ctx, &sd.ListServicesInput{Filters: []types.ServiceFilter{{Name: types.ServiceFilterNameNamespaceId, Values: []string{local}}}})).must(t).Services; len(got) != 2 {
		t.Fatalf("ListServices(NAMESPACE_ID) = %+v", got)
	}
	_, err = cm.GetService(ctx, &sd.GetServiceInput{Id: aws.String("srv-0000000000000000")})
	wantErr[*types.ServiceNotFound](t, err)

	// Instances: the attributes each record type needs
	// (https://docs.aws.amazon.com/cloud-map/latest/api/API_RegisterInstance.html).
	_, err = cm.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: web.Id, InstanceId: aws.String("w1"), Attributes: map[string]string{"AWS_INSTANCE_IPV6": "2001:db8::1"}})
	wantErr[*types.InvalidInput](t, err) // an A record needs AWS_INSTANCE_IPV4
	_, err = cm.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: api.Id, InstanceId: aws.String("a1"), Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1"}})
	wantErr[*types.InvalidInput](t, err) // an SRV record needs AWS_INSTANCE_PORT
	reg := try(cm.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: web.Id, InstanceId: aws.String("w1"), Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1"}})).must(t)
	if op := try(cm.GetOperation(ctx, &sd.GetOperationInput{OperationId: reg.OperationId})).must(t).Operation; op.Type != types.OperationTypeRegisterInstance ||
		op.Status != types.OperationStatusSuccess || op.Targets["INSTANCE"] != "w1" || op.Targets["SERVICE"] != aws.ToString(web.Id) {
		t.Fatalf("RegisterInstance's operation = %+v", op)
	}
	try(cm.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: api.Id, InstanceId: aws.String("a1"),
		Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1", "AWS_INSTANCE_PORT": "8080", "AWS_INIT_HEALTH_STATUS": "UNHEALTHY", "version": "v1"}})).must(t)
	try(cm.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: api.Id, InstanceId: aws.String("a2"),
		Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.2", "AWS_INSTANCE_PORT": "8080", "version": "v2"}})).must(t)
	if got := try(cm.GetInstance(ctx, &sd.GetInstanceInput{ServiceId: api.Id, InstanceId: aws.String("a2")})).must(t).Instance; got.Attributes["version"] != "v2" {
		t.Fatalf("GetInstance = %+v", got)
	}
	_, err = cm.GetInstance(ctx, &sd.GetInstanceInput{ServiceId: api.Id, InstanceId: aws.String("nope")})
	wantErr[*types.InstanceNotFound](t, err)
	if got := try(cm.GetService(ctx, &sd.GetServiceInput{Id: api.Id})).must(t).Service; aws.ToInt32(got.InstanceCount) != 2 {
		t.Fatalf("GetService's InstanceCount = %d, want 2", aws.ToInt32(got.InstanceCount))
	}

	// Discovery by the namespace's HttpName and the service's name.
	discover := func(in *sd.DiscoverInstancesInput) ([]string, int64) {
		t.Helper()
		in.NamespaceName, in.ServiceName = aws.String("local"), aws.String("api")
		out := try(cm.DiscoverInstances(ctx, in)).must(t)
		var ids []string
		for _, i := range out.Instances {
			if aws.ToString(i.NamespaceName) != "local" || aws.ToString(i.ServiceName) != "api" {
				t.Fatalf("DiscoverInstances summary = %+v", i)
			}
			ids = append(ids, aws.ToString(i.InstanceId))
		}
		slices.Sort(ids) // AWS answers them in random order
		return ids, aws.ToInt64(out.InstancesRevision)
	}
	if ids, _ := discover(&sd.DiscoverInstancesInput{HealthStatus: types.HealthStatusFilterHealthy}); strings.Join(ids, ",") != "a2" {
		t.Fatalf("DiscoverInstances(HEALTHY) = %v", ids)
	}
	if ids, _ := discover(&sd.DiscoverInstancesInput{HealthStatus: types.HealthStatusFilterAll, QueryParameters: map[string]string{"version": "v1"}}); strings.Join(ids, ",") != "a1" {
		t.Fatalf("DiscoverInstances(version=v1) = %v", ids)
	}
	_, rev := discover(&sd.DiscoverInstancesInput{HealthStatus: types.HealthStatusFilterAll})
	try(cm.UpdateInstanceCustomHealthStatus(ctx, &sd.UpdateInstanceCustomHealthStatusInput{ServiceId: api.Id, InstanceId: aws.String("a1"), Status: types.CustomHealthStatusHealthy})).must(t)
	ids, rev2 := discover(&sd.DiscoverInstancesInput{HealthStatus: types.HealthStatusFilterHealthy})
	if strings.Join(ids, ",") != "a1,a2" || rev2 <= rev {
		t.Fatalf("after a health change: %v, revision %d after %d", ids, rev2, rev)
	}
	if r := try(cm.DiscoverInstancesRevision(ctx, &sd.DiscoverInstancesRevisionInput{NamespaceName: aws.String("local"), ServiceName: aws.String("api")})).must(t); aws.ToInt64(r.InstancesRevision) != rev2 {
		t.Fatalf("DiscoverInstancesRevision = %d, want %d", aws.ToInt64(r.InstancesRevision), rev2)
	}
	_, err = cm.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("nowhere"), ServiceName: aws.String("api")})
	wantErr[*types.NamespaceNotFound](t, err)
	_, err = cm.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("local"), ServiceName: aws.String("nothing")})
	wantErr[*types.ServiceNotFound](t, err)
	_, err = cm.UpdateInstanceCustomHealthStatus(ctx, &sd.UpdateInstanceCustomHealthStatusInput{ServiceId: web.Id, InstanceId: aws.String("w1"), Status: types.CustomHealthStatusHealthy})
	wantErr[*types.CustomHealthNotFound](t, err)
	if st := try(cm.GetInstancesHealthStatus(ctx, &sd.GetInstancesHealthStatusInput{ServiceId: api.Id})).must(t).Status; st["a1"] != types.HealthStatusHealthy || len(st) != 2 {
		t.Fatalf("GetInstancesHealthStatus = %v", st)
	}
	listed := try(cm.ListInstances(ctx, &sd.ListInstancesInput{ServiceId: api.Id, MaxResults: aws.Int32(1)})).must(t)
	if len(listed.Instances) != 1 || listed.NextToken == nil {
		t.Fatalf("ListInstances(MaxResults 1) = %+v", listed)
	}

	// UpdateService changes TTLs, not record types.
	upd := try(cm.UpdateService(ctx, &sd.UpdateServiceInput{Id: web.Id, Service: &types.ServiceChange{DnsConfig: &types.DnsConfigChange{DnsRecords: []types.DnsRecord{{Type: types.RecordTypeA, TTL: aws.Int64(5)}}}}})).must(t)
	if op := try(cm.GetOperation(ctx, &sd.GetOperationInput{OperationId: upd.OperationId})).must(t).Operation; op.Type != types.OperationTypeUpdateService {
		t.Fatalf("UpdateService's operation = %+v", op)
	}
	if got := try(cm.GetService(ctx, &sd.GetServiceInput{Id: web.Id})).must(t).Service; aws.ToInt64(got.DnsConfig.DnsRecords[0].TTL) != 5 {
		t.Fatalf("after UpdateService: %+v", got.DnsConfig)
	}
	_, err = cm.UpdateService(ctx, &sd.UpdateServiceInput{Id: web.Id, Service: &types.ServiceChange{DnsConfig: &types.DnsConfigChange{DnsRecords: []types.DnsRecord{{Type: types.RecordTypeAaaa, TTL: aws.Int64(5)}}}}})
	wantErr[*types.InvalidInput](t, err)

	// Tags of namespaces and services.
	try(cm.TagResource(ctx, &sd.TagResourceInput{ResourceARN: web.Arn, Tags: []types.Tag{{Key: aws.String("tier"), Value: aws.String("front")}}})).must(t)
	if tags := try(cm.ListTagsForResource(ctx, &sd.ListTagsForResourceInput{ResourceARN: web.Arn})).must(t).Tags; len(tags) != 1 || aws.ToString(tags[0].Value) != "front" {
		t.Fatalf("ListTagsForResource(service) = %+v", tags)
	}
	try(cm.UntagResource(ctx, &sd.UntagResourceInput{ResourceARN: ns.Arn, TagKeys: []string{"team"}})).must(t)
	if tags := try(cm.ListTagsForResource(ctx, &sd.ListTagsForResourceInput{ResourceARN: ns.Arn})).must(t).Tags; len(tags) != 0 {
		t.Fatalf("ListTagsForResource after UntagResource = %+v", tags)
	}
	_, err = cm.ListTagsForResource(ctx, &sd.ListTagsForResourceInput{ResourceARN: aws.String("arn:aws:servicediscovery:" + c.region + ":000000000000:service/srv-0000000000000000")})
	wantErr[*types.ResourceNotFoundException](t, err)

	// Deletion in order: ResourceInUse while a namespace has services or a service instances.
	_, err = cm.DeleteService(ctx, &sd.DeleteServiceInput{Id: api.Id})
	wantErr[*types.ResourceInUse](t, err)
	_, err = cm.DeleteNamespace(ctx, &sd.DeleteNamespaceInput{Id: aws.String(local)})
	wantErr[*types.ResourceInUse](t, err)
	for _, i := range []struct {
		svc *string
		id  string
	}{{web.Id, "w1"}, {api.Id, "a1"}, {api.Id, "a2"}} {
		try(cm.DeregisterInstance(ctx, &sd.DeregisterInstanceInput{ServiceId: i.svc, InstanceId: aws.String(i.id)})).must(t)
	}
	_, err = cm.DeregisterInstance(ctx, &sd.DeregisterInstanceInput{ServiceId: api.Id, InstanceId: aws.String("a1")})
	wantErr[*types.InstanceNotFound](t, err)
	regs := try(cm.ListOperations(ctx, &sd.ListOperationsInput{Filters: []types.OperationFilter{
		{Name: types.OperationFilterNameServiceId, Values: []string{aws.ToString(api.Id)}},
		{Name: types.OperationFilterNameType, Condition: types.FilterConditionIn, Values: []string{"REGISTER_INSTANCE", "DEREGISTER_INSTANCE"}}}})).must(t).Operations
	if len(regs) != 4 { // a1 and a2 registered and deregistered
		t.Fatalf("ListOperations(SERVICE_ID, TYPE) = %+v", regs)
	}
	try(cm.DeleteService(ctx, &sd.DeleteServiceInput{Id: api.Id})).must(t)
	try(cm.DeleteService(ctx, &sd.DeleteServiceInput{Id: web.Id})).must(t)
	del := try(cm.DeleteNamespace(ctx, &sd.DeleteNamespaceInput{Id: aws.String(local)})).must(t)
	if op := try(cm.GetOperation(ctx, &sd.GetOperationInput{OperationId: del.OperationId})).must(t).Operation; op.Type != types.OperationTypeDeleteNamespace {
		t.Fatalf("DeleteNamespace's operation = %+v", op)
	}
	_, err = cm.GetOperation(ctx, &sd.GetOperationInput{OperationId: aws.String("nope")})
	wantErr[*types.OperationNotFound](t, err)
}

// TestCloudMapCLI runs a private DNS namespace, a service, an instance
// and its discovery through the real aws CLI, with the host prefix of
// discover-instances turned off by AWS_DISABLE_HOST_PREFIX_INJECTION
// (boto/botocore#3405).
func TestCloudMapCLI(t *testing.T) {
	ctx, c := setup(t)
	vpc := defaultVpc(t, ctx, c)
	run := func(out any, args ...string) {
		t.Helper()
		if _, err := exec.LookPath("aws"); err != nil {
			t.Fatal("the aws CLI is not installed: run `make deps`")
		}
		cmd := exec.Command("aws", append([]string{"--endpoint-url", shared.url, "--region", c.region, "--output", "json", "servicediscovery"}, args...)...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDCLI", "AWS_SECRET_ACCESS_KEY=secret", "AWS_PAGER=", "AWS_CONFIG_FILE=/dev/null",
			"AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_DISABLE_HOST_PREFIX_INJECTION=true")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		stdout, err := cmd.Output()
		if err != nil {
			t.Fatalf("aws servicediscovery %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		if err := json.Unmarshal(stdout, out); err != nil {
			t.Fatalf("aws servicediscovery %s: decoding %q: %v", strings.Join(args, " "), stdout, err)
		}
	}
	var created struct{ OperationId string }
	run(&created, "create-private-dns-namespace", "--name", "svc.local", "--vpc", vpc)
	var op struct {
		Operation struct {
			Status, Type string
			Targets      map[string]string
		}
	}
	run(&op, "get-operation", "--operation-id", created.OperationId)
	if op.Operation.Status != "SUCCESS" || op.Operation.Type != "CREATE_NAMESPACE" || op.Operation.Targets["NAMESPACE"] == "" {
		t.Fatalf("get-operation = %+v", op)
	}
	var svc struct{ Service struct{ Id, Type string } }
	run(&svc, "create-service", "--name", "db", "--namespace-id", op.Operation.Targets["NAMESPACE"],
		"--dns-config", "RoutingPolicy=MULTIVALUE,DnsRecords=[{Type=A,TTL=60}]")
	if svc.Service.Type != "DNS_HTTP" {
		t.Fatalf("create-service = %+v", svc)
	}
	var reg struct{ OperationId string }
	run(&reg, "register-instance", "--service-id", svc.Service.Id, "--instance-id", "db-1", "--attributes", "AWS_INSTANCE_IPV4=10.1.2.3,role=primary")
	var found struct {
		Instances []struct {
			InstanceId, HealthStatus string
			Attributes               map[string]string
		}
		InstancesRevision int64
	}
	run(&found, "discover-instances", "--namespace-name", "svc.local", "--service-name", "db", "--query-parameters", "role=primary")
	if len(found.Instances) != 1 || found.Instances[0].InstanceId != "db-1" || found.Instances[0].Attributes["AWS_INSTANCE_IPV4"] != "10.1.2.3" || found.InstancesRevision == 0 {
		t.Fatalf("discover-instances = %+v", found)
	}
}
