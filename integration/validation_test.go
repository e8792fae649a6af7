package integration

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/smithy-go"
)

// TestEnumsValidated: a value outside a member's enumeration is refused
// before anything is looked up or stored, with the service's validation
// error naming the member and the allowed values, through the SDK and the
// aws CLI (issue 19's field reports: launchType=SOMETHING stored,
// launchType=Fargate run).
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html#ECS-CreateService-request-launchType
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html
func TestEnumsValidated(t *testing.T) {
	ctx, c := setup(t)
	register(t, ctx, c, "web", types.NetworkModeBridge, app("app"))
	_, err := c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("s"), TaskDefinition: aws.String("web"), LaunchType: "SOMETHING"})
	if e := wantErr[*types.InvalidParameterException](t, err); !strings.Contains(aws.ToString(e.Message), "Value 'SOMETHING' at 'launchType' failed to satisfy constraint: Member must satisfy enum value set: [EC2, FARGATE") {
		t.Errorf("CreateService launchType=SOMETHING: %v", err)
	}
	if missing := try(c.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("c"), Services: []string{"s"}})).must(t).Failures; len(missing) != 1 {
		t.Errorf("a refused service was stored: failures = %+v", missing)
	}
	// Input validation comes before the lookup of the cluster.
	_, err = c.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("no-such-cluster"), TaskDefinition: aws.String("web"), LaunchType: "Fargate"})
	wantErr[*types.InvalidParameterException](t, err)

	_, err = c.elbv2.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("tg"), Protocol: "http", Port: aws.Int32(80), VpcId: aws.String("vpc-1")})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "ValidationError" || !strings.Contains(api.ErrorMessage(), "at 'protocol'") {
		t.Errorf("CreateTargetGroup protocol=http: %v", err)
	}

	awscli := cli{t: t, url: shared.url, region: c.region}
	awscli.fails("InvalidParameterException", "ecs", "run-task", "--cluster", "c", "--task-definition", "web", "--launch-type", "Fargate")
	awscli.fails("ValidationError", "elbv2", "create-target-group", "--name", "tg", "--protocol", "HTTPX", "--port", "80", "--vpc-id", "vpc-1")
	// EC2's own answer (https://github.com/getmoto/moto/issues/1695).
	awscli.fails("InvalidParameterValue", "ec2", "run-instances", "--image-id", "ami-0123456789abcdef0", "--instance-type", "t9.huge")
	awscli.fails("ValidationException", "ssm", "put-parameter", "--name", "p", "--value", "v", "--type", "String", "--tier", "Premium")
}

// TestQuotasValidated: the documented quotas and constraints of task
// definitions, overrides and rule conditions, with ECS's texts as users
// quote them (cited in backend/ecs).
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_QueryStringKeyValuePair.html
func TestQuotasValidated(t *testing.T) {
	ctx, c := setup(t)
	c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("c")})
	registerErr := func(containers ...types.ContainerDefinition) string {
		t.Helper()
		_, err := c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("big"), ContainerDefinitions: containers})
		return aws.ToString(wantErr[*types.ClientException](t, err).Message)
	}
	var eleven []types.ContainerDefinition
	for i := range 11 {
		eleven = append(eleven, webContainer("c"+strings.Repeat("x", i)))
	}
	if msg := registerErr(eleven...); !strings.Contains(msg, "at most 10 containers") {
		t.Errorf("11 containers: %s", msg)
	}
	huge := webContainer("web")
	for i := range 10000 {
		huge.Environment = append(huge.Environment, types.KeyValuePair{Name: aws.String("VAR_" + strings.Repeat("x", i%10)), Value: aws.String("value")})
	}
	if msg := registerErr(huge); !strings.HasPrefix(msg, "Actual length: '") || !strings.HasSuffix(msg, "'. Max allowed length is '65536' bytes.") {
		t.Errorf("a 10,000-variable task definition: %s", msg)
	}
	bad := webContainer("web")
	bad.Image = aws.String("my image:latest")
	if msg := registerErr(bad); msg != "Container.image contains invalid characters." {
		t.Errorf("an image with a space: %s", msg)
	}
	negative := webContainer("web")
	negative.Cpu = -5
	if msg := registerErr(negative); !strings.Contains(msg, "Invalid 'cpu' setting for container 'web'") {
		t.Errorf("cpu -5: %s", msg)
	}
	if list := try(c.ecs.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("big")})).must(t).TaskDefinitionArns; len(list) != 0 {
		t.Errorf("refused task definitions were stored: %v", list)
	}

	register(t, ctx, c, "web", types.NetworkModeBridge, app("app"))
	_, err := c.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("web"),
		Overrides: &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{{Name: aws.String("app"), Memory: aws.Int32(-1)}}}})
	wantErr[*types.InvalidParameterException](t, err)
	long := types.ContainerOverride{Name: aws.String("app"), Command: []string{strings.Repeat("x", 9000)}}
	_, err = c.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("web"), Overrides: &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{long}}})
	if e := wantErr[*types.InvalidParameterException](t, err); aws.ToString(e.Message) != "Container Overrides length must be at most 8192." {
		t.Errorf("long overrides: %v", err)
	}
}
