package ecs

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth/backend/ecs/clusterquery"
	"berth/sqlite"
)

// reservation is what tasks hold of an instance.
type reservation struct {
	cpu, memory int64
	ports       []string
}

// taskReservation is what task t holds: each container's cpu and its
// memory reservation (or hard limit), else the task's; and its static
// host ports.
func taskReservation(t types.Task, td *types.TaskDefinition) reservation {
	var r reservation
	for _, c := range t.Containers {
		cpu, _ := strconv.ParseInt(aws.ToString(c.Cpu), 10, 64)
		r.cpu += cpu
		mem := aws.ToString(c.MemoryReservation)
		if mem == "" {
			mem = aws.ToString(c.Memory)
		}
		m, _ := strconv.ParseInt(mem, 10, 64)
		r.memory += m
		for _, nb := range c.NetworkBindings {
			r.ports = append(r.ports, strconv.Itoa(int(aws.ToInt32(nb.HostPort))))
		}
	}
	if r.memory == 0 {
		r.memory, _ = strconv.ParseInt(aws.ToString(t.Memory), 10, 64)
	}
	if td != nil && len(r.ports) == 0 {
		for _, cd := range td.ContainerDefinitions {
			for _, pm := range cd.PortMappings {
				if p := aws.ToInt32(pm.HostPort); p != 0 && td.NetworkMode != types.NetworkModeAwsvpc {
					r.ports = append(r.ports, strconv.Itoa(int(p)))
				}
			}
		}
	}
	return r
}

// load is what the live tasks placed on one instance hold of it.
type load struct {
	used             reservation
	running, pending int32
	groups           []string
	perGroup         map[string]int // tasks by group
}

// loads returns the load of each of cluster c's instances, by ARN.
func loads(tx *sqlite.Tx, s scope, c types.Cluster) (map[string]*load, error) {
	tasks, err := liveTasks[types.Task](tx, s.Scope, *c.ClusterArn)
	if err != nil {
		return nil, err
	}
	out := map[string]*load{}
	defs := map[string]*types.TaskDefinition{} // by ARN
	for _, t := range tasks {
		arn := aws.ToString(t.ContainerInstanceArn)
		l := out[arn]
		if l == nil {
			l = &load{}
			out[arn] = l
		}
		// A task holds its static host ports from placement on, before
		// its containers bind them, as ECS reserves them.
		tdArn := aws.ToString(t.TaskDefinitionArn)
		td, ok := defs[tdArn]
		if !ok {
			var def types.TaskDefinition
			if err := tx.Get(s.Key(kindTaskDefinition, tdArn), &def); err == nil {
				td = &def
			} else if !errors.Is(err, sqlite.ErrNotFound) {
				return nil, err
			}
			defs[tdArn] = td
		}
		l.add(t, taskReservation(t, td))
	}
	return out, nil
}

// add counts task t, which holds r, in the load.
func (l *load) add(t types.Task, r reservation) {
	if aws.ToString(t.LastStatus) == statusRunning {
		l.running++
	} else {
		l.pending++
	}
	l.used.cpu, l.used.memory, l.used.ports = l.used.cpu+r.cpu, l.used.memory+r.memory, append(l.used.ports, r.ports...)
	if g := aws.ToString(t.Group); !slices.Contains(l.groups, g) {
		l.groups = append(l.groups, g)
	}
	if l.perGroup == nil {
		l.perGroup = map[string]int{}
	}
	l.perGroup[aws.ToString(t.Group)]++
}

// remaining fills the instance's remaining resources and task counts from
// the tasks placed on it that have not stopped.
func (b *Backend) remaining(tx *sqlite.Tx, s scope, c types.Cluster, ci *types.ContainerInstance) error {
	all, err := loads(tx, s, c)
	if err == nil {
		all[*ci.ContainerInstanceArn].fill(ci)
	}
	return err
}

// fill writes the load into the instance's remaining resources and task
// counts; a nil load is an idle instance.
func (l *load) fill(ci *types.ContainerInstance) {
	if l == nil {
		l = &load{}
	}
	ci.RunningTasksCount, ci.PendingTasksCount = l.running, l.pending
	ci.RemainingResources = nil
	for _, res := range ci.RegisteredResources {
		switch aws.ToString(res.Name) {
		case "CPU":
			res.IntegerValue -= int32(l.used.cpu)
		case "MEMORY":
			res.IntegerValue -= int32(l.used.memory)
		case "PORTS":
			res.StringSetValue = append(slices.Clone(res.StringSetValue), l.used.ports...)
		}
		ci.RemainingResources = append(ci.RemainingResources, res)
	}
}

// queryable is the instance as cluster query expressions see it.
func queryable(ci types.ContainerInstance, l *load) clusterquery.Instance {
	q := clusterquery.Instance{
		Ec2InstanceID:     aws.ToString(ci.Ec2InstanceId),
		AgentConnected:    ci.AgentConnected,
		RegisteredAt:      aws.ToTime(ci.RegisteredAt),
		RunningTasksCount: int(ci.RunningTasksCount),
		Attributes:        map[string]string{},
	}
	if ci.VersionInfo != nil {
		q.AgentVersion = aws.ToString(ci.VersionInfo.AgentVersion)
	}
	for _, a := range ci.Attributes {
		q.Attributes[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	if l != nil {
		q.RunningTasksCount = int(l.running)
		q.TaskGroups = l.groups
	}
	return q
}

// Reasons ECS gives when a placement constraint excludes an instance.
const (
	reasonDistinctInstance = "DistinctInstance placement constraint unsatisfied."
	reasonMemberOf         = "MemberOf placement constraint unsatisfied."
)

// noInstances is the reason ECS gives when a cluster has no container
// instance to place an EC2 task on: RunTask refuses with it
// (InvalidParameterException, as in aws/amazon-ecs-cli#1122) and a
// service reports it in an event (mapbox/ecs-watchbot#302).
const noInstances = "No Container Instances were found in your cluster."

// placement is one placing pass over a cluster: its placeable instances
// and their loads, read once, with each task placed added to them, so
// that placing n tasks reads the cluster once rather than n times.
type placement struct {
	b         *Backend
	instances []types.ContainerInstance
	loads     map[string]*load
}

// newPlacement reads cluster c's placeable instances and their loads.
func (b *Backend) newPlacement(tx *sqlite.Tx, s scope, c types.Cluster) (*placement, error) {
	instances, err := b.placeable(tx, s, c)
	if err != nil {
		return nil, err
	}
	all, err := loads(tx, s, c)
	if err != nil {
		return nil, err
	}
	return &placement{b: b, instances: instances, loads: all}, nil
}

// place puts a new EC2 task on one of the cluster's container instances
// and returns the instance's ARN, or the failure ECS reports for the
// first instance that cannot take it when none can: a placement
// constraint excludes it, or it lacks the task's memory, CPU or host
// ports (RESOURCE:MEMORY, ...). A failure without an ARN means the
// cluster has no instance at all (noInstances). Constraints were
// validated when given: distinctInstance keeps the task off an instance
// that runs a task of its group, memberOf off one its expression does
// not select. The task counts in the instance's load from then on.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-placement-constraints.html
func (p *placement) place(t types.Task, td types.TaskDefinition, constraints []types.PlacementConstraint, strategy []types.PlacementStrategy) (string, *types.Failure) {
	if len(p.instances) == 0 {
		return "", &types.Failure{Reason: aws.String(noInstances)}
	}
	for _, pc := range td.PlacementConstraints {
		constraints = append(slices.Clip(constraints), types.PlacementConstraint{Type: types.PlacementConstraintType(pc.Type), Expression: pc.Expression})
	}
	need := taskReservation(t, &td)
	var closest *types.Failure
	var fit []types.ContainerInstance
	for _, ci := range p.instances {
		reason := misfit(ci, p.loads[*ci.ContainerInstanceArn], t, need, constraints)
		if reason == "" {
			fit = append(fit, ci)
		} else if closest == nil {
			closest = &types.Failure{Arn: ci.ContainerInstanceArn, Reason: aws.String(reason)}
		}
	}
	if len(fit) == 0 {
		return "", closest
	}
	arn := *p.b.choose(fit, p.instances, p.loads, aws.ToString(t.Group), strategy).ContainerInstanceArn
	l := p.loads[arn]
	if l == nil {
		l = &load{}
		p.loads[arn] = l
	}
	l.add(t, need)
	return arn, nil
}

// choose picks, among the instances that fit a task of group, the one
// its placement strategies prefer, applied in order, each keeping the
// best of what the one before kept: binpack the instances with the least
// of the field (cpu or memory) remaining, spread those whose value of the
// field (instanceId, host or attribute:<name>) holds the fewest tasks of
// the group on all the cluster's instances, random one at random. Ties
// after them all, and tasks without a strategy, go to the oldest
// instance.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-placement-strategies.html
func (b *Backend) choose(fit, instances []types.ContainerInstance, all map[string]*load, group string, strategy []types.PlacementStrategy) types.ContainerInstance {
	for _, st := range strategy {
		if len(fit) == 1 {
			break
		}
		field := aws.ToString(st.Field)
		switch st.Type {
		case types.PlacementStrategyTypeBinpack:
			fit = keepLeast(fit, func(ci types.ContainerInstance) int64 { return remaining(ci, all[*ci.ContainerInstanceArn], field) })
		case types.PlacementStrategyTypeSpread:
			perValue := map[string]int64{}
			for _, ci := range instances {
				if l := all[*ci.ContainerInstanceArn]; l != nil {
					perValue[spreadValue(ci, field)] += int64(l.perGroup[group])
				}
			}
			fit = keepLeast(fit, func(ci types.ContainerInstance) int64 { return perValue[spreadValue(ci, field)] })
		case types.PlacementStrategyTypeRandom:
			n, _ := strconv.ParseUint(b.env.IDs.Hex(8), 16, 64)
			fit = fit[n%uint64(len(fit)) : n%uint64(len(fit))+1]
		}
	}
	return fit[0]
}

// keepLeast keeps the instances whose score is the least, in order.
func keepLeast(instances []types.ContainerInstance, score func(types.ContainerInstance) int64) []types.ContainerInstance {
	var kept []types.ContainerInstance
	var least int64
	for _, ci := range instances {
		switch v := score(ci); {
		case len(kept) == 0 || v < least:
			kept, least = []types.ContainerInstance{ci}, v
		case v == least:
			kept = append(kept, ci)
		}
	}
	return kept
}

// remaining is how much of resource field (cpu or memory) instance ci
// has left under load l.
func remaining(ci types.ContainerInstance, l *load, field string) int64 {
	l.fill(&ci)
	for _, r := range ci.RemainingResources {
		if strings.EqualFold(aws.ToString(r.Name), field) {
			return int64(r.IntegerValue)
		}
	}
	return 0
}

// spreadValue is instance ci's value of a spread strategy's field.
func spreadValue(ci types.ContainerInstance, field string) string {
	name, isAttribute := strings.CutPrefix(field, "attribute:")
	if !isAttribute {
		return aws.ToString(ci.Ec2InstanceId) // instanceId, host
	}
	for _, a := range ci.Attributes {
		if aws.ToString(a.Name) == name {
			return aws.ToString(a.Value)
		}
	}
	return ""
}

// fits says why the container instance arn of cluster c cannot take task
// t, as StartTask asks it to (RESOURCE:MEMORY, ...), or "" when it can.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/api_failures_messages.html
func (b *Backend) fits(tx *sqlite.Tx, s scope, c types.Cluster, arn string, t types.Task, td types.TaskDefinition) (string, error) {
	var ci types.ContainerInstance
	if err := tx.Get(s.Key(kindContainerInstance, arn), &ci); err != nil {
		return "", err
	}
	b.fleet.live(&ci) // a lost host's agent is disconnected: AGENT
	all, err := loads(tx, s, c)
	if err != nil {
		return "", err
	}
	return misfit(ci, all[arn], t, taskReservation(t, &td), nil), nil
}

// placeable returns the container instances of cluster c that take new
// tasks, oldest first: with a runtime, the hosts' (each registered on
// first use), on which every task runs; with none, the instances
// RegisterContainerInstance made. Only ACTIVE instances take tasks.
func (b *Backend) placeable(tx *sqlite.Tx, s scope, c types.Cluster) ([]types.ContainerInstance, error) {
	var instances []types.ContainerInstance
	if len(b.fleet.hosts) > 0 {
		for _, h := range b.fleet.hosts {
			ci, err := b.hostInstance(tx, s, c, h)
			if err != nil {
				return nil, err
			}
			instances = append(instances, ci)
		}
	} else {
		var err error
		if instances, err = sqlite.ListAll[types.ContainerInstance](tx, s.Query(kindContainerInstance, *c.ClusterArn)); err != nil {
			return nil, err
		}
	}
	instances = slices.DeleteFunc(instances, func(ci types.ContainerInstance) bool { return aws.ToString(ci.Status) != "ACTIVE" })
	for i := range instances {
		b.fleet.live(&instances[i])
	}
	slices.SortStableFunc(instances, func(a, b types.ContainerInstance) int {
		if c := aws.ToTime(a.RegisteredAt).Compare(aws.ToTime(b.RegisteredAt)); c != 0 {
			return c
		}
		return strings.Compare(*a.ContainerInstanceArn, *b.ContainerInstanceArn)
	})
	return instances, nil
}

// misfit says why instance ci, carrying load l, cannot take task t, which
// needs need: the reason ECS reports, or "" when it fits.
func misfit(ci types.ContainerInstance, l *load, t types.Task, need reservation, constraints []types.PlacementConstraint) string {
	if !ci.AgentConnected {
		return "AGENT"
	}
	l.fill(&ci)
	for _, pc := range constraints {
		switch pc.Type {
		case types.PlacementConstraintTypeDistinctInstance:
			if l != nil && slices.Contains(l.groups, aws.ToString(t.Group)) {
				return reasonDistinctInstance
			}
		case types.PlacementConstraintTypeMemberOf:
			e, err := clusterquery.Parse(aws.ToString(pc.Expression))
			if err != nil || !e.Match(queryable(ci, l)) {
				return reasonMemberOf
			}
		}
	}
	for _, res := range ci.RemainingResources {
		switch aws.ToString(res.Name) {
		case "MEMORY":
			if need.memory > int64(res.IntegerValue) {
				return "RESOURCE:MEMORY"
			}
		case "CPU":
			if need.cpu > int64(res.IntegerValue) {
				return "RESOURCE:CPU"
			}
		case "PORTS":
			for _, p := range need.ports {
				if slices.Contains(res.StringSetValue, p) {
					return "RESOURCE:PORTS"
				}
			}
		}
	}
	return ""
}

// validConstraints checks the placement constraints of a RunTask or a
// service: at most 10, each distinctInstance without an expression or
// memberOf with one that parses.
func validConstraints(constraints []types.PlacementConstraint) error {
	if len(constraints) > 10 {
		return errInvalidParameter("placementConstraints can have at most 10 items.")
	}
	for _, pc := range constraints {
		switch pc.Type {
		case types.PlacementConstraintTypeDistinctInstance:
			if pc.Expression != nil {
				return errInvalidParameter("Expressions are not allowed for the distinctInstance placement constraint.")
			}
		case types.PlacementConstraintTypeMemberOf:
			if err := validExpression(pc.Expression); err != nil {
				return errInvalidParameter("%s", err)
			}
		default:
			return errInvalidParameter("Invalid placement constraint type: %s", pc.Type)
		}
	}
	return nil
}

// validExpression checks a memberOf expression.
func validExpression(expr *string) error {
	if aws.ToString(expr) == "" {
		return errors.New("an expression is required for the memberOf placement constraint")
	}
	_, err := clusterquery.Parse(*expr)
	return err
}

// onlyHosts reports whether the hosts' instances, which berth registered
// by itself, are the cluster's only active ones: they do not keep the
// cluster from being deleted.
func (b *Backend) onlyHosts(tx *sqlite.Tx, s scope, c types.Cluster) bool {
	instances, err := sqlite.ListAll[types.ContainerInstance](tx, s.Query(kindContainerInstance, *c.ClusterArn))
	return err == nil && !slices.ContainsFunc(instances, func(ci types.ContainerInstance) bool {
		return aws.ToString(ci.Status) != "INACTIVE" && !b.fleet.isHost(aws.ToString(ci.ContainerInstanceArn))
	})
}

// deregisterHosts marks the hosts' instances in c INACTIVE.
func (b *Backend) deregisterHosts(tx *sqlite.Tx, s scope, c types.Cluster) error {
	instances, err := sqlite.ListAll[types.ContainerInstance](tx, s.Query(kindContainerInstance, *c.ClusterArn))
	for _, ci := range instances {
		if !b.fleet.isHost(aws.ToString(ci.ContainerInstanceArn)) {
			continue
		}
		ci.Status, ci.AgentConnected = aws.String("INACTIVE"), false
		if err := tx.Put(s.Row(kindContainerInstance, *ci.ContainerInstanceArn, *c.ClusterArn, *ci.Ec2InstanceId), ci); err != nil {
			return err
		}
	}
	return err
}
