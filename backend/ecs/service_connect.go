package ecs

import (
	"cmp"
	"context"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	sdtypes "github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/rs/zerolog"

	"berth/awsproto"
	"berth/backend"
	"berth/lb"
	"berth/lb/balance"
	"berth/lb/rules"
	"berth/sqlite"
)

// ECS Service Connect: a service's serviceConnectConfiguration publishes a
// named port mapping of its task definition under a discovery name in a
// Cloud Map namespace, and every task of a Service Connect service in
// that namespace reaches it at its client aliases (dnsName:port).
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect.html
//
// AWS runs a proxy in each task; berth runs one shared proxy in its data
// plane, a second lb.Manager, fed with lb.Config snapshots built here
// from the store: one load balancer on a host-local address
// (--service-connect-address), one listener per alias port, one rule per
// alias (host-header dnsName), one target group per (namespace,
// discoveryName) whose targets are the service's running tasks. Task
// containers get each alias of their namespace in /etc/hosts, pointing at
// the proxy.

// kindSCEndpoint is a running task's endpoint in one Service Connect
// service: a target of the proxy, from the moment it runs (and, with a
// container health check, is HEALTHY) until its drain ends.
const kindSCEndpoint = "ecs/service-connect-endpoint"

// serviceConnectDrain is how long a stopping task stays in the proxy,
// out of selection, for the calls in flight to it to finish before its
// containers get their stop signal. AWS documents no figure for the
// proxy's drain; berth keeps it short, a few seconds, so that rolling
// deployments stay quick.
const serviceConnectDrain = 3 * time.Second

// Service Connect's proxy is Envoy, and berth's proxy takes Envoy's
// defaults where AWS documents none:
//   - outlier detection: five failures in a row (connection failures or
//     5xx answers) eject a task for 30 s (consecutive_5xx,
//     base_ejection_time);
//   - a connection to a task is given up after 5 s (connect_timeout), and
//     the call tried on another task: a task that died without a reset
//     (its address gone, or already another task's) costs that much, not
//     TCP's SYN retries.
//
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/outlier_detection.proto
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/cluster.proto (connect_timeout)
const (
	serviceConnectConsecutive    = 5
	serviceConnectEjection       = 30 * time.Second
	serviceConnectConnectTimeout = 5 * time.Second
)

// The proxy's idle timeouts, Service Connect's defaults (timeout.
// idleTimeoutSeconds): 5 minutes for HTTP, HTTP2 and GRPC, an hour for
// TCP; berth applies no service's own. A call through an HTTP alias is
// given the service's timeout.perRequestTimeoutSeconds (0: none) to
// answer whole, and without one Envoy's route timeout, 15 s.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TimeoutConfiguration.html
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto (RouteAction.timeout)
const (
	scIdleHTTP       = 5 * time.Minute
	scIdleTCP        = time.Hour
	scRequestTimeout = 15 * time.Second
)

// requestTimeout is how long a call through an HTTP alias of a service
// with timeout t has to answer whole (zero: as long as it takes).
func requestTimeout(http bool, t *types.TimeoutConfiguration) time.Duration {
	switch {
	case !http:
		return 0
	case t == nil || t.PerRequestTimeoutSeconds == nil:
		return scRequestTimeout
	}
	return time.Duration(max(*t.PerRequestTimeoutSeconds, 0)) * time.Second
}

// scTarget is a task's part in one Service Connect service, recorded when
// the task is created: the Cloud Map service it registers in and the
// container port it serves.
type scTarget struct {
	Namespace, DiscoveryName, DiscoveryArn string
	ContainerName                          string
	ContainerPort                          int32
}

// scEndpoint is a task's row of kindSCEndpoint.
type scEndpoint struct {
	TaskArn                  string
	Namespace, DiscoveryName string
	Host                     string
	Port                     int32
	// DrainUntil is when a stopping task's drain ends; zero while it
	// serves.
	DrainUntil time.Time
}

// scAlias is one client alias of a Service Connect service.
type scAlias struct {
	Namespace, DiscoveryName, DNSName string
	Port                              int32
	// HTTP is false for a port mapping with no (or a TCP) appProtocol.
	HTTP bool
	// RequestTimeout bounds a call's whole answer (zero: none).
	RequestTimeout time.Duration
	// created orders aliases: the first service to claim dnsName:port
	// keeps it.
	created time.Time
}

// ServiceConnectDiscovery is the part of Cloud Map that Service Connect
// uses: namespaces are found by name or ARN, and ECS creates a Cloud Map
// service per discovery name.
type ServiceConnectDiscovery interface {
	ListNamespaces(context.Context, *servicediscovery.ListNamespacesInput) (*servicediscovery.ListNamespacesOutput, error)
	CreateService(context.Context, *servicediscovery.CreateServiceInput) (*servicediscovery.CreateServiceOutput, error)
	CreateHttpNamespace(context.Context, *servicediscovery.CreateHttpNamespaceInput) (*servicediscovery.CreateHttpNamespaceOutput, error)
	DeleteService(context.Context, *servicediscovery.DeleteServiceInput) (*servicediscovery.DeleteServiceOutput, error)
}

// scNamespace is a resolved Cloud Map namespace.
type scNamespace struct{ ID, ARN, Name string }

// discoveryNamePattern is what discoveryName may hold: up to 64
// lowercase letters, digits, underscores and hyphens, not starting with a
// hyphen (ServiceConnectService.discoveryName).
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceConnectService.html
var discoveryNamePattern = regexp.MustCompile(`^[a-z0-9_][a-z0-9_-]{0,63}$`)

// dnsNamePattern is what a client alias's dnsName may hold: a valid DNS
// name of up to 127 lowercase letters, digits, underscores, hyphens and
// periods, not starting with a hyphen (ServiceConnectClientAlias.dnsName);
// a label is never empty (no leading, trailing or doubled period) nor
// longer than DNS's 63 bytes (RFC 1035 section 2.3.4).
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceConnectClientAlias.html
var dnsNamePattern = regexp.MustCompile(`^[a-z0-9_][a-z0-9_-]{0,62}(\.[a-z0-9_-]{1,63})*$`)

// validDNSName reports whether name is a client alias's dnsName as ECS
// takes it. It is also what keeps a task's hosts file whole: an alias is
// a line there, so a space, a newline or a colon in one would break
// every task of its namespace.
func validDNSName(name string) bool {
	return len(name) <= 127 && dnsNamePattern.MatchString(name)
}

// validServiceConnect checks a serviceConnectConfiguration against the
// task definition, resolving defaults: discoveryName is portName when
// unset, an alias's dnsName is discoveryName.namespace when unset. It
// does not look the namespace up.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceConnectService.html
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceConnectClientAlias.html
func validServiceConnect(in types.ServiceConnectConfiguration, td *types.TaskDefinition, namespaceName string) (types.ServiceConnectConfiguration, error) {
	out := in
	out.Services = nil
	seen := map[string]bool{}
	aliases := map[string]bool{}
	for _, svc := range in.Services {
		port := aws.ToString(svc.PortName)
		if port == "" {
			return out, errInvalidParameter("portName must be specified for each Service Connect service.")
		}
		if td != nil {
			_, pm, ok := namedPort(td, port)
			if !ok {
				return out, errInvalidParameter("The portName %s does not match any portMappings name in task definition %s.", port, aws.ToString(td.TaskDefinitionArn))
			}
			// API_TimeoutConfiguration: a TCP port takes an idle
			// timeout only.
			if pm.AppProtocol == "" && svc.Timeout != nil && svc.Timeout.PerRequestTimeoutSeconds != nil {
				return out, errInvalidParameter("perRequestTimeoutSeconds can only be set for a portName whose appProtocol is http, http2 or grpc: %s has none.", port)
			}
		}
		name := aws.ToString(svc.DiscoveryName)
		if name == "" {
			name = port
		}
		if !discoveryNamePattern.MatchString(name) {
			return out, errInvalidParameter("discoveryName %s is invalid: it may hold up to 64 lowercase letters, numbers, underscores and hyphens, and may not start with a hyphen.", name)
		}
		if seen[name] {
			return out, errInvalidParameter("Duplicate discoveryName %s in the Service Connect configuration: discovery names must be unique in the namespace.", name)
		}
		seen[name] = true
		if len(svc.ClientAliases) > 1 {
			return out, errInvalidParameter("clientAliases can have at most 1 item.")
		}
		s := svc
		s.DiscoveryName = aws.String(name)
		s.ClientAliases = nil
		for _, a := range svc.ClientAliases {
			if a.Port == nil || *a.Port < 1 || *a.Port > 65535 {
				return out, errInvalidParameter("The client alias port must be between 1 and 65535.")
			}
			dns := aws.ToString(a.DnsName)
			if dns == "" {
				dns = name + "." + namespaceName
			} else if !validDNSName(dns) {
				return out, errInvalidParameter("The client alias dnsName %q is invalid: it must be a valid DNS name of up to 127 lowercase letters, numbers, underscores, hyphens and periods, and may not start with a hyphen.", dns)
			}
			key := strings.ToLower(dns) + ":" + strconv.Itoa(int(*a.Port))
			if aliases[key] {
				return out, errInvalidParameter("Duplicate client alias %s in the Service Connect configuration.", key)
			}
			aliases[key] = true
			a.DnsName = aws.String(dns)
			s.ClientAliases = append(s.ClientAliases, a)
		}
		out.Services = append(out.Services, s)
	}
	return out, nil
}

// namedPort finds the port mapping named name in the task definition:
// its container and the mapping.
func namedPort(td *types.TaskDefinition, name string) (string, types.PortMapping, bool) {
	for _, cd := range td.ContainerDefinitions {
		for _, pm := range cd.PortMappings {
			if aws.ToString(pm.Name) == name {
				return aws.ToString(cd.Name), pm, true
			}
		}
	}
	return "", types.PortMapping{}, false
}

// resolveNamespace finds a Cloud Map namespace by name or ARN, as
// serviceConnectConfiguration.namespace names it; ECS answers an unknown
// one with NamespaceNotFoundException ("Failed to retrieve namespace for
// <name>", as field reports quote it:
// https://github.com/terraform-aws-modules/terraform-aws-ecs/issues/116).
func (b *Backend) resolveNamespace(ctx context.Context, ref string) (scNamespace, error) {
	if b.ServiceConnect == nil {
		return scNamespace{}, awsproto.Modeled(&types.NamespaceNotFoundException{}, "Failed to retrieve namespace for %s", ref)
	}
	in := &servicediscovery.ListNamespacesInput{}
	for {
		out, err := b.ServiceConnect.ListNamespaces(ctx, in)
		if err != nil {
			return scNamespace{}, err
		}
		for _, n := range out.Namespaces {
			if aws.ToString(n.Arn) == ref || aws.ToString(n.Name) == ref || aws.ToString(n.Id) == ref {
				return scNamespace{ID: aws.ToString(n.Id), ARN: aws.ToString(n.Arn), Name: aws.ToString(n.Name)}, nil
			}
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	return scNamespace{}, awsproto.Modeled(&types.NamespaceNotFoundException{}, "Failed to retrieve namespace for %s", ref)
}

// serviceConnect validates a service's serviceConnectConfiguration
// against its cluster and task definition, and creates the Cloud Map
// services of its discovery names (or finds those it created before);
// self is the service's name, whose own discovery names are its to keep. It
// returns the configuration as deployments show it (the namespace as an
// ARN, defaults filled in) and their serviceConnectResources. It runs
// before the transaction that stores the service, as Cloud Map writes to
// the same store.
func (b *Backend) serviceConnect(ctx context.Context, s scope, cluster, taskDefinition *string, self string, in *types.ServiceConnectConfiguration) (*types.ServiceConnectConfiguration, []types.ServiceConnectServiceResource, error) {
	if in == nil {
		return nil, nil, nil
	}
	if !in.Enabled {
		if len(in.Services) > 0 {
			return nil, nil, errInvalidParameter("Service Connect services cannot be specified when Service Connect is not enabled.")
		}
		out := *in
		return &out, nil, nil
	}
	var c types.Cluster
	var td *types.TaskDefinition
	if err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		// A read: the default cluster that CreateService creates on first
		// use is created by its own transaction, after this one.
		var err error
		c, err = b.cluster(tx, s, cluster)
		isDefault := cluster == nil || *cluster == "" || *cluster == defaultCluster
		switch {
		case isDefault && (isNotFound(err) || err == nil && aws.ToString(c.Status) != "ACTIVE"):
			c = types.Cluster{ClusterArn: aws.String(s.arn("cluster/" + defaultCluster))}
		case err != nil:
			return err
		case aws.ToString(c.Status) != "ACTIVE":
			return errClusterNotFound()
		}
		if taskDefinition != nil {
			t, err := b.taskDefinition(tx, s, *taskDefinition)
			if err != nil {
				return errInvalidParameter("TaskDefinition not found.")
			}
			td = &t
		}
		return nil
	}); err != nil {
		return nil, nil, err
	}
	ref := aws.ToString(in.Namespace)
	if ref == "" && c.ServiceConnectDefaults != nil {
		ref = aws.ToString(c.ServiceConnectDefaults.Namespace)
	}
	if ref == "" {
		return nil, nil, errInvalidParameter("Service Connect namespace must be specified, in the service or in the cluster's serviceConnectDefaults.")
	}
	ns, err := b.resolveNamespace(ctx, ref)
	if err != nil {
		return nil, nil, err
	}
	out, err := validServiceConnect(*in, td, ns.Name)
	if err != nil {
		return nil, nil, err
	}
	out.Namespace = aws.String(ns.ARN)
	// A discovery name, and a client alias's name and port, are one
	// service's in its namespace (ServiceConnectService.discoveryName,
	// ServiceConnectClientAlias: "Each name and port mapping must be
	// unique within the namespace").
	if err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		services, err := sqlite.ListAll[types.Service](tx, s.Query(kindService, ""))
		if err != nil {
			return err
		}
		for _, other := range services {
			if aws.ToString(other.Status) != "ACTIVE" || aws.ToString(other.ServiceName) == self && aws.ToString(other.ClusterArn) == aws.ToString(c.ClusterArn) {
				continue
			}
			for _, d := range other.Deployments {
				sc := d.ServiceConnectConfiguration
				if sc == nil || !sc.Enabled || aws.ToString(sc.Namespace) != ns.ARN {
					continue
				}
				for _, theirs := range sc.Services {
					for _, ours := range out.Services {
						if aws.ToString(theirs.DiscoveryName) == aws.ToString(ours.DiscoveryName) {
							return errInvalidParameter("The discoveryName %s is already used by service %s in namespace %s.", aws.ToString(ours.DiscoveryName), aws.ToString(other.ServiceArn), ns.Name)
						}
						// Each name and port of a client alias is unique
						// within the namespace too: a second one would
						// reach the first's tasks.
						for _, a := range ours.ClientAliases {
							for _, b := range theirs.ClientAliases {
								if strings.EqualFold(aws.ToString(a.DnsName), aws.ToString(b.DnsName)) && aws.ToInt32(a.Port) == aws.ToInt32(b.Port) {
									return errInvalidParameter("The client alias %s:%d is already used by service %s in namespace %s.", aws.ToString(a.DnsName), aws.ToInt32(a.Port), aws.ToString(other.ServiceArn), ns.Name)
								}
							}
						}
					}
				}
			}
		}
		return nil
	}); err != nil {
		return nil, nil, err
	}
	var resources []types.ServiceConnectServiceResource
	for _, svc := range out.Services {
		name := aws.ToString(svc.DiscoveryName)
		// ECS creates the Cloud Map service; the request id makes it
		// find the one it created before rather than fail.
		created, err := b.ServiceConnect.CreateService(ctx, &servicediscovery.CreateServiceInput{
			Name: aws.String(name), NamespaceId: aws.String(ns.ID), CreatorRequestId: aws.String("ecs-service-connect:" + ns.ID + ":" + name),
			Description: aws.String("Managed by Amazon ECS"),
			Tags:        []sdtypes.Tag{{Key: aws.String("AmazonECSManaged"), Value: aws.String("true")}},
		})
		if err != nil {
			var e *awsproto.Error
			if errors.As(err, &e) {
				return nil, nil, errInvalidParameter("Unable to create the Cloud Map service %s in namespace %s: %s", name, ns.Name, e.Message)
			}
			return nil, nil, err
		}
		resources = append(resources, types.ServiceConnectServiceResource{DiscoveryName: aws.String(name), DiscoveryArn: created.Service.Arn})
	}
	return &out, resources, nil
}

// scTargets are the Service Connect services a task of deployment d
// serves, by its task definition.
func scTargets(d types.Deployment, td types.TaskDefinition) []scTarget {
	sc := d.ServiceConnectConfiguration
	if sc == nil || !sc.Enabled {
		return nil
	}
	var out []scTarget
	for i, svc := range sc.Services {
		container, pm, ok := namedPort(&td, aws.ToString(svc.PortName))
		if !ok || i >= len(d.ServiceConnectResources) {
			continue
		}
		out = append(out, scTarget{Namespace: aws.ToString(sc.Namespace), DiscoveryName: aws.ToString(svc.DiscoveryName),
			DiscoveryArn: aws.ToString(d.ServiceConnectResources[i].DiscoveryArn), ContainerName: container, ContainerPort: aws.ToInt32(pm.ContainerPort)})
	}
	return out
}

// registries are the Cloud Map registrations of a task's Service Connect
// services: ECS registers the task in each.
func (t scTarget) registry() types.ServiceRegistry {
	return types.ServiceRegistry{RegistryArn: aws.String(t.DiscoveryArn), ContainerName: aws.String(t.ContainerName), ContainerPort: aws.Int32(t.ContainerPort)}
}

// scAliases lists the client aliases of every ACTIVE service, oldest
// service first, leaving out those whose name is no DNS name.
func scAliases(tx *sqlite.Tx) ([]scAlias, error) {
	services, err := sqlite.ScanAll[types.Service](tx, kindService, "")
	if err != nil {
		return nil, err
	}
	var out []scAlias
	for _, k := range services {
		svc := k.Value
		if aws.ToString(svc.Status) != "ACTIVE" {
			continue
		}
		seen := map[string]bool{}
		for _, d := range svc.Deployments {
			sc := d.ServiceConnectConfiguration
			if sc == nil || !sc.Enabled {
				continue
			}
			var td types.TaskDefinition
			s := backend.Scope{Account: k.Key.Account, Region: k.Key.Region}
			_ = tx.Get(s.Key(kindTaskDefinition, aws.ToString(d.TaskDefinition)), &td)
			for _, cs := range sc.Services {
				_, pm, _ := namedPort(&td, aws.ToString(cs.PortName))
				http := pm.AppProtocol != ""
				aliases := cs.ClientAliases
				if len(aliases) == 0 && pm.ContainerPort != nil {
					aliases = []types.ServiceConnectClientAlias{{DnsName: cs.DiscoveryName, Port: pm.ContainerPort}}
				}
				for _, a := range aliases {
					if !validHostsName(aws.ToString(a.DnsName)) {
						// An alias stored before its name was checked, or
						// a default one of a namespace whose name is no
						// DNS name: neither a hosts file line nor a
						// proxy rule.
						continue
					}
					key := aws.ToString(sc.Namespace) + "|" + strings.ToLower(aws.ToString(a.DnsName)) + ":" + strconv.Itoa(int(aws.ToInt32(a.Port)))
					if seen[key] {
						continue
					}
					seen[key] = true
					out = append(out, scAlias{Namespace: aws.ToString(sc.Namespace), DiscoveryName: aws.ToString(cs.DiscoveryName),
						DNSName: aws.ToString(a.DnsName), Port: aws.ToInt32(a.Port), HTTP: http, RequestTimeout: requestTimeout(http, cs.Timeout), created: aws.ToTime(svc.CreatedAt)})
				}
			}
		}
	}
	slices.SortStableFunc(out, func(a, b scAlias) int { return a.created.Compare(b.created) })
	return out, nil
}

// scTargetGroup is the ARN-like key of the proxy's target group of a
// discovery name in a namespace.
func scTargetGroup(namespace, discoveryName string) string {
	return "service-connect/" + namespace + "/" + discoveryName
}

// serviceConnectConfig compiles the proxy's snapshot: the aliases (in
// precedence order: the first to claim dnsName:port, or a port's
// protocol, keeps it) and the endpoints of the tasks that serve them. It
// returns when the next drain ends (zero if none drains).
func serviceConnectConfig(address string, aliases []scAlias, endpoints []scEndpoint, now time.Time) (lb.Config, time.Time) {
	cfg := lb.Config{TargetGroups: map[string]lb.TargetGroup{}}
	var next time.Time
	groups := map[string]*lb.TargetGroup{}
	group := func(a scAlias) string {
		arn := scTargetGroup(a.Namespace, a.DiscoveryName)
		if groups[arn] == nil {
			proto := "TCP"
			if a.HTTP {
				proto = "HTTP"
			}
			groups[arn] = &lb.TargetGroup{ARN: arn, Name: a.DiscoveryName, Protocol: proto, Algorithm: balance.RoundRobin,
				DeregistrationDelay: serviceConnectDrain, ConnectTimeout: serviceConnectConnectTimeout, RequestTimeout: a.RequestTimeout,
				Outlier: &balance.Outlier{Consecutive: serviceConnectConsecutive, Ejection: serviceConnectEjection}}
		}
		return arn
	}
	listeners := map[int32]*lb.Listener{}
	var ports []int32
	claimed := map[string]bool{}
	for _, a := range aliases {
		key := strings.ToLower(a.DNSName) + ":" + strconv.Itoa(int(a.Port))
		if claimed[key] {
			continue // another namespace's alias has it
		}
		l := listeners[a.Port]
		switch {
		case l == nil:
			proto := "TCP"
			if a.HTTP {
				proto = "HTTP"
			}
			l = &lb.Listener{ARN: "service-connect/listener/" + strconv.Itoa(int(a.Port)), Protocol: proto, Port: int(a.Port)}
			if proto == "TCP" {
				l.IdleTimeout = scIdleTCP
			}
			listeners[a.Port] = l
			ports = append(ports, a.Port)
		case l.Protocol != "HTTP" || !a.HTTP:
			continue // a TCP port serves one alias; HTTP and TCP do not share a port
		}
		claimed[key] = true
		forward := lb.Action{Type: "forward", Forward: &lb.Forward{Groups: []lb.WeightedGroup{{ARN: group(a), Weight: 1}}}}
		if l.Protocol == "TCP" {
			l.Rules = []lb.Rule{{ARN: l.ARN + "/default", Action: forward}}
			continue
		}
		l.Rules = append(l.Rules, lb.Rule{ARN: l.ARN + "/" + strings.ToLower(a.DNSName), Action: forward,
			Conditions: []rules.Condition{{Field: "host-header", Values: []string{a.DNSName}}}})
	}
	slices.Sort(ports)
	balancer := lb.LoadBalancer{ARN: "service-connect", Name: "service-connect", DNSName: address, Type: "application", Address: address, IdleTimeout: scIdleHTTP}
	for _, p := range ports {
		l := listeners[p]
		if l.Protocol == "HTTP" {
			// No alias matched the Host header: the proxy has no route.
			l.Rules = append(l.Rules, lb.Rule{ARN: l.ARN + "/default", Action: lb.Action{Type: "fixed-response",
				Fixed: &lb.FixedResponse{StatusCode: 404, ContentType: "text/plain", Body: "no Service Connect alias for this host\n"}}})
		}
		balancer.Listeners = append(balancer.Listeners, *l)
	}
	if len(balancer.Listeners) > 0 {
		cfg.LoadBalancers = []lb.LoadBalancer{balancer}
	}
	slices.SortFunc(endpoints, func(a, b scEndpoint) int { return cmp.Compare(a.TaskArn, b.TaskArn) })
	for _, e := range endpoints {
		g := groups[scTargetGroup(e.Namespace, e.DiscoveryName)]
		if g == nil || e.Host == "" {
			continue
		}
		if !e.DrainUntil.IsZero() {
			if !now.Before(e.DrainUntil) {
				continue
			}
			if next.IsZero() || e.DrainUntil.Before(next) {
				next = e.DrainUntil
			}
		}
		g.Targets = append(g.Targets, lb.Target{ID: taskID(e.TaskArn), Port: int(e.Port), Host: e.Host, DrainUntil: e.DrainUntil})
	}
	for arn, g := range groups {
		cfg.TargetGroups[arn] = *g
	}
	return cfg, next
}

// ProxyPlane is what serves Service Connect: an *lb.Manager of its own.
type ProxyPlane interface {
	Apply(cfg lb.Config) map[string]error
}

// scPoke wakes the Service Connect publisher.
func (b *Backend) scPoke() {
	select {
	case b.scWake <- struct{}{}:
	default:
	}
}

// PublishServiceConnect serves the Service Connect proxy's configuration
// on dp, the proxy listening on address, until ctx ends: at once (from
// what the store says, after a restart too), on every change, and when a
// drain ends.
func (b *Backend) PublishServiceConnect(ctx context.Context, dp ProxyPlane, address string, log zerolog.Logger) {
	backend.Republish(ctx, b.scWake, b.env.Clock, func(ctx context.Context) (time.Time, error) {
		var aliases []scAlias
		var endpoints []scEndpoint
		err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
			if aliases, err = scAliases(tx); err != nil {
				return err
			}
			rows, err := sqlite.ScanAll[scEndpoint](tx, kindSCEndpoint, "")
			for _, r := range rows {
				// A task that stopped while berth was down left its rows:
				// only live tasks are targets.
				var t types.Task
				s := backend.Scope{Account: r.Key.Account, Region: r.Key.Region}
				if err := tx.Get(s.Key(kindTask, r.Value.TaskArn), &t); err != nil || aws.ToString(t.LastStatus) == statusStopped {
					continue
				}
				endpoints = append(endpoints, r.Value)
			}
			return err
		})
		if err != nil {
			return time.Time{}, err
		}
		cfg, next := serviceConnectConfig(address, aliases, endpoints, b.env.Clock())
		for arn, err := range dp.Apply(cfg) {
			log.Error().Err(err).Str("listener", arn).Msg("cannot bind a Service Connect port")
		}
		return next, nil
	}, log)
}

// serviceConnectHosts are the "dnsName:address" extra hosts of a task in
// the namespace: every alias there, pointing at the proxy.
func (b *Backend) serviceConnectHosts(ctx context.Context, namespace, address string) ([]string, error) {
	var aliases []scAlias
	err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		aliases, err = scAliases(tx)
		return err
	})
	seen := map[string]bool{}
	var out []string
	for _, a := range aliases {
		name := strings.ToLower(a.DNSName)
		if a.Namespace != namespace || seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, a.DNSName+":"+address)
	}
	return out, err
}

// validHostsName reports whether name can be a hosts file's name: a
// default dnsName (discoveryName.namespace) holds the namespace's name,
// whose letters may be uppercase.
func validHostsName(name string) bool { return validDNSName(strings.ToLower(name)) }

// joinServiceConnect adds a running task to the proxy as an endpoint of
// its Service Connect services, once it is ready: RUNNING and, when its
// containers have health checks, HEALTHY. It reports whether the task has
// joined (or has nothing to join).
func (r *runner) joinServiceConnect(ctx context.Context) (bool, error) {
	s := scope{r.ref.Scope}
	var rows []scEndpoint
	ready := true
	err := r.a.b.store.View(ctx, func(tx *sqlite.Tx) error {
		var tt taskTargets
		if err := tx.Get(s.Key(kindTaskTargets, r.ref.arn), &tt); err != nil {
			return notFound(err, func() error { return nil })
		}
		if len(tt.Connect) == 0 {
			return nil
		}
		var t types.Task
		if err := tx.Get(r.ref.key(), &t); err != nil {
			return err
		}
		var td types.TaskDefinition
		if err := tx.Get(s.Key(kindTaskDefinition, aws.ToString(t.TaskDefinitionArn)), &td); err != nil {
			return err
		}
		if aws.ToString(t.LastStatus) != statusRunning || !healthy(t, td) {
			ready = false
			return nil
		}
		for _, c := range tt.Connect {
			attrs, err := r.a.b.instanceAttributes(tx, s, t, c.registry())
			if err != nil {
				return err
			}
			port, _ := strconv.Atoi(attrs["AWS_INSTANCE_PORT"])
			rows = append(rows, scEndpoint{TaskArn: r.ref.arn, Namespace: c.Namespace, DiscoveryName: c.DiscoveryName,
				Host: attrs["AWS_INSTANCE_IPV4"], Port: int32(port)})
		}
		return nil
	})
	if err != nil || !ready || len(rows) == 0 {
		return ready && err == nil, err
	}
	if err := r.a.b.store.Update(ctx, func(tx *sqlite.Tx) error {
		for _, e := range rows {
			if err := tx.Put(s.Row(kindSCEndpoint, e.TaskArn+"|"+e.DiscoveryName, e.TaskArn, ""), e); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return false, err
	}
	r.a.b.scPoke()
	return true, nil
}

// healthy reports whether every container of the task that has a health
// check passes it.
func healthy(t types.Task, td types.TaskDefinition) bool {
	for _, cd := range td.ContainerDefinitions {
		if cd.HealthCheck == nil {
			continue
		}
		for _, c := range t.Containers {
			if aws.ToString(c.Name) == aws.ToString(cd.Name) && c.HealthStatus != types.HealthStatusHealthy {
				return false
			}
		}
	}
	return true
}

// leaveServiceConnect takes a stopping task out of the proxy's selection
// and returns when its drain ends; forget then removes its endpoints.
func (r *runner) leaveServiceConnect(ctx context.Context) (wait func() error, err error) {
	s := scope{r.ref.Scope}
	none := func() error { return nil }
	var until time.Time
	var any bool
	err = r.a.b.store.Update(ctx, func(tx *sqlite.Tx) error {
		rows, err := sqlite.ListAll[scEndpoint](tx, s.Query(kindSCEndpoint, r.ref.arn))
		if err != nil || len(rows) == 0 {
			return err
		}
		any = true
		until = r.a.b.env.Clock().Add(serviceConnectDrain)
		for _, e := range rows {
			if !e.DrainUntil.IsZero() {
				until = e.DrainUntil // drained before (the agent restarted)
				continue
			}
			e.DrainUntil = until
			if err := tx.Put(s.Row(kindSCEndpoint, e.TaskArn+"|"+e.DiscoveryName, e.TaskArn, ""), e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || !any {
		return none, err
	}
	r.a.b.scPoke()
	return func() error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(max(until.Sub(r.a.b.env.Clock()), 0)):
		}
		err := r.a.b.store.Update(ctx, func(tx *sqlite.Tx) error { return tx.DeleteAll(s.Query(kindSCEndpoint, r.ref.arn)) })
		r.a.b.scPoke()
		return err
	}, nil
}

// serviceConnectHosts are the extra hosts of the task's containers: the
// aliases of its Service Connect namespace, as AWS writes them into
// /etc/hosts. Only an agent whose containers reach the proxy has an
// address for it (the local host's).
func (r *runner) serviceConnectHosts(ctx context.Context) ([]string, error) {
	if r.a.ServiceConnectAddress == "" {
		return nil, nil
	}
	s := scope{r.ref.Scope}
	var tt taskTargets
	if err := r.a.b.store.View(ctx, func(tx *sqlite.Tx) error {
		return notFound(tx.Get(s.Key(kindTaskTargets, r.ref.arn), &tt), func() error { return nil })
	}); err != nil || tt.ConnectNamespace == "" {
		return nil, err
	}
	return r.a.b.serviceConnectHosts(ctx, tt.ConnectNamespace, r.a.ServiceConnectAddress)
}

// retireServiceConnect deletes those of the Cloud Map services ECS
// created for discovery names (candidates, their ARNs) that no service
// uses any more: no ACTIVE service's PRIMARY deployment publishes it, nor
// names it in its serviceRegistries, and it has no instances (Cloud Map
// refuses to delete a service that has any: a task still running or
// draining in it keeps it, and the last one to leave retires it). They
// are the discovery names of a service deleted, of a deployment replaced
// by one that publishes other names or none, and those a CreateService
// or UpdateService that failed created: what ECS created goes with its
// use, so that the namespace can be deleted after it (Cloud Map refuses
// to delete a namespace that has services:
// https://docs.aws.amazon.com/cloud-map/latest/api/API_DeleteNamespace.html,
// https://docs.aws.amazon.com/cloud-map/latest/api/API_DeleteService.html).
// AWS does not document when ECS deletes them; a Terraform destroy of an
// ECS service and its namespace, as the public modules write them, needs
// them gone. The caller holds b.scMu; ctx carries the scope s.
func (b *Backend) retireServiceConnect(ctx context.Context, s scope, candidates []string) error {
	if b.ServiceConnect == nil || len(candidates) == 0 {
		return nil
	}
	retired := map[string]bool{}
	for _, arn := range candidates {
		retired[arn] = true
	}
	if err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		services, err := sqlite.ListAll[types.Service](tx, s.Query(kindService, ""))
		if err != nil {
			return err
		}
		for _, svc := range services {
			if aws.ToString(svc.Status) != "ACTIVE" {
				continue
			}
			if len(svc.Deployments) > 0 {
				for _, r := range svc.Deployments[0].ServiceConnectResources {
					delete(retired, aws.ToString(r.DiscoveryArn))
				}
			}
			for _, r := range svc.ServiceRegistries {
				delete(retired, aws.ToString(r.RegistryArn))
			}
		}
		return nil
	}); err != nil {
		return err
	}
	for arn := range retired {
		// One with instances left stays, for now (ResourceInUse).
		b.ServiceConnect.DeleteService(ctx, &servicediscovery.DeleteServiceInput{Id: aws.String(cloudMapServiceID(arn))})
	}
	return nil
}

// discoveryArns are the Cloud Map services of the deployments' Service
// Connect resources.
func discoveryArns(deployments ...types.Deployment) []string {
	var out []string
	for _, d := range deployments {
		for _, r := range d.ServiceConnectResources {
			out = append(out, aws.ToString(r.DiscoveryArn))
		}
	}
	return out
}

// defaultNamespace makes sure the namespace a cluster's
// serviceConnectDefaults name exists: a name that Cloud Map does not
// know gets an HTTP namespace, as ECS creates one. A name has up to 1024
// characters and no >, <, " or /.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ClusterServiceConnectDefaultsRequest.html
func (b *Backend) defaultNamespace(ctx context.Context, in *types.ClusterServiceConnectDefaultsRequest) error {
	if in == nil || aws.ToString(in.Namespace) == "" || b.ServiceConnect == nil {
		return nil
	}
	ref := *in.Namespace
	if len(ref) > 1024 || strings.ContainsAny(ref, `<>"/`) && !strings.HasPrefix(ref, "arn:") {
		return errInvalidParameter("The serviceConnectDefaults namespace %q is invalid: a name of up to 1024 characters without >, <, \" or /, or an ARN.", ref)
	}
	_, err := b.resolveNamespace(ctx, ref)
	if e := (*awsproto.Error)(nil); !errors.As(err, &e) || e.Code != "NamespaceNotFoundException" || strings.HasPrefix(ref, "arn:") {
		return err
	}
	_, err = b.ServiceConnect.CreateHttpNamespace(ctx, &servicediscovery.CreateHttpNamespaceInput{Name: aws.String(ref), CreatorRequestId: aws.String("ecs-service-connect-defaults:" + ref)})
	var e *awsproto.Error
	if errors.As(err, &e) {
		return errInvalidParameter("Unable to create the Cloud Map namespace %s: %s", ref, e.Message)
	}
	return err
}
