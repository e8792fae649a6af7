package ecs

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func tagMap(ts []types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range ts {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func userTags(n int) []types.Tag {
	var ts []types.Tag
	for i := range n {
		ts = append(ts, types.Tag{Key: aws.String(fmt.Sprintf("k%d", i)), Value: aws.String("v")})
	}
	return ts
}

// TestManagedTagsOutsideTheLimit: ECS's managed tags (aws:ecs:...) do not
// count against a resource's 50 tags, so a task with them and 49 of the
// caller's takes a 50th, and refuses a 51st.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-using-tags.html#tag-restrictions
// ("Tags with this prefix do not count against your tags per resource limit.")
func TestManagedTagsOutsideTheLimit(t *testing.T) {
	b, ctx, _ := testBackend(t)
	out := runTask(t, b, ctx, ecsapi.RunTaskInput{EnableECSManagedTags: true, Tags: userTags(49)})
	task := out.Tasks[0].TaskArn
	if got := tagMap(out.Tasks[0].Tags); len(got) != 50 || got["aws:ecs:clusterName"] != "c" {
		t.Fatalf("tags = %v", got)
	}
	if _, err := b.TagResource(ctx, &ecsapi.TagResourceInput{ResourceArn: task, Tags: []types.Tag{{Key: aws.String("k49"), Value: aws.String("v")}}}); err != nil {
		t.Errorf("a 50th tag of the caller's: %v", err)
	}
	_, err := b.TagResource(ctx, &ecsapi.TagResourceInput{ResourceArn: task, Tags: []types.Tag{{Key: aws.String("k50"), Value: aws.String("v")}}})
	if err == nil || err.Error() != "InvalidParameterException: Tag count exceeds the maximum of 50." {
		t.Errorf("a 51st tag of the caller's: %v", err)
	}
}

// TestPropagateTaskDefinitionTags: RunTask with propagateTags
// TASK_DEFINITION gives the task its task definition's tags, beside the
// caller's; without it, none.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html#ECS-RunTask-request-propagateTags
func TestPropagateTaskDefinitionTags(t *testing.T) {
	b, ctx, _ := testBackend(t)
	if _, err := b.RegisterTaskDefinition(ctx, &ecsapi.RegisterTaskDefinitionInput{
		Family:               aws.String("web"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("berth/testapp"), Memory: aws.Int32(128)}},
		Tags:                 []types.Tag{{Key: aws.String("team"), Value: aws.String("td")}, {Key: aws.String("cost"), Value: aws.String("td")}},
	}); err != nil {
		t.Fatal(err)
	}
	out := runTask(t, b, ctx, ecsapi.RunTaskInput{PropagateTags: types.PropagateTagsTaskDefinition, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("caller")}}})
	got := tagMap(out.Tasks[0].Tags)
	if len(got) != 2 || got["team"] != "caller" || got["cost"] != "td" {
		t.Errorf("propagated: tags = %v", got)
	}
	listed, err := b.ListTagsForResource(ctx, &ecsapi.ListTagsForResourceInput{ResourceArn: out.Tasks[0].TaskArn})
	if err != nil || len(listed.Tags) != 2 {
		t.Errorf("ListTagsForResource = %v, %v", listed, err)
	}
	if out := runTask(t, b, ctx, ecsapi.RunTaskInput{}); len(out.Tasks[0].Tags) != 0 {
		t.Errorf("not propagated: tags = %v", tagMap(out.Tasks[0].Tags))
	}
}
