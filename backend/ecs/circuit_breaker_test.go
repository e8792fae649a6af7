package ecs

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth/sqlite"
)

// TestRollbackRestoresServiceConnect: a deployment rolled back goes back
// to the revision that ran before, its Service Connect configuration
// included (a service revision holds it:
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceRevision.html),
// and with it the Cloud Map services of the deployment that ran it.
func TestRollbackRestoresServiceConnect(t *testing.T) {
	t.Parallel()
	b, ctx, now := testBackend(t)
	s := scopeOf(ctx)
	sc := func(name string) (*types.ServiceConnectConfiguration, []types.ServiceConnectServiceResource) {
		return &types.ServiceConnectConfiguration{Enabled: true, Namespace: aws.String("ns"), Services: []types.ServiceConnectService{{PortName: aws.String("api"), DiscoveryName: aws.String(name)}}},
			[]types.ServiceConnectServiceResource{{DiscoveryName: aws.String(name), DiscoveryArn: aws.String("arn:aws:servicediscovery:us-east-1:123456789012:service/srv-" + name)}}
	}
	goodSC, goodRes := sc("good")
	badSC, badRes := sc("bad")
	good := s.arn("task-definition/web:1")
	rev := types.ServiceRevision{ServiceRevisionArn: aws.String(s.arn("service-revision/c/web/1")), TaskDefinition: aws.String(good), ServiceConnectConfiguration: goodSC}
	sd := types.ServiceDeployment{ServiceDeploymentArn: aws.String(s.arn("service-deployment/c/web/2")),
		SourceServiceRevisions: []types.ServiceRevisionSummary{{Arn: rev.ServiceRevisionArn}}}
	svc := types.Service{ServiceArn: aws.String(s.arn("service/c/web")), ServiceName: aws.String("web"), Status: aws.String("ACTIVE"),
		TaskDefinition: aws.String(s.arn("task-definition/web:2")), CurrentServiceDeployment: sd.ServiceDeploymentArn,
		Deployments: []types.Deployment{
			{Id: aws.String("ecs-svc/2"), Status: aws.String("PRIMARY"), TaskDefinition: aws.String(s.arn("task-definition/web:2")),
				ServiceConnectConfiguration: badSC, ServiceConnectResources: badRes, RolloutState: types.DeploymentRolloutStateInProgress},
			{Id: aws.String("ecs-svc/1"), Status: aws.String("ACTIVE"), TaskDefinition: aws.String(good),
				ServiceConnectConfiguration: goodSC, ServiceConnectResources: goodRes, RolloutState: types.DeploymentRolloutStateCompleted},
		}}
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		if err := tx.Put(s.Row(kindServiceRevision, *rev.ServiceRevisionArn, *svc.ServiceArn, ""), rev); err != nil {
			return err
		}
		if err := tx.Put(s.Row(kindServiceDeployment, *sd.ServiceDeploymentArn, *svc.ServiceArn, ""), sd); err != nil {
			return err
		}
		return b.failDeployment(tx, s, &svc, now, deploymentFailure{reason: "failed", event: "failed", rollback: true, cause: "ECS deployment circuit breaker",
			monitor: func(*types.ServiceDeployment) {}})
	})
	if err != nil {
		t.Fatal(err)
	}
	d := svc.Deployments[0]
	if aws.ToString(d.TaskDefinition) != good || d.ServiceConnectConfiguration != goodSC || len(d.ServiceConnectResources) != 1 || aws.ToString(d.ServiceConnectResources[0].DiscoveryName) != "good" {
		t.Errorf("rollback deployment: task definition %s, Service Connect %+v, resources %+v", aws.ToString(d.TaskDefinition), d.ServiceConnectConfiguration, d.ServiceConnectResources)
	}
}
