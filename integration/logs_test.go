package integration

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// TestLogs writes and reads log events with the SDK and the aws CLI: a
// group with retention and tags, two streams, events out of order, reads
// from the head and the tail, and a filter across streams.
func TestLogs(t *testing.T) {
	ctx, c := setup(t)
	group := aws.String("/ecs/web")
	try(c.logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: group, Tags: map[string]string{"app": "web"}})).must(t)
	_, err := c.logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: group})
	wantErr[*types.ResourceAlreadyExistsException](t, err)
	_, err = c.logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("bad name")})
	wantErr[*types.InvalidParameterException](t, err)
	try(c.logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: group, RetentionInDays: aws.Int32(7)})).must(t)
	_, err = c.logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: group, RetentionInDays: aws.Int32(8)})
	wantErr[*types.InvalidParameterException](t, err)
	g := try(c.logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/ecs/")})).must(t).LogGroups
	if len(g) != 1 || aws.ToInt32(g[0].RetentionInDays) != 7 || aws.ToString(g[0].Arn) != "arn:aws:logs:"+c.region+":000000000000:log-group:/ecs/web:*" {
		t.Fatalf("DescribeLogGroups = %+v", g)
	}
	tags := try(c.logs.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: g[0].LogGroupArn})).must(t).Tags
	if tags["app"] != "web" {
		t.Fatalf("ListTagsForResource = %v", tags)
	}

	for _, s := range []string{"web/app/1", "web/app/2"} {
		try(c.logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: group, LogStreamName: aws.String(s)})).must(t)
	}
	_, err = c.logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: group, LogStreamName: aws.String("ghost"), LogEvents: []types.InputLogEvent{{Timestamp: aws.Int64(1), Message: aws.String("x")}}})
	wantErr[*types.ResourceNotFoundException](t, err)
	// Timestamps within the group's retention: older events are rejected
	// (API_PutLogEvents), as TestLogsRejectedEvents shows.
	base := time.Now().Add(-time.Hour).UnixMilli()
	event := func(ms int64, msg string) types.InputLogEvent {
		return types.InputLogEvent{Timestamp: aws.Int64(base + ms), Message: aws.String(msg)}
	}
	try(c.logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: group, LogStreamName: aws.String("web/app/1"),
		LogEvents: []types.InputLogEvent{event(3000, "GET /health 200"), event(1000, "listening on :8080")}})).must(t)
	try(c.logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: group, LogStreamName: aws.String("web/app/2"),
		LogEvents: []types.InputLogEvent{event(2000, "listening on :8080"), event(4000, "GET /users 500 error")}})).must(t)

	head := try(c.logs.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: group, LogStreamName: aws.String("web/app/1"), StartFromHead: aws.Bool(true), Limit: aws.Int32(1)})).must(t)
	if len(head.Events) != 1 || aws.ToString(head.Events[0].Message) != "listening on :8080" {
		t.Fatalf("GetLogEvents from the head = %+v", head.Events)
	}
	// The group as logGroupIdentifier, by its ARN.
	// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html
	byArn := try(c.logs.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupIdentifier: aws.String("arn:aws:logs:" + c.region + ":000000000000:log-group:/ecs/web"),
		LogStreamName: aws.String("web/app/1"), StartFromHead: aws.Bool(true), Limit: aws.Int32(1)})).must(t)
	if len(byArn.Events) != 1 || aws.ToString(byArn.Events[0].Message) != "listening on :8080" {
		t.Fatalf("GetLogEvents by the group's ARN = %+v", byArn.Events)
	}
	next := try(c.logs.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: group, LogStreamName: aws.String("web/app/1"), NextToken: head.NextForwardToken})).must(t)
	if len(next.Events) != 1 || aws.ToString(next.Events[0].Message) != "GET /health 200" {
		t.Fatalf("GetLogEvents forward = %+v", next.Events)
	}
	all := try(c.logs.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: group})).must(t).Events
	var order []int64
	for _, e := range all {
		order = append(order, aws.ToInt64(e.Timestamp))
	}
	if len(order) != 4 || order[0] != base+1000 || order[1] != base+2000 || order[2] != base+3000 || order[3] != base+4000 {
		t.Fatalf("FilterLogEvents interleaved = %v", order)
	}
	errs := try(c.logs.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: group, FilterPattern: aws.String(`"500 error"`)})).must(t).Events
	if len(errs) != 1 || aws.ToString(errs[0].LogStreamName) != "web/app/2" {
		t.Fatalf("FilterLogEvents by pattern = %+v", errs)
	}
	streams := try(c.logs.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: group, OrderBy: types.OrderByLastEventTime, Descending: aws.Bool(true)})).must(t).LogStreams
	if len(streams) != 2 || aws.ToString(streams[0].LogStreamName) != "web/app/2" || aws.ToInt64(streams[0].LastEventTimestamp) != base+4000 {
		t.Fatalf("DescribeLogStreams = %+v", streams)
	}

	// The aws CLI reads the same events.
	awscli := cli{t: t, url: shared.url, region: c.region}
	var filtered struct{ Events []struct{ Message string } }
	awscli.run(&filtered, "logs", "filter-log-events", "--log-group-name", "/ecs/web", "--filter-pattern", "listening")
	if len(filtered.Events) != 2 {
		t.Fatalf("aws logs filter-log-events = %+v", filtered)
	}

	try(c.logs.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: group})).must(t)
	_, err = c.logs.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: group, LogStreamName: aws.String("web/app/1")})
	wantErr[*types.ResourceNotFoundException](t, err)
}

// TestAwslogsDriver runs a task whose container logs with the awslogs
// driver: its stdout and stderr reach the stream ECS names
// (prefix/container/task-id) while it runs, `aws logs tail` (CLI v2) shows
// them, and they stay after the task stops. A group that does not exist
// and is not to be created stops the task with ECS's error.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html
func TestAwslogsDriver(t *testing.T) {
	ctx, c := setup(t)
	app := webContainer("app")
	app.LogConfiguration = &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs, Options: map[string]string{
		"awslogs-group": "/ecs/logs-demo", "awslogs-region": c.region, "awslogs-stream-prefix": "web", "awslogs-create-group": "true",
	}}
	register(t, ctx, c, "logged", "", app)
	task := running(t, ctx, c, *runTask(t, ctx, c, &ecs.RunTaskInput{TaskDefinition: aws.String("logged")}).TaskArn)
	get(t, hostURL(t, task)+"/log?msg=hello-stdout")
	get(t, hostURL(t, task)+"/log?msg=hello-stderr&to=stderr")

	stream := "web/app/" + (*task.TaskArn)[strings.LastIndex(*task.TaskArn, "/")+1:]
	messages := func() []string {
		out := try(c.logs.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{
			LogGroupName: aws.String("/ecs/logs-demo"), LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true),
		})).must(t)
		var msgs []string
		for _, e := range out.Events {
			msgs = append(msgs, aws.ToString(e.Message))
		}
		return msgs
	}
	want := []string{"testapp listening on :8080", "hello-stdout", "hello-stderr"}
	// Docker copies stdout and stderr apart and stamps each line as it
	// copies it, so their lines may land in either order.
	same := func(got []string) bool {
		return slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want)))
	}
	eventually(t, "the container's output in its stream", func() bool { return same(messages()) })

	tail := awsV2(t, c.region, "logs", "tail", "/ecs/logs-demo", "--since", "1h")
	if !strings.Contains(tail, stream+" hello-stdout") || !strings.Contains(tail, stream+" hello-stderr") {
		t.Fatalf("aws logs tail =\n%s", tail)
	}

	try(c.ecs.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("c"), Task: task.TaskArn})).must(t)
	stopped(t, ctx, c, *task.TaskArn)
	if got := messages(); !same(got) {
		t.Fatalf("after the task stopped, the stream holds %q", got)
	}

	app.LogConfiguration.Options = map[string]string{"awslogs-group": "/ecs/missing", "awslogs-region": c.region, "awslogs-stream-prefix": "web"}
	register(t, ctx, c, "unlogged", "", app)
	failed := stopped(t, ctx, c, *runTask(t, ctx, c, &ecs.RunTaskInput{TaskDefinition: aws.String("unlogged")}).TaskArn)
	if reason := aws.ToString(failed.StoppedReason); !strings.HasPrefix(reason, "ResourceInitializationError: failed to validate logger args") ||
		!strings.Contains(reason, "ResourceNotFoundException") || failed.StopCode != ecstypes.TaskStopCodeTaskFailedToStart {
		t.Fatalf("task logging to a missing group stopped with %s: %q", failed.StopCode, reason)
	}
}

// awsV2 runs a command of the aws CLI version 2 (`aws logs tail` is not in
// version 1): the one on PATH if it is version 2, else Debian's, which
// `make deps` installs.
func awsV2(t *testing.T, region string, args ...string) string {
	t.Helper()
	bin := "aws"
	if out, err := exec.Command(bin, "--version").CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "aws-cli/2") {
		bin = "/usr/bin/aws"
	}
	cmd := exec.Command(bin, append([]string{"--endpoint-url", shared.url, "--region", region}, args...)...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDCLI", "AWS_SECRET_ACCESS_KEY=secret", "AWS_PAGER=", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestFireLensToCloudWatch runs a task whose app logs with awsfirelens to
// the CloudWatch Logs output through a log router sidecar it depends on:
// each line reaches the stream the plugin names (log_stream_prefix, then
// the tag container-firelens-task-id) as the record the router receives,
// the line under "log", its stream under "source", and the ECS metadata
// FireLens adds.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/firelens-taskdef.html
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/deploy-container-insights-ECS-logs.html
func TestFireLensToCloudWatch(t *testing.T) {
	ctx, c := setup(t)
	router := ecstypes.ContainerDefinition{
		Name: aws.String("log_router"), Image: aws.String(testImage), Memory: aws.Int32(64), Essential: aws.Bool(true),
		FirelensConfiguration: &ecstypes.FirelensConfiguration{Type: ecstypes.FirelensConfigurationTypeFluentbit},
	}
	app := webContainer("app")
	app.DependsOn = []ecstypes.ContainerDependency{{ContainerName: aws.String("log_router"), Condition: ecstypes.ContainerConditionStart}}
	app.LogConfiguration = &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwsfirelens, Options: map[string]string{
		"Name": "cloudwatch_logs", "region": c.region, "log_group_name": "/ecs/firelens-demo", "log_stream_prefix": "web-", "auto_create_group": "true",
	}}
	// FireLens needs both halves: a router and a container that uses it
	// (ECS's messages as users report them, see validFireLens).
	alone := app
	alone.DependsOn = nil
	for _, half := range [][]ecstypes.ContainerDefinition{{alone}, {webContainer("solo"), router}} {
		_, err := c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("half"), ContainerDefinitions: half})
		var ce *ecstypes.ClientException
		if !errors.As(err, &ce) || !strings.Contains(aws.ToString(ce.Message), "firelens") {
			t.Fatalf("registering half of FireLens: %v", err)
		}
	}
	register(t, ctx, c, "firelens", "", app, router)
	task := running(t, ctx, c, *runTask(t, ctx, c, &ecs.RunTaskInput{TaskDefinition: aws.String("firelens")}).TaskArn)
	get(t, hostURL(t, task)+"/log?msg=hello-stdout")
	get(t, hostURL(t, task)+"/log?msg=hello-stderr&to=stderr")

	taskID := (*task.TaskArn)[strings.LastIndex(*task.TaskArn, "/")+1:]
	type record struct {
		ContainerID       string `json:"container_id"`
		ContainerName     string `json:"container_name"`
		ECSCluster        string `json:"ecs_cluster"`
		ECSTaskArn        string `json:"ecs_task_arn"`
		ECSTaskDefinition string `json:"ecs_task_definition"`
		Log               string `json:"log"`
		Source            string `json:"source"`
	}
	var records []record
	eventually(t, "the app's output in its FireLens stream", func() bool {
		out, err := c.logs.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{
			LogGroupName: aws.String("/ecs/firelens-demo"), LogStreamName: aws.String("web-app-firelens-" + taskID), StartFromHead: aws.Bool(true),
		})
		if err != nil {
			return false
		}
		records = nil
		for _, e := range out.Events {
			var r record
			if json.Unmarshal([]byte(aws.ToString(e.Message)), &r) != nil {
				t.Fatalf("event %q is not a FireLens record", aws.ToString(e.Message))
			}
			records = append(records, r)
		}
		return len(records) == 3
	})
	sources := map[string]string{"testapp listening on :8080": "stdout", "hello-stdout": "stdout", "hello-stderr": "stderr"}
	for i, r := range records {
		if r.Source != sources[r.Log] || r.ECSTaskArn != *task.TaskArn || r.ECSCluster != "c" ||
			r.ECSTaskDefinition != "firelens:1" || r.ContainerID != aws.ToString(task.Containers[0].RuntimeId) || !strings.HasPrefix(r.ContainerName, "/") {
			t.Fatalf("record %d = %+v", i, r)
		}
	}
	try(c.ecs.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("c"), Task: task.TaskArn})).must(t)
	stopped(t, ctx, c, *task.TaskArn)
}
