package ecs

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// RunTask records count new tasks of a task definition. Until a runtime
// starts them they stay PROVISIONING.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html
func (b *Backend) RunTask(ctx context.Context, in *ecsapi.RunTaskInput) (*ecsapi.RunTaskOutput, error) {
	count := ptrValue(in.Count)
	if in.Count == nil {
		count = 1
	}
	if count < 1 || count > 10 {
		return nil, errInvalidParameter("count must be between 1 and 10.")
	}
	if in.LaunchType != "" && len(in.CapacityProviderStrategy) > 0 {
		return nil, errInvalidParameter("Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.")
	}
	spec := taskSpec{
		cluster: in.Cluster, taskDefinition: in.TaskDefinition, launchType: in.LaunchType,
		capacityProviders: in.CapacityProviderStrategy, network: in.NetworkConfiguration,
		overrides: in.Overrides, startedBy: in.StartedBy, group: in.Group, tags: in.Tags,
		platformVersion: in.PlatformVersion, enableExecuteCommand: in.EnableExecuteCommand,
		propagateTags: in.PropagateTags, constraints: in.PlacementConstraints, strategy: in.PlacementStrategy, managedTags: in.EnableECSManagedTags,
	}
	if err := validConstraints(in.PlacementConstraints); err != nil {
		return nil, err
	}
	if err := validLaunchLists(in.PlacementStrategy, in.CapacityProviderStrategy, in.ReferenceId); err != nil {
		return nil, err
	}
	s, token := scopeOf(ctx), aws.ToString(in.ClientToken)
	if token != "" {
		tasks, failures, ran, err := b.ranBefore(ctx, s, token)
		if err != nil {
			return nil, err
		}
		if ran {
			return &ecsapi.RunTaskOutput{Tasks: backend.OrEmpty(tasks), Failures: backend.OrEmpty(failures)}, nil
		}
	}
	tasks, failures, err := b.startTasks(ctx, spec, int(count), nil)
	if err != nil {
		return nil, err
	}
	if token != "" {
		if err := b.rememberRun(ctx, s, token, tasks, failures); err != nil {
			return nil, err
		}
	}
	b.poke()
	return &ecsapi.RunTaskOutput{Tasks: backend.OrEmpty(tasks), Failures: failures}, nil
}

// StartTask records one task on each of the given container instances.
func (b *Backend) StartTask(ctx context.Context, in *ecsapi.StartTaskInput) (*ecsapi.StartTaskOutput, error) {
	if len(in.ContainerInstances) == 0 || len(in.ContainerInstances) > 10 {
		return nil, errInvalidParameter("containerInstances must have between 1 and 10 items.")
	}
	spec := taskSpec{
		cluster: in.Cluster, taskDefinition: in.TaskDefinition, launchType: types.LaunchTypeEc2,
		network: in.NetworkConfiguration, overrides: in.Overrides, startedBy: in.StartedBy,
		group: in.Group, tags: in.Tags, enableExecuteCommand: in.EnableExecuteCommand,
		propagateTags: in.PropagateTags, managedTags: in.EnableECSManagedTags,
	}
	if err := validLaunchLists(nil, nil, in.ReferenceId); err != nil {
		return nil, err
	}
	tasks, failures, err := b.startTasks(ctx, spec, len(in.ContainerInstances), in.ContainerInstances)
	if err != nil {
		return nil, err
	}
	b.poke()
	return &ecsapi.StartTaskOutput{Tasks: backend.OrEmpty(tasks), Failures: failures}, nil
}

// taskSpec is what RunTask and StartTask share.
type taskSpec struct {
	cluster, taskDefinition, startedBy, group, platformVersion *string
	launchType                                                 types.LaunchType
	capacityProviders                                          []types.CapacityProviderStrategyItem
	network                                                    *types.NetworkConfiguration
	overrides                                                  *types.TaskOverride
	tags                                                       []types.Tag
	enableExecuteCommand                                       bool
	propagateTags                                              types.PropagateTags
	constraints                                                []types.PlacementConstraint
	strategy                                                   []types.PlacementStrategy
	// managedTags asks for ECS's managed tags on the task; service names
	// the service that starts it, if one does.
	managedTags bool
	service     string
}

// putTaskTags stores a new task's tags: the caller's, validated before,
// and ECS's managed ones, which the caller could not set.
func putTaskTags(tx *sqlite.Tx, s scope, t types.Task) error {
	if len(t.Tags) == 0 {
		return nil
	}
	return tx.Put(s.Row(kindTags, *t.TaskArn, "", ""), t.Tags)
}

// propagatedTags are a new task's tags when those of the resource from
// (its task definition or its service) are propagated to it: the caller's,
// then from's that the caller did not set.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html#ECS-RunTask-request-propagateTags
func propagatedTags(tx *sqlite.Tx, s scope, from string, own []types.Tag) ([]types.Tag, error) {
	theirs, err := tags(tx, s, from)
	if err != nil {
		return nil, err
	}
	out := slices.Clip(own)
	for _, t := range theirs {
		if !slices.ContainsFunc(own, func(o types.Tag) bool { return aws.ToString(o.Key) == aws.ToString(t.Key) }) {
			out = append(out, t)
		}
	}
	return out, nil
}

// taskTags are the tags a new task of the cluster gets: the caller's,
// then ECS's managed tags when they are asked for.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-using-tags.html#managed-tags
func (spec taskSpec) taskTags(cluster string) []types.Tag {
	if !spec.managedTags {
		return spec.tags
	}
	out := append(slices.Clip(spec.tags), types.Tag{Key: aws.String("aws:ecs:clusterName"), Value: aws.String(cluster)})
	if spec.service != "" {
		out = append(out, types.Tag{Key: aws.String("aws:ecs:serviceName"), Value: aws.String(spec.service)})
	}
	return out
}

// startTasks records count tasks; EC2 tasks not bound to given instances
// are placed on the host, and those that do not fit are failures.
func (b *Backend) startTasks(ctx context.Context, spec taskSpec, count int, instances []string) ([]types.Task, []types.Failure, error) {
	s := scopeOf(ctx)
	if spec.taskDefinition == nil {
		return nil, nil, errInvalidParameter("TaskDefinition must be specified.")
	}
	if err := validTags(spec.tags); err != nil {
		return nil, nil, err
	}
	if err := validPlatformVersion(spec.launchType, spec.platformVersion); err != nil {
		return nil, nil, err
	}
	if o := spec.overrides; o != nil {
		if err := b.validRoles(ctx, o.TaskRoleArn, o.ExecutionRoleArn); err != nil {
			return nil, nil, err
		}
	}
	// The task definition's roles may have been deleted since it was
	// registered.
	var roles []*string
	if err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		td, err := b.taskDefinition(tx, s, *spec.taskDefinition)
		if err == nil {
			roles = []*string{td.TaskRoleArn, td.ExecutionRoleArn}
		}
		return nil // a missing task definition is answered below
	}); err != nil {
		return nil, nil, err
	}
	if err := b.assumableRoles(ctx, roles...); err != nil {
		return nil, nil, err
	}
	if err := b.validNetwork(ctx, spec.network); err != nil {
		return nil, nil, err
	}
	var tasks []types.Task
	failures := []types.Failure{}
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		c, err := b.activeCluster(tx, s, spec.cluster)
		if err != nil {
			return err
		}
		if err := validLaunch(resolvedLaunchType(spec.launchType, spec.capacityProviders, c.DefaultCapacityProviderStrategy), spec.platformVersion, spec.network); err != nil {
			return err
		}
		td, err := b.taskDefinition(tx, s, *spec.taskDefinition)
		if err != nil {
			return errInvalidParameter("TaskDefinition not found.")
		}
		if td.Status != types.TaskDefinitionStatusActive {
			return errInvalidParameter("TaskDefinition is inactive")
		}
		if spec.propagateTags == types.PropagateTagsTaskDefinition {
			if spec.tags, err = propagatedTags(tx, s, *td.TaskDefinitionArn, spec.tags); err != nil {
				return err
			}
		}
		launchType := launchTypeOf(spec.launchType, spec.capacityProviders)
		if err := validPlacement(&td, launchType, spec.network, nil, nil); err != nil {
			return err
		}
		if err := validOverrides(&td, spec.overrides); err != nil {
			return err
		}
		var instanceArns []string
		if instances != nil {
			var refused []types.Failure
			if instanceArns, refused, err = b.startTargets(tx, s, c, instances); err != nil {
				return err
			}
			failures = append(failures, refused...)
			count = len(instanceArns)
		}
		var placing *placement
		for i := range count {
			t := b.newTask(s, c, td, spec, launchType)
			switch {
			case instanceArns != nil:
				reason, err := b.fits(tx, s, c, instanceArns[i], t, td)
				if err != nil {
					return err
				}
				if reason != "" {
					failures = append(failures, types.Failure{Arn: aws.String(instanceArns[i]), Reason: aws.String(reason)})
					continue
				}
				t.ContainerInstanceArn = aws.String(instanceArns[i])
			case launchType == types.LaunchTypeEc2:
				if placing == nil {
					if placing, err = b.newPlacement(tx, s, c); err != nil {
						return err
					}
				}
				arn, failure := placing.place(t, td, spec.constraints, spec.strategy)
				if failure != nil && failure.Arn == nil {
					return errInvalidParameter(noInstances)
				}
				if failure != nil {
					failures = append(failures, *failure)
					continue
				}
				t.ContainerInstanceArn = aws.String(arn)
			}
			if err := putTask(tx, s.Scope, t); err != nil {
				return err
			}
			if err := putTaskTags(tx, s, t); err != nil {
				return err
			}
			tasks = append(tasks, t)
		}
		return nil
	})
	return tasks, failures, err
}

// startTargets sorts the container instances StartTask names into those
// it can start a task on and failures: MISSING for one not in the
// cluster, INACTIVE for a deregistered one, as ECS reports them
// (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/api_failures_messages.html,
// StartTask); and DRAINING for one being drained, on which ECS places no
// new tasks (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/container-instance-draining.html;
// that reason is berth's wording).
func (b *Backend) startTargets(tx *sqlite.Tx, s scope, c types.Cluster, refs []string) ([]string, []types.Failure, error) {
	var arns []string
	var failures []types.Failure
	for _, ref := range refs {
		ci, err := b.containerInstance(tx, s, c, ref)
		if awsproto.HasCode(err, &types.InvalidParameterException{}) {
			failures = append(failures, types.Failure{Arn: aws.String(ref), Reason: aws.String("MISSING")})
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		switch status := aws.ToString(ci.Status); status {
		case "INACTIVE", "DRAINING":
			failures = append(failures, types.Failure{Arn: ci.ContainerInstanceArn, Reason: aws.String(status)})
			continue
		}
		arns = append(arns, *ci.ContainerInstanceArn)
	}
	return arns, failures, nil
}

func validOverrides(td *types.TaskDefinition, o *types.TaskOverride) error {
	if o == nil {
		return nil
	}
	// ECS bounds the overrides' size, as users quote its answer:
	// "InvalidParameterException: Container Overrides length must be at
	// most 8192."
	if n := encodedSize(o.ContainerOverrides); n > 8192 {
		return errInvalidParameter("Container Overrides length must be at most 8192.")
	}
	for _, co := range o.ContainerOverrides {
		for _, v := range []*int32{co.Cpu, co.Memory, co.MemoryReservation} {
			if v != nil && *v < 0 {
				return errInvalidParameter("Invalid cpu or memory override for container %s: the value must not be negative.", aws.ToString(co.Name))
			}
		}
		if !slices.ContainsFunc(td.ContainerDefinitions, func(c types.ContainerDefinition) bool { return aws.ToString(c.Name) == aws.ToString(co.Name) }) {
			return errInvalidParameter("Override for container named %s is not a container in the TaskDefinition.", aws.ToString(co.Name))
		}
	}
	return nil
}

func (b *Backend) newTask(s scope, c types.Cluster, td types.TaskDefinition, spec taskSpec, launchType types.LaunchType) types.Task {
	id := b.env.IDs.Hex(32)
	arn := s.arn("task/" + *c.ClusterName + "/" + id)
	now := b.now()
	group := "family:" + *td.Family
	if spec.group != nil {
		group = *spec.group
	}
	overrides := types.TaskOverride{ContainerOverrides: []types.ContainerOverride{}, InferenceAcceleratorOverrides: []types.InferenceAcceleratorOverride{}}
	if spec.overrides != nil {
		overrides = *spec.overrides
		overrides.ContainerOverrides = backend.OrEmpty(overrides.ContainerOverrides)
		overrides.InferenceAcceleratorOverrides = backend.OrEmpty(overrides.InferenceAcceleratorOverrides)
	}
	t := types.Task{
		TaskArn:               aws.String(arn),
		ClusterArn:            c.ClusterArn,
		TaskDefinitionArn:     td.TaskDefinitionArn,
		Overrides:             &overrides,
		LastStatus:            aws.String("PROVISIONING"),
		DesiredStatus:         aws.String("RUNNING"),
		Cpu:                   td.Cpu,
		Memory:                td.Memory,
		CreatedAt:             now,
		Group:                 aws.String(group),
		LaunchType:            launchType,
		CapacityProviderName:  capacityProviderName(spec.capacityProviders),
		StartedBy:             spec.startedBy,
		Version:               1,
		Attachments:           []types.Attachment{},
		Tags:                  backend.OrEmpty(spec.taskTags(aws.ToString(c.ClusterName))),
		HealthStatus:          types.HealthStatusUnknown,
		EnableExecuteCommand:  spec.enableExecuteCommand,
		AvailabilityZone:      aws.String(s.Region + "a"),
		PlatformVersion:       platformVersion(launchType, spec.platformVersion),
		PlatformFamily:        platformFamily(launchType),
		Attributes:            []types.Attribute{},
		InferenceAccelerators: []types.InferenceAccelerator{},
	}
	if launchType == types.LaunchTypeFargate {
		t.EphemeralStorage = &types.EphemeralStorage{SizeInGiB: 20}
	}
	if td.NetworkMode == types.NetworkModeAwsvpc {
		t.Attachments = []types.Attachment{{
			Id:     aws.String(backend.NewUUID(b.env.IDs)),
			Type:   aws.String("ElasticNetworkInterface"),
			Status: aws.String("PRECREATED"),
			Details: []types.KeyValuePair{
				{Name: aws.String("subnetId"), Value: aws.String(firstOr(spec.network.AwsvpcConfiguration.Subnets, ""))},
			},
		}}
	}
	for _, cd := range td.ContainerDefinitions {
		t.Containers = append(t.Containers, types.Container{
			ContainerArn:      aws.String(s.arn("container/" + *c.ClusterName + "/" + id + "/" + backend.NewUUID(b.env.IDs))),
			TaskArn:           t.TaskArn,
			Name:              cd.Name,
			Image:             cd.Image,
			LastStatus:        aws.String("PENDING"),
			NetworkBindings:   []types.NetworkBinding{},
			NetworkInterfaces: []types.NetworkInterface{},
			HealthStatus:      types.HealthStatusUnknown,
			Cpu:               aws.String(strconvItoa(cd.Cpu)),
			Memory:            int32String(cd.Memory),
			MemoryReservation: int32String(cd.MemoryReservation),
		})
	}
	return t
}

func capacityProviderName(strategy []types.CapacityProviderStrategyItem) *string {
	if len(strategy) == 0 {
		return nil
	}
	return strategy[0].CapacityProvider
}

func firstOr(s []string, def string) string {
	if len(s) == 0 {
		return def
	}
	return s[0]
}

// task loads a task by id or ARN within cluster c.
func (b *Backend) task(tx *sqlite.Tx, s scope, c types.Cluster, ref string) (types.Task, error) {
	id := ref
	if strings.HasPrefix(ref, "arn:") {
		id = s.name(ref, "task")
	}
	var t types.Task
	err := tx.Get(s.Key(kindTask, s.arn("task/"+*c.ClusterName+"/"+id)), &t)
	return t, notFound(err, func() error { return errInvalidParameter("The referenced task was not found.") })
}

// StopTask asks a task to stop: its desired status becomes STOPPED at
// once, and the agent takes it through DEACTIVATING and STOPPING to
// STOPPED. The reason defaults to ECS's "Task stopped by user".
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_StopTask.html
func (b *Backend) StopTask(ctx context.Context, in *ecsapi.StopTaskInput) (*ecsapi.StopTaskOutput, error) {
	s := scopeOf(ctx)
	if in.Task == nil {
		return nil, errInvalidParameter("task must be specified.")
	}
	var t types.Task
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		c, err := b.cluster(tx, s, in.Cluster)
		if err != nil {
			return err
		}
		if t, err = b.task(tx, s, c, *in.Task); err != nil {
			return err
		}
		reason := reasonUser
		if in.Reason != nil {
			reason = *in.Reason
		}
		if !stopTask(&t, types.TaskStopCodeUserInitiated, reason, b.now()) {
			return nil
		}
		t.Version++
		return putTask(tx, s.Scope, t)
	})
	if err != nil {
		return nil, err
	}
	b.poke()
	return &ecsapi.StopTaskOutput{Task: &t}, nil
}

// DescribeTasks describes up to 100 tasks of one cluster.
func (b *Backend) DescribeTasks(ctx context.Context, in *ecsapi.DescribeTasksInput) (*ecsapi.DescribeTasksOutput, error) {
	s := scopeOf(ctx)
	if len(in.Tasks) == 0 || len(in.Tasks) > 100 {
		return nil, errInvalidParameter("tasks must have between 1 and 100 items.")
	}
	out := &ecsapi.DescribeTasksOutput{Tasks: []types.Task{}, Failures: []types.Failure{}}
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		c, err := b.cluster(tx, s, in.Cluster)
		if err != nil {
			return err
		}
		for _, ref := range in.Tasks {
			t, err := b.task(tx, s, c, ref)
			if err != nil {
				arn := ref
				if !strings.HasPrefix(ref, "arn:") {
					arn = s.arn("task/" + *c.ClusterName + "/" + ref)
				}
				out.Failures = append(out.Failures, types.Failure{Arn: aws.String(arn), Reason: aws.String("MISSING")})
				continue
			}
			if slices.Contains(in.Include, types.TaskFieldTags) {
				if t.Tags, err = tags(tx, s, *t.TaskArn); err != nil {
					return err
				}
			} else {
				t.Tags = nil
			}
			out.Tasks = append(out.Tasks, t)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListTasks lists task ARNs of a cluster with ECS's filters; desiredStatus
// defaults to RUNNING (PENDING lists tasks not yet RUNNING).
func (b *Backend) ListTasks(ctx context.Context, in *ecsapi.ListTasksInput) (*ecsapi.ListTasksOutput, error) {
	s := scopeOf(ctx)
	limit, err := pageLimit(in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	desired := in.DesiredStatus
	if desired == "" {
		desired = types.DesiredStatusRunning
	}
	if in.Family != nil && in.ServiceName != nil {
		return nil, errInvalidParameter("The family and serviceName parameters can't be specified together.")
	}
	out := &ecsapi.ListTasksOutput{TaskArns: []string{}}
	err = b.store.View(ctx, func(tx *sqlite.Tx) error {
		c, err := b.cluster(tx, s, in.Cluster)
		if err != nil {
			return err
		}
		var instanceArn string
		if in.ContainerInstance != nil {
			ci, err := b.containerInstance(tx, s, c, *in.ContainerInstance)
			if err != nil {
				return err
			}
			instanceArn = *ci.ContainerInstanceArn
		}
		q := s.Query(kindTask, *c.ClusterArn)
		q.Token, q.Limit = ptrValue(in.NextToken), limit
		// Tasks are indexed by taskIndex: those that should run by their
		// desired status; stopped ones are STOPPING or STOPPED.
		if desired != types.DesiredStatusStopped {
			q.Name = statusRunning
		}
		filtered := desired != types.DesiredStatusRunning || in.Family != nil || in.ServiceName != nil ||
			in.StartedBy != nil || in.LaunchType != "" || instanceArn != ""
		if !filtered {
			var next string
			out.TaskArns, next, err = tx.ListIDs(q)
			out.TaskArns = backend.OrEmpty(out.TaskArns)
			out.NextToken = nextToken(next)
			return pageToken(err)
		}
		page, next, err := sqlite.ListPage(tx, q, func(t taskKeys) bool {
			switch {
			case desired == types.DesiredStatusPending && aws.ToString(t.LastStatus) == "RUNNING":
				return false
			case desired == types.DesiredStatusStopped && aws.ToString(t.DesiredStatus) != statusStopped:
				return false
			case in.Family != nil && !strings.Contains(aws.ToString(t.TaskDefinitionArn), ":task-definition/"+*in.Family+":"):
				return false
			case in.ServiceName != nil && aws.ToString(t.Group) != "service:"+resourceName(*in.ServiceName, "service"):
				return false
			case in.StartedBy != nil && aws.ToString(t.StartedBy) != *in.StartedBy:
				return false
			case in.LaunchType != "" && t.LaunchType != in.LaunchType:
				return false
			case instanceArn != "" && aws.ToString(t.ContainerInstanceArn) != instanceArn:
				return false
			}
			return true
		})
		for _, t := range page {
			out.TaskArns = append(out.TaskArns, *t.TaskArn)
		}
		out.NextToken = nextToken(next)
		return pageToken(err)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// NetworkInterfaces lists the elastic network interfaces of scope s's
// awsvpc tasks that hold one (their attachment is ATTACHED), as EC2
// describes those ECS makes for tasks: requester-managed, described by
// the attachment's ARN.
func (b *Backend) NetworkInterfaces(ctx context.Context, s backend.Scope) ([]ec2types.NetworkInterface, error) {
	var tasks []sqlite.Keyed[struct{ Attachments []types.Attachment }]
	if err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		tasks, err = scanLiveTasks[struct{ Attachments []types.Attachment }](tx)
		return err
	}); err != nil {
		return nil, err
	}
	var out []ec2types.NetworkInterface
	for _, t := range tasks {
		if t.Key.Account != s.Account || t.Key.Region != s.Region {
			continue
		}
		for _, att := range t.Value.Attachments {
			if aws.ToString(att.Type) != "ElasticNetworkInterface" || aws.ToString(att.Status) != "ATTACHED" {
				continue
			}
			d := map[string]*string{}
			for _, kv := range att.Details {
				d[aws.ToString(kv.Name)] = kv.Value
			}
			out = append(out, ec2types.NetworkInterface{
				NetworkInterfaceId: d["networkInterfaceId"], SubnetId: d["subnetId"], MacAddress: d["macAddress"],
				PrivateIpAddress: d["privateIPv4Address"], PrivateDnsName: d["privateDnsName"],
				PrivateIpAddresses: []ec2types.NetworkInterfacePrivateIpAddress{{Primary: aws.Bool(true),
					PrivateIpAddress: d["privateIPv4Address"], PrivateDnsName: d["privateDnsName"]}},
				Description:      aws.String(scope{s}.arn("attachment/" + aws.ToString(att.Id))),
				InterfaceType:    ec2types.NetworkInterfaceTypeInterface,
				RequesterManaged: aws.Bool(true), SourceDestCheck: aws.Bool(true),
				Attachment: &ec2types.NetworkInterfaceAttachment{Status: ec2types.AttachmentStatusAttached, DeviceIndex: aws.Int32(1),
					AttachmentId: aws.String("eni-attach-" + strings.ReplaceAll(aws.ToString(att.Id), "-", "")[:17])},
			})
		}
	}
	return out, nil
}
