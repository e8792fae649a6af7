package ecs

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecsapi "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// serviceLinkedRole is the role ECS uses for load balancer registration.
const serviceLinkedRole = "role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS"

// CreateService creates a service and its first (PRIMARY) deployment.
// Tasks are started by the scheduler, not here.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html
func (b *Backend) CreateService(ctx context.Context, in *ecsapi.CreateServiceInput) (*ecsapi.CreateServiceOutput, error) {
	s := scopeOf(ctx)
	if in.ServiceName == nil {
		return nil, errInvalidParameter("serviceName must be specified.")
	}
	if err := validName("Service name", *in.ServiceName); err != nil {
		return nil, err
	}
	if err := validConstraints(in.PlacementConstraints); err != nil {
		return nil, err
	}
	strategy := in.SchedulingStrategy
	if strategy == "" {
		strategy = types.SchedulingStrategyReplica
	}
	if strategy == types.SchedulingStrategyReplica && in.DesiredCount == nil {
		return nil, errInvalidParameter("desiredCount must be specified for services with the REPLICA scheduling strategy.")
	}
	if err := validDesiredCount(in.DesiredCount); err != nil {
		return nil, err
	}
	if err := validLaunchLists(in.PlacementStrategy, in.CapacityProviderStrategy, nil); err != nil {
		return nil, err
	}
	if strategy == types.SchedulingStrategyDaemon {
		if err := validDaemon(in.DesiredCount, in.PlacementStrategy, in.DeploymentController); err != nil {
			return nil, err
		}
	}
	if in.LaunchType != "" && len(in.CapacityProviderStrategy) > 0 {
		return nil, errInvalidParameter("Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.")
	}
	if strategy == types.SchedulingStrategyDaemon && in.LaunchType == types.LaunchTypeFargate {
		return nil, errInvalidParameter("The daemon scheduling strategy is not supported with the FARGATE launch type.")
	}
	if len(in.LoadBalancers) > 5 {
		return nil, errInvalidParameter("loadBalancers can have at most 5 items.")
	}
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	if err := validPlatformVersion(in.LaunchType, in.PlatformVersion); err != nil {
		return nil, err
	}
	controller := in.DeploymentController
	if controller == nil {
		controller = &types.DeploymentController{Type: types.DeploymentControllerTypeEcs}
	}
	if in.TaskDefinition == nil && controller.Type != types.DeploymentControllerTypeExternal {
		return nil, errInvalidParameter("TaskDefinition must be specified.")
	}
	dc, err := deploymentConfiguration(in.DeploymentConfiguration, strategy)
	if err != nil {
		return nil, err
	}
	if err := b.validNetwork(ctx, in.NetworkConfiguration); err != nil {
		return nil, err
	}
	if in.ServiceConnectConfiguration != nil {
		b.scMu.Lock()
		defer b.scMu.Unlock()
	}
	sc, scResources, err := b.serviceConnect(ctx, s, in.Cluster, in.TaskDefinition, *in.ServiceName, in.ServiceConnectConfiguration)
	if err != nil {
		return nil, err
	}
	var svc types.Service
	err = b.store.Update(ctx, func(tx *sqlite.Tx) error {
		c, err := b.activeCluster(tx, s, in.Cluster)
		if err != nil {
			return err
		}
		arn := s.arn("service/" + *c.ClusterName + "/" + *in.ServiceName)
		var existing types.Service
		switch err := tx.Get(s.Key(kindService, arn), &existing); {
		case err == nil && aws.ToString(existing.Status) == "DRAINING":
			// The text deployment tools match to retry, as field reports
			// quote ECS's InvalidParameterException.
			return errInvalidParameter("Unable to Start a service that is still Draining.")
		case err == nil && aws.ToString(existing.Status) != "INACTIVE":
			return errInvalidParameter("Creation of service was not idempotent.")
		case err != nil && !errors.Is(err, sqlite.ErrNotFound):
			return err
		}
		var td *types.TaskDefinition
		if in.TaskDefinition != nil {
			t, err := b.taskDefinition(tx, s, *in.TaskDefinition)
			if err != nil {
				return errInvalidParameter("TaskDefinition not found.")
			}
			if t.Status != types.TaskDefinitionStatusActive {
				return errInvalidParameter("TaskDefinition is inactive")
			}
			td = &t
		}
		if err := validLaunch(resolvedLaunchType(in.LaunchType, in.CapacityProviderStrategy, c.DefaultCapacityProviderStrategy), in.PlatformVersion, in.NetworkConfiguration); err != nil {
			return err
		}
		launchType := in.LaunchType
		if launchType == "" && len(in.CapacityProviderStrategy) == 0 {
			launchType = types.LaunchTypeEc2
		}
		if td != nil {
			if err := validPlacement(td, launchTypeOf(in.LaunchType, in.CapacityProviderStrategy), in.NetworkConfiguration, in.LoadBalancers, in.Role); err != nil {
				return err
			}
			if err := b.validLoadBalancers(ctx, *td, in.LoadBalancers); err != nil {
				return err
			}
			if err := b.validRegistries(ctx, *td, in.ServiceRegistries); err != nil {
				return err
			}
		}
		now := b.now()
		svc = types.Service{
			ServiceArn:                    aws.String(arn),
			ServiceName:                   in.ServiceName,
			ClusterArn:                    c.ClusterArn,
			LoadBalancers:                 backend.OrEmpty(in.LoadBalancers),
			ServiceRegistries:             backend.OrEmpty(in.ServiceRegistries),
			Status:                        aws.String("ACTIVE"),
			DesiredCount:                  ptrValue(in.DesiredCount),
			LaunchType:                    launchType,
			CapacityProviderStrategy:      in.CapacityProviderStrategy,
			PlatformVersion:               servicePlatformVersion(launchType, in.PlatformVersion),
			PlatformFamily:                platformFamily(launchType),
			DeploymentConfiguration:       dc,
			Events:                        []types.ServiceEvent{},
			CreatedAt:                     now,
			PlacementConstraints:          backend.OrEmpty(in.PlacementConstraints),
			PlacementStrategy:             backend.OrEmpty(in.PlacementStrategy),
			NetworkConfiguration:          in.NetworkConfiguration,
			HealthCheckGracePeriodSeconds: in.HealthCheckGracePeriodSeconds,
			SchedulingStrategy:            strategy,
			DeploymentController:          controller,
			CreatedBy:                     aws.String(s.principal()),
			EnableECSManagedTags:          in.EnableECSManagedTags,
			PropagateTags:                 in.PropagateTags,
			EnableExecuteCommand:          in.EnableExecuteCommand,
			AvailabilityZoneRebalancing:   in.AvailabilityZoneRebalancing,
		}
		if svc.PropagateTags == "" {
			svc.PropagateTags = types.PropagateTagsNone
		}
		if strategy == types.SchedulingStrategyDaemon && len(b.fleet.hosts) > 0 {
			svc.DesiredCount = int32(len(b.fleet.hosts)) // one task per container instance: per host
		}
		if svc.AvailabilityZoneRebalancing == "" {
			// New REPLICA services rebalance across zones unless told not to.
			svc.AvailabilityZoneRebalancing = types.AvailabilityZoneRebalancingEnabled
			if strategy == types.SchedulingStrategyDaemon {
				svc.AvailabilityZoneRebalancing = types.AvailabilityZoneRebalancingDisabled
			}
		}
		if len(in.LoadBalancers) > 0 && svc.HealthCheckGracePeriodSeconds == nil {
			svc.HealthCheckGracePeriodSeconds = aws.Int32(0)
		}
		if len(in.LoadBalancers) > 0 && (td == nil || td.NetworkMode != types.NetworkModeAwsvpc) {
			svc.RoleArn = aws.String("arn:aws:iam::" + s.Account + ":" + serviceLinkedRole)
			if in.Role != nil {
				svc.RoleArn = aws.String(roleArn(s, *in.Role))
			}
		}
		if td != nil {
			svc.TaskDefinition = td.TaskDefinitionArn
			svc.Deployments = []types.Deployment{b.newDeployment(&svc, now)}
			svc.Deployments[0].ServiceConnectConfiguration, svc.Deployments[0].ServiceConnectResources = sc, scResources
			if err := b.recordDeployment(tx, s, c, &svc); err != nil {
				return err
			}
		} else {
			svc.Deployments = []types.Deployment{}
		}
		if err := putService(tx, s, svc); err != nil {
			return err
		}
		if err := tx.Delete(s.Key(kindTags, arn)); err != nil {
			return err
		}
		if len(in.Tags) > 0 {
			if err := setTags(tx, s, arn, in.Tags); err != nil {
				return err
			}
			svc.Tags = in.Tags
		}
		return nil
	})
	if err != nil {
		// What Cloud Map got for a service that is not: none uses it.
		b.retireServiceConnect(ctx, s, discoveryArns(types.Deployment{ServiceConnectResources: scResources}))
		return nil, err
	}
	b.poke()
	return &ecsapi.CreateServiceOutput{Service: &svc}, nil
}

func roleArn(s scope, role string) string {
	if resourceName(role, "role") != role {
		return role
	}
	return "arn:aws:iam::" + s.Account + ":role/" + role
}

// deploymentConfiguration fills the API defaults: 100/200 for REPLICA,
// 0/100 for DAEMON, circuit breaker off.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html
func deploymentConfiguration(in *types.DeploymentConfiguration, strategy types.SchedulingStrategy) (*types.DeploymentConfiguration, error) {
	dc := types.DeploymentConfiguration{}
	if in != nil {
		dc = *in
	}
	minHealthy, maxPercent := int32(100), int32(200)
	if strategy == types.SchedulingStrategyDaemon {
		minHealthy, maxPercent = 0, 100
	}
	if dc.MinimumHealthyPercent == nil {
		dc.MinimumHealthyPercent = aws.Int32(minHealthy)
	}
	if dc.MaximumPercent == nil {
		dc.MaximumPercent = aws.Int32(maxPercent)
	}
	if dc.DeploymentCircuitBreaker == nil {
		dc.DeploymentCircuitBreaker = &types.DeploymentCircuitBreaker{}
	}
	if dc.Strategy == "" {
		dc.Strategy = types.DeploymentStrategyRolling
	}
	if *dc.MinimumHealthyPercent < 0 || *dc.MinimumHealthyPercent > 100 {
		return nil, errInvalidParameter("minimumHealthyPercent must be between 0 and 100.")
	}
	if *dc.MaximumPercent < 100 && strategy == types.SchedulingStrategyReplica {
		return nil, errInvalidParameter("maximumPercent must be greater than or equal to 100.")
	}
	// A daemon runs one task per instance: no room for a second during a
	// deployment. ECS's words, as field reports quote them:
	// https://github.com/hashicorp/terraform-provider-aws/pull/4825,
	// https://github.com/aws/aws-cdk/issues/2209
	if *dc.MaximumPercent > 100 && strategy == types.SchedulingStrategyDaemon {
		return nil, errInvalidParameter("The daemon scheduling strategy does not support values above 100 for maximumPercent on a deployment configuration. Change the maximumPercent value to 100, and try again")
	}
	return &dc, nil
}

// validPlacement checks the task definition against the launch type and
// the network and load balancer configuration, as CreateService does.
func validPlacement(td *types.TaskDefinition, launchType types.LaunchType, nc *types.NetworkConfiguration, lbs []types.LoadBalancer, role *string) error {
	if launchType == types.LaunchTypeFargate && !slices.Contains(td.Compatibilities, types.CompatibilityFargate) {
		return errInvalidParameter("Task definition does not support launch_type FARGATE.")
	}
	if td.NetworkMode == types.NetworkModeAwsvpc {
		if nc == nil || nc.AwsvpcConfiguration == nil {
			return errInvalidParameter("Network Configuration must be provided when networkMode 'awsvpc' is specified.")
		}
		if len(nc.AwsvpcConfiguration.Subnets) == 0 {
			return errInvalidParameter("subnets can not be empty.")
		}
		if len(nc.AwsvpcConfiguration.Subnets) > 16 || len(nc.AwsvpcConfiguration.SecurityGroups) > 5 {
			return errInvalidParameter("At most 16 subnets and 5 security groups can be specified.")
		}
		if role != nil && len(lbs) > 0 {
			return errInvalidParameter("You cannot specify an IAM role for services that require a service linked role.")
		}
	} else if nc != nil {
		return errInvalidParameter("Network Configuration is not valid for the given networkMode of this task definition.")
	}
	for _, lb := range lbs {
		if lb.TargetGroupArn == nil && lb.LoadBalancerName == nil {
			return errInvalidParameter("Either targetGroupArn or loadBalancerName must be specified for a load balancer.")
		}
		name, port := aws.ToString(lb.ContainerName), aws.ToInt32(lb.ContainerPort)
		i := slices.IndexFunc(td.ContainerDefinitions, func(c types.ContainerDefinition) bool { return aws.ToString(c.Name) == name })
		if i < 0 {
			return errInvalidParameter("The container %s does not exist in the task definition.", name)
		}
		if !slices.ContainsFunc(td.ContainerDefinitions[i].PortMappings, func(p types.PortMapping) bool { return aws.ToInt32(p.ContainerPort) == port }) {
			return errInvalidParameter("The container %s did not have a container port %d defined.", name, port)
		}
	}
	return nil
}

// fargatePlatforms are the Linux Fargate platform versions.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/platform-linux-fargate.html
var fargatePlatforms = []string{"1.4.0", "1.3.0"}

// platformVersion is the Fargate platform version tasks and deployments
// run on: LATEST (or none) resolved to the newest.
func platformVersion(lt types.LaunchType, v *string) *string {
	if lt != types.LaunchTypeFargate {
		return nil
	}
	if v == nil || *v == "LATEST" {
		return aws.String(fargatePlatforms[0])
	}
	return v
}

// servicePlatformVersion is the platform version a Fargate service keeps
// as it was asked for: LATEST unless a version is named. Its deployments
// and tasks show the version it resolves to.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Service.html
func servicePlatformVersion(lt types.LaunchType, v *string) *string {
	if lt != types.LaunchTypeFargate {
		return nil
	}
	if v == nil {
		return aws.String("LATEST")
	}
	return v
}

func validPlatformVersion(lt types.LaunchType, v *string) error {
	if v == nil || *v == "LATEST" || lt != types.LaunchTypeFargate || slices.Contains(fargatePlatforms, *v) {
		return nil
	}
	return awsproto.Modeled(&types.PlatformUnknownException{}, "The specified platform version %s does not exist.", *v)
}

func platformFamily(lt types.LaunchType) *string {
	if lt != types.LaunchTypeFargate {
		return nil
	}
	return aws.String("Linux")
}

// newDeployment is a PRIMARY deployment of the service's current settings.
func (b *Backend) newDeployment(svc *types.Service, now *time.Time) types.Deployment {
	id := "ecs-svc/" + b.digits(19)
	d := types.Deployment{
		Id:                       aws.String(id),
		Status:                   aws.String("PRIMARY"),
		TaskDefinition:           svc.TaskDefinition,
		DesiredCount:             svc.DesiredCount,
		CreatedAt:                now,
		UpdatedAt:                now,
		LaunchType:               svc.LaunchType,
		CapacityProviderStrategy: svc.CapacityProviderStrategy,
		PlatformVersion:          platformVersion(svc.LaunchType, svc.PlatformVersion),
		PlatformFamily:           svc.PlatformFamily,
		NetworkConfiguration:     svc.NetworkConfiguration,
		RolloutState:             types.DeploymentRolloutStateInProgress,
		RolloutStateReason:       aws.String("ECS deployment " + id + " in progress."),
	}
	if len(svc.Deployments) > 0 {
		// The Service Connect configuration carries over from the PRIMARY
		// deployment this one replaces.
		d.ServiceConnectConfiguration = svc.Deployments[0].ServiceConnectConfiguration
		d.ServiceConnectResources = svc.Deployments[0].ServiceConnectResources
	}
	if d.DesiredCount == 0 {
		d.RolloutState = types.DeploymentRolloutStateCompleted
		d.RolloutStateReason = aws.String("ECS deployment " + id + " completed.")
	}
	return d
}

// digits returns n decimal digits drawn from the ID source.
func (b *Backend) digits(n int) string {
	out := make([]byte, 0, n)
	for len(out) < n {
		v, _ := strconv.ParseUint(b.env.IDs.Hex(15), 16, 64)
		out = append(out, fmt.Sprintf("%018d", v%1e18)...)
	}
	return string(out[:n])
}

// service loads a service by name or ARN within the cluster ref names.
func (b *Backend) service(tx *sqlite.Tx, s scope, clusterRef *string, ref string) (types.Cluster, types.Service, error) {
	c, err := b.cluster(tx, s, clusterRef)
	if err != nil {
		return c, types.Service{}, err
	}
	svc, err := serviceIn(tx, s, c, ref)
	return c, svc, err
}

// putService stores a service under its cluster, indexed by status so that
// listing ACTIVE services reads no bodies.
func putService(tx *sqlite.Tx, s scope, svc types.Service) error {
	return tx.Put(s.Row(kindService, *svc.ServiceArn, *svc.ClusterArn, *svc.Status), svc)
}

// serviceIn loads a service by name or ARN within cluster c.
func serviceIn(tx *sqlite.Tx, s scope, c types.Cluster, ref string) (types.Service, error) {
	var svc types.Service
	err := tx.Get(s.Key(kindService, s.arn("service/"+*c.ClusterName+"/"+s.name(ref, "service"))), &svc)
	return svc, notFound(err, errServiceNotFound)
}

// DescribeServices describes up to 10 services of one cluster.
func (b *Backend) DescribeServices(ctx context.Context, in *ecsapi.DescribeServicesInput) (*ecsapi.DescribeServicesOutput, error) {
	s := scopeOf(ctx)
	if len(in.Services) == 0 || len(in.Services) > 10 {
		return nil, errInvalidParameter("services must have between 1 and 10 items.")
	}
	out := &ecsapi.DescribeServicesOutput{Services: []types.Service{}, Failures: []types.Failure{}}
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		c, err := b.cluster(tx, s, in.Cluster)
		if err != nil {
			return err
		}
		for _, ref := range in.Services {
			svc, err := serviceIn(tx, s, c, ref)
			if awsproto.HasCode(err, &types.ServiceNotFoundException{}) {
				// A name not found is reported as service/<name>, without
				// the cluster, as ECS answers it.
				arn := ref
				if resourceName(ref, "service") == ref {
					arn = s.arn("service/" + ref)
				}
				out.Failures = append(out.Failures, types.Failure{Arn: aws.String(arn), Reason: aws.String("MISSING")})
				continue
			}
			if err != nil {
				return err
			}
			if slices.Contains(in.Include, types.ServiceFieldTags) {
				if svc.Tags, err = tags(tx, s, *svc.ServiceArn); err != nil {
					return err
				}
			}
			if svc.DeploymentController != nil && svc.DeploymentController.Type == types.DeploymentControllerTypeExternal {
				if svc.TaskSets, err = taskSetsOf(tx, s, *svc.ServiceArn); err != nil {
					return err
				}
			}
			out.Services = append(out.Services, svc)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListServices lists the ARNs of a cluster's ACTIVE services.
func (b *Backend) ListServices(ctx context.Context, in *ecsapi.ListServicesInput) (*ecsapi.ListServicesOutput, error) {
	s := scopeOf(ctx)
	limit, err := pageLimit(in.MaxResults, 10, 100)
	if err != nil {
		return nil, err
	}
	out := &ecsapi.ListServicesOutput{ServiceArns: []string{}}
	err = b.store.View(ctx, func(tx *sqlite.Tx) error {
		c, err := b.cluster(tx, s, in.Cluster)
		if err != nil {
			return err
		}
		q := s.Query(kindService, *c.ClusterArn)
		q.Name, q.Token, q.Limit = "ACTIVE", ptrValue(in.NextToken), limit
		var next string
		if in.LaunchType == "" && in.SchedulingStrategy == "" && in.ResourceManagementType == "" {
			out.ServiceArns, next, err = tx.ListIDs(q)
		} else {
			var page []serviceKeys
			page, next, err = sqlite.ListPage(tx, q, func(svc serviceKeys) bool {
				return (in.LaunchType == "" || svc.LaunchType == in.LaunchType) &&
					(in.SchedulingStrategy == "" || svc.SchedulingStrategy == in.SchedulingStrategy) &&
					(in.ResourceManagementType == "" || svc.ResourceManagementType == in.ResourceManagementType)
			})
			for _, svc := range page {
				out.ServiceArns = append(out.ServiceArns, *svc.ServiceArn)
			}
		}
		out.ServiceArns = backend.OrEmpty(out.ServiceArns)
		out.NextToken = nextToken(next)
		return pageToken(err)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// serviceKeys is what listing services needs of a stored service.
type serviceKeys struct {
	ServiceArn              *string
	DeploymentController    *types.DeploymentController
	DeploymentConfiguration *types.DeploymentConfiguration
	LaunchType              types.LaunchType
	SchedulingStrategy      types.SchedulingStrategy
	ResourceManagementType  types.ResourceManagementType
}

// ListServicesByNamespace lists services whose Service Connect
// configuration uses the namespace.
func (b *Backend) ListServicesByNamespace(ctx context.Context, in *ecsapi.ListServicesByNamespaceInput) (*ecsapi.ListServicesByNamespaceOutput, error) {
	s := scopeOf(ctx)
	if in.Namespace == nil || *in.Namespace == "" {
		return nil, errInvalidParameter("namespace must be specified.")
	}
	limit, err := pageLimit(in.MaxResults, 10, 100)
	if err != nil {
		return nil, err
	}
	ns, err := b.resolveNamespace(ctx, *in.Namespace)
	if err != nil {
		return nil, err
	}
	out := &ecsapi.ListServicesByNamespaceOutput{ServiceArns: []string{}}
	err = b.store.View(ctx, func(tx *sqlite.Tx) error {
		q := s.Query(kindService, "")
		q.Name, q.Token, q.Limit = "ACTIVE", ptrValue(in.NextToken), limit
		page, next, err := sqlite.ListPage(tx, q, func(svc types.Service) bool {
			if len(svc.Deployments) == 0 {
				return false
			}
			sc := svc.Deployments[0].ServiceConnectConfiguration
			return sc != nil && sc.Enabled && aws.ToString(sc.Namespace) == ns.ARN
		})
		for _, svc := range page {
			out.ServiceArns = append(out.ServiceArns, *svc.ServiceArn)
		}
		out.NextToken = nextToken(next)
		return pageToken(err)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateService changes a service. Changes to what the tasks run (task
// definition, network or load balancer configuration, platform version,
// capacity providers, service registries, forceNewDeployment) start a new
// PRIMARY deployment; desiredCount, deploymentConfiguration, the grace
// period and tag settings do not.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html
func (b *Backend) UpdateService(ctx context.Context, in *ecsapi.UpdateServiceInput) (*ecsapi.UpdateServiceOutput, error) {
	s := scopeOf(ctx)
	if in.Service == nil {
		return nil, errInvalidParameter("service must be specified.")
	}
	if err := validDesiredCount(in.DesiredCount); err != nil {
		return nil, err
	}
	if err := validConstraints(in.PlacementConstraints); err != nil {
		return nil, err
	}
	if err := validLaunchLists(in.PlacementStrategy, in.CapacityProviderStrategy, nil); err != nil {
		return nil, err
	}
	if err := b.validNetwork(ctx, in.NetworkConfiguration); err != nil {
		return nil, err
	}
	var sc *types.ServiceConnectConfiguration
	var scResources []types.ServiceConnectServiceResource
	if in.ServiceConnectConfiguration != nil {
		b.scMu.Lock()
		defer b.scMu.Unlock()
		taskDefinition := in.TaskDefinition
		cluster := in.Cluster
		if taskDefinition == nil {
			if err := b.store.View(ctx, func(tx *sqlite.Tx) error {
				c, current, err := b.service(tx, s, in.Cluster, *in.Service)
				taskDefinition, cluster = current.TaskDefinition, c.ClusterArn
				return err
			}); err != nil {
				return nil, err
			}
		}
		var err error
		if sc, scResources, err = b.serviceConnect(ctx, s, cluster, taskDefinition, resourceName(*in.Service, "service"), in.ServiceConnectConfiguration); err != nil {
			return nil, err
		}
	}
	var svc types.Service
	var before []types.Deployment
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		c, current, err := b.service(tx, s, in.Cluster, *in.Service)
		if err != nil {
			return err
		}
		if aws.ToString(current.Status) != "ACTIVE" {
			return errServiceNotActive()
		}
		if current.SchedulingStrategy == types.SchedulingStrategyDaemon {
			if err := validDaemon(in.DesiredCount, in.PlacementStrategy, nil); err != nil {
				return err
			}
		}
		svc = current
		before = current.Deployments
		roll := in.ForceNewDeployment
		if in.TaskDefinition != nil {
			td, err := b.taskDefinition(tx, s, *in.TaskDefinition)
			if err != nil {
				return errInvalidParameter("TaskDefinition not found.")
			}
			if td.Status != types.TaskDefinitionStatusActive {
				return errInvalidParameter("TaskDefinition is inactive")
			}
			roll = roll || aws.ToString(td.TaskDefinitionArn) != aws.ToString(svc.TaskDefinition)
			svc.TaskDefinition = td.TaskDefinitionArn
		}
		change := func(dst, src any, rolls bool) {
			if reflect.ValueOf(src).IsNil() {
				return
			}
			if !reflect.DeepEqual(reflect.ValueOf(dst).Elem().Interface(), src) && rolls {
				roll = true
			}
			reflect.ValueOf(dst).Elem().Set(reflect.ValueOf(src))
		}
		change(&svc.NetworkConfiguration, in.NetworkConfiguration, true)
		change(&svc.LoadBalancers, in.LoadBalancers, true)
		change(&svc.ServiceRegistries, in.ServiceRegistries, true)
		change(&svc.CapacityProviderStrategy, in.CapacityProviderStrategy, true)
		change(&svc.PlacementConstraints, in.PlacementConstraints, false)
		change(&svc.PlacementStrategy, in.PlacementStrategy, false)
		change(&svc.HealthCheckGracePeriodSeconds, in.HealthCheckGracePeriodSeconds, false)
		// The launch type the service's tasks get from now on: a capacity
		// provider strategy replaces the launch type.
		lt := svc.LaunchType
		if len(svc.CapacityProviderStrategy) > 0 {
			lt = ""
		}
		if err := validLaunch(resolvedLaunchType(lt, svc.CapacityProviderStrategy, c.DefaultCapacityProviderStrategy), in.PlatformVersion, in.NetworkConfiguration); err != nil {
			return err
		}
		if in.PlatformVersion != nil {
			if err := validPlatformVersion(svc.LaunchType, in.PlatformVersion); err != nil {
				return err
			}
			v := servicePlatformVersion(svc.LaunchType, in.PlatformVersion)
			roll = roll || aws.ToString(v) != aws.ToString(svc.PlatformVersion)
			svc.PlatformVersion = v
		}
		if in.DesiredCount != nil {
			svc.DesiredCount = *in.DesiredCount
		}
		if in.DeploymentConfiguration != nil {
			if svc.DeploymentConfiguration, err = deploymentConfiguration(in.DeploymentConfiguration, svc.SchedulingStrategy); err != nil {
				return err
			}
		}
		if in.EnableExecuteCommand != nil {
			svc.EnableExecuteCommand = *in.EnableExecuteCommand
		}
		if in.EnableECSManagedTags != nil {
			svc.EnableECSManagedTags = *in.EnableECSManagedTags
		}
		if in.PropagateTags != "" {
			svc.PropagateTags = in.PropagateTags
		}
		if in.AvailabilityZoneRebalancing != "" {
			svc.AvailabilityZoneRebalancing = in.AvailabilityZoneRebalancing
		}
		if len(in.LoadBalancers) > 5 {
			return errInvalidParameter("loadBalancers can have at most 5 items.")
		}
		if svc.TaskDefinition != nil {
			td, err := b.taskDefinition(tx, s, *svc.TaskDefinition)
			if err != nil {
				return err
			}
			if err := validPlacement(&td, svc.LaunchType, svc.NetworkConfiguration, svc.LoadBalancers, nil); err != nil {
				return err
			}
			if in.LoadBalancers != nil || in.TaskDefinition != nil {
				if err := b.validLoadBalancers(ctx, td, svc.LoadBalancers); err != nil {
					return err
				}
			}
			if in.ServiceRegistries != nil || in.TaskDefinition != nil {
				if err := b.validRegistries(ctx, td, svc.ServiceRegistries); err != nil {
					return err
				}
			}
			// A new task definition keeps the Service Connect services'
			// port names: "The portName must match the name of one of
			// the portMappings from all the containers in the task
			// definition of this Amazon ECS service" (API_ServiceConnectService).
			if in.TaskDefinition != nil && in.ServiceConnectConfiguration == nil && len(svc.Deployments) > 0 {
				if sc := svc.Deployments[0].ServiceConnectConfiguration; sc != nil && sc.Enabled {
					for _, cs := range sc.Services {
						if _, _, ok := namedPort(&td, aws.ToString(cs.PortName)); !ok {
							return errInvalidParameter("The portName %s does not match any portMappings name in task definition %s.", aws.ToString(cs.PortName), aws.ToString(td.TaskDefinitionArn))
						}
					}
				}
			}
		}
		if in.ServiceConnectConfiguration != nil && (len(svc.Deployments) == 0 ||
			!reflect.DeepEqual(svc.Deployments[0].ServiceConnectConfiguration, sc) || !reflect.DeepEqual(svc.Deployments[0].ServiceConnectResources, scResources)) {
			roll = true
		}
		now := b.now()
		if roll {
			// The running PRIMARY is replaced; a deployment with no tasks
			// left has nothing to drain and ends at once.
			var kept []types.Deployment
			for _, d := range svc.Deployments {
				if d.RunningCount+d.PendingCount == 0 {
					continue
				}
				d.Status = aws.String("ACTIVE")
				kept = append(kept, d)
			}
			next := b.newDeployment(&svc, now)
			if in.ServiceConnectConfiguration != nil {
				next.ServiceConnectConfiguration, next.ServiceConnectResources = sc, scResources
			}
			svc.Deployments = append([]types.Deployment{next}, kept...)
			if err := b.recordDeployment(tx, s, c, &svc); err != nil {
				return err
			}
		} else if len(svc.Deployments) > 0 {
			svc.Deployments[0].DesiredCount = svc.DesiredCount
			svc.Deployments[0].UpdatedAt = now
		}
		return putService(tx, s, svc)
	})
	if err != nil {
		// What Cloud Map got for a configuration that is not: none uses it.
		if in.ServiceConnectConfiguration != nil {
			b.retireServiceConnect(ctx, s, discoveryArns(types.Deployment{ServiceConnectResources: scResources}))
		}
		return nil, err
	}
	b.poke()
	if in.ServiceConnectConfiguration != nil {
		// A deployment that replaced one publishing other discovery
		// names leaves those unused once their tasks are gone: the ones
		// with none left go now.
		if err := b.retireServiceConnect(ctx, s, discoveryArns(before...)); err != nil {
			return nil, err
		}
	}
	return &ecsapi.UpdateServiceOutput{Service: &svc}, nil
}

// DeleteService deletes a service scaled to zero (or any, with force). With
// no tasks left it is INACTIVE at once; otherwise DRAINING until they have
// stopped, those already stopping included.
func (b *Backend) DeleteService(ctx context.Context, in *ecsapi.DeleteServiceInput) (*ecsapi.DeleteServiceOutput, error) {
	s := scopeOf(ctx)
	if in.Service == nil {
		return nil, errInvalidParameter("service must be specified.")
	}
	var svc types.Service
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		_, current, err := b.service(tx, s, in.Cluster, *in.Service)
		if err != nil {
			return err
		}
		svc = current
		if aws.ToString(svc.Status) != "ACTIVE" {
			return errServiceNotActive()
		}
		if svc.DesiredCount > 0 && !aws.ToBool(in.Force) && svc.SchedulingStrategy != types.SchedulingStrategyDaemon {
			return errInvalidParameter("The service cannot be stopped while it is scaled above 0.")
		}
		svc.DesiredCount = 0
		tasks, err := liveTasks[taskKeys](tx, s.Scope, *svc.ClusterArn)
		if err != nil {
			return err
		}
		svc.Status = aws.String("INACTIVE")
		if slices.ContainsFunc(tasks, func(t taskKeys) bool { return serviceOf(s.Scope, t) == *svc.ServiceArn }) {
			svc.Status = aws.String("DRAINING")
		}
		for i := range svc.Deployments {
			svc.Deployments[i].DesiredCount = 0
		}
		// An external-controller service's task sets want their share of
		// nothing from now on, as the scheduler reads them; it passes a
		// service that is INACTIVE at once by, so this one's sets are
		// steady now.
		sets, err := taskSetsOf(tx, s, *svc.ServiceArn)
		if err != nil {
			return err
		}
		for _, ts := range sets {
			ts.ComputedDesiredCount, ts.UpdatedAt = 0, b.now()
			if aws.ToString(svc.Status) == "INACTIVE" && ts.StabilityStatus != types.StabilityStatusSteadyState {
				ts.StabilityStatus, ts.StabilityStatusAt = types.StabilityStatusSteadyState, b.now()
			}
			if err := putTaskSet(tx, s, ts); err != nil {
				return err
			}
		}
		// Its tasks are asked to stop now, in this transaction, as the
		// scheduler's next pass would for a desired count of 0: none that
		// is still starting may start after the service is gone.
		reason := "Scaling activity initiated by (deployment)"
		if len(svc.Deployments) > 0 {
			reason = "Scaling activity initiated by (deployment " + aws.ToString(svc.Deployments[0].Id) + ")"
		}
		now := b.now()
		for _, k := range tasks {
			if serviceOf(s.Scope, k) != *svc.ServiceArn {
				continue
			}
			if _, _, err := stopStored(tx, s, *k.TaskArn, reason, now); err != nil {
				return err
			}
		}
		return putService(tx, s, svc)
	})
	if err != nil {
		return nil, err
	}
	b.poke()
	// What ECS created in Cloud Map for the service goes with it; those
	// that still have tasks go with the last one.
	b.scMu.Lock()
	defer b.scMu.Unlock()
	if err := b.retireServiceConnect(ctx, s, discoveryArns(svc.Deployments...)); err != nil {
		return nil, err
	}
	return &ecsapi.DeleteServiceOutput{Service: &svc}, nil
}

// maxTasksPerService is ECS's quota of tasks per service, its desired
// count ("Tasks per service", 5,000:
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html).
const maxTasksPerService = 5000

// validDesiredCount checks a service's desired count, CreateService's or
// UpdateService's, against 0 and the quota, refused above it in ECS's
// words (a field report: https://github.com/aws/containers-roadmap/issues/768).
func validDesiredCount(n *int32) error {
	switch {
	case n == nil:
		return nil
	case *n < 0:
		return errInvalidParameter("desiredCount must be greater than or equal to 0.")
	case *n > maxTasksPerService:
		return errInvalidParameter("Desired count exceeds limit.")
	}
	return nil
}
