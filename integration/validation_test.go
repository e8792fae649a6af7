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
	awscli.fails("ValidationException", "ssm", "put-parameter", "--name", "p", "--value", "v", "--type", "String", "--tier", "Premium")
}
