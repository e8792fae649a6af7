package integration

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func TestAccountSettings(t *testing.T) {
	ctx, c := setup(t)
	eff := try(c.ecs.ListAccountSettings(ctx, &ecs.ListAccountSettingsInput{EffectiveSettings: true, Name: types.SettingNameServiceLongArnFormat})).must(t)
	if len(eff.Settings) != 1 || aws.ToString(eff.Settings[0].Value) != "enabled" || eff.Settings[0].Type != types.SettingTypeAwsManaged {
		t.Fatalf("effective default = %+v", eff.Settings)
	}
	set := try(c.ecs.PutAccountSetting(ctx, &ecs.PutAccountSettingInput{Name: types.SettingNameContainerInsights, Value: aws.String("enhanced")})).must(t).Setting
	if aws.ToString(set.PrincipalArn) != "arn:aws:iam::000000000000:root" {
		t.Fatalf("PutAccountSetting = %+v", set)
	}
	try(c.ecs.PutAccountSettingDefault(ctx, &ecs.PutAccountSettingDefaultInput{Name: types.SettingNameAwsvpcTrunking, Value: aws.String("enabled")})).must(t)
	mine := try(c.ecs.ListAccountSettings(ctx, &ecs.ListAccountSettingsInput{})).must(t)
	if len(mine.Settings) != 2 {
		t.Fatalf("ListAccountSettings = %+v", mine.Settings)
	}
	all := try(c.ecs.ListAccountSettings(ctx, &ecs.ListAccountSettingsInput{EffectiveSettings: true, MaxResults: 5})).must(t)
	if len(all.Settings) != 5 || all.NextToken == nil {
		t.Fatalf("paged effective settings = %d, next %v", len(all.Settings), all.NextToken)
	}
	_, err := c.ecs.PutAccountSetting(ctx, &ecs.PutAccountSettingInput{Name: types.SettingNameGuardDutyActivate, Value: aws.String("maybe")})
	wantErr[*types.InvalidParameterException](t, err)
	try(c.ecs.DeleteAccountSetting(ctx, &ecs.DeleteAccountSettingInput{Name: types.SettingNameContainerInsights})).must(t)
	_, err = c.ecs.DeleteAccountSetting(ctx, &ecs.DeleteAccountSettingInput{Name: types.SettingNameContainerInsights})
	wantErr[*types.InvalidParameterException](t, err)
}

func TestAttributesAndTaskProtection(t *testing.T) {
	ctx, c := setup(t)
	registerWeb(t, ctx, c)
	ci := try(c.ecs.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{Cluster: aws.String("c")})).must(t).ContainerInstance
	target := ci.ContainerInstanceArn
	try(c.ecs.PutAttributes(ctx, &ecs.PutAttributesInput{Cluster: aws.String("c"), Attributes: []types.Attribute{
		{Name: aws.String("stack"), Value: aws.String("prod"), TargetId: target},
		{Name: aws.String("gpu"), TargetId: target},
	}})).must(t)
	l := try(c.ecs.ListAttributes(ctx, &ecs.ListAttributesInput{Cluster: aws.String("c"), TargetType: types.TargetTypeContainerInstance, AttributeName: aws.String("stack")})).must(t)
	if len(l.Attributes) != 1 || aws.ToString(l.Attributes[0].Value) != "prod" || aws.ToString(l.Attributes[0].TargetId) != *target {
		t.Fatalf("ListAttributes = %+v", l.Attributes)
	}
	try(c.ecs.DeleteAttributes(ctx, &ecs.DeleteAttributesInput{Cluster: aws.String("c"), Attributes: []types.Attribute{{Name: aws.String("gpu"), TargetId: target}}})).must(t)
	if l := try(c.ecs.ListAttributes(ctx, &ecs.ListAttributesInput{Cluster: aws.String("c"), TargetType: types.TargetTypeContainerInstance})).must(t); len(l.Attributes) != 1 {
		t.Fatalf("after delete = %+v", l.Attributes)
	}
	_, err := c.ecs.PutAttributes(ctx, &ecs.PutAttributesInput{Cluster: aws.String("c"), Attributes: []types.Attribute{{Name: aws.String("x"), TargetId: aws.String("nope")}}})
	wantErr[*types.TargetNotFoundException](t, err)
	many := make([]types.Attribute, 11)
	for i := range many {
		many[i] = types.Attribute{Name: aws.String(string(rune('a' + i))), TargetId: target}
	}
	_, err = c.ecs.PutAttributes(ctx, &ecs.PutAttributesInput{Cluster: aws.String("c"), Attributes: many})
	wantErr[*types.AttributeLimitExceededException](t, err)

	// Task protection applies to service tasks only.
	run := try(c.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("web"), Group: aws.String("service:api")})).must(t).Tasks[0]
	lone := try(c.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("web")})).must(t).Tasks[0]
	up := try(c.ecs.UpdateTaskProtection(ctx, &ecs.UpdateTaskProtectionInput{Cluster: aws.String("c"), Tasks: []string{*run.TaskArn, *lone.TaskArn}, ProtectionEnabled: true, ExpiresInMinutes: aws.Int32(60)})).must(t)
	if len(up.ProtectedTasks) != 1 || !up.ProtectedTasks[0].ProtectionEnabled || up.ProtectedTasks[0].ExpirationDate == nil || len(up.Failures) != 1 {
		t.Fatalf("UpdateTaskProtection = %+v", up)
	}
	got := try(c.ecs.GetTaskProtection(ctx, &ecs.GetTaskProtectionInput{Cluster: aws.String("c"), Tasks: []string{*run.TaskArn}})).must(t)
	if !got.ProtectedTasks[0].ProtectionEnabled {
		t.Fatalf("GetTaskProtection = %+v", got)
	}
	_, err = c.ecs.UpdateTaskProtection(ctx, &ecs.UpdateTaskProtectionInput{Cluster: aws.String("c"), Tasks: []string{*run.TaskArn}, ProtectionEnabled: true, ExpiresInMinutes: aws.Int32(5000)})
	wantErr[*types.InvalidParameterException](t, err)
}

func TestServiceDeployments(t *testing.T) {
	ctx, c := setup(t)
	registerWeb(t, ctx, c)
	svc := try(c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("api"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(2)})).must(t).Service
	first := aws.ToString(svc.CurrentServiceDeployment)
	if first == "" || len(svc.CurrentServiceRevisions) != 1 || svc.CurrentServiceRevisions[0].RequestedTaskCount != 2 {
		t.Fatalf("service deployment fields = %v %+v", first, svc.CurrentServiceRevisions)
	}
	updated := try(c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("api"), ForceNewDeployment: true})).must(t).Service
	second := aws.ToString(updated.CurrentServiceDeployment)
	list := try(c.ecs.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String("c"), Service: aws.String("api")})).must(t)
	if len(list.ServiceDeployments) != 2 || aws.ToString(list.ServiceDeployments[0].ServiceDeploymentArn) != second ||
		list.ServiceDeployments[1].Status != types.ServiceDeploymentStatusStopped || list.ServiceDeployments[0].Status != types.ServiceDeploymentStatusInProgress {
		t.Fatalf("ListServiceDeployments = %+v", list.ServiceDeployments)
	}
	inProgress := try(c.ecs.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String("c"), Service: aws.String("api"),
		Status: []types.ServiceDeploymentStatus{types.ServiceDeploymentStatusInProgress}})).must(t)
	if len(inProgress.ServiceDeployments) != 1 {
		t.Fatalf("by status = %+v", inProgress.ServiceDeployments)
	}
	d := try(c.ecs.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{second, first + "x"}})).must(t)
	if len(d.ServiceDeployments) != 1 || len(d.Failures) != 1 || len(d.ServiceDeployments[0].SourceServiceRevisions) != 1 {
		t.Fatalf("DescribeServiceDeployments = %+v", d)
	}
	rev := try(c.ecs.DescribeServiceRevisions(ctx, &ecs.DescribeServiceRevisionsInput{ServiceRevisionArns: []string{*d.ServiceDeployments[0].TargetServiceRevision.Arn}})).must(t)
	if len(rev.ServiceRevisions) != 1 || aws.ToString(rev.ServiceRevisions[0].ContainerImages[0].Image) != testImage {
		t.Fatalf("DescribeServiceRevisions = %+v", rev)
	}
	_, err := c.ecs.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String("c"), Service: aws.String("ghost")})
	wantErr[*types.ServiceNotFoundException](t, err)
}

func TestTaskSets(t *testing.T) {
	ctx, c := setup(t)
	registerWeb(t, ctx, c)
	try(c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("ext"), DesiredCount: aws.Int32(4),
		DeploymentController: &types.DeploymentController{Type: types.DeploymentControllerTypeExternal}})).must(t)
	try(c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("ecs"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(1)})).must(t)
	_, err := c.ecs.CreateTaskSet(ctx, &ecs.CreateTaskSetInput{Cluster: aws.String("c"), Service: aws.String("ecs"), TaskDefinition: aws.String("web")})
	wantErr[*types.InvalidParameterException](t, err)
	blue := try(c.ecs.CreateTaskSet(ctx, &ecs.CreateTaskSetInput{Cluster: aws.String("c"), Service: aws.String("ext"), TaskDefinition: aws.String("web"), ExternalId: aws.String("blue")})).must(t).TaskSet
	green := try(c.ecs.CreateTaskSet(ctx, &ecs.CreateTaskSetInput{Cluster: aws.String("c"), Service: aws.String("ext"), TaskDefinition: aws.String("web"),
		Scale: &types.Scale{Value: 50, Unit: types.ScaleUnitPercent}})).must(t).TaskSet
	if blue.ComputedDesiredCount != 4 || green.ComputedDesiredCount != 2 || aws.ToString(blue.Status) != "ACTIVE" {
		t.Fatalf("task sets = %+v / %+v", blue, green)
	}
	p := try(c.ecs.UpdateServicePrimaryTaskSet(ctx, &ecs.UpdateServicePrimaryTaskSetInput{Cluster: aws.String("c"), Service: aws.String("ext"), PrimaryTaskSet: blue.TaskSetArn})).must(t).TaskSet
	if aws.ToString(p.Status) != "PRIMARY" {
		t.Fatalf("UpdateServicePrimaryTaskSet = %+v", p)
	}
	u := try(c.ecs.UpdateTaskSet(ctx, &ecs.UpdateTaskSetInput{Cluster: aws.String("c"), Service: aws.String("ext"), TaskSet: green.Id, Scale: &types.Scale{Value: 100, Unit: types.ScaleUnitPercent}})).must(t).TaskSet
	if u.ComputedDesiredCount != 4 {
		t.Fatalf("UpdateTaskSet = %+v", u)
	}
	svc := try(c.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("c"), Services: []string{"ext"}})).must(t).Services[0]
	if len(svc.TaskSets) != 2 || aws.ToString(svc.TaskDefinition) != aws.ToString(blue.TaskDefinition) {
		t.Fatalf("service task sets = %+v", svc.TaskSets)
	}
	_, err = c.ecs.DeleteTaskSet(ctx, &ecs.DeleteTaskSetInput{Cluster: aws.String("c"), Service: aws.String("ext"), TaskSet: blue.TaskSetArn})
	wantErr[*types.InvalidParameterException](t, err)
	// Without force, only a task set scaled down to zero may be deleted.
	// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeleteTaskSet.html#ECS-DeleteTaskSet-request-force
	_, err = c.ecs.DeleteTaskSet(ctx, &ecs.DeleteTaskSetInput{Cluster: aws.String("c"), Service: aws.String("ext"), TaskSet: green.TaskSetArn})
	wantErr[*types.InvalidParameterException](t, err)
	try(c.ecs.UpdateTaskSet(ctx, &ecs.UpdateTaskSetInput{Cluster: aws.String("c"), Service: aws.String("ext"), TaskSet: green.Id, Scale: &types.Scale{Value: 0, Unit: types.ScaleUnitPercent}})).must(t)
	gone := try(c.ecs.DeleteTaskSet(ctx, &ecs.DeleteTaskSetInput{Cluster: aws.String("c"), Service: aws.String("ext"), TaskSet: green.TaskSetArn})).must(t).TaskSet
	if aws.ToString(gone.Status) != "DRAINING" {
		t.Fatalf("DeleteTaskSet = %+v", gone)
	}
	ds := try(c.ecs.DescribeTaskSets(ctx, &ecs.DescribeTaskSetsInput{Cluster: aws.String("c"), Service: aws.String("ext"), TaskSets: []string{*blue.TaskSetArn, *green.TaskSetArn}})).must(t)
	if len(ds.TaskSets) != 1 || len(ds.Failures) != 1 {
		t.Fatalf("DescribeTaskSets = %+v", ds)
	}
	_, err = c.ecs.UpdateTaskSet(ctx, &ecs.UpdateTaskSetInput{Cluster: aws.String("c"), Service: aws.String("ext"), TaskSet: green.TaskSetArn, Scale: &types.Scale{Value: 10, Unit: types.ScaleUnitPercent}})
	wantErr[*types.TaskSetNotFoundException](t, err)
	try(c.ecs.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: blue.TaskSetArn, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})).must(t)
	// The task sets run real tasks (TestTaskSetsRunTasks): stop them.
	for _, name := range []string{"ext", "ecs"} {
		try(c.ecs.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String("c"), Service: aws.String(name), Force: aws.Bool(true)})).must(t)
	}
}
