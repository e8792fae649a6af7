package integration

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// docker runs the docker CLI with its own configuration directory (where
// docker login keeps credentials), stdin given, and returns its output.
func docker(t *testing.T, config, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command("docker", append([]string{"--config", config}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestECRSeedWorkflow walks ECR's workflow with the real aws and docker
// CLIs: create a repository, log in with get-login-password, build an
// image, push it, see it in describe-images, run it as a service behind an
// ALB from a task definition that names it in ECR's form, and get the
// pushed image's answer through the load balancer. An image tag that does
// not exist stops a task as ECS does.
func TestECRSeedWorkflow(t *testing.T) {
	t.Parallel()
	region := newRegion()
	aws := cli{t: t, url: shared.url, region: region}
	var repo struct {
		Repository struct{ RepositoryUri string }
	}
	aws.run(&repo, "ecr", "create-repository", "--repository-name", "seed/web")
	uri := repo.Repository.RepositoryUri
	if uri != shared.registry+"/000000000000/"+region+"/seed/web" {
		t.Fatalf("repositoryUri = %q (registry %s)", uri, shared.registry)
	}

	config := t.TempDir()
	docker(t, config, aws.output("ecr", "get-login-password"), "login", "--username", "AWS", "--password-stdin", shared.registry)
	docker(t, config, "FROM "+testImage+"\nENV APP_NAME=from-ecr\n", "build", "-q", "-t", uri+":v1", "-")
	docker(t, config, "", "push", uri+":v1")
	// The Engine keeps no copy under the pushed name: the task must pull it.
	docker(t, config, "", "rmi", uri+":v1")

	var images struct {
		ImageDetails []struct {
			ImageDigest, ImageManifestMediaType string
			ImageTags                           []string
			ImageSizeInBytes                    int64
		}
	}
	aws.run(&images, "ecr", "describe-images", "--repository-name", "seed/web")
	if d := images.ImageDetails; len(d) != 1 || strings.Join(d[0].ImageTags, ",") != "v1" || d[0].ImageSizeInBytes < 1<<20 ||
		!strings.HasPrefix(d[0].ImageDigest, "sha256:") || d[0].ImageManifestMediaType != "application/vnd.docker.distribution.manifest.v2+json" {
		t.Fatalf("describe-images = %+v", images)
	}

	image := "000000000000.dkr.ecr." + region + ".amazonaws.com/seed/web"
	containers := func(tag string) string {
		return `[{"name":"web","image":"` + image + ":" + tag + `","memory":64,"essential":true,"portMappings":[{"containerPort":8080,"hostPort":0}]}]`
	}
	aws.run(nil, "ecs", "create-cluster", "--cluster-name", "seed")
	aws.run(nil, "ecs", "register-task-definition", "--family", "web", "--container-definitions", containers("v1"))
	var subnets struct {
		Subnets []struct{ SubnetId, VpcId string }
	}
	aws.run(&subnets, "ec2", "describe-subnets", "--filters", "Name=default-for-az,Values=true")
	var lb struct {
		LoadBalancers []struct{ LoadBalancerArn, DNSName string }
	}
	aws.run(&lb, "elbv2", "create-load-balancer", "--name", "seed", "--scheme", "internal",
		"--subnets", subnets.Subnets[0].SubnetId, subnets.Subnets[1].SubnetId)
	var tg struct {
		TargetGroups []struct{ TargetGroupArn string }
	}
	aws.run(&tg, "elbv2", "create-target-group", "--name", "web", "--protocol", "HTTP", "--port", "80", "--vpc-id", subnets.Subnets[0].VpcId,
		"--health-check-path", "/health", "--health-check-interval-seconds", "5", "--health-check-timeout-seconds", "2")
	group := tg.TargetGroups[0].TargetGroupArn
	aws.run(nil, "elbv2", "modify-target-group-attributes", "--target-group-arn", group, "--attributes", "Key=deregistration_delay.timeout_seconds,Value=1")
	aws.run(nil, "elbv2", "create-listener", "--load-balancer-arn", lb.LoadBalancers[0].LoadBalancerArn, "--protocol", "HTTP", "--port", "80",
		"--default-actions", "Type=forward,TargetGroupArn="+group)
	aws.run(nil, "ecs", "create-service", "--cluster", "seed", "--service-name", "web", "--task-definition", "web", "--desired-count", "1",
		"--load-balancers", "targetGroupArn="+group+",containerName=web,containerPort=8080")
	aws.run(nil, "ecs", "wait", "services-stable", "--cluster", "seed", "--services", "web")

	status, body := fetch("http://"+hostAddress(t, shared, lb.LoadBalancers[0].DNSName)+"/", "")
	var a answer
	if status != 200 || json.Unmarshal([]byte(body), &a) != nil || a.App != "from-ecr" {
		t.Fatalf("through the load balancer: %d %s", status, body)
	}

	// A tag the repository does not have.
	aws.run(nil, "ecs", "register-task-definition", "--family", "missing", "--container-definitions", containers("nope"))
	var run struct{ Tasks []struct{ TaskArn string } }
	aws.run(&run, "ecs", "run-task", "--cluster", "seed", "--task-definition", "missing")
	arn := run.Tasks[0].TaskArn
	aws.run(nil, "ecs", "wait", "tasks-stopped", "--cluster", "seed", "--tasks", arn)
	var stopped struct {
		Tasks []struct{ StoppedReason, StopCode string }
	}
	aws.run(&stopped, "ecs", "describe-tasks", "--cluster", "seed", "--tasks", arn)
	want := "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref " + image + ":nope: " + image + ":nope: not found"
	if s := stopped.Tasks[0]; s.StoppedReason != want || s.StopCode != "TaskFailedToStart" {
		t.Fatalf("task of a missing tag stopped with %+v", s)
	}
	aws.run(nil, "ecs", "delete-service", "--cluster", "seed", "--service", "web", "--force")
}

// TestECRTags: ECR's tags are {"Key","Value"} on the wire, unlike the
// rest of its members; created with a repository, added and listed.
// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_Tag.html
func TestECRTags(t *testing.T) {
	t.Parallel()
	aws := cli{t: t, url: shared.url, region: newRegion()}
	var repo struct {
		Repository struct{ RepositoryArn string }
	}
	aws.run(&repo, "ecr", "create-repository", "--repository-name", "tagged", "--tags", "Key=env,Value=dev")
	aws.run(nil, "ecr", "tag-resource", "--resource-arn", repo.Repository.RepositoryArn, "--tags", "Key=team,Value=core")
	var tags struct{ Tags []struct{ Key, Value string } }
	aws.run(&tags, "ecr", "list-tags-for-resource", "--resource-arn", repo.Repository.RepositoryArn)
	got := map[string]string{}
	for _, tag := range tags.Tags {
		got[tag.Key] = tag.Value
	}
	if len(got) != 2 || got["env"] != "dev" || got["team"] != "core" {
		t.Fatalf("list-tags-for-resource = %+v", tags)
	}
}
