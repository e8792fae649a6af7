package ecs

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth/backend"
	"berth/backend/ecs/clusterquery"
	"berth/sqlite"
)

// containerInstance loads a container instance by id or ARN in cluster c.
func (b *Backend) containerInstance(tx *sqlite.Tx, s scope, c types.Cluster, ref string) (types.ContainerInstance, error) {
	id := ref
	if strings.HasPrefix(ref, "arn:") {
		id = s.name(ref, "container-instance")
	}
	var ci types.ContainerInstance
	err := tx.Get(s.Key(kindContainerInstance, s.arn("container-instance/"+*c.ClusterName+"/"+id)), &ci)
	return ci, notFound(err, func() error {
		return errInvalidParameter("The referenced container instance %s was not found.", ref)
	})
}

// RegisterContainerInstance registers an EC2 instance (or, re-registering,
// updates one) with its resources and attributes. Without a container
// instance ARN it registers a new container instance, even for an EC2
// instance already registered in the cluster: ECS's RegisterContainerInstance
// is not idempotent, and an agent that lost its checkpoint leaves two
// container instances with one EC2 instance id, as an ECS engineer
// explained (https://github.com/aws/amazon-ecs-agent/issues/782; still an
// open request: https://github.com/aws/containers-roadmap/issues/1901).
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterContainerInstance.html
func (b *Backend) RegisterContainerInstance(ctx context.Context, in *ecsapi.RegisterContainerInstanceInput) (*ecsapi.RegisterContainerInstanceOutput, error) {
	s := scopeOf(ctx)
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	if len(in.Attributes) > 10 {
		return nil, errAttributeLimit()
	}
	for _, a := range in.Attributes {
		if err := validAttribute(a); err != nil {
			return nil, err
		}
	}
	for _, r := range in.TotalResources {
		// "Valid values: INTEGER, DOUBLE, LONG, or STRINGSET"; the message
		// is berth's.
		// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Resource.html
		if r.Type != nil && !slices.Contains([]string{"INTEGER", "DOUBLE", "LONG", "STRINGSET"}, *r.Type) {
			return nil, errInvalidParameter("Invalid type %s for resource %s. Valid types are INTEGER, DOUBLE, LONG and STRINGSET.", *r.Type, aws.ToString(r.Name))
		}
	}
	var identity struct{ InstanceId, AvailabilityZone string }
	if in.InstanceIdentityDocument != nil {
		if err := json.Unmarshal([]byte(*in.InstanceIdentityDocument), &identity); err != nil {
			return nil, errInvalidParameter("instanceIdentityDocument is not a valid instance identity document.")
		}
	}
	var ci types.ContainerInstance
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		c, err := b.activeCluster(tx, s, in.Cluster)
		if err != nil {
			return err
		}
		if in.ContainerInstanceArn != nil {
			if ci, err = b.containerInstance(tx, s, c, *in.ContainerInstanceArn); err != nil {
				return err
			}
			if b.fleet.isHost(*ci.ContainerInstanceArn) {
				// berth's agent registers its hosts' instances; the
				// message is berth's.
				return errInvalidParameter("Container instance %s is a host of berth's fleet, registered by berth's own agent.", *ci.ContainerInstanceArn)
			}
			ci.Version++
		} else {
			id := b.env.IDs.Hex(32)
			ci = types.ContainerInstance{
				ContainerInstanceArn: aws.String(s.arn("container-instance/" + *c.ClusterName + "/" + id)),
				Version:              1,
				Status:               aws.String("ACTIVE"),
				AgentConnected:       true,
				RegisteredAt:         b.now(),
				Attachments:          []types.Attachment{},
			}
		}
		ci.Ec2InstanceId = aws.String(identity.InstanceId)
		if identity.InstanceId == "" {
			ci.Ec2InstanceId = aws.String("i-" + b.env.IDs.Hex(17))
		}
		ci.VersionInfo = in.VersionInfo
		ci.RegisteredResources = backend.OrEmpty(in.TotalResources)
		ci.RemainingResources = backend.OrEmpty(in.TotalResources)
		ci.Attributes = backend.OrEmpty(in.Attributes)
		if err := tx.Put(s.Row(kindContainerInstance, *ci.ContainerInstanceArn, *c.ClusterArn, *ci.Ec2InstanceId), ci); err != nil {
			return err
		}
		if len(in.Tags) > 0 {
			return setTags(tx, s, *ci.ContainerInstanceArn, in.Tags)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	ci.Tags = in.Tags
	return &ecsapi.RegisterContainerInstanceOutput{ContainerInstance: &ci}, nil
}

// DeregisterContainerInstance marks an instance INACTIVE. Without force it
// refuses while tasks run on it.
func (b *Backend) DeregisterContainerInstance(ctx context.Context, in *ecsapi.DeregisterContainerInstanceInput) (*ecsapi.DeregisterContainerInstanceOutput, error) {
	s := scopeOf(ctx)
	if in.ContainerInstance == nil {
		return nil, errInvalidParameter("containerInstance must be specified.")
	}
	var ci types.ContainerInstance
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		c, err := b.cluster(tx, s, in.Cluster)
		if err != nil {
			return err
		}
		if ci, err = b.containerInstance(tx, s, c, *in.ContainerInstance); err != nil {
			return err
		}
		if err := b.remaining(tx, s, c, &ci); err != nil {
			return err
		}
		if ci.RunningTasksCount+ci.PendingTasksCount > 0 && !aws.ToBool(in.Force) {
			return errInvalidParameter("Found running tasks on the instance. Stop the tasks or use force to deregister the instance.")
		}
		ci.Status = aws.String("INACTIVE")
		ci.AgentConnected = false
		return tx.Put(s.Row(kindContainerInstance, *ci.ContainerInstanceArn, *c.ClusterArn, *ci.Ec2InstanceId), ci)
	})
	if err != nil {
		return nil, err
	}
	return &ecsapi.DeregisterContainerInstanceOutput{ContainerInstance: &ci}, nil
}

// DescribeContainerInstances describes up to 100 container instances.
func (b *Backend) DescribeContainerInstances(ctx context.Context, in *ecsapi.DescribeContainerInstancesInput) (*ecsapi.DescribeContainerInstancesOutput, error) {
	s := scopeOf(ctx)
	if len(in.ContainerInstances) == 0 || len(in.ContainerInstances) > 100 {
		return nil, errInvalidParameter("containerInstances must have between 1 and 100 items.")
	}
	out := &ecsapi.DescribeContainerInstancesOutput{ContainerInstances: []types.ContainerInstance{}, Failures: []types.Failure{}}
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		c, err := b.cluster(tx, s, in.Cluster)
		if err != nil {
			return err
		}
		all, err := loads(tx, s, c) // once for every instance described
		if err != nil {
			return err
		}
		for _, ref := range in.ContainerInstances {
			ci, err := b.containerInstance(tx, s, c, ref)
			if err != nil {
				out.Failures = append(out.Failures, types.Failure{Arn: aws.String(ref), Reason: aws.String("MISSING")})
				continue
			}
			all[*ci.ContainerInstanceArn].fill(&ci)
			b.fleet.live(&ci)
			if slices.Contains(in.Include, types.ContainerInstanceFieldTags) {
				if ci.Tags, err = tags(tx, s, *ci.ContainerInstanceArn); err != nil {
					return err
				}
			}
			out.ContainerInstances = append(out.ContainerInstances, ci)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListContainerInstances lists a cluster's container instance ARNs,
// optionally by status and by a cluster query language filter.
func (b *Backend) ListContainerInstances(ctx context.Context, in *ecsapi.ListContainerInstancesInput) (*ecsapi.ListContainerInstancesOutput, error) {
	s := scopeOf(ctx)
	limit, err := pageLimit(in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	var filter clusterquery.Expr
	if aws.ToString(in.Filter) != "" {
		if filter, err = clusterquery.Parse(*in.Filter); err != nil {
			return nil, errInvalidParameter("%s", err)
		}
	}
	out := &ecsapi.ListContainerInstancesOutput{ContainerInstanceArns: []string{}}
	err = b.store.View(ctx, func(tx *sqlite.Tx) error {
		c, err := b.cluster(tx, s, in.Cluster)
		if err != nil {
			return err
		}
		var all map[string]*load
		if filter != nil {
			if all, err = loads(tx, s, c); err != nil {
				return err
			}
		}
		q := s.Query(kindContainerInstance, *c.ClusterArn)
		q.Token, q.Limit = ptrValue(in.NextToken), limit
		page, next, err := sqlite.ListPage(tx, q, func(ci types.ContainerInstance) bool {
			b.fleet.live(&ci)
			if filter != nil && !filter.Match(queryable(ci, all[*ci.ContainerInstanceArn])) {
				return false
			}
			if in.Status == "" {
				return aws.ToString(ci.Status) != "INACTIVE"
			}
			return aws.ToString(ci.Status) == string(in.Status)
		})
		for _, ci := range page {
			out.ContainerInstanceArns = append(out.ContainerInstanceArns, *ci.ContainerInstanceArn)
		}
		out.NextToken = nextToken(next)
		return pageToken(err)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateContainerInstancesState sets instances ACTIVE or DRAINING.
func (b *Backend) UpdateContainerInstancesState(ctx context.Context, in *ecsapi.UpdateContainerInstancesStateInput) (*ecsapi.UpdateContainerInstancesStateOutput, error) {
	s := scopeOf(ctx)
	switch in.Status {
	case types.ContainerInstanceStatusActive, types.ContainerInstanceStatusDraining:
	default:
		return nil, errInvalidParameter("Container instances status can only be updated to ACTIVE or DRAINING.")
	}
	if len(in.ContainerInstances) == 0 || len(in.ContainerInstances) > 10 {
		return nil, errInvalidParameter("containerInstances must have between 1 and 10 items.")
	}
	out := &ecsapi.UpdateContainerInstancesStateOutput{ContainerInstances: []types.ContainerInstance{}, Failures: []types.Failure{}}
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		c, err := b.cluster(tx, s, in.Cluster)
		if err != nil {
			return err
		}
		for _, ref := range in.ContainerInstances {
			ci, err := b.containerInstance(tx, s, c, ref)
			if err != nil || aws.ToString(ci.Status) == "INACTIVE" {
				out.Failures = append(out.Failures, types.Failure{Arn: aws.String(ref), Reason: aws.String("MISSING")})
				continue
			}
			ci.Status = aws.String(string(in.Status))
			ci.Version++
			if err := tx.Put(s.Row(kindContainerInstance, *ci.ContainerInstanceArn, *c.ClusterArn, *ci.Ec2InstanceId), ci); err != nil {
				return err
			}
			if err := b.remaining(tx, s, c, &ci); err != nil { // as DescribeContainerInstances shows it
				return err
			}
			b.fleet.live(&ci)
			out.ContainerInstances = append(out.ContainerInstances, ci)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	b.poke() // a DRAINING instance's service tasks are replaced now
	return out, nil
}

// DiscoverPollEndpoint answers the ECS agent's first call with the
// endpoints of the region it polls and reports telemetry to, in AWS's
// form. berth's own agent needs none of them.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DiscoverPollEndpoint.html
func (b *Backend) DiscoverPollEndpoint(ctx context.Context, in *ecsapi.DiscoverPollEndpointInput) (*ecsapi.DiscoverPollEndpointOutput, error) {
	s := scopeOf(ctx)
	if in.Cluster != nil {
		if err := b.store.View(ctx, func(tx *sqlite.Tx) error { _, err := b.cluster(tx, s, in.Cluster); return err }); err != nil {
			return nil, err
		}
	}
	return &ecsapi.DiscoverPollEndpointOutput{
		Endpoint:               aws.String("https://ecs-a-1." + s.Region + ".amazonaws.com/"),
		TelemetryEndpoint:      aws.String("https://ecs-t-1." + s.Region + ".amazonaws.com/"),
		ServiceConnectEndpoint: aws.String("https://ecs-sc." + s.Region + ".api.aws"),
	}, nil
}

// HasContainerInstance reports whether an ACTIVE or DRAINING container
// instance of any cluster in ctx's scope is the EC2 instance
// ec2InstanceID: ELBv2 takes its id as an instance target.
func (b *Backend) HasContainerInstance(ctx context.Context, ec2InstanceID string) (bool, error) {
	s := scopeOf(ctx)
	q := s.Query(kindContainerInstance, "")
	q.Name = ec2InstanceID
	var found bool
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		instances, err := sqlite.ListAll[types.ContainerInstance](tx, q)
		found = slices.ContainsFunc(instances, func(ci types.ContainerInstance) bool { return aws.ToString(ci.Status) != "INACTIVE" })
		return err
	})
	return found, err
}
