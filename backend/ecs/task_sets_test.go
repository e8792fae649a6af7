package ecs

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// TestDeletedServiceTaskSetsWantNone: a deleted external-controller
// service has a desired count of 0, so its task sets' share of it, their
// computedDesiredCount, is 0 too, even when the service is INACTIVE at
// once (no task had started) and no scheduler pass comes by; with nothing
// running it is steady.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TaskSet.html
// (computedDesiredCount: the service's desiredCount times the set's scale
// percentage, rounded up)
func TestDeletedServiceTaskSetsWantNone(t *testing.T) {
	b, ctx, _ := testBackend(t)
	if _, err := b.CreateService(ctx, &ecsapi.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("ext"), DesiredCount: aws.Int32(2),
		DeploymentController: &types.DeploymentController{Type: types.DeploymentControllerTypeExternal}}); err != nil {
		t.Fatal(err)
	}
	ts, err := b.CreateTaskSet(ctx, &ecsapi.CreateTaskSetInput{Cluster: aws.String("c"), Service: aws.String("ext"), TaskDefinition: aws.String("web"), LaunchType: types.LaunchTypeEc2})
	if err != nil {
		t.Fatal(err)
	}
	if ts.TaskSet.ComputedDesiredCount != 2 {
		t.Fatalf("computedDesiredCount = %d, want 2", ts.TaskSet.ComputedDesiredCount)
	}
	if _, err := b.DeleteService(ctx, &ecsapi.DeleteServiceInput{Cluster: aws.String("c"), Service: aws.String("ext"), Force: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	out, err := b.DescribeServices(ctx, &ecsapi.DescribeServicesInput{Cluster: aws.String("c"), Services: []string{"ext"}})
	if err != nil || len(out.Services) != 1 {
		t.Fatalf("DescribeServices = %+v, %v", out, err)
	}
	svc := out.Services[0]
	if aws.ToString(svc.Status) != "INACTIVE" || len(svc.TaskSets) != 1 || svc.TaskSets[0].ComputedDesiredCount != 0 ||
		svc.TaskSets[0].StabilityStatus != types.StabilityStatusSteadyState {
		t.Errorf("status %s, task sets %+v", aws.ToString(svc.Status), svc.TaskSets)
	}
}

// TestTaskSetAndDesiredCountQuotas: an external-controller service holds
// at most 5 task sets, and a service's desired count is at most 5,000 (the
// quota "Tasks per service"), at creation and update alike, in ECS's words
// as users met them.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html
// https://github.com/aws-samples/ecs-bg-external-controller/issues/6
// https://github.com/aws/containers-roadmap/issues/768
func TestTaskSetAndDesiredCountQuotas(t *testing.T) {
	b, ctx, _ := testBackend(t)
	if _, err := b.CreateService(ctx, &ecsapi.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("ext"), DesiredCount: aws.Int32(0),
		DeploymentController: &types.DeploymentController{Type: types.DeploymentControllerTypeExternal}}); err != nil {
		t.Fatal(err)
	}
	in := &ecsapi.CreateTaskSetInput{Cluster: aws.String("c"), Service: aws.String("ext"), TaskDefinition: aws.String("web"), LaunchType: types.LaunchTypeEc2}
	for range 5 {
		if _, err := b.CreateTaskSet(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	_, err := b.CreateTaskSet(ctx, in)
	if err == nil || err.Error() != "InvalidParameterException: 5 deployments exist on the service. Unable to create new TaskSet since this exceeds the maximum limit." {
		t.Errorf("a sixth task set: %v", err)
	}

	const limit = "InvalidParameterException: Desired count exceeds limit."
	_, err = b.CreateService(ctx, &ecsapi.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("big"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(5001)})
	if err == nil || err.Error() != limit {
		t.Errorf("CreateService of 5001 tasks: %v", err)
	}
	if _, err := b.CreateService(ctx, &ecsapi.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("big"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.UpdateService(ctx, &ecsapi.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("big"), DesiredCount: aws.Int32(5000)}); err != nil {
		t.Errorf("UpdateService to 5000 tasks: %v", err)
	}
	_, err = b.UpdateService(ctx, &ecsapi.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("ext"), DesiredCount: aws.Int32(2000000000)})
	if err == nil || err.Error() != limit {
		t.Errorf("UpdateService of an external service to 2e9 tasks: %v", err)
	}
}
