package ecs

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery"

	"berth/backend"
	"berth/sqlite"
)

// ServiceDiscovery is AWS Cloud Map, where the tasks of services with
// serviceRegistries register as instances: its API.
type ServiceDiscovery interface {
	RegisterInstance(context.Context, *servicediscovery.RegisterInstanceInput) (*servicediscovery.RegisterInstanceOutput, error)
	DeregisterInstance(context.Context, *servicediscovery.DeregisterInstanceInput) (*servicediscovery.DeregisterInstanceOutput, error)
	GetService(context.Context, *servicediscovery.GetServiceInput) (*servicediscovery.GetServiceOutput, error)
}

// validRegistries checks a service's registries against Cloud Map and the
// task definition as CreateService and UpdateService do, in ECS's words
// (field reports: hashicorp/terraform-provider-aws#4373, #17386, #3906;
// cloudposse/terraform-aws-ecs-web-app#208;
// umotif-public/terraform-aws-ecs-fargate#25;
// techservicesillinois/terraform-aws-ecs-service#16).
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceRegistry.html
func (b *Backend) validRegistries(ctx context.Context, td types.TaskDefinition, registries []types.ServiceRegistry) error {
	if len(registries) == 0 || b.Discovery == nil {
		return nil
	}
	// "Each service may be associated with one service registry." The
	// message is berth's.
	if len(registries) > 1 {
		return errInvalidParameter("serviceRegistries can have at most 1 item: each service may be associated with one service registry.")
	}
	for _, r := range registries {
		arn := aws.ToString(r.RegistryArn)
		if !strings.HasPrefix(arn, "arn:aws:servicediscovery:") || !strings.Contains(arn, ":service/srv-") {
			return errInvalidParameter("The format of the supplied service registry ARN is invalid: %s.", arn)
		}
		got, err := b.Discovery.GetService(ctx, &servicediscovery.GetServiceInput{Id: aws.String(cloudMapServiceID(arn))})
		if err != nil {
			return errClient("The service registry could not be validated. Route 53 error: \"ServiceNotFound.\"")
		}
		srv := false
		if dc := got.Service.DnsConfig; dc != nil {
			for _, rec := range dc.DnsRecords {
				srv = srv || rec.Type == "SRV"
			}
		}
		byContainer := r.ContainerName != nil || r.ContainerPort != nil
		switch mode := td.NetworkMode; {
		case r.Port != nil && byContainer:
			return errInvalidParameter("Specify a value for either 'port' or the 'containerName' and 'containerPort' combination, but not both. Remove one and retry.")
		case (mode == "" || mode == types.NetworkModeBridge || mode == types.NetworkModeHost) && (r.ContainerName == nil || r.ContainerPort == nil):
			return errInvalidParameter("When specifying 'host' or 'bridge' for networkMode, values for 'containerName' and 'containerPort' must be specified from the task definition. Registry: %s", arn)
		case !srv && r.ContainerPort != nil && mode == types.NetworkModeAwsvpc:
			return errInvalidParameter("The values specified for serviceRegistries do not require a value for 'containerPort'. Remove the value and retry.")
		case !srv && r.Port != nil:
			return errInvalidParameter("A port was provided but is not required by the specified service registry")
		case srv && r.Port == nil && !byContainer:
			// "If the task definition uses the awsvpc network mode and a
			// type SRV DNS record is used, you must specify a
			// containerName and containerPort combination or a port
			// value." The message is berth's.
			return errInvalidParameter("A service registry with SRV records needs either 'port' or the 'containerName' and 'containerPort' combination. Registry: %s", arn)
		}
		if r.ContainerName != nil {
			name, port := aws.ToString(r.ContainerName), aws.ToInt32(r.ContainerPort)
			i := slices.IndexFunc(td.ContainerDefinitions, func(c types.ContainerDefinition) bool { return aws.ToString(c.Name) == name })
			if i < 0 {
				return errInvalidParameter("The container %s does not exist in the task definition.", name)
			}
			if r.ContainerPort != nil && !slices.ContainsFunc(td.ContainerDefinitions[i].PortMappings, func(p types.PortMapping) bool { return aws.ToInt32(p.ContainerPort) == port }) {
				return errInvalidParameter("The container %s did not have a container port %d defined.", name, port)
			}
		}
	}
	return nil
}

// discoveredInstance is a task's instance in one Cloud Map service.
type discoveredInstance struct {
	ServiceID, InstanceID string
}

// cloudMapServiceID is the id of a Cloud Map service ARN
// (arn:aws:servicediscovery:<region>:<account>:service/srv-...).
func cloudMapServiceID(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

// instanceAttributes are the Cloud Map attributes of running task t in
// registry sr, as ECS registers them: the task's address (its ENI's in
// awsvpc mode, else its host's) and, when the registry names a port or
// a container port, the port (the host port in bridge and host mode).
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-discovery.html
func (b *Backend) instanceAttributes(tx *sqlite.Tx, s scope, t types.Task, sr types.ServiceRegistry) (map[string]string, error) {
	attrs := map[string]string{
		"ECS_CLUSTER_NAME":           resourceName(aws.ToString(t.ClusterArn), "cluster"),
		"ECS_SERVICE_NAME":           strings.TrimPrefix(aws.ToString(t.Group), "service:"),
		"ECS_TASK_DEFINITION_FAMILY": familyOf(aws.ToString(t.TaskDefinitionArn)),
		"REGION":                     s.Region,
		"AVAILABILITY_ZONE":          aws.ToString(t.AvailabilityZone),
		"AWS_INIT_HEALTH_STATUS":     "HEALTHY",
	}
	port := aws.ToInt32(sr.Port)
	for _, c := range t.Containers {
		if len(c.NetworkInterfaces) > 0 && attrs["AWS_INSTANCE_IPV4"] == "" {
			attrs["AWS_INSTANCE_IPV4"] = aws.ToString(c.NetworkInterfaces[0].PrivateIpv4Address)
		}
		if aws.ToString(c.Name) != aws.ToString(sr.ContainerName) || sr.ContainerPort == nil {
			continue
		}
		port = aws.ToInt32(sr.ContainerPort)
		for _, nb := range c.NetworkBindings {
			if aws.ToInt32(nb.ContainerPort) == aws.ToInt32(sr.ContainerPort) {
				port = aws.ToInt32(nb.HostPort)
			}
		}
	}
	if attrs["AWS_INSTANCE_IPV4"] == "" {
		if arn := aws.ToString(t.ContainerInstanceArn); arn != "" {
			var ci types.ContainerInstance
			if err := tx.Get(s.Key(kindContainerInstance, arn), &ci); err != nil {
				return nil, err
			}
			attrs["EC2_INSTANCE_ID"] = aws.ToString(ci.Ec2InstanceId)
			attrs["AWS_INSTANCE_IPV4"] = b.InstanceAddress(aws.ToString(ci.Ec2InstanceId))
		}
	}
	if attrs["AWS_INSTANCE_IPV4"] == "" {
		return nil, fmt.Errorf("the task has no address to register in %s", aws.ToString(sr.RegistryArn))
	}
	if port != 0 {
		attrs["AWS_INSTANCE_PORT"] = strconv.Itoa(int(port))
	}
	return attrs, nil
}

// familyOf is the family of a task definition ARN.
func familyOf(arn string) string {
	name := resourceName(arn, "task-definition")
	family, _, _ := strings.Cut(name, ":")
	return family
}

// discover registers a RUNNING service task in the Cloud Map services of
// its service registries, once: the task's id is its instance id there.
func (r *runner) discover(ctx context.Context) error {
	sd := r.a.b.Discovery
	if sd == nil {
		return nil
	}
	s := scope{r.ref.Scope}
	var tt taskTargets
	var attrs []map[string]string
	err := r.a.b.store.View(ctx, func(tx *sqlite.Tx) error {
		if err := tx.Get(s.Key(kindTaskTargets, r.ref.arn), &tt); err != nil {
			return notFound(err, func() error { return nil })
		}
		if len(tt.Registries) == 0 || len(tt.Discovered) > 0 {
			return nil
		}
		var t types.Task
		if err := tx.Get(r.ref.key(), &t); err != nil {
			return err
		}
		for _, sr := range tt.Registries {
			a, err := r.a.b.instanceAttributes(tx, s, t, sr)
			if err != nil {
				return err
			}
			// A bridge or host task is registered where other tasks
			// reach its host, as ECS registers the instance's private
			// address.
			if addr := r.a.b.InstanceTaskAddress(a["EC2_INSTANCE_ID"]); a["EC2_INSTANCE_ID"] != "" && addr != "" {
				a["AWS_INSTANCE_IPV4"] = addr
			}
			attrs = append(attrs, a)
		}
		return nil
	})
	if err != nil || len(attrs) == 0 {
		return err
	}
	scoped := backend.WithScope(ctx, s.Scope)
	id := taskID(r.ref.arn)
	var discovered []discoveredInstance
	for i, sr := range tt.Registries {
		service := cloudMapServiceID(aws.ToString(sr.RegistryArn))
		if _, err := sd.RegisterInstance(scoped, &servicediscovery.RegisterInstanceInput{
			ServiceId: aws.String(service), InstanceId: aws.String(id), Attributes: attrs[i], CreatorRequestId: aws.String(r.ref.arn),
		}); err != nil {
			return fmt.Errorf("registering in Cloud Map service %s: %w", service, err)
		}
		discovered = append(discovered, discoveredInstance{ServiceID: service, InstanceID: id})
	}
	return r.a.b.store.Update(ctx, func(tx *sqlite.Tx) error {
		var now taskTargets
		if err := tx.Get(s.Key(kindTaskTargets, r.ref.arn), &now); err != nil {
			return notFound(err, func() error { return nil })
		}
		now.Discovered = discovered
		return tx.Put(s.Row(kindTaskTargets, r.ref.arn, r.service, ""), now)
	})
}

// undiscover deregisters a stopping task from the Cloud Map services it
// registered in, before it drains, and retires the Cloud Map services ECS
// created for its service's Service Connect once that service is going.
func (r *runner) undiscover(ctx context.Context) error {
	sd := r.a.b.Discovery
	if sd == nil {
		return nil
	}
	s := scope{r.ref.Scope}
	var tt taskTargets
	if err := r.a.b.store.View(ctx, func(tx *sqlite.Tx) error {
		return notFound(tx.Get(s.Key(kindTaskTargets, r.ref.arn), &tt), func() error { return nil })
	}); err != nil {
		return err
	}
	scoped := backend.WithScope(ctx, s.Scope)
	if len(tt.Discovered) > 0 {
		for _, d := range tt.Discovered {
			// An instance or a service deleted meanwhile is gone already.
			sd.DeregisterInstance(scoped, &servicediscovery.DeregisterInstanceInput{ServiceId: aws.String(d.ServiceID), InstanceId: aws.String(d.InstanceID)})
		}
		if err := r.a.b.store.Update(ctx, func(tx *sqlite.Tx) error {
			var now taskTargets
			if err := tx.Get(s.Key(kindTaskTargets, r.ref.arn), &now); err != nil {
				return notFound(err, func() error { return nil })
			}
			now.Discovered = nil
			return tx.Put(s.Row(kindTaskTargets, r.ref.arn, r.service, ""), now)
		}); err != nil {
			return err
		}
	}
	if len(tt.Connect) == 0 {
		return nil
	}
	// What the task registered in, and whatever its service published
	// before, may be unused now.
	var candidates []string
	for _, c := range tt.Connect {
		candidates = append(candidates, c.DiscoveryArn)
	}
	r.a.b.scMu.Lock()
	defer r.a.b.scMu.Unlock()
	if err := r.a.b.store.View(ctx, func(tx *sqlite.Tx) error {
		var svc types.Service
		if err := tx.Get(s.Key(kindService, r.service), &svc); err != nil {
			return notFound(err, func() error { return nil })
		}
		candidates = append(candidates, discoveryArns(svc.Deployments...)...)
		return nil
	}); err != nil {
		return err
	}
	return r.a.b.retireServiceConnect(scoped, s, candidates)
}
