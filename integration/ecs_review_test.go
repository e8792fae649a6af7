package integration

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Differences a new user's review found between berth's ECS API and
// AWS's, each checked against what AWS documents or answers. Where the
// expected message is ECS's, the field report that quotes it is cited
// beside it; elsewhere only the exception type is AWS's.

// wantInvalid checks that err is an InvalidParameterException, with the
// message want unless want is "".
func wantInvalid(t *testing.T, what string, err error, want string) {
	t.Helper()
	var e *types.InvalidParameterException
	if !errors.As(err, &e) {
		t.Fatalf("%s: got %v, want InvalidParameterException", what, err)
	}
	if want != "" && e.ErrorMessage() != want {
		t.Errorf("%s: message %q, want %q", what, e.ErrorMessage(), want)
	}
}

// wantClient is wantInvalid for ClientException.
func wantClient(t *testing.T, what string, err error, want string) {
	t.Helper()
	var e *types.ClientException
	if !errors.As(err, &e) {
		t.Fatalf("%s: got %v, want ClientException", what, err)
	}
	if want != "" && e.ErrorMessage() != want {
		t.Errorf("%s: message %q, want %q", what, e.ErrorMessage(), want)
	}
}

// TestReviewDaemonServices: a DAEMON service takes no desired count, no
// placement strategy, no maximumPercent above 100 and neither the
// CODE_DEPLOY nor the EXTERNAL deployment controller.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html#ECS-CreateService-request-schedulingStrategy
func TestReviewDaemonServices(t *testing.T) {
	ctx, c := setup(t)
	registerWeb(t, ctx, c)
	daemon := func(edit func(*ecs.CreateServiceInput)) error {
		in := &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("agent"), TaskDefinition: aws.String("web"),
			SchedulingStrategy: types.SchedulingStrategyDaemon}
		edit(in)
		_, err := c.ecs.CreateService(ctx, in)
		return err
	}
	// https://github.com/fabfuel/ecs-deploy/issues/59
	wantInvalid(t, "desired count", daemon(func(in *ecs.CreateServiceInput) { in.DesiredCount = aws.Int32(1) }),
		"The daemon scheduling strategy does not support a desired count for services. Remove the desired count value and try again")
	// https://github.com/hashicorp/terraform-provider-aws/pull/4825
	wantInvalid(t, "maximumPercent 200", daemon(func(in *ecs.CreateServiceInput) {
		in.DeploymentConfiguration = &types.DeploymentConfiguration{MaximumPercent: aws.Int32(200), MinimumHealthyPercent: aws.Int32(0)}
	}), "The daemon scheduling strategy does not support values above 100 for maximumPercent on a deployment configuration. Change the maximumPercent value to 100, and try again")
	// https://github.com/kayac/ecspresso/pull/402
	wantInvalid(t, "placement strategy", daemon(func(in *ecs.CreateServiceInput) {
		in.PlacementStrategy = []types.PlacementStrategy{{Type: types.PlacementStrategyTypeBinpack, Field: aws.String("memory")}}
	}), "The daemon scheduling strategy does not support placement strategies. Remove the placement strategy and try again")
	for _, controller := range []types.DeploymentControllerType{types.DeploymentControllerTypeCodeDeploy, types.DeploymentControllerTypeExternal} {
		wantInvalid(t, string(controller)+" controller", daemon(func(in *ecs.CreateServiceInput) {
			in.DeploymentController = &types.DeploymentController{Type: controller}
		}), "")
	}
	list := try(c.ecs.ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String("c")})).must(t)
	if len(list.ServiceArns) != 0 {
		t.Fatalf("refused daemon services were created: %v", list.ServiceArns)
	}
}

// TestReviewFargateOnlySettings: a platform version is refused with the
// EC2 launch type, and a public IP off Fargate, by RunTask, CreateService
// and UpdateService.
func TestReviewFargateOnlySettings(t *testing.T) {
	ctx, c := setup(t)
	registerWeb(t, ctx, c)
	vpc := webContainer("app")
	vpc.PortMappings[0].HostPort = nil
	try(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("vpc"), NetworkMode: types.NetworkModeAwsvpc,
		ContainerDefinitions: []types.ContainerDefinition{vpc}})).must(t)
	// https://github.com/aws/amazon-ecs-cli/issues/1047
	const platformEC2 = "The platform version must be null when specifying an EC2 launch type."
	_, err := c.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("web"), LaunchType: types.LaunchTypeEc2, PlatformVersion: aws.String("1.4.0")})
	wantInvalid(t, "RunTask EC2 with a platform version", err, platformEC2)
	_, err = c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("pv"), TaskDefinition: aws.String("web"),
		DesiredCount: aws.Int32(0), LaunchType: types.LaunchTypeEc2, PlatformVersion: aws.String("LATEST")})
	wantInvalid(t, "CreateService EC2 with a platform version", err, platformEC2)

	public := &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: subnets(t, ctx, c)[:1], AssignPublicIp: types.AssignPublicIpEnabled}}
	// https://github.com/hashicorp/waypoint/issues/643 (EC2) and, with the
	// final period as CloudFormation passes it on,
	// https://github.com/nathanpeck/socket.io-chat-fargate/issues/3
	const publicIP = "Assign public IP is not supported for this launch type."
	_, err = c.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("vpc"), LaunchType: types.LaunchTypeEc2, NetworkConfiguration: public})
	wantInvalid(t, "RunTask EC2 with a public IP", err, publicIP)
	_, err = c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("ip"), TaskDefinition: aws.String("vpc"),
		DesiredCount: aws.Int32(0), LaunchType: types.LaunchTypeEc2, NetworkConfiguration: public})
	wantInvalid(t, "CreateService EC2 with a public IP", err, publicIP)

	// A service scaled to 0 runs nothing; updating it is refused alike.
	try(c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("vpc"), TaskDefinition: aws.String("vpc"),
		DesiredCount: aws.Int32(0), LaunchType: types.LaunchTypeEc2,
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: subnets(t, ctx, c)[:1]}}})).must(t)
	_, err = c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("vpc"), PlatformVersion: aws.String("1.4.0")})
	wantInvalid(t, "UpdateService EC2 with a platform version", err, platformEC2)
	_, err = c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("vpc"), NetworkConfiguration: public})
	wantInvalid(t, "UpdateService EC2 with a public IP", err, publicIP)
}

// TestReviewPlacementLists: at most 5 placement strategies, each with the
// field its type takes (binpack cpu or memory; spread instanceId, host
// or attribute:<name>; random none); at most 20 capacity providers in a
// strategy.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PlacementStrategy.html
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html#ECS-CreateService-request-placementStrategy
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html#ECS-RunTask-request-capacityProviderStrategy
func TestReviewPlacementLists(t *testing.T) {
	ctx, c := setup(t)
	registerWeb(t, ctx, c)
	spread := func(field string) types.PlacementStrategy {
		return types.PlacementStrategy{Type: types.PlacementStrategyTypeSpread, Field: aws.String(field)}
	}
	six := []types.PlacementStrategy{spread("instanceId"), spread("host"), spread("attribute:ecs.availability-zone"),
		spread("attribute:ecs.instance-type"), spread("attribute:ecs.os-type"), spread("attribute:ecs.cpu-architecture")}
	bad := map[string][]types.PlacementStrategy{
		"six strategies":         six,
		"binpack on instanceId":  {{Type: types.PlacementStrategyTypeBinpack, Field: aws.String("instanceId")}},
		"spread with no field":   {{Type: types.PlacementStrategyTypeSpread}},
		"spread on memory":       {spread("memory")},
		"random with a field":    {{Type: types.PlacementStrategyTypeRandom, Field: aws.String("")}},
		"an unknown type":        {{Type: "roundrobin"}},
		"spread on attribute:":   {spread("attribute:")},
		"binpack with no field":  {{Type: types.PlacementStrategyTypeBinpack}},
		"random after six items": append(slices.Clone(six), types.PlacementStrategy{Type: types.PlacementStrategyTypeRandom}),
	}
	for what, strategies := range bad {
		_, err := c.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("web"), PlacementStrategy: strategies})
		wantInvalid(t, "RunTask: "+what, err, "")
		_, err = c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("bad"), TaskDefinition: aws.String("web"),
			DesiredCount: aws.Int32(0), PlacementStrategy: strategies})
		wantInvalid(t, "CreateService: "+what, err, "")
	}
	// Five strategies, binpack in upper case as ECS accepts it.
	good := append(slices.Clone(six[:4]), types.PlacementStrategy{Type: types.PlacementStrategyTypeBinpack, Field: aws.String("MEMORY")})
	try(c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("web"), TaskDefinition: aws.String("web"),
		DesiredCount: aws.Int32(0), PlacementStrategy: good})).must(t)
	_, err := c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("web"), PlacementStrategy: six})
	wantInvalid(t, "UpdateService: six strategies", err, "")
	try(c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("web"),
		PlacementStrategy: []types.PlacementStrategy{{Type: types.PlacementStrategyTypeRandom}}})).must(t)

	providers := make([]types.CapacityProviderStrategyItem, 21)
	for i := range providers {
		providers[i] = types.CapacityProviderStrategyItem{CapacityProvider: aws.String("FARGATE"), Weight: 1}
	}
	_, err = c.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("web"), CapacityProviderStrategy: providers})
	wantInvalid(t, "RunTask: 21 capacity providers", err, "")
	_, err = c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("cp"), TaskDefinition: aws.String("web"),
		DesiredCount: aws.Int32(0), CapacityProviderStrategy: providers})
	wantInvalid(t, "CreateService: 21 capacity providers", err, "")
	_, err = c.ecs.PutClusterCapacityProviders(ctx, &ecs.PutClusterCapacityProvidersInput{Cluster: aws.String("c"),
		CapacityProviders: []string{"FARGATE"}, DefaultCapacityProviderStrategy: providers})
	wantInvalid(t, "PutClusterCapacityProviders: 21 capacity providers", err, "")

	// referenceId: up to 1,024 characters, as EventBridge Scheduler, which
	// passes it to RunTask, documents it.
	// https://docs.aws.amazon.com/scheduler/latest/APIReference/API_EcsParameters.html
	_, err = c.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("web"), ReferenceId: aws.String(strings.Repeat("r", 1025))})
	wantInvalid(t, "RunTask: a 1,025-character referenceId", err, "")
}

// TestReviewTaskDefinitionRules: what RegisterTaskDefinition refuses
// about the task's size, Fargate, health checks and ephemeral storage.
func TestReviewTaskDefinitionRules(t *testing.T) {
	ctx, c := setup(t)
	container := func(edit func(*types.ContainerDefinition)) types.ContainerDefinition {
		cd := types.ContainerDefinition{Name: aws.String("app"), Image: aws.String(testImage), Memory: aws.Int32(64)}
		edit(&cd)
		return cd
	}
	fargate := func(edit func(*ecs.RegisterTaskDefinitionInput)) *ecs.RegisterTaskDefinitionInput {
		in := &ecs.RegisterTaskDefinitionInput{Family: aws.String("fg"), RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
			NetworkMode: types.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
			ContainerDefinitions: []types.ContainerDefinition{container(func(*types.ContainerDefinition) {})}}
		edit(in)
		return in
	}
	ec2 := func(containers ...types.ContainerDefinition) *ecs.RegisterTaskDefinitionInput {
		return &ecs.RegisterTaskDefinitionInput{Family: aws.String("ec2"), Cpu: aws.String("256"), Memory: aws.String("512"), ContainerDefinitions: containers}
	}
	health := func(hc types.HealthCheck) *ecs.RegisterTaskDefinitionInput {
		if hc.Command == nil {
			hc.Command = []string{"CMD-SHELL", "true"}
		}
		return ec2(container(func(cd *types.ContainerDefinition) { cd.HealthCheck = &hc }))
	}
	cases := []struct {
		what string
		in   *ecs.RegisterTaskDefinitionInput
		want string // ECS's message where a field report quotes it
	}{
		// https://github.com/pulumi/pulumi-awsx/issues/188
		{"container memory above the task's", ec2(container(func(cd *types.ContainerDefinition) { cd.Memory = aws.Int32(1024) })),
			"The 'memory' setting for container 'app' is greater than for the task."},
		{"container memoryReservation above the task's", ec2(container(func(cd *types.ContainerDefinition) {
			cd.Memory, cd.MemoryReservation = nil, aws.Int32(1024)
		})), ""},
		// https://github.com/aws/aws-cdk/issues/1553
		{"containers' cpu above the task's", ec2(container(func(cd *types.ContainerDefinition) { cd.Cpu = 200 }),
			container(func(cd *types.ContainerDefinition) { cd.Name, cd.Cpu = aws.String("side"), 100 })),
			"The sum of all container 'cpu' values cannot be greater than the value of the task 'cpu'."},
		// https://github.com/virtual-kubelet/virtual-kubelet/issues/193
		{"Fargate awslogs without an execution role", fargate(func(in *ecs.RegisterTaskDefinitionInput) {
			in.ContainerDefinitions[0].LogConfiguration = &types.LogConfiguration{LogDriver: types.LogDriverAwslogs,
				Options: map[string]string{"awslogs-group": "g", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "p"}}
		}), "Fargate requires task definition to have execution role ARN to support log driver awslogs."},
		// https://github.com/cloudposse/terraform-aws-ecs-alb-service-task/issues/174
		{"Fargate host sourcePath", fargate(func(in *ecs.RegisterTaskDefinitionInput) {
			in.Volumes = []types.Volume{{Name: aws.String("v"), Host: &types.HostVolumeProperties{SourcePath: aws.String("/data")}}}
		}), "Fargate compatible task definitions do not support sourcePath"},
		// API_LogConfiguration: awslogs, splunk and awsfirelens on Fargate.
		{"Fargate json-file logs", fargate(func(in *ecs.RegisterTaskDefinitionInput) {
			in.ContainerDefinitions[0].LogConfiguration = &types.LogConfiguration{LogDriver: types.LogDriverJsonFile}
		}), ""},
		// API_ContainerDefinition (privileged, linuxParameters) and
		// API_Volume (dockerVolumeConfiguration): not supported on Fargate.
		{"Fargate privileged", fargate(func(in *ecs.RegisterTaskDefinitionInput) { in.ContainerDefinitions[0].Privileged = aws.Bool(true) }), ""},
		{"Fargate devices", fargate(func(in *ecs.RegisterTaskDefinitionInput) {
			in.ContainerDefinitions[0].LinuxParameters = &types.LinuxParameters{Devices: []types.Device{{HostPath: aws.String("/dev/fuse")}}}
		}), ""},
		{"Fargate Docker volume", fargate(func(in *ecs.RegisterTaskDefinitionInput) {
			in.Volumes = []types.Volume{{Name: aws.String("v"), DockerVolumeConfiguration: &types.DockerVolumeConfiguration{Scope: types.ScopeTask}}}
		}), ""},
		// API_EphemeralStorage: 21 to 200 GiB.
		{"ephemeral storage 20 GiB", fargate(func(in *ecs.RegisterTaskDefinitionInput) {
			in.EphemeralStorage = &types.EphemeralStorage{SizeInGiB: 20}
		}), ""},
		{"ephemeral storage 201 GiB", fargate(func(in *ecs.RegisterTaskDefinitionInput) {
			in.EphemeralStorage = &types.EphemeralStorage{SizeInGiB: 201}
		}), ""},
		// API_HealthCheck: interval 5-300, timeout 2-60, retries 1-10,
		// startPeriod 0-300, a command.
		{"health check interval 4", health(types.HealthCheck{Interval: aws.Int32(4)}), ""},
		{"health check interval 301", health(types.HealthCheck{Interval: aws.Int32(301)}), ""},
		{"health check timeout 1", health(types.HealthCheck{Timeout: aws.Int32(1)}), ""},
		{"health check timeout 61", health(types.HealthCheck{Timeout: aws.Int32(61)}), ""},
		{"health check retries 0", health(types.HealthCheck{Retries: aws.Int32(0)}), ""},
		{"health check retries 11", health(types.HealthCheck{Retries: aws.Int32(11)}), ""},
		{"health check startPeriod -1", health(types.HealthCheck{StartPeriod: aws.Int32(-1)}), ""},
		{"health check startPeriod 301", health(types.HealthCheck{StartPeriod: aws.Int32(301)}), ""},
		{"health check without a command", health(types.HealthCheck{Command: []string{}}), ""},
	}
	for _, tc := range cases {
		_, err := c.ecs.RegisterTaskDefinition(ctx, tc.in)
		wantClient(t, tc.what, err, tc.want)
	}

	// The bounds themselves are taken.
	try(c.ecs.RegisterTaskDefinition(ctx, health(types.HealthCheck{Interval: aws.Int32(5), Timeout: aws.Int32(2), Retries: aws.Int32(1), StartPeriod: aws.Int32(0)}))).must(t)
	try(c.ecs.RegisterTaskDefinition(ctx, health(types.HealthCheck{Interval: aws.Int32(300), Timeout: aws.Int32(60), Retries: aws.Int32(10), StartPeriod: aws.Int32(300)}))).must(t)
	try(c.ecs.RegisterTaskDefinition(ctx, fargate(func(in *ecs.RegisterTaskDefinitionInput) {
		in.EphemeralStorage = &types.EphemeralStorage{SizeInGiB: 200}
		in.ExecutionRoleArn = nil
		in.ContainerDefinitions[0].LogConfiguration = &types.LogConfiguration{LogDriver: types.LogDriverSplunk,
			Options: map[string]string{"splunk-url": "https://splunk.example.com"}}
	}))).must(t)
	// A host source path is fine off Fargate, but the task definition is
	// then not FARGATE-compatible.
	// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TaskDefinition.html#ECS-Type-TaskDefinition-compatibilities
	hosted := try(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("hosted"), NetworkMode: types.NetworkModeAwsvpc,
		Cpu: aws.String("256"), Memory: aws.String("512"), ContainerDefinitions: []types.ContainerDefinition{container(func(*types.ContainerDefinition) {})},
		Volumes: []types.Volume{{Name: aws.String("v"), Host: &types.HostVolumeProperties{SourcePath: aws.String("/data")}}}})).must(t).TaskDefinition
	if slices.Contains(hosted.Compatibilities, types.CompatibilityFargate) || !slices.Contains(hosted.Compatibilities, types.CompatibilityEc2) {
		t.Errorf("compatibilities with a host source path = %v", hosted.Compatibilities)
	}
}

// TestReviewAttributes: PutAttributes takes names of 1-128 letters,
// digits, hyphens, underscores, slashes or periods, and values of 1-128
// of those, at signs, colons or spaces, not starting or ending with one.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Attribute.html
func TestReviewAttributes(t *testing.T) {
	ctx, c := setup(t)
	try(c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("c")})).must(t)
	ci := *try(c.ecs.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{Cluster: aws.String("c"),
		InstanceIdentityDocument: aws.String(`{"instanceId":"i-0a0a0a0a0a0a0a0a0","availabilityZone":"us-east-1a"}`)})).must(t).ContainerInstance.ContainerInstanceArn
	put := func(name string, value *string) error {
		_, err := c.ecs.PutAttributes(ctx, &ecs.PutAttributesInput{Cluster: aws.String("c"),
			Attributes: []types.Attribute{{Name: aws.String(name), Value: value, TargetId: aws.String(ci)}}})
		return err
	}
	for _, name := range []string{"has space", "at@sign", "colon:name", strings.Repeat("n", 129)} {
		wantInvalid(t, "name "+name, put(name, aws.String("v")), "")
	}
	for _, value := range []string{" leading", "trailing ", "hash#", "", strings.Repeat("v", 129)} {
		wantInvalid(t, "value "+value, put("stack", aws.String(value)), "")
	}
	try(0, put(`team/app\x.y_z-1`, aws.String(`prod@eu:1 a/b\c`))).must(t)
	try(0, put("flag", nil)).must(t)
	got := try(c.ecs.ListAttributes(ctx, &ecs.ListAttributesInput{Cluster: aws.String("c"), TargetType: types.TargetTypeContainerInstance,
		AttributeName: aws.String(`team/app\x.y_z-1`)})).must(t).Attributes
	if len(got) != 1 || aws.ToString(got[0].Value) != `prod@eu:1 a/b\c` {
		t.Fatalf("attributes = %+v", got)
	}
}

// TestReviewContainerInstances, on a berth without a runtime: resources
// have a known type; registering an EC2 instance again without its
// container instance ARN registers a second container instance, as ECS
// does; StartTask reports instances it cannot use as failures; a DAEMON
// service cannot be updated to a desired count, a placement strategy or
// a maximumPercent above 100.
func TestReviewContainerInstances(t *testing.T) {
	t.Parallel()
	b := startT(t, t.TempDir(), "--runtime", "none", "--lb-network", "none", "--task-endpoint", "none")
	ctx, c := context.Background(), b.clients("us-east-1")
	try(c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("c")})).must(t)
	try(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"), ContainerDefinitions: []types.ContainerDefinition{webContainer("web")}})).must(t)
	resources := []types.Resource{
		{Name: aws.String("CPU"), Type: aws.String("INTEGER"), IntegerValue: 1024},
		{Name: aws.String("MEMORY"), Type: aws.String("INTEGER"), IntegerValue: 1024},
	}
	register := func(instanceID string, resources []types.Resource) (*ecs.RegisterContainerInstanceOutput, error) {
		return c.ecs.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{Cluster: aws.String("c"),
			InstanceIdentityDocument: aws.String(`{"instanceId":"` + instanceID + `","availabilityZone":"us-east-1a"}`), TotalResources: resources})
	}

	// "Valid values: INTEGER, DOUBLE, LONG, or STRINGSET".
	// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Resource.html
	_, err := register("i-0000000000000000a", []types.Resource{{Name: aws.String("CPU"), Type: aws.String("FLOAT"), DoubleValue: 1}})
	wantInvalid(t, "resource type FLOAT", err, "")
	// Custom attributes given at registration follow API_Attribute too.
	// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Attribute.html
	_, err = c.ecs.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{Cluster: aws.String("c"),
		Attributes: []types.Attribute{{Name: aws.String("stack"), Value: aws.String(" prod")}}, TotalResources: resources})
	wantInvalid(t, "registration attribute with a leading space", err, "")

	// RegisterContainerInstance is not idempotent: the same EC2 instance
	// registered again without its container instance ARN is a second
	// container instance (an ECS engineer's answer:
	// https://github.com/aws/amazon-ecs-agent/issues/782; the request to
	// change that is open: https://github.com/aws/containers-roadmap/issues/1901).
	first := try(register("i-0000000000000000b", resources)).must(t).ContainerInstance
	second := try(register("i-0000000000000000b", resources)).must(t).ContainerInstance
	if *first.ContainerInstanceArn == *second.ContainerInstanceArn || aws.ToString(second.Ec2InstanceId) != "i-0000000000000000b" {
		t.Fatalf("registered twice: %s and %s (%s)", *first.ContainerInstanceArn, *second.ContainerInstanceArn, aws.ToString(second.Ec2InstanceId))
	}
	// Re-registering with the ARN updates that one.
	again := try(c.ecs.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{Cluster: aws.String("c"), ContainerInstanceArn: first.ContainerInstanceArn,
		InstanceIdentityDocument: aws.String(`{"instanceId":"i-0000000000000000b","availabilityZone":"us-east-1a"}`), TotalResources: resources})).must(t).ContainerInstance
	if *again.ContainerInstanceArn != *first.ContainerInstanceArn {
		t.Fatalf("re-registered %s as %s", *first.ContainerInstanceArn, *again.ContainerInstanceArn)
	}

	// StartTask: MISSING for an instance not in the cluster, INACTIVE for a
	// deregistered one (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/api_failures_messages.html);
	// a DRAINING one takes no new task
	// (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/container-instance-draining.html).
	draining := try(register("i-0000000000000000c", resources)).must(t).ContainerInstance
	try(c.ecs.UpdateContainerInstancesState(ctx, &ecs.UpdateContainerInstancesStateInput{Cluster: aws.String("c"),
		ContainerInstances: []string{*draining.ContainerInstanceArn}, Status: types.ContainerInstanceStatusDraining})).must(t)
	inactive := try(register("i-0000000000000000d", resources)).must(t).ContainerInstance
	try(c.ecs.DeregisterContainerInstance(ctx, &ecs.DeregisterContainerInstanceInput{Cluster: aws.String("c"), ContainerInstance: inactive.ContainerInstanceArn})).must(t)
	missing := "0123456789abcdef0123456789abcdef"
	start := try(c.ecs.StartTask(ctx, &ecs.StartTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("web"),
		ContainerInstances: []string{*draining.ContainerInstanceArn, *inactive.ContainerInstanceArn, missing, *second.ContainerInstanceArn}})).must(t)
	if len(start.Tasks) != 1 || aws.ToString(start.Tasks[0].ContainerInstanceArn) != *second.ContainerInstanceArn {
		t.Fatalf("StartTask tasks = %+v", start.Tasks)
	}
	reasons := map[string]string{}
	for _, f := range start.Failures {
		reasons[aws.ToString(f.Arn)] = aws.ToString(f.Reason)
	}
	want := map[string]string{*draining.ContainerInstanceArn: "DRAINING", *inactive.ContainerInstanceArn: "INACTIVE", missing: "MISSING"}
	if len(reasons) != len(want) {
		t.Fatalf("StartTask failures = %v, want %v", reasons, want)
	}
	for arn, reason := range want {
		if reasons[arn] != reason {
			t.Errorf("StartTask failure for %s = %q, want %q", arn, reasons[arn], reason)
		}
	}
	// A public IP is Fargate's: StartTask places on container instances.
	// https://github.com/hashicorp/waypoint/issues/643
	_, err = c.ecs.StartTask(ctx, &ecs.StartTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("web"), ContainerInstances: []string{*second.ContainerInstanceArn},
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: subnets(t, ctx, c)[:1], AssignPublicIp: types.AssignPublicIpEnabled}}})
	wantInvalid(t, "StartTask with a public IP", err, "Assign public IP is not supported for this launch type.")

	// A DAEMON service's updates.
	try(c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("agent"), TaskDefinition: aws.String("web"),
		SchedulingStrategy: types.SchedulingStrategyDaemon})).must(t)
	update := func(edit func(*ecs.UpdateServiceInput)) error {
		in := &ecs.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("agent")}
		edit(in)
		_, err := c.ecs.UpdateService(ctx, in)
		return err
	}
	// https://github.com/fabfuel/ecs-deploy/issues/59 (UpdateService)
	wantInvalid(t, "UpdateService desired count", update(func(in *ecs.UpdateServiceInput) { in.DesiredCount = aws.Int32(2) }),
		"The daemon scheduling strategy does not support a desired count for services. Remove the desired count value and try again")
	// https://github.com/kayac/ecspresso/pull/402 (UpdateService)
	wantInvalid(t, "UpdateService placement strategy", update(func(in *ecs.UpdateServiceInput) {
		in.PlacementStrategy = []types.PlacementStrategy{{Type: types.PlacementStrategyTypeRandom}}
	}), "The daemon scheduling strategy does not support placement strategies. Remove the placement strategy and try again")
	// https://github.com/aws/aws-cdk/issues/2209
	wantInvalid(t, "UpdateService maximumPercent 200", update(func(in *ecs.UpdateServiceInput) {
		in.DeploymentConfiguration = &types.DeploymentConfiguration{MaximumPercent: aws.Int32(200)}
	}), "The daemon scheduling strategy does not support values above 100 for maximumPercent on a deployment configuration. Change the maximumPercent value to 100, and try again")
	// An empty placement strategy list, as tools copy it from
	// DescribeServices, is no strategy.
	try(0, update(func(in *ecs.UpdateServiceInput) { in.PlacementStrategy = []types.PlacementStrategy{} })).must(t)
}
