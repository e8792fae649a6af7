package ecs

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery"

	"berth/awsproto"
	"berth/backend"
	cloudmap "berth/backend/servicediscovery"
)

// scBackend is testBackend with Cloud Map on the same store and an HTTP
// namespace "shop", and task definition "sc" with port mapping "api".
func scBackend(t *testing.T) (*Backend, *cloudmap.Backend, context.Context, *time.Time) {
	t.Helper()
	b, ctx, now := testBackend(t)
	sd := cloudmap.New(b.store, backend.Env{Clock: b.env.Clock, IDs: &backend.SequentialIDs{}}, nil)
	b.Discovery, b.ServiceConnect = sd, sd
	if _, err := sd.CreateHttpNamespace(ctx, &servicediscovery.CreateHttpNamespaceInput{Name: aws.String("shop")}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.RegisterTaskDefinition(ctx, &ecsapi.RegisterTaskDefinitionInput{
		Family: aws.String("sc"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("berth/testapp"), Memory: aws.Int32(128),
			PortMappings: []types.PortMapping{{Name: aws.String("api"), ContainerPort: aws.Int32(8080), AppProtocol: types.ApplicationProtocolHttp}}}},
	}); err != nil {
		t.Fatal(err)
	}
	return b, sd, ctx, now
}

// scConfig publishes port "api" under discovery name name in "shop".
func scConfig(name string) *types.ServiceConnectConfiguration {
	return &types.ServiceConnectConfiguration{Enabled: true, Namespace: aws.String("shop"),
		Services: []types.ServiceConnectService{{PortName: aws.String("api"), DiscoveryName: aws.String(name)}}}
}

// TestServiceConnectOnTheDefaultCluster checks that CreateService with a
// Service Connect configuration and no cluster uses the default cluster,
// created on first use as for any CreateService that names none
// (API_CreateService: "If you do not specify a cluster, the default
// cluster is assumed"), and does not fail.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html
func TestServiceConnectOnTheDefaultCluster(t *testing.T) {
	t.Parallel()
	b, _, ctx, _ := scBackend(t)
	out, err := b.CreateService(ctx, &ecsapi.CreateServiceInput{ServiceName: aws.String("api"), TaskDefinition: aws.String("sc"),
		DesiredCount: aws.Int32(0), ServiceConnectConfiguration: scConfig("api")})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.Service.ClusterArn); got != "arn:aws:ecs:us-east-1:123456789012:cluster/default" {
		t.Errorf("cluster = %s", got)
	}
	// By ARN, with no cluster: the service's own discovery name is its own.
	if _, err := b.UpdateService(ctx, &ecsapi.UpdateServiceInput{Service: out.Service.ServiceArn, TaskDefinition: aws.String("sc"),
		ServiceConnectConfiguration: scConfig("api")}); err != nil {
		t.Fatal(err)
	}
}

// cloudMapServices are the names of the Cloud Map services in the scope.
func cloudMapServices(t *testing.T, sd *cloudmap.Backend, ctx context.Context) []string {
	t.Helper()
	out, err := sd.ListServices(ctx, &servicediscovery.ListServicesInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range out.Services {
		names = append(names, aws.ToString(s.Name))
	}
	slices.Sort(names)
	return names
}

// TestServiceConnectLeavesNoCloudMapServiceBehind checks that the Cloud
// Map services ECS creates for discovery names go once nothing uses them:
// those of a CreateService or UpdateService that failed, of a deployment
// replaced by one with other discovery names or Service Connect off, and
// of a deleted service, so that the namespace can then be deleted (Cloud
// Map refuses a namespace that has services: "ResourceInUse").
// https://docs.aws.amazon.com/cloud-map/latest/api/API_DeleteNamespace.html
func TestServiceConnectLeavesNoCloudMapServiceBehind(t *testing.T) {
	t.Parallel()
	b, sd, ctx, _ := scBackend(t)
	create := func(name, discovery string, lt types.LaunchType) error {
		_, err := b.CreateService(ctx, &ecsapi.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String(name), TaskDefinition: aws.String("sc"),
			DesiredCount: aws.Int32(0), LaunchType: lt, ServiceConnectConfiguration: scConfig(discovery)})
		return err
	}
	if err := create("api", "api", ""); err != nil {
		t.Fatal(err)
	}
	// Refused after the discovery name's Cloud Map service was made: a
	// bridge task definition on FARGATE, a service that exists.
	if err := create("other", "leak1", types.LaunchTypeFargate); err == nil {
		t.Fatal("FARGATE with a bridge task definition was taken")
	}
	if err := create("api", "leak2", ""); err == nil {
		t.Fatal("a second service api was taken")
	}
	if got := cloudMapServices(t, sd, ctx); !slices.Equal(got, []string{"api"}) {
		t.Fatalf("after refused CreateService: Cloud Map services %q, want [api]", got)
	}
	update := func(sc *types.ServiceConnectConfiguration) {
		t.Helper()
		if _, err := b.UpdateService(ctx, &ecsapi.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("api"), ServiceConnectConfiguration: sc}); err != nil {
			t.Fatal(err)
		}
	}
	update(scConfig("api2"))
	if got := cloudMapServices(t, sd, ctx); !slices.Equal(got, []string{"api2"}) {
		t.Fatalf("after a new discovery name: Cloud Map services %q, want [api2]", got)
	}
	update(&types.ServiceConnectConfiguration{Enabled: false})
	if got := cloudMapServices(t, sd, ctx); len(got) != 0 {
		t.Fatalf("with Service Connect off: Cloud Map services %q, want none", got)
	}
	update(scConfig("api3"))
	if _, err := b.DeleteService(ctx, &ecsapi.DeleteServiceInput{Cluster: aws.String("c"), Service: aws.String("api")}); err != nil {
		t.Fatal(err)
	}
	if got := cloudMapServices(t, sd, ctx); len(got) != 0 {
		t.Fatalf("after DeleteService: Cloud Map services %q, want none", got)
	}
}

// TestServiceConnectDiscoveryNameRace checks that of services created at
// once in different clusters with the same discovery name in one
// namespace, one gets it: the name must be unique within the namespace
// (API_ServiceConnectService's discoveryName).
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceConnectService.html
func TestServiceConnectDiscoveryNameRace(t *testing.T) {
	t.Parallel()
	b, _, ctx, _ := scBackend(t)
	const n = 8
	for i := range n {
		if _, err := b.CreateCluster(ctx, &ecsapi.CreateClusterInput{ClusterName: aws.String("c" + strconv.Itoa(i))}); err != nil {
			t.Fatal(err)
		}
	}
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := b.CreateService(ctx, &ecsapi.CreateServiceInput{Cluster: aws.String("c" + strconv.Itoa(i)), ServiceName: aws.String("api"),
				TaskDefinition: aws.String("sc"), DesiredCount: aws.Int32(0), ServiceConnectConfiguration: scConfig("api")})
			errs <- err
		}()
	}
	ok := 0
	for range n {
		if err := <-errs; err == nil {
			ok++
		} else if !awsproto.HasCode(err, &types.InvalidParameterException{}) {
			t.Errorf("err = %v, want InvalidParameterException", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d services got discovery name api, want 1", ok)
	}
}

// TestServiceConnectAliasUniqueInNamespace checks that a client alias's
// name and port are one service's in a namespace: "Each name and port
// mapping must be unique within the namespace"; its own service may keep
// it through UpdateService.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceConnectClientAlias.html
func TestServiceConnectAliasUniqueInNamespace(t *testing.T) {
	t.Parallel()
	b, _, ctx, _ := scBackend(t)
	withAlias := func(discovery, dns string, port int32) *types.ServiceConnectConfiguration {
		sc := scConfig(discovery)
		sc.Services[0].ClientAliases = []types.ServiceConnectClientAlias{{DnsName: aws.String(dns), Port: aws.Int32(port)}}
		return sc
	}
	create := func(name string, sc *types.ServiceConnectConfiguration) error {
		_, err := b.CreateService(ctx, &ecsapi.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String(name), TaskDefinition: aws.String("sc"),
			DesiredCount: aws.Int32(0), ServiceConnectConfiguration: sc})
		return err
	}
	if err := create("one", withAlias("one", "db", 5432)); err != nil {
		t.Fatal(err)
	}
	if err := create("two", withAlias("two", "DB", 5432)); !awsproto.HasCode(err, &types.InvalidParameterException{}) {
		t.Errorf("second db:5432: err = %v, want InvalidParameterException", err)
	}
	if err := create("three", withAlias("three", "db", 5433)); err != nil {
		t.Errorf("db:5433: %v", err)
	}
	if _, err := b.UpdateService(ctx, &ecsapi.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("one"), ServiceConnectConfiguration: withAlias("one", "db", 5432)}); err != nil {
		t.Errorf("its own alias: %v", err)
	}
}

// TestClusterServiceConnectDefaults checks a cluster's
// serviceConnectDefaults: a name of up to 1024 characters without >, <,
// " or / (longer ones InvalidParameterException, with no namespace made
// in Cloud Map), and an empty name removing them.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ClusterServiceConnectDefaultsRequest.html
func TestClusterServiceConnectDefaults(t *testing.T) {
	t.Parallel()
	b, sd, ctx, _ := scBackend(t)
	for _, name := range []string{strings.Repeat("a", 1025), "a/b", "a<b"} {
		_, err := b.UpdateCluster(ctx, &ecsapi.UpdateClusterInput{Cluster: aws.String("c"), ServiceConnectDefaults: &types.ClusterServiceConnectDefaultsRequest{Namespace: aws.String(name)}})
		if !awsproto.HasCode(err, &types.InvalidParameterException{}) {
			t.Errorf("namespace %.20q: err = %v, want InvalidParameterException", name, err)
		}
	}
	if out, err := sd.ListNamespaces(ctx, &servicediscovery.ListNamespacesInput{}); err != nil || len(out.Namespaces) != 1 {
		t.Fatalf("namespaces after refused defaults: %+v, %v", out, err)
	}
	set := func(name string) *types.Cluster {
		t.Helper()
		out, err := b.UpdateCluster(ctx, &ecsapi.UpdateClusterInput{Cluster: aws.String("c"), ServiceConnectDefaults: &types.ClusterServiceConnectDefaultsRequest{Namespace: aws.String(name)}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Cluster
	}
	if c := set("shop"); c.ServiceConnectDefaults == nil || aws.ToString(c.ServiceConnectDefaults.Namespace) != "shop" {
		t.Errorf("defaults = %+v, want shop", c.ServiceConnectDefaults)
	}
	if c := set(""); c.ServiceConnectDefaults != nil {
		t.Errorf("defaults after \"\" = %+v, want none", c.ServiceConnectDefaults)
	}
}

// TestServiceConnectKeepsItsPortName checks that UpdateService to a task
// definition without the named port mapping a Service Connect service
// publishes is refused: "The portName must match the name of one of the
// portMappings from all the containers in the task definition of this
// Amazon ECS service".
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceConnectService.html
func TestServiceConnectKeepsItsPortName(t *testing.T) {
	t.Parallel()
	b, _, ctx, _ := scBackend(t)
	if _, err := b.CreateService(ctx, &ecsapi.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("api"), TaskDefinition: aws.String("sc"),
		DesiredCount: aws.Int32(0), ServiceConnectConfiguration: scConfig("api")}); err != nil {
		t.Fatal(err)
	}
	_, err := b.UpdateService(ctx, &ecsapi.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("api"), TaskDefinition: aws.String("web")})
	if !awsproto.HasCode(err, &types.InvalidParameterException{}) {
		t.Errorf("a task definition without port api: err = %v, want InvalidParameterException", err)
	}
	if _, err := b.UpdateService(ctx, &ecsapi.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("api"), TaskDefinition: aws.String("web"),
		ServiceConnectConfiguration: &types.ServiceConnectConfiguration{Enabled: false}}); err != nil {
		t.Errorf("with Service Connect turned off: %v", err)
	}
}
