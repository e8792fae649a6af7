package ecs

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth/backend"
	"berth/backend/runtime"
)

// TestFireLensDestination: the CloudWatch output plugins' options, as the
// FireLens example in the CloudWatch user guide sets them, name the group
// and stream; the stream is log_stream_prefix then the FireLens tag,
// container-name-firelens-task-id; other outputs are not berth's.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/deploy-container-insights-ECS-logs.html
func TestFireLensDestination(t *testing.T) {
	k := taskRef{Scope: backend.Scope{Account: "123456789012", Region: "us-east-1"}, arn: "arn:aws:ecs:us-east-1:123456789012:task/web/abc", cluster: "web"}
	router := types.ContainerDefinition{Name: aws.String("log_router"), FirelensConfiguration: &types.FirelensConfiguration{Type: types.FirelensConfigurationTypeFluentbit}}
	app := func(options map[string]string) types.ContainerDefinition {
		return types.ContainerDefinition{Name: aws.String("app"), LogConfiguration: &types.LogConfiguration{LogDriver: types.LogDriverAwsfirelens, Options: options}}
	}
	td := func(app types.ContainerDefinition) types.TaskDefinition {
		return types.TaskDefinition{Family: aws.String("firelens-example-cloudwatch"), Revision: 1, ContainerDefinitions: []types.ContainerDefinition{router, app}}
	}
	cw := app(map[string]string{"Name": "cloudwatch", "region": "us-west-2", "log_group_name": "firelens-container", "auto_create_group": "true", "log_stream_prefix": "from-fluent-bit-"})
	l := firelensOf(k, td(cw), cw, "ecs-firelens-example-cloudwatch-1-app-abc")
	if l == nil || l.group != "firelens-container" || l.scope.Region != "us-west-2" || !l.createGroup {
		t.Fatalf("destination = %+v", l)
	}
	if got := l.stream("app", "abc", "c0ffee"); got != "from-fluent-bit-app-firelens-abc" {
		t.Fatalf("stream = %q", got)
	}
	want := `{"container_id":"c0ffee","container_name":"/ecs-firelens-example-cloudwatch-1-app-abc","ecs_cluster":"web",` +
		`"ecs_task_arn":"arn:aws:ecs:us-east-1:123456789012:task/web/abc","ecs_task_definition":"firelens-example-cloudwatch:1","log":"hi","source":"stderr"}`
	if got := l.firelens.message("c0ffee", runtime.Stderr, "hi"); got != want {
		t.Fatalf("record = %s", got)
	}

	named := app(map[string]string{"Name": "cloudwatch_logs", "log_group_name": "g", "log_stream_name": "one", "log_key": "log"})
	l = firelensOf(k, td(named), named, "x")
	if l.stream("app", "abc", "c0ffee") != "one" || l.firelens.message("c0ffee", runtime.Stdout, "hi") != "hi" || l.scope.Region != "us-east-1" {
		t.Fatalf("log_stream_name and log_key = %+v", l)
	}
	if es := app(map[string]string{"Name": "es", "Host": "search"}); firelensOf(k, td(es), es, "x") != nil {
		t.Fatal("an Elasticsearch output is shipped")
	}
}
