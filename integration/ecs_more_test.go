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
