package integration

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// TestTaskEndpoint runs code inside a task that uses what the ECS agent
// serves to tasks: the AWS SDK's default configuration finds the task
// role's credentials, and the task metadata endpoint v4 describes the task.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-metadata-endpoint-v4.html
func TestTaskEndpoint(t *testing.T) {
	ctx, c := setup(t)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	roleName := "task-role-" + c.region
	role := try(c.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(roleName), AssumeRolePolicyDocument: aws.String(trust)})).must(t).Role

	// ECS refuses a role IAM does not have.
	_, err := c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("ghost"), ContainerDefinitions: []types.ContainerDefinition{webContainer("app")},
		TaskRoleArn: aws.String("arn:aws:iam::000000000000:role/no-such-role-" + c.region),
	})
	if e := wantErr[*types.ClientException](t, err); aws.ToString(e.Message) != "Role is not valid" {
		t.Fatalf("unknown task role: %v", e)
	}

	try(c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("c")})).must(t)
	try(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("inside"), ContainerDefinitions: []types.ContainerDefinition{webContainer("app")},
		TaskRoleArn: role.Arn, Cpu: aws.String("256"), Memory: aws.String("128"),
	})).must(t)
	task := running(t, ctx, c, *runTask(t, ctx, c, &ecs.RunTaskInput{TaskDefinition: aws.String("inside")}).TaskArn)
	url := hostURL(t, task)
	taskID := (*task.TaskArn)[strings.LastIndex(*task.TaskArn, "/")+1:]

	var me struct{ Account, Arn string }
	decode(t, get(t, url+"/whoami"), &me)
	if want := "arn:aws:sts::000000000000:assumed-role/" + roleName + "/" + taskID; me.Arn != want || me.Account != "000000000000" {
		t.Fatalf("inside the task, GetCallerIdentity = %+v, want %s", me, want)
	}
	if got := get(t, url+"/env?name=AWS_EXECUTION_ENV"); got != "AWS_ECS_EC2" {
		t.Fatalf("AWS_EXECUTION_ENV = %q", got)
	}

	type container struct {
		DockerId, Name, DockerName, Image, ImageID, KnownStatus, ContainerARN string
		Labels                                                                map[string]string
		Limits                                                                struct{ CPU, Memory float64 }
		Networks                                                              []struct {
			NetworkMode   string
			IPv4Addresses []string
		}
		Ports []struct{ ContainerPort, HostPort int }
	}
	var meta struct {
		Cluster, TaskARN, Family, Revision, DesiredStatus, KnownStatus, LaunchType string
		Limits                                                                     struct{ CPU, Memory float64 }
		Containers                                                                 []container
	}
	decode(t, get(t, url+"/metadata?path=/task"), &meta)
	if meta.TaskARN != *task.TaskArn || meta.Cluster != *task.ClusterArn || meta.Family != "inside" || meta.Revision != "1" ||
		meta.KnownStatus != "RUNNING" || meta.LaunchType != "EC2" || meta.Limits.CPU != 0.25 || meta.Limits.Memory != 128 || len(meta.Containers) != 1 {
		t.Fatalf("task metadata = %+v", meta)
	}
	var self container
	decode(t, get(t, url+"/metadata?path="), &self)
	if self.Name != "app" || self.DockerId != aws.ToString(task.Containers[0].RuntimeId) || self.DockerId != meta.Containers[0].DockerId ||
		self.Image != testImage || !strings.HasPrefix(self.ImageID, "sha256:") || self.KnownStatus != "RUNNING" ||
		self.ContainerARN != aws.ToString(task.Containers[0].ContainerArn) || self.Labels["com.amazonaws.ecs.task-arn"] != *task.TaskArn ||
		self.Limits.Memory != 64 || len(self.Networks) != 1 || self.Networks[0].NetworkMode != "bridge" || len(self.Networks[0].IPv4Addresses) != 1 ||
		len(self.Ports) != 1 || self.Ports[0].ContainerPort != 8080 || self.Ports[0].HostPort != int(*task.Containers[0].NetworkBindings[0].HostPort) {
		t.Fatalf("container metadata = %+v", self)
	}
	var stats map[string]struct {
		MemoryStats struct{ Usage uint64 } `json:"memory_stats"`
	}
	decode(t, get(t, url+"/metadata?path=/task/stats"), &stats)
	if s, ok := stats[self.DockerId]; !ok || s.MemoryStats.Usage == 0 {
		t.Fatalf("task stats = %+v", stats)
	}
}

func decode(t *testing.T, body string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("%v in %s", err, body)
	}
}
