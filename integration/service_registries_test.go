package integration

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	sdtypes "github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
)

// TestServiceRegistries: the tasks of an ECS service with a service
// registry register in its Cloud Map service while they run, under their
// task ids with their ENI's address, and deregister as they stop: a
// client discovering the service finds the tasks that run.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-discovery.html
func TestServiceRegistries(t *testing.T) {
	ctx, c := setup(t)
	region := c.region
	cm := cloudMap(region)
	op := try(cm.CreatePrivateDnsNamespace(ctx, &sd.CreatePrivateDnsNamespaceInput{Name: aws.String("internal.local"), Vpc: aws.String(defaultVpc(t, ctx, c))})).must(t)
	ns := namespaceOf(t, ctx, cm, op.OperationId)
	svc := try(cm.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("backend"), NamespaceId: aws.String(ns),
		DnsConfig: &sdtypes.DnsConfig{DnsRecords: []sdtypes.DnsRecord{{Type: sdtypes.RecordTypeA, TTL: aws.Int64(10)}}}})).must(t).Service
	try(c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("c")})).must(t)
	try(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("backend"), NetworkMode: types.NetworkModeAwsvpc,
		RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate}, Cpu: aws.String("256"), Memory: aws.String("512"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(testImage), Essential: aws.Bool(true),
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}}}}})).must(t)
	try(c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("backend"), TaskDefinition: aws.String("backend"),
		DesiredCount: aws.Int32(2), LaunchType: types.LaunchTypeFargate,
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: subnets(t, ctx, c)[:1]}},
		ServiceRegistries:    []types.ServiceRegistry{{RegistryArn: svc.Arn}}})).must(t)

	// The task ids and ENI addresses of the service's RUNNING tasks.
	running := func() map[string]string {
		out := map[string]string{}
		arns := serviceTasks(t, ctx, c, "c", "backend")
		if len(arns) == 0 {
			return out
		}
		for _, task := range try(c.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("c"), Tasks: arns})).must(t).Tasks {
			if aws.ToString(task.LastStatus) == "RUNNING" && len(task.Containers) > 0 && len(task.Containers[0].NetworkInterfaces) > 0 {
				out[(*task.TaskArn)[strings.LastIndex(*task.TaskArn, "/")+1:]] = aws.ToString(task.Containers[0].NetworkInterfaces[0].PrivateIpv4Address)
			}
		}
		return out
	}
	discovered := func() map[string]string {
		out := map[string]string{}
		for _, i := range try(cm.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("internal.local"), ServiceName: aws.String("backend")})).must(t).Instances {
			out[aws.ToString(i.InstanceId)] = i.Attributes["AWS_INSTANCE_IPV4"]
			if i.Attributes["ECS_SERVICE_NAME"] != "backend" || i.Attributes["ECS_CLUSTER_NAME"] != "c" {
				t.Errorf("instance %s attributes %v", aws.ToString(i.InstanceId), i.Attributes)
			}
		}
		return out
	}
	same := func(want int) bool {
		r, d := running(), discovered()
		if len(r) != want || len(d) != want {
			return false
		}
		for id, ip := range r {
			if d[id] != ip {
				return false
			}
		}
		return true
	}
	eventually(t, "both tasks discoverable at their addresses", func() bool { return same(2) })
	try(c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("backend"), DesiredCount: aws.Int32(1)})).must(t)
	eventually(t, "the stopped task gone from Cloud Map", func() bool { return same(1) })
	try(c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("backend"), DesiredCount: aws.Int32(0)})).must(t)
	eventually(t, "no task left in Cloud Map", func() bool {
		return len(discovered()) == 0 && slices.Equal(serviceTasks(t, ctx, c, "c", "backend"), nil)
	})
}
