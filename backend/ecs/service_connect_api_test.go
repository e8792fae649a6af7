package ecs

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery"

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
