package ecs

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"berth/backend"
	"berth/sqlite"
)

// Services behind load balancers: ECS registers a service's tasks in its
// target groups once they run, counts them healthy when the load balancer
// says so, and deregisters them, waiting out the deregistration delay,
// before their containers are stopped.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-load-balancing.html

// LoadBalancing is the part of the ELBv2 API that ECS calls for services
// behind load balancers: backend/elbv2.
type LoadBalancing interface {
	DescribeTargetGroups(context.Context, *elbv2.DescribeTargetGroupsInput) (*elbv2.DescribeTargetGroupsOutput, error)
	RegisterTargets(context.Context, *elbv2.RegisterTargetsInput) (*elbv2.RegisterTargetsOutput, error)
	DeregisterTargets(context.Context, *elbv2.DeregisterTargetsInput) (*elbv2.DeregisterTargetsOutput, error)
	DescribeTargetHealth(context.Context, *elbv2.DescribeTargetHealthInput) (*elbv2.DescribeTargetHealthOutput, error)
}

// kindTaskTargets holds, by task ARN under its service, the load balancers
// a service task joins and the targets registered for it.
const kindTaskTargets = "ecs/task-targets"

// taskTargets are a service task's load balancers and, once it runs, its
// registered targets.
type taskTargets struct {
	TaskArn       string
	LoadBalancers []types.LoadBalancer
	Registered    []registeredTarget
	// Registries are the task's service registries and, once it runs,
	// Discovered its instances in their Cloud Map services.
	Registries []types.ServiceRegistry
	Discovered []discoveredInstance
	// Connect are the task's Service Connect services, and
	// ConnectNamespace the namespace of its service's Service Connect
	// configuration (a client-only service has one and no services).
	Connect          []scTarget
	ConnectNamespace string
}

// registeredTarget is one target registered for a task.
type registeredTarget struct {
	TargetGroupArn, Id string
	Port               int32
}

func (t registeredTarget) key() string {
	return fmt.Sprintf("%s %s:%d", t.TargetGroupArn, t.Id, t.Port)
}

// validLoadBalancers checks a service's load balancers against ELBv2 as
// CreateService and UpdateService do.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LoadBalancer.html
func (b *Backend) validLoadBalancers(ctx context.Context, td types.TaskDefinition, lbs []types.LoadBalancer) error {
	mode := td.NetworkMode
	if mode == "" {
		mode = types.NetworkModeBridge
	}
	for _, l := range lbs {
		arn := aws.ToString(l.TargetGroupArn)
		switch {
		case l.TargetGroupArn != nil && l.LoadBalancerName != nil:
			return errInvalidParameter("loadBalancerName and targetGroupArn cannot both be specified. You must specify either a loadBalancerName or a targetGroupArn.")
		case l.TargetGroupArn == nil:
			// berth has Application and Network Load Balancers, not Classic ones.
			return errInvalidParameter("The load balancer %s does not exist.", aws.ToString(l.LoadBalancerName))
		}
		var tg elbtypes.TargetGroup
		if b.LoadBalancers != nil {
			out, err := b.LoadBalancers.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{arn}})
			if err == nil && len(out.TargetGroups) == 1 {
				tg = out.TargetGroups[0]
			}
		}
		if tg.TargetGroupArn == nil {
			return errInvalidParameter("Unable to assume role and validate the specified targetGroupArn. Please verify that the ECS service role being passed has the proper permissions.")
		}
		if len(tg.LoadBalancerArns) == 0 {
			return errInvalidParameter("The target group with targetGroupArn %s does not have an associated load balancer.", arn)
		}
		want := elbtypes.TargetTypeEnumInstance
		if mode == types.NetworkModeAwsvpc {
			want = elbtypes.TargetTypeEnumIp
		}
		if tg.TargetType != want {
			return errInvalidParameter("The provided target group %s has target type %s, which is incompatible with the %s network mode specified in the task definition.", arn, tg.TargetType, mode)
		}
		if p := aws.ToString(tg.HealthCheckPort); mode == types.NetworkModeBridge && p != "" && p != "traffic-port" && dynamicHostPort(td, l) {
			return errInvalidParameter("The task definition is configured to use a dynamic host port, but the target group with targetGroupArn %s has a health check port specified.", arn)
		}
	}
	return nil
}

// dynamicHostPort reports whether the load balancer's container port is
// published on a host port Docker chooses.
func dynamicHostPort(td types.TaskDefinition, l types.LoadBalancer) bool {
	for _, cd := range td.ContainerDefinitions {
		if aws.ToString(cd.Name) != aws.ToString(l.ContainerName) {
			continue
		}
		for _, pm := range cd.PortMappings {
			if aws.ToInt32(pm.ContainerPort) == aws.ToInt32(l.ContainerPort) && aws.ToInt32(pm.HostPort) == 0 {
				return true
			}
		}
	}
	return false
}

// targetsOf returns the targets a running task is reached at through each
// of its load balancers: the container instance's EC2 instance and the
// host port of the container port in bridge and host mode, the task's
// private IP and the container port in awsvpc mode.
func targetsOf(tx *sqlite.Tx, s scope, t types.Task, lbs []types.LoadBalancer) ([]registeredTarget, error) {
	var instance string
	if arn := aws.ToString(t.ContainerInstanceArn); arn != "" {
		var ci types.ContainerInstance
		if err := tx.Get(s.Key(kindContainerInstance, arn), &ci); err != nil {
			return nil, err
		}
		instance = aws.ToString(ci.Ec2InstanceId)
	}
	var out []registeredTarget
	for _, l := range lbs {
		rt := registeredTarget{TargetGroupArn: aws.ToString(l.TargetGroupArn)}
		i := slices.IndexFunc(t.Containers, func(c types.Container) bool { return aws.ToString(c.Name) == aws.ToString(l.ContainerName) })
		if i < 0 {
			return nil, fmt.Errorf("the task has no container %s", aws.ToString(l.ContainerName))
		}
		c := t.Containers[i]
		if len(c.NetworkInterfaces) > 0 {
			rt.Id, rt.Port = aws.ToString(c.NetworkInterfaces[0].PrivateIpv4Address), aws.ToInt32(l.ContainerPort)
		} else {
			rt.Id = instance
			for _, nb := range c.NetworkBindings {
				if aws.ToInt32(nb.ContainerPort) == aws.ToInt32(l.ContainerPort) && nb.Protocol != types.TransportProtocolUdp {
					rt.Port = aws.ToInt32(nb.HostPort)
				}
			}
		}
		if rt.Id == "" || rt.Port == 0 {
			return nil, fmt.Errorf("container %s has no address for port %d", aws.ToString(l.ContainerName), aws.ToInt32(l.ContainerPort))
		}
		out = append(out, rt)
	}
	return out, nil
}

// byGroup groups targets by target group, in first-seen order.
func byGroup(targets []registeredTarget) ([]string, map[string][]elbtypes.TargetDescription) {
	var order []string
	groups := map[string][]elbtypes.TargetDescription{}
	for _, t := range targets {
		if _, ok := groups[t.TargetGroupArn]; !ok {
			order = append(order, t.TargetGroupArn)
		}
		groups[t.TargetGroupArn] = append(groups[t.TargetGroupArn], elbtypes.TargetDescription{Id: aws.String(t.Id), Port: aws.Int32(t.Port)})
	}
	return order, groups
}

// register registers a running service task in its target groups, once.
func (r *runner) register(ctx context.Context) error {
	lbs := r.a.b.LoadBalancers
	if lbs == nil {
		return nil
	}
	s := scope{r.ref.Scope}
	var tt taskTargets
	var targets []registeredTarget
	err := r.a.b.store.View(ctx, func(tx *sqlite.Tx) error {
		var t types.Task
		if err := tx.Get(r.ref.key(), &t); err != nil {
			return err
		}
		if err := tx.Get(s.Key(kindTaskTargets, r.ref.arn), &tt); err != nil {
			return notFound(err, func() error { return nil })
		}
		if len(tt.LoadBalancers) == 0 || len(tt.Registered) > 0 {
			return nil
		}
		var err error
		targets, err = targetsOf(tx, s, t, tt.LoadBalancers)
		return err
	})
	if err != nil || len(targets) == 0 {
		return err
	}
	order, groups := byGroup(targets)
	scoped := backend.WithScope(ctx, s.Scope)
	for _, arn := range order {
		if _, err := lbs.RegisterTargets(scoped, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(arn), Targets: groups[arn]}); err != nil {
			return fmt.Errorf("registering targets in %s: %w", arn, err)
		}
	}
	return r.a.b.store.Update(ctx, func(tx *sqlite.Tx) error {
		tt.Registered = targets
		if err := tx.Put(s.Row(kindTaskTargets, r.ref.arn, r.service, ""), tt); err != nil {
			return err
		}
		return r.a.b.serviceEvents(tx, s, r.service, func(name string) []string {
			var msgs []string
			for _, arn := range order {
				msgs = append(msgs, fmt.Sprintf("(service %s) registered %d targets in (target-group %s)", name, len(groups[arn]), arn))
			}
			return msgs
		})
	})
}

// deregister deregisters a stopping task's targets and waits until the
// load balancers have drained them (deregistration_delay.timeout_seconds).
func (r *runner) deregister(ctx context.Context) error {
	// Service Connect's proxy drains the task first, beside the load
	// balancers: its containers get their signal once both have.
	drained, err := r.leaveServiceConnect(ctx)
	if err != nil {
		return err
	}
	if err := r.deregisterTargets(ctx); err != nil {
		return err
	}
	return drained()
}

// deregisterTargets deregisters a stopping task from Cloud Map and its
// target groups, and waits until the load balancers have drained it.
func (r *runner) deregisterTargets(ctx context.Context) error {
	if err := r.undiscover(ctx); err != nil {
		return err
	}
	lbs := r.a.b.LoadBalancers
	if lbs == nil {
		return nil
	}
	s := scope{r.ref.Scope}
	var tt taskTargets
	err := r.a.b.store.View(ctx, func(tx *sqlite.Tx) error {
		return notFound(tx.Get(s.Key(kindTaskTargets, r.ref.arn), &tt), func() error { return nil })
	})
	forget := func() error {
		return r.a.b.store.Update(ctx, func(tx *sqlite.Tx) error { return tx.Delete(s.Key(kindTaskTargets, r.ref.arn)) })
	}
	if err != nil || tt.TaskArn == "" {
		return err
	}
	if len(tt.Registered) == 0 {
		return forget()
	}
	order, groups := byGroup(tt.Registered)
	scoped := backend.WithScope(ctx, s.Scope)
	for _, arn := range order {
		// A target group deleted meanwhile has nothing left to drain.
		lbs.DeregisterTargets(scoped, &elbv2.DeregisterTargetsInput{TargetGroupArn: aws.String(arn), Targets: groups[arn]})
	}
	if err := r.a.b.store.Update(ctx, func(tx *sqlite.Tx) error {
		return r.a.b.serviceEvents(tx, s, r.service, func(name string) []string {
			msgs := []string{fmt.Sprintf("(service %s) has begun draining connections on 1 tasks", name)}
			for _, arn := range order {
				msgs = append(msgs, fmt.Sprintf("(service %s) deregistered %d targets in (target-group %s)", name, len(groups[arn]), arn))
			}
			return msgs
		})
	}); err != nil {
		return err
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for _, arn := range order {
		for {
			out, err := lbs.DescribeTargetHealth(scoped, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn), Targets: groups[arn]})
			if err != nil || !slices.ContainsFunc(out.TargetHealthDescriptions, func(d elbtypes.TargetHealthDescription) bool {
				return d.TargetHealth != nil && d.TargetHealth.State == elbtypes.TargetHealthStateEnumDraining
			}) {
				break
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-tick.C:
			}
		}
	}
	return forget()
}

// serviceEvents adds the events msgs returns for the service's name, if
// the task belongs to a service.
func (b *Backend) serviceEvents(tx *sqlite.Tx, s scope, serviceArn string, msgs func(name string) []string) error {
	if serviceArn == "" {
		return nil
	}
	var svc types.Service
	if err := tx.Get(s.Key(kindService, serviceArn), &svc); err != nil {
		return notFound(err, func() error { return nil })
	}
	for _, m := range msgs(aws.ToString(svc.ServiceName)) {
		addEvent(&svc, b.env.IDs, b.now(), m+".")
	}
	return putService(tx, s, svc)
}

// elbHealth is what the load balancers say of a task's targets.
type elbHealth struct {
	healthy bool
	// unhealthy names the target group where a target failed its health
	// checks, with the target and the reason, when one did.
	unhealthy, target, reason string
}

// targetHealth asks the load balancers about the targets of a service's
// tasks, by task ARN. Tasks not behind a load balancer are absent; those
// not yet registered are not healthy.
func (b *Backend) targetHealth(ctx context.Context, s scope, serviceArn string) (map[string]elbHealth, error) {
	if b.LoadBalancers == nil {
		return nil, nil
	}
	var rows []taskTargets
	err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		rows, err = sqlite.ListAll[taskTargets](tx, s.Query(kindTaskTargets, serviceArn))
		return err
	})
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	scoped := backend.WithScope(ctx, s.Scope)
	reported := map[string]*elbtypes.TargetHealth{} // by target key
	asked := map[string]bool{}                      // by target group ARN
	for _, row := range rows {
		for _, t := range row.Registered {
			if asked[t.TargetGroupArn] {
				continue
			}
			asked[t.TargetGroupArn] = true
			out, err := b.LoadBalancers.DescribeTargetHealth(scoped, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(t.TargetGroupArn)})
			if err != nil {
				continue // a deleted target group reports nothing
			}
			for _, d := range out.TargetHealthDescriptions {
				rt := registeredTarget{TargetGroupArn: t.TargetGroupArn, Id: aws.ToString(d.Target.Id), Port: aws.ToInt32(d.Target.Port)}
				reported[rt.key()] = d.TargetHealth
			}
		}
	}
	out := map[string]elbHealth{}
	for _, row := range rows {
		if len(row.LoadBalancers) == 0 {
			continue // in Cloud Map or Service Connect only: no load balancer's say
		}
		h := elbHealth{healthy: len(row.Registered) > 0}
		for _, t := range row.Registered {
			th := reported[t.key()]
			switch {
			case th == nil:
				h.healthy = false
			case th.State == elbtypes.TargetHealthStateEnumUnhealthy:
				h.healthy = false
				if h.unhealthy == "" {
					h.unhealthy, h.reason = t.TargetGroupArn, aws.ToString(th.Description)
					h.target = fmt.Sprintf("(port %d)", t.Port)
					if strings.HasPrefix(t.Id, "i-") {
						h.target = fmt.Sprintf("(instance %s) (port %d)", t.Id, t.Port)
					}
				}
			case th.State != elbtypes.TargetHealthStateEnumHealthy && th.State != elbtypes.TargetHealthStateEnumUnavailable:
				h.healthy = false
			}
		}
		out[row.TaskArn] = h
	}
	return out, nil
}
