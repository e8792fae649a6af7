package servicediscovery

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	"berth/backend"
	"berth/sqlite"
)

// discovered finds the service a discovery names: the namespace by its
// HTTP name (NamespaceNotFound), the service by its name in it
// (ServiceNotFound).
func discovered(tx *sqlite.Tx, s backend.Scope, nsName, name string) (namespace, service, error) {
	all, err := sqlite.ListAll[namespace](tx, s.Query(kindNamespace, ""))
	if err != nil {
		return namespace{}, service{}, err
	}
	i := slices.IndexFunc(all, func(n namespace) bool { return n.HTTPName == nsName })
	if i < 0 {
		return namespace{}, service{}, errNamespaceNotFound(nsName)
	}
	n := all[i]
	q := s.Query(kindService, n.ID)
	q.Name = strings.ToLower(name)
	svcs, err := sqlite.ListAll[service](tx, q)
	if err != nil {
		return n, service{}, err
	}
	for _, v := range svcs {
		if v.Name == name || (n.dns() && strings.EqualFold(v.Name, name)) {
			return n, v, nil
		}
	}
	return n, service{}, errServiceNotFound(name)
}

// matches reports whether an instance has every attribute of params.
func matches(i instance, params map[string]string) bool {
	for k, want := range params {
		if got, ok := i.Attributes[k]; !ok || got != want {
			return false
		}
	}
	return true
}

// discover selects the instances DiscoverInstances answers: those with
// every QueryParameter; of them those with every OptionalParameter too if
// there are any, else all; then by health, for a service with a health
// check (HEALTHY, the default, UNHEALTHY, ALL, or HEALTHY_OR_ELSE_ALL:
// the healthy ones unless there are none).
// https://docs.aws.amazon.com/cloud-map/latest/api/API_DiscoverInstances.html
func discover(all []instance, v service, query, optional map[string]string, status types.HealthStatusFilter) []instance {
	var out []instance
	for _, i := range all {
		if matches(i, query) {
			out = append(out, i)
		}
	}
	if len(optional) > 0 {
		var both []instance
		for _, i := range out {
			if matches(i, optional) {
				both = append(both, i)
			}
		}
		if len(both) > 0 {
			out = both
		}
	}
	if v.HealthCheck == nil && v.CustomHealth == nil {
		return out // "ignored for services that don't have a health check configured"
	}
	healthy := func(want types.HealthStatus) []instance {
		var sel []instance
		for _, i := range out {
			if i.health(v) == want {
				sel = append(sel, i)
			}
		}
		return sel
	}
	switch status {
	case types.HealthStatusFilterAll:
		return out
	case types.HealthStatusFilterUnhealthy:
		return healthy(types.HealthStatusUnhealthy)
	case types.HealthStatusFilterHealthyOrElseAll:
		if sel := healthy(types.HealthStatusHealthy); len(sel) > 0 {
			return sel
		}
		return out
	}
	return healthy(types.HealthStatusHealthy)
}

// DiscoverInstances answers the instances of a service, by the HTTP name
// of its namespace and its name, that match the query.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_DiscoverInstances.html
func (b *Backend) DiscoverInstances(ctx context.Context, in *sd.DiscoverInstancesInput) (*sd.DiscoverInstancesOutput, error) {
	if err := validServiceName("serviceName", aws.ToString(in.ServiceName)); err != nil {
		return nil, err
	}
	var n namespace
	var v service
	var all []instance
	err := b.view(ctx, func(tx *sqlite.Tx, s backend.Scope) (err error) {
		if n, v, err = discovered(tx, s, aws.ToString(in.NamespaceName), aws.ToString(in.ServiceName)); err != nil {
			return err
		}
		_, all, err = instances(tx, s, v.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	sel := discover(all, v, in.QueryParameters, in.OptionalParameters, in.HealthStatus)
	limit := defaultPage
	if in.MaxResults != nil && *in.MaxResults > 0 {
		limit = int(*in.MaxResults)
	}
	out := &sd.DiscoverInstancesOutput{Instances: []types.HttpInstanceSummary{}, InstancesRevision: aws.Int64(v.Revision)}
	for _, i := range sel[:min(limit, len(sel))] {
		out.Instances = append(out.Instances, types.HttpInstanceSummary{InstanceId: aws.String(i.ID), NamespaceName: aws.String(n.HTTPName),
			ServiceName: aws.String(v.Name), HealthStatus: i.health(v), Attributes: i.Attributes})
	}
	return out, nil
}

// DiscoverInstancesRevision answers the revision of a service's
// instances, which every registration, deregistration and health change
// increases.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_DiscoverInstancesRevision.html
func (b *Backend) DiscoverInstancesRevision(ctx context.Context, in *sd.DiscoverInstancesRevisionInput) (*sd.DiscoverInstancesRevisionOutput, error) {
	if err := validServiceName("serviceName", aws.ToString(in.ServiceName)); err != nil {
		return nil, err
	}
	var v service
	err := b.view(ctx, func(tx *sqlite.Tx, s backend.Scope) (err error) {
		_, v, err = discovered(tx, s, aws.ToString(in.NamespaceName), aws.ToString(in.ServiceName))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &sd.DiscoverInstancesRevisionOutput{InstancesRevision: aws.Int64(v.Revision)}, nil
}

// Zone is a DNS namespace as a DNS server answers it.
type Zone struct {
	Scope backend.Scope
	// Name is the namespace's name, the zone's apex.
	Name, HostedZoneID string
	// Private zones answer only within Vpc.
	Private bool
	Vpc     string
	// SOATTL is the TTL the namespace gives its SOA record; nil for the
	// default.
	SOATTL   *int64
	Services []ServiceRecords
}

// ServiceRecords are the DNS records of one service of a zone: every
// instance's, of each type in Records, under <service>.<namespace>.
type ServiceRecords struct {
	Name          string
	RoutingPolicy types.RoutingPolicy
	Records       []types.DnsRecord
	Instances     []Endpoint
}

// Endpoint is one registered instance of a service.
type Endpoint struct {
	ID         string
	Attributes map[string]string
	// Healthy is false for an instance whose custom health status is
	// UNHEALTHY. Route 53 answers with the healthy ones, or with all of
	// them when none is healthy.
	// https://docs.aws.amazon.com/cloud-map/latest/dg/services-route53.html
	Healthy bool
}

// Records lists every DNS namespace of every account and region with its
// services' records (services without DNS records left out), for berth's
// DNS server.
func (b *Backend) Records(ctx context.Context) ([]Zone, error) {
	var zones []Zone
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		type found struct {
			s backend.Scope
			n namespace
		}
		var all []found
		err := tx.Scan(kindNamespace, "", func(k sqlite.Key, body []byte) error {
			var n namespace
			if err := json.Unmarshal(body, &n); err != nil || !n.dns() {
				return err
			}
			all = append(all, found{backend.Scope{Account: k.Account, Region: k.Region}, n})
			return nil
		})
		if err != nil {
			return err
		}
		for _, f := range all {
			z, err := zone(tx, f.s, f.n)
			if err != nil {
				return err
			}
			zones = append(zones, z)
		}
		return nil
	})
	return zones, err
}

// zone is the Zone of a DNS namespace.
func zone(tx *sqlite.Tx, s backend.Scope, n namespace) (Zone, error) {
	z := Zone{Scope: s, Name: n.Name, HostedZoneID: n.HostedZoneID, Private: n.Type == types.NamespaceTypeDnsPrivate, Vpc: n.Vpc, SOATTL: n.SOATTL}
	svcs, err := sqlite.ListAll[service](tx, s.Query(kindService, n.ID))
	if err != nil {
		return z, err
	}
	slices.SortFunc(svcs, func(a, b service) int { return cmpStrings(a.Name, b.Name) })
	for _, v := range svcs {
		if v.DNS == nil {
			continue
		}
		_, all, err := instances(tx, s, v.ID)
		if err != nil {
			return z, err
		}
		r := ServiceRecords{Name: v.Name, RoutingPolicy: v.DNS.RoutingPolicy, Records: v.DNS.DnsRecords}
		for _, i := range all {
			r.Instances = append(r.Instances, Endpoint{ID: i.ID, Attributes: i.Attributes, Healthy: i.health(v) != types.HealthStatusUnhealthy})
		}
		z.Services = append(z.Services, r)
	}
	return z, nil
}
