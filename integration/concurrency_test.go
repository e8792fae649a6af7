package integration

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// TestConcurrentMutations runs 8 clients doing 500 mixed mutations each
// against one cluster and one task definition family, then checks that the
// state is exactly what the operations imply and that no request failed.
func TestConcurrentMutations(t *testing.T) {
	ctx, c := setup(t)
	const clients, perClient = 8, 500
	try(c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("load")})).must(t)
	vpc := defaultVpcID(t, ctx, c)
	clusterArn := aws.String("arn:aws:ecs:" + c.region + ":000000000000:cluster/load")

	var mu sync.Mutex
	var revisions []int32
	var wg sync.WaitGroup
	errs := make(chan error, clients*perClient)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range perClient / 5 {
				name := fmt.Sprintf("c%d-%d", i, k)
				td, err := c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("shared"), ContainerDefinitions: []types.ContainerDefinition{webContainer("app")}})
				if err != nil {
					errs <- err
					continue
				}
				mu.Lock()
				revisions = append(revisions, td.TaskDefinition.Revision)
				mu.Unlock()
				if _, err := c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String(vpc)}); err != nil {
					errs <- err
				}
				if _, err := c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("load"), ServiceName: aws.String(name), TaskDefinition: td.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(0)}); err != nil {
					errs <- err
				}
				// A change that rolls no deployment and starts no container.
				if _, err := c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("load"), Service: aws.String(name), HealthCheckGracePeriodSeconds: aws.Int32(int32(k))}); err != nil {
					errs <- err
				}
				if _, err := c.ecs.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: clusterArn, Tags: []types.Tag{{Key: aws.String(fmt.Sprintf("c%d", i)), Value: aws.String(fmt.Sprint(k))}}}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("request failed: %v", err)
	}

	total := clients * perClient / 5
	slices.Sort(revisions)
	for i, r := range revisions {
		if r != int32(i+1) {
			t.Fatalf("revisions are not exactly 1..%d: position %d has %d", total, i, r)
		}
	}
	var arns []string
	for p := ecs.NewListTaskDefinitionsPaginator(c.ecs, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("shared")}); p.HasMorePages(); {
		arns = append(arns, try(p.NextPage(ctx)).must(t).TaskDefinitionArns...)
	}
	if len(arns) != total {
		t.Errorf("ListTaskDefinitions = %d, want %d", len(arns), total)
	}
	var services []string
	for p := ecs.NewListServicesPaginator(c.ecs, &ecs.ListServicesInput{Cluster: aws.String("load"), MaxResults: aws.Int32(100)}); p.HasMorePages(); {
		services = append(services, try(p.NextPage(ctx)).must(t).ServiceArns...)
	}
	if len(services) != total {
		t.Errorf("ListServices = %d, want %d", len(services), total)
	}
	for chunk := range slices.Chunk(services, 10) {
		for _, svc := range try(c.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("load"), Services: chunk})).must(t).Services {
			var i, k int
			fmt.Sscanf(aws.ToString(svc.ServiceName), "c%d-%d", &i, &k)
			if aws.ToInt32(svc.HealthCheckGracePeriodSeconds) != int32(k) || len(svc.Deployments) != 1 {
				t.Errorf("%s: grace period %d, want %d", aws.ToString(svc.ServiceName), aws.ToInt32(svc.HealthCheckGracePeriodSeconds), k)
			}
		}
	}
	tgs := 0
	for p := elbv2.NewDescribeTargetGroupsPaginator(c.elbv2, &elbv2.DescribeTargetGroupsInput{}); p.HasMorePages(); {
		tgs += len(try(p.NextPage(ctx)).must(t).TargetGroups)
	}
	if tgs != total {
		t.Errorf("target groups = %d, want %d", tgs, total)
	}
	tags := try(c.ecs.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: clusterArn})).must(t).Tags
	if len(tags) != clients {
		t.Fatalf("cluster tags = %d, want %d", len(tags), clients)
	}
	for _, tag := range tags {
		if aws.ToString(tag.Value) != fmt.Sprint(perClient/5-1) {
			t.Errorf("tag %s = %s, want the last write %d", aws.ToString(tag.Key), aws.ToString(tag.Value), perClient/5-1)
		}
	}
	d := try(c.ecs.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"load"}})).must(t)
	if d.Clusters[0].ActiveServicesCount != int32(total) {
		t.Errorf("activeServicesCount = %d, want %d", d.Clusters[0].ActiveServicesCount, total)
	}
}
