package ecs

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth/awsproto/json11"
	"berth/backend"
	"berth/sqlite"
)

var imagePattern = regexp.MustCompile(`^[A-Za-z0-9_.:/#@-]{1,255}$`)

// ECS's quotas on a task definition.
const (
	maxTaskDefinitionSize = 65536 // bytes, as JSON
	maxContainers         = 10
)

// encodedSize is the length of v as the AWS JSON protocol encodes it.
func encodedSize(v any) int {
	var buf bytes.Buffer
	json11.Codec{}.Encode(&buf, v)
	return buf.Len()
}

// family records the last revision a task definition family used; revisions
// are never reused, even after deletion.
type family struct {
	Name         string
	LastRevision int32
}

// RegisterTaskDefinition registers the next revision of a family, validated
// and with the defaults ECS fills in.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html
func (b *Backend) RegisterTaskDefinition(ctx context.Context, in *ecsapi.RegisterTaskDefinitionInput) (*ecsapi.RegisterTaskDefinitionOutput, error) {
	s := scopeOf(ctx)
	// A task definition is at most 64 KiB, in ECS's words as users
	// report them ("Actual length: '74049'. Max allowed length is '65536'
	// bytes."); at most 10 containers.
	// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html
	withoutTags := *in
	withoutTags.Tags = nil
	if n := encodedSize(&withoutTags); n > maxTaskDefinitionSize {
		return nil, errClient("Actual length: '%d'. Max allowed length is '%d' bytes.", n, maxTaskDefinitionSize)
	}
	if len(in.ContainerDefinitions) > maxContainers {
		return nil, errClient("Too many containers: a task definition can have at most %d containers.", maxContainers)
	}
	td, err := newTaskDefinition(in)
	if err != nil {
		return nil, err
	}
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	if err := b.validRoles(ctx, td.TaskRoleArn, td.ExecutionRoleArn); err != nil {
		return nil, err
	}
	td.RegisteredAt = b.now()
	td.RegisteredBy = aws.String(s.principal())
	err = b.store.Update(ctx, func(tx *sqlite.Tx) error {
		var f family
		if err := tx.Get(s.Key(kindFamily, *td.Family), &f); err != nil && !errors.Is(err, sqlite.ErrNotFound) {
			return err
		}
		f.Name = *td.Family
		f.LastRevision++
		if err := tx.Put(s.Row(kindFamily, f.Name, "", f.Name), f); err != nil {
			return err
		}
		td.Revision = f.LastRevision
		td.TaskDefinitionArn = aws.String(s.arn(fmt.Sprintf("task-definition/%s:%d", f.Name, f.LastRevision)))
		if err := tx.Put(s.Row(kindTaskDefinition, *td.TaskDefinitionArn, "", f.Name), td); err != nil {
			return err
		}
		if len(in.Tags) > 0 {
			return setTags(tx, s, *td.TaskDefinitionArn, in.Tags)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ecsapi.RegisterTaskDefinitionOutput{TaskDefinition: td, Tags: in.Tags}, nil
}

func newTaskDefinition(in *ecsapi.RegisterTaskDefinitionInput) (*types.TaskDefinition, error) {
	if in.Family == nil || !namePattern.MatchString(*in.Family) {
		return nil, errClient("Family must be between 1 and 255 characters and contain only letters (uppercase and lowercase), numbers, hyphens and underscores.")
	}
	if len(in.ContainerDefinitions) == 0 {
		return nil, errClient("Container list cannot be empty.")
	}
	mode := in.NetworkMode
	switch mode {
	case "", types.NetworkModeBridge, types.NetworkModeHost, types.NetworkModeAwsvpc, types.NetworkModeNone:
	default:
		return nil, errClient("Invalid networkMode: %s. Valid values are bridge, host, awsvpc and none.", mode)
	}
	cpu, err := normalizeUnits(in.Cpu, "cpu", 1024, "vcpu")
	if err != nil {
		return nil, err
	}
	memory, err := normalizeUnits(in.Memory, "memory", 1024, "gb")
	if err != nil {
		return nil, err
	}
	if err := validEphemeralStorage(in.EphemeralStorage); err != nil {
		return nil, err
	}
	fargate := slices.Contains(in.RequiresCompatibilities, types.CompatibilityFargate)
	for _, c := range in.RequiresCompatibilities {
		switch c {
		case types.CompatibilityEc2, types.CompatibilityFargate, types.CompatibilityExternal, types.CompatibilityManagedInstances:
		default:
			return nil, errClient("Invalid requiresCompatibilities value: %s", c)
		}
	}
	if fargate {
		if err := fargateCompatible(mode, cpu, memory); err != nil {
			return nil, err
		}
		if err := fargateFeatures(in); err != nil {
			return nil, err
		}
		if err := fargateExecutionRole(in); err != nil {
			return nil, err
		}
	}
	volumes := slices.Clone(backend.OrEmpty(in.Volumes))
	for i, v := range volumes {
		if efs := v.EfsVolumeConfiguration; efs != nil && efs.RootDirectory == nil {
			// The root of the file system, unless told otherwise.
			// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_EFSVolumeConfiguration.html
			withRoot := *efs
			withRoot.RootDirectory = aws.String("/")
			volumes[i].EfsVolumeConfiguration = &withRoot
		}
		if v.Name == nil || *v.Name == "" {
			return nil, errClient("Volume name should not be null or empty.")
		}
		if slices.ContainsFunc(volumes[:i], func(o types.Volume) bool { return aws.ToString(o.Name) == *v.Name }) {
			return nil, errClient("Duplicate volume name: %s.", *v.Name)
		}
	}
	containers := make([]types.ContainerDefinition, len(in.ContainerDefinitions))
	names := map[string]bool{}
	for i, c := range in.ContainerDefinitions {
		if err := validContainer(c, mode, memory != nil, volumes); err != nil {
			return nil, err
		}
		if names[*c.Name] {
			return nil, errClient("Duplicate container name: %s.", *c.Name)
		}
		names[*c.Name] = true
		containers[i] = withContainerDefaults(c, mode)
	}
	for _, c := range containers {
		for _, d := range c.DependsOn {
			if !names[aws.ToString(d.ContainerName)] {
				return nil, errClient("Invalid 'dependsOn' setting for container '%s': container '%s' does not exist in the task definition.", *c.Name, aws.ToString(d.ContainerName))
			}
		}
		for _, vf := range c.VolumesFrom {
			if !names[aws.ToString(vf.SourceContainer)] {
				return nil, errClient("Invalid 'volumesFrom' setting for container '%s': container '%s' does not exist in the task definition.", *c.Name, aws.ToString(vf.SourceContainer))
			}
		}
	}
	if err := validContainerSizes(containers, cpu, memory); err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(containers, func(c types.ContainerDefinition) bool { return aws.ToBool(c.Essential) }) {
		return nil, errClient("Task definition must have at least one essential container.")
	}
	if err := validFireLens(containers); err != nil {
		return nil, err
	}
	if err := validSecrets(containers, aws.ToString(in.ExecutionRoleArn)); err != nil {
		return nil, err
	}
	td := &types.TaskDefinition{
		Family:                  in.Family,
		ContainerDefinitions:    containers,
		Volumes:                 volumes,
		NetworkMode:             mode,
		Cpu:                     cpu,
		Memory:                  memory,
		TaskRoleArn:             in.TaskRoleArn,
		ExecutionRoleArn:        in.ExecutionRoleArn,
		PidMode:                 in.PidMode,
		IpcMode:                 in.IpcMode,
		ProxyConfiguration:      in.ProxyConfiguration,
		InferenceAccelerators:   in.InferenceAccelerators,
		EphemeralStorage:        in.EphemeralStorage,
		RuntimePlatform:         in.RuntimePlatform,
		EnableFaultInjection:    in.EnableFaultInjection,
		RequiresCompatibilities: in.RequiresCompatibilities,
		PlacementConstraints:    make([]types.TaskDefinitionPlacementConstraint, 0, len(in.PlacementConstraints)),
		Status:                  types.TaskDefinitionStatusActive,
		Compatibilities:         compatibilities(mode, fargateCompatible(mode, cpu, memory) == nil && fargateFeatures(in) == nil),
	}
	for _, pc := range in.PlacementConstraints {
		// Only memberOf can be part of a task definition.
		// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TaskDefinitionPlacementConstraint.html
		if pc.Type != types.TaskDefinitionPlacementConstraintTypeMemberOf {
			return nil, errClient("Invalid placement constraint type %s: a task definition takes only memberOf.", pc.Type)
		}
		if err := validExpression(pc.Expression); err != nil {
			return nil, errClient("%s", err)
		}
		td.PlacementConstraints = append(td.PlacementConstraints, pc)
	}
	return td, nil
}

// validFireLens refuses a task definition in which FireLens has half of
// what it needs: an awsfirelens log configuration without a log router (a
// container with firelensConfiguration), or a router no container uses.
// The messages are ECS's, as users have reported them:
// https://github.com/fabfuel/ecs-deploy/issues/164 and
// https://github.com/aws/amazon-cloudwatch-logs-for-fluent-bit/issues/20
func validFireLens(containers []types.ContainerDefinition) error {
	router := slices.ContainsFunc(containers, func(c types.ContainerDefinition) bool { return c.FirelensConfiguration != nil })
	routed := slices.ContainsFunc(containers, func(c types.ContainerDefinition) bool {
		return c.LogConfiguration != nil && c.LogConfiguration.LogDriver == types.LogDriverAwsfirelens
	})
	switch {
	case routed && !router:
		return errClient("When awsfirelens log driver is specified in log configuration, a firelens configuration object must be configured in one of the containers.")
	case router && !routed:
		return errClient("When a firelensConfiguration object is specified, at least one container has to be configured with the awsfirelens log driver.")
	}
	return nil
}

func validContainer(c types.ContainerDefinition, mode types.NetworkMode, taskMemory bool, volumes []types.Volume) error {
	if c.Name == nil || *c.Name == "" {
		return errClient("Container.name should not be null or empty.")
	}
	if !namePattern.MatchString(*c.Name) {
		return errClient("Container.name can have up to 255 characters: letters (uppercase and lowercase), numbers, underscores, and hyphens.")
	}
	if c.Image == nil || *c.Image == "" {
		return errClient("Container.image should not be null or empty.")
	}
	// Up to 255 letters, numbers, hyphens, underscores, colons, periods,
	// forward slashes and number signs (and @ of a digest); the message is
	// ECS's, as users report it.
	// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_image
	if !imagePattern.MatchString(*c.Image) {
		return errClient("Container.image contains invalid characters.")
	}
	if c.Memory == nil && c.MemoryReservation == nil && !taskMemory {
		return errClient("Invalid setting for container '%s'. At least one of 'memory' or 'memoryReservation' must be specified.", *c.Name)
	}
	if c.Cpu < 0 {
		// Container cpu units are 0 or more (0 or unset shares the task's).
		// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html#ECS-Type-ContainerDefinition-cpu
		return errClient("Invalid 'cpu' setting for container '%s'. The cpu units must not be negative.", *c.Name)
	}
	if c.Memory != nil && *c.Memory < 6 {
		return errClient("Invalid 'memory' setting for container '%s'. The minimum is 6 MiB.", *c.Name)
	}
	if c.Memory != nil && c.MemoryReservation != nil && *c.Memory < *c.MemoryReservation {
		return errClient("Invalid 'memory' setting for container '%s'. 'memory' must be greater than or equal to 'memoryReservation'.", *c.Name)
	}
	if err := validHealthCheck(*c.Name, c.HealthCheck); err != nil {
		return err
	}
	if len(c.Links) > 0 && mode != "" && mode != types.NetworkModeBridge {
		return errClient("Links are not supported when networkMode=%s.", mode)
	}
	for _, p := range c.PortMappings {
		cp := aws.ToInt32(p.ContainerPort)
		if p.ContainerPort != nil && (cp < 1 || cp > 65535) {
			return errClient("Invalid 'containerPort' setting for container '%s'.", *c.Name)
		}
		if p.HostPort != nil && (*p.HostPort < 0 || *p.HostPort > 65535) {
			return errClient("Invalid 'hostPort' setting for container '%s'.", *c.Name)
		}
		if (mode == types.NetworkModeAwsvpc || mode == types.NetworkModeHost) && p.HostPort != nil && p.ContainerPort != nil && *p.HostPort != *p.ContainerPort {
			return errClient("When networkMode=%s, the host ports and container ports in port mappings must match.", mode)
		}
		switch p.Protocol {
		case "", types.TransportProtocolTcp, types.TransportProtocolUdp:
		default:
			return errClient("Invalid 'protocol' setting for container '%s'.", *c.Name)
		}
	}
	for _, m := range c.MountPoints {
		if !slices.ContainsFunc(volumes, func(v types.Volume) bool { return aws.ToString(v.Name) == aws.ToString(m.SourceVolume) }) {
			return errClient("Invalid 'mountPoints' setting for container '%s'. sourceVolume '%s' is not defined in the task definition volumes.", *c.Name, aws.ToString(m.SourceVolume))
		}
	}
	for _, d := range c.DependsOn {
		switch d.Condition {
		case types.ContainerConditionStart, types.ContainerConditionComplete, types.ContainerConditionSuccess, types.ContainerConditionHealthy:
		default:
			return errClient("Invalid 'dependsOn' condition for container '%s'.", *c.Name)
		}
	}
	return nil
}

// withContainerDefaults fills in what ECS returns for members the request
// left out.
func withContainerDefaults(c types.ContainerDefinition, mode types.NetworkMode) types.ContainerDefinition {
	if c.Essential == nil {
		c.Essential = aws.Bool(true)
	}
	c.Environment = backend.OrEmpty(c.Environment)
	c.MountPoints = backend.OrEmpty(c.MountPoints)
	c.VolumesFrom = backend.OrEmpty(c.VolumesFrom)
	c.PortMappings = slices.Clone(backend.OrEmpty(c.PortMappings))
	c.SystemControls = backend.OrEmpty(c.SystemControls)
	if hc := c.HealthCheck; hc != nil {
		// ECS stores a health check with its defaults filled in.
		// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html
		filled := *hc
		filled.Interval = cmp.Or(filled.Interval, aws.Int32(30))
		filled.Timeout = cmp.Or(filled.Timeout, aws.Int32(5))
		filled.Retries = cmp.Or(filled.Retries, aws.Int32(3))
		c.HealthCheck = &filled
	}
	for i := range c.PortMappings {
		p := &c.PortMappings[i]
		if p.Protocol == "" {
			p.Protocol = types.TransportProtocolTcp
		}
		if p.HostPort == nil && (mode == types.NetworkModeAwsvpc || mode == types.NetworkModeHost) {
			p.HostPort = p.ContainerPort
		}
	}
	return c
}

// normalizeUnits turns "1 vCPU" / "2 GB" style values into the plain
// numbers ECS stores ("1024", "2048"); numbers pass through.
func normalizeUnits(v *string, what string, per float64, unit string) (*string, error) {
	if v == nil {
		return nil, nil
	}
	s := strings.ToLower(strings.TrimSpace(*v))
	if n, err := strconv.Atoi(s); err == nil && n > 0 {
		return aws.String(strconv.Itoa(n)), nil
	}
	for _, u := range []string{unit, "mib", "mb"} {
		num, ok := strings.CutSuffix(s, u)
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || f <= 0 {
			break
		}
		if u != unit {
			per = 1
		}
		return aws.String(strconv.Itoa(int(math.Round(f * per)))), nil
	}
	return nil, errClient("Invalid '%s' setting for task.", what)
}

// fargateMemory lists the memory values (MiB) Fargate allows for each task
// cpu value.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
func fargateMemory(cpu int) []int {
	span := func(lo, hi, step int) []int {
		var out []int
		for m := lo; m <= hi; m += step {
			out = append(out, m)
		}
		return out
	}
	switch cpu {
	case 256:
		return []int{512, 1024, 2048}
	case 512:
		return span(1024, 4096, 1024)
	case 1024:
		return span(2048, 8192, 1024)
	case 2048:
		return span(4096, 16384, 1024)
	case 4096:
		return span(8192, 30720, 1024)
	case 8192:
		return span(16384, 61440, 4096)
	case 16384:
		return span(32768, 122880, 8192)
	}
	return nil
}

func fargateCompatible(mode types.NetworkMode, cpu, memory *string) error {
	if mode != types.NetworkModeAwsvpc {
		return errClient("Fargate only supports network mode 'awsvpc'.")
	}
	if cpu == nil {
		return errClient("Fargate requires that 'cpu' be defined at the task level.")
	}
	if memory == nil {
		return errClient("Fargate requires that 'memory' be defined at the task level.")
	}
	c, _ := strconv.Atoi(*cpu)
	m, _ := strconv.Atoi(*memory)
	if !slices.Contains(fargateMemory(c), m) {
		return errClient("No Fargate configuration exists for given values: %s CPU, %s memory. See the Amazon ECS documentation for the valid values.", *cpu, *memory)
	}
	return nil
}

// compatibilities are the launch types a task definition suits: EC2;
// EXTERNAL unless it uses awsvpc; FARGATE when it fits Fargate.
func compatibilities(mode types.NetworkMode, fargate bool) []types.Compatibility {
	out := []types.Compatibility{types.CompatibilityEc2}
	if mode != types.NetworkModeAwsvpc {
		out = append([]types.Compatibility{types.CompatibilityExternal}, out...)
	}
	if fargate {
		out = append(out, types.CompatibilityFargate)
	}
	return out
}

// taskDefinition loads a task definition named by family (latest ACTIVE
// revision), family:revision or ARN.
func (b *Backend) taskDefinition(tx *sqlite.Tx, s scope, ref string) (types.TaskDefinition, error) {
	var td types.TaskDefinition
	missing := func() error { return errClient("Unable to describe task definition.") }
	name := ref
	if strings.HasPrefix(ref, "arn:") {
		name = s.name(ref, "task-definition")
		if name == "" {
			return td, missing()
		}
	}
	fam, rev, hasRev := strings.Cut(name, ":")
	if hasRev {
		if _, err := strconv.Atoi(rev); err != nil {
			return td, missing()
		}
		err := tx.Get(s.Key(kindTaskDefinition, s.arn("task-definition/"+fam+":"+rev)), &td)
		return td, notFound(err, missing)
	}
	q := s.Query(kindTaskDefinition, "")
	q.Name = fam
	all, err := sqlite.ListAll[types.TaskDefinition](tx, q)
	if err != nil {
		return td, err
	}
	found := false
	for _, t := range all {
		if t.Status == types.TaskDefinitionStatusActive && (!found || t.Revision > td.Revision) {
			td, found = t, true
		}
	}
	if !found {
		return td, missing()
	}
	return td, nil
}

// DescribeTaskDefinition describes one task definition, with its tags when
// include has TAGS.
func (b *Backend) DescribeTaskDefinition(ctx context.Context, in *ecsapi.DescribeTaskDefinitionInput) (*ecsapi.DescribeTaskDefinitionOutput, error) {
	s := scopeOf(ctx)
	if in.TaskDefinition == nil {
		return nil, errClient("taskDefinition must be specified.")
	}
	out := &ecsapi.DescribeTaskDefinitionOutput{}
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		td, err := b.taskDefinition(tx, s, *in.TaskDefinition)
		if err != nil {
			return err
		}
		out.TaskDefinition = &td
		if slices.Contains(in.Include, types.TaskDefinitionFieldTags) {
			out.Tags, err = tags(tx, s, *td.TaskDefinitionArn)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// taskDefinitionKeys is what listing needs of a stored task definition.
type taskDefinitionKeys struct {
	TaskDefinitionArn string
	Family            string
	Revision          int32
	Status            types.TaskDefinitionStatus
}

func (b *Backend) allTaskDefinitions(tx *sqlite.Tx, s scope) ([]taskDefinitionKeys, error) {
	all, err := sqlite.ListAll[taskDefinitionKeys](tx, s.Query(kindTaskDefinition, ""))
	slices.SortFunc(all, func(a, c taskDefinitionKeys) int {
		if r := strings.Compare(a.Family, c.Family); r != 0 {
			return r
		}
		return int(a.Revision - c.Revision)
	})
	return all, err
}

// ListTaskDefinitions lists task definition ARNs by family then revision.
func (b *Backend) ListTaskDefinitions(ctx context.Context, in *ecsapi.ListTaskDefinitionsInput) (*ecsapi.ListTaskDefinitionsOutput, error) {
	s := scopeOf(ctx)
	limit, err := pageLimit(in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	status := in.Status
	if status == "" {
		status = types.TaskDefinitionStatusActive
	}
	out := &ecsapi.ListTaskDefinitionsOutput{}
	err = b.store.View(ctx, func(tx *sqlite.Tx) error {
		all, err := b.allTaskDefinitions(tx, s)
		if err != nil {
			return err
		}
		var arns []string
		for _, td := range all {
			// familyPrefix is the full family name, despite its name.
			// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTaskDefinitions.html
			if td.Status == status && (in.FamilyPrefix == nil || td.Family == *in.FamilyPrefix) {
				arns = append(arns, td.TaskDefinitionArn)
			}
		}
		if in.Sort == types.SortOrderDesc {
			slices.Reverse(arns)
		}
		out.TaskDefinitionArns, out.NextToken, err = pageStrings(arns, in.NextToken, limit)
		out.TaskDefinitionArns = backend.OrEmpty(out.TaskDefinitionArns)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListTaskDefinitionFamilies lists families: by default those with an
// ACTIVE revision; INACTIVE lists those with none; ALL lists every family.
func (b *Backend) ListTaskDefinitionFamilies(ctx context.Context, in *ecsapi.ListTaskDefinitionFamiliesInput) (*ecsapi.ListTaskDefinitionFamiliesOutput, error) {
	s := scopeOf(ctx)
	limit, err := pageLimit(in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	status := in.Status
	if status == "" {
		status = types.TaskDefinitionFamilyStatusActive
	}
	out := &ecsapi.ListTaskDefinitionFamiliesOutput{}
	err = b.store.View(ctx, func(tx *sqlite.Tx) error {
		all, err := b.allTaskDefinitions(tx, s)
		if err != nil {
			return err
		}
		active := map[string]bool{}
		var families []string
		for _, td := range all {
			if !slices.Contains(families, td.Family) {
				families = append(families, td.Family)
			}
			if td.Status == types.TaskDefinitionStatusActive {
				active[td.Family] = true
			}
		}
		var match []string
		for _, f := range families {
			if in.FamilyPrefix != nil && !strings.HasPrefix(f, *in.FamilyPrefix) {
				continue
			}
			if status == types.TaskDefinitionFamilyStatusAll || (status == types.TaskDefinitionFamilyStatusActive) == active[f] {
				match = append(match, f)
			}
		}
		out.Families, out.NextToken, err = pageStrings(match, in.NextToken, limit)
		out.Families = backend.OrEmpty(out.Families)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeregisterTaskDefinition marks a revision INACTIVE.
func (b *Backend) DeregisterTaskDefinition(ctx context.Context, in *ecsapi.DeregisterTaskDefinitionInput) (*ecsapi.DeregisterTaskDefinitionOutput, error) {
	s := scopeOf(ctx)
	ref := aws.ToString(in.TaskDefinition)
	if !strings.Contains(resourceName(ref, "task-definition"), ":") {
		return nil, errClient("Revision must be specified: the task definition must be given as family:revision or a full ARN.")
	}
	var td types.TaskDefinition
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		var err error
		if td, err = b.taskDefinition(tx, s, ref); err != nil {
			return err
		}
		if td.Status == types.TaskDefinitionStatusActive {
			td.Status = types.TaskDefinitionStatusInactive
			td.DeregisteredAt = b.now()
		}
		return tx.Put(s.Row(kindTaskDefinition, *td.TaskDefinitionArn, "", *td.Family), td)
	})
	if err != nil {
		return nil, err
	}
	return &ecsapi.DeregisterTaskDefinitionOutput{TaskDefinition: &td}, nil
}

// DeleteTaskDefinitions deletes up to 10 INACTIVE revisions; ACTIVE or
// unknown ones are reported as failures.
func (b *Backend) DeleteTaskDefinitions(ctx context.Context, in *ecsapi.DeleteTaskDefinitionsInput) (*ecsapi.DeleteTaskDefinitionsOutput, error) {
	s := scopeOf(ctx)
	if len(in.TaskDefinitions) == 0 || len(in.TaskDefinitions) > 10 {
		return nil, errInvalidParameter("taskDefinitions must have between 1 and 10 items.")
	}
	out := &ecsapi.DeleteTaskDefinitionsOutput{TaskDefinitions: []types.TaskDefinition{}, Failures: []types.Failure{}}
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		for _, ref := range in.TaskDefinitions {
			if !strings.Contains(resourceName(ref, "task-definition"), ":") {
				out.Failures = append(out.Failures, types.Failure{Arn: aws.String(ref), Reason: aws.String("The specified task definition identifier is invalid. Specify a valid name or ARN and try again.")})
				continue
			}
			td, err := b.taskDefinition(tx, s, ref)
			if err != nil {
				out.Failures = append(out.Failures, types.Failure{Arn: aws.String(ref), Reason: aws.String("The specified task definition does not exist. Specify a valid account, family, revision and try again.")})
				continue
			}
			if td.Status == types.TaskDefinitionStatusActive {
				out.Failures = append(out.Failures, types.Failure{Arn: td.TaskDefinitionArn, Reason: aws.String("The specified task definition is still in ACTIVE status. Please deregister the target and try again.")})
				continue
			}
			td.Status = types.TaskDefinitionStatusDeleteInProgress
			if err := tx.Put(s.Row(kindTaskDefinition, *td.TaskDefinitionArn, "", *td.Family), td); err != nil {
				return err
			}
			out.TaskDefinitions = append(out.TaskDefinitions, td)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
