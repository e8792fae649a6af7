package servicediscovery

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	"berth/backend"
	"berth/sqlite"
)

// service is a stored service.
type service struct {
	ID, ARN, Name, NamespaceID, Description, CreatorRequestID string
	Type                                                      types.ServiceType
	DNS                                                       *types.DnsConfig               `json:",omitempty"`
	HealthCheck                                               *types.HealthCheckConfig       `json:",omitempty"`
	CustomHealth                                              *types.HealthCheckCustomConfig `json:",omitempty"`
	Attributes                                                map[string]string
	Tags                                                      []types.Tag
	Created                                                   time.Time
	// Revision counts the changes to the service's instances (register,
	// deregister, health), as DiscoverInstancesRevision answers it.
	Revision int64
}

// getService reads the service id names, or ServiceNotFound.
func getService(tx *sqlite.Tx, s backend.Scope, id string) (service, error) {
	var v service
	err := tx.Get(s.Key(kindService, idOf(id)), &v)
	return v, notFound(err, errServiceNotFound(id))
}

func putService(tx *sqlite.Tx, s backend.Scope, v service) error {
	return tx.Put(s.Row(kindService, v.ID, v.NamespaceID, strings.ToLower(v.Name)), v)
}

// validDNS checks a service's DNS records, routing policy and health
// check as Cloud Map does: at least one record, each type once; a CNAME
// record alone, only with the WEIGHTED routing policy and no Route 53
// health check; A, AAAA and SRV in any combination. The reference lists
// "A, AAAA, A and AAAA, SRV, CNAME", yet its SRV paragraph describes the A
// and AAAA records made beside an SRV record, and Cloud Map takes A with
// SRV (field reports aws/aws-cdk#18894, hashicorp/consul-aws#20).
// https://docs.aws.amazon.com/cloud-map/latest/api/API_DnsRecord.html
// ("You must specify WEIGHTED for the value of RoutingPolicy. You can't
// specify both CNAME for Type and settings for HealthCheckConfig. If you
// do, the request will fail with an InvalidInput error.")
func validDNS(records []types.DnsRecord, policy types.RoutingPolicy, hc *types.HealthCheckConfig) error {
	if len(records) == 0 {
		return errInvalid("DnsRecords must hold at least one record.")
	}
	var set []types.RecordType
	for _, r := range records {
		if slices.Contains(set, r.Type) {
			return errInvalid("DnsRecords holds more than one record of type %s.", r.Type)
		}
		set = append(set, r.Type)
	}
	slices.Sort(set)
	if len(set) > 1 && slices.Contains(set, types.RecordTypeCname) {
		return errInvalid("DnsRecords may hold A, AAAA and SRV records, or a CNAME record alone, not %v.", set)
	}
	if set[0] == types.RecordTypeCname {
		if policy != types.RoutingPolicyWeighted {
			return errInvalid("A service with a CNAME record must use the WEIGHTED routing policy.")
		}
		if hc != nil {
			return errInvalid("A service with a CNAME record can't have a HealthCheckConfig.")
		}
	}
	return nil
}

// validHealth checks a service's health checks: one kind at most; a
// Route 53 health check only in a public DNS or HTTP namespace, and
// without ResourcePath when it is of type TCP.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateService.html
// ("Public DNS and HTTP namespaces only ... you can specify either
// HealthCheckCustomConfig or HealthCheckConfig but not both")
// https://docs.aws.amazon.com/cloud-map/latest/api/API_HealthCheckConfig.html
// ("If you specify TCP for Type, you must not specify a value for
// ResourcePath.")
func validHealth(ns types.NamespaceType, hc *types.HealthCheckConfig, custom *types.HealthCheckCustomConfig) error {
	if hc == nil {
		return nil
	}
	if custom != nil {
		return errInvalid("A service can have a HealthCheckConfig or a HealthCheckCustomConfig, not both.")
	}
	if ns == types.NamespaceTypeDnsPrivate {
		return errInvalid("HealthCheckConfig is for services of public DNS and HTTP namespaces only.")
	}
	if hc.Type == types.HealthCheckTypeTcp && hc.ResourcePath != nil {
		return errInvalid("A health check of type TCP takes no ResourcePath.")
	}
	return nil
}

// CreateService creates a service in a namespace. In an HTTP namespace
// it takes no DnsConfig; in a DNS namespace a service with a DnsConfig is
// DNS_HTTP, one without (or of Type HTTP, which then takes none) HTTP.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateService.html
// https://docs.aws.amazon.com/cloud-map/latest/api/API_Service.html
func (b *Backend) CreateService(ctx context.Context, in *sd.CreateServiceInput) (*sd.CreateServiceOutput, error) {
	if err := validServiceName("name", aws.ToString(in.Name)); err != nil {
		return nil, err
	}
	if err := validTags(aws.ToString(in.Name), in.Tags); err != nil {
		return nil, err
	}
	nsID := aws.ToString(in.NamespaceId)
	if dns := in.DnsConfig; dns != nil && dns.NamespaceId != nil {
		if nsID != "" && idOf(nsID) != idOf(*dns.NamespaceId) {
			return nil, errInvalid("NamespaceId and DnsConfig.NamespaceId name different namespaces.")
		}
		nsID = *dns.NamespaceId
	}
	if nsID == "" {
		// As AWS words it (https://github.com/awsdocs/aws-cloudformation-user-guide/pull/463).
		return nil, errInvalid("Service namespace id cannot be null")
	}
	var out service
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		n, err := getNamespace(tx, s, nsID)
		if err != nil {
			return err
		}
		v := service{Name: aws.ToString(in.Name), NamespaceID: n.ID, Description: aws.ToString(in.Description),
			CreatorRequestID: aws.ToString(in.CreatorRequestId), HealthCheck: in.HealthCheckConfig, CustomHealth: in.HealthCheckCustomConfig,
			Attributes: map[string]string{}, Tags: in.Tags, Created: b.now(), Type: types.ServiceTypeHttp}
		if err := validHealth(n.Type, v.HealthCheck, v.CustomHealth); err != nil {
			return err
		}
		if in.DnsConfig != nil {
			switch {
			case !n.dns():
				return errInvalid("A service of an HTTP namespace takes no DnsConfig.")
			case in.Type == types.ServiceTypeOptionHttp:
				return errInvalid("A service of Type HTTP takes no DnsConfig.")
			}
			dns := types.DnsConfig{DnsRecords: in.DnsConfig.DnsRecords, RoutingPolicy: in.DnsConfig.RoutingPolicy}
			// The reference gives no default; MULTIVALUE is the Terraform
			// provider's (aws_service_discovery_service's routing_policy).
			if dns.RoutingPolicy == "" {
				dns.RoutingPolicy = types.RoutingPolicyMultivalue
			}
			if err := validDNS(dns.DnsRecords, dns.RoutingPolicy, v.HealthCheck); err != nil {
				return err
			}
			v.DNS, v.Type = &dns, types.ServiceTypeDnsHttp
		}
		// Names are unique in a namespace; in a DNS namespace regardless
		// of case, as they are DNS names (CreateService's Name).
		others, err := sqlite.ListAll[service](tx, s.Query(kindService, n.ID))
		if err != nil {
			return err
		}
		for _, o := range others {
			if o.Name == v.Name && v.CreatorRequestID != "" && o.CreatorRequestID == v.CreatorRequestID {
				out = o
				return nil
			}
			if o.Name == v.Name || (n.dns() && strings.EqualFold(o.Name, v.Name)) {
				return errServiceExists(o)
			}
		}
		v.ID = b.id("srv-")
		v.ARN = arn(s, "service/"+v.ID)
		out = v
		return putService(tx, s, v)
	})
	if err != nil {
		return nil, err
	}
	return &sd.CreateServiceOutput{Service: b.sdkService(ctx, out, -1)}, nil
}

// sdkService is a service as the API answers it, with count instances
// (-1 to count them).
func (b *Backend) sdkService(ctx context.Context, v service, count int) *types.Service {
	s := backend.ScopeFrom(ctx)
	if count < 0 {
		count = 0
		b.view(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
			n, err := tx.Count(s.Query(kindInstance, v.ID))
			count = n
			return err
		})
	}
	out := &types.Service{Id: aws.String(v.ID), Arn: aws.String(v.ARN), Name: aws.String(v.Name), NamespaceId: aws.String(v.NamespaceID),
		Description: aws.String(v.Description), Type: v.Type, DnsConfig: v.DNS, HealthCheckConfig: v.HealthCheck,
		HealthCheckCustomConfig: v.CustomHealth, CreateDate: aws.Time(v.Created), InstanceCount: aws.Int32(int32(count)),
		CreatorRequestId: aws.String(v.CreatorRequestID), CreatedByAccount: aws.String(s.Account), ResourceOwner: aws.String(s.Account)}
	if out.DnsConfig != nil {
		dns := *out.DnsConfig
		dns.NamespaceId = aws.String(v.NamespaceID)
		out.DnsConfig = &dns
	}
	return out
}

// GetService describes a service.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_GetService.html
func (b *Backend) GetService(ctx context.Context, in *sd.GetServiceInput) (*sd.GetServiceOutput, error) {
	var v service
	count := 0
	err := b.view(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		var err error
		if v, err = getService(tx, s, aws.ToString(in.Id)); err != nil {
			return err
		}
		count, err = tx.Count(s.Query(kindInstance, v.ID))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &sd.GetServiceOutput{Service: b.sdkService(ctx, v, count)}, nil
}

// ListServices lists services, those matching every filter: NAMESPACE_ID
// (EQ, or IN), RESOURCE_OWNER (EQ).
// https://docs.aws.amazon.com/cloud-map/latest/api/API_ListServices.html
// https://docs.aws.amazon.com/cloud-map/latest/api/API_ServiceFilter.html
func (b *Backend) ListServices(ctx context.Context, in *sd.ListServicesInput) (*sd.ListServicesOutput, error) {
	s := backend.ScopeFrom(ctx)
	var keep []func(service) bool
	for _, f := range in.Filters {
		var get func(service) string
		switch f.Name {
		case types.ServiceFilterNameNamespaceId:
			get = func(v service) string { return v.NamespaceID }
		case types.ServiceFilterNameResourceOwner:
			get = func(service) string { return s.Account }
		default:
			return nil, errInvalid("Unknown filter %s.", f.Name)
		}
		if f.Condition == types.FilterConditionBeginsWith {
			return nil, errInvalid("Condition BEGINS_WITH is not supported for filter %s.", f.Name)
		}
		values := f.Values
		if f.Name == types.ServiceFilterNameNamespaceId {
			values = make([]string, len(f.Values))
			for i, v := range f.Values {
				values[i] = idOf(v) // an id or an ARN
			}
		}
		match, err := stringFilter(string(f.Name), f.Condition, values, f.Name == types.ServiceFilterNameNamespaceId)
		if err != nil {
			return nil, err
		}
		keep = append(keep, func(v service) bool { return match(get(v)) })
	}
	type summary struct {
		service
		instances int
	}
	var found []summary
	err := b.view(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		all, err := sqlite.ListAll[service](tx, s.Query(kindService, ""))
		if err != nil {
			return err
		}
		for _, v := range all {
			if slices.ContainsFunc(keep, func(k func(service) bool) bool { return !k(v) }) {
				continue
			}
			count, err := tx.Count(s.Query(kindInstance, v.ID))
			if err != nil {
				return err
			}
			found = append(found, summary{v, count})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(found, func(a, b summary) int { return cmpStrings(a.ID, b.ID) })
	pg, next, err := page(found, func(v summary) string { return v.ID }, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := &sd.ListServicesOutput{Services: []types.ServiceSummary{}, NextToken: next}
	for _, v := range pg {
		full := b.sdkService(ctx, v.service, v.instances)
		out.Services = append(out.Services, types.ServiceSummary{Id: full.Id, Arn: full.Arn, Name: full.Name, Description: full.Description,
			Type: full.Type, DnsConfig: full.DnsConfig, HealthCheckConfig: full.HealthCheckConfig, HealthCheckCustomConfig: full.HealthCheckCustomConfig,
			CreateDate: full.CreateDate, InstanceCount: full.InstanceCount, CreatedByAccount: full.CreatedByAccount, ResourceOwner: full.ResourceOwner})
	}
	return out, nil
}

// UpdateService changes a service's description, its DNS records' TTLs
// (not their types) and its Route 53 health check, which an update
// without one deletes; a service of an HTTP namespace can't be updated.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_UpdateService.html
// https://docs.aws.amazon.com/cloud-map/latest/api/API_DnsConfig.html
// ("The record type of a service specified in a DnsRecord object can't be
// updated.")
func (b *Backend) UpdateService(ctx context.Context, in *sd.UpdateServiceInput) (*sd.UpdateServiceOutput, error) {
	if in.Service == nil {
		return nil, errNull("service")
	}
	change := in.Service
	var op string
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		v, err := getService(tx, s, aws.ToString(in.Id))
		if err != nil {
			return err
		}
		n, err := getNamespace(tx, s, v.NamespaceID)
		if err != nil {
			return err
		}
		if !n.dns() {
			return errInvalid("A service of an HTTP namespace can't be updated.")
		}
		if change.Description != nil {
			v.Description = *change.Description
		}
		if err := validHealth(n.Type, change.HealthCheckConfig, v.CustomHealth); err != nil {
			return err
		}
		v.HealthCheck = change.HealthCheckConfig
		if change.DnsConfig != nil {
			if v.DNS == nil {
				return errInvalid("Service %s has no DnsConfig to update.", v.ID)
			}
			old := slices.Sorted(func(yield func(types.RecordType) bool) {
				for _, r := range v.DNS.DnsRecords {
					yield(r.Type)
				}
			})
			var now []types.RecordType
			for _, r := range change.DnsConfig.DnsRecords {
				now = append(now, r.Type)
			}
			slices.Sort(now)
			if !slices.Equal(old, now) {
				return errInvalid("The record types of a service can't be changed: it has %v.", old)
			}
			dns := *v.DNS
			dns.DnsRecords = change.DnsConfig.DnsRecords
			v.DNS = &dns
		}
		if v.DNS != nil {
			if err := validDNS(v.DNS.DnsRecords, v.DNS.RoutingPolicy, v.HealthCheck); err != nil {
				return err
			}
		}
		if err := putService(tx, s, v); err != nil {
			return err
		}
		op, err = b.record(tx, s, types.OperationTypeUpdateService, map[types.OperationTargetType]string{types.OperationTargetTypeService: v.ID})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &sd.UpdateServiceOutput{OperationId: aws.String(op)}, nil
}

// DeleteService deletes a service that has no instances.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_DeleteService.html
func (b *Backend) DeleteService(ctx context.Context, in *sd.DeleteServiceInput) (*sd.DeleteServiceOutput, error) {
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		v, err := getService(tx, s, aws.ToString(in.Id))
		if err != nil {
			return err
		}
		count, err := tx.Count(s.Query(kindInstance, v.ID))
		if err != nil {
			return err
		}
		if count > 0 {
			return errInUse("Service %s has %d associated instances. Deregister the instances first.", v.ID, count)
		}
		return tx.Delete(s.Key(kindService, v.ID))
	})
	if err != nil {
		return nil, err
	}
	return &sd.DeleteServiceOutput{}, nil
}

// maxServiceAttributes is how many attributes a service may have.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_UpdateServiceAttributes.html
const maxServiceAttributes = 30

// GetServiceAttributes returns a service's attributes.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_GetServiceAttributes.html
func (b *Backend) GetServiceAttributes(ctx context.Context, in *sd.GetServiceAttributesInput) (*sd.GetServiceAttributesOutput, error) {
	var v service
	err := b.view(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		var err error
		v, err = getService(tx, s, aws.ToString(in.ServiceId))
		return err
	})
	if err != nil {
		return nil, err
	}
	attrs := v.Attributes
	if attrs == nil {
		attrs = map[string]string{}
	}
	return &sd.GetServiceAttributesOutput{ServiceAttributes: &types.ServiceAttributes{ServiceArn: aws.String(v.ARN),
		Attributes: attrs, ResourceOwner: aws.String(backend.ScopeFrom(ctx).Account)}}, nil
}

// UpdateServiceAttributes adds or replaces service attributes.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_UpdateServiceAttributes.html
func (b *Backend) UpdateServiceAttributes(ctx context.Context, in *sd.UpdateServiceAttributesInput) (*sd.UpdateServiceAttributesOutput, error) {
	err := b.changeService(ctx, aws.ToString(in.ServiceId), func(v *service) error {
		if v.Attributes == nil {
			v.Attributes = map[string]string{}
		}
		maps.Copy(v.Attributes, in.Attributes)
		if len(v.Attributes) > maxServiceAttributes {
			return errAttributesLimit()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &sd.UpdateServiceAttributesOutput{}, nil
}

// DeleteServiceAttributes removes service attributes by key.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_DeleteServiceAttributes.html
func (b *Backend) DeleteServiceAttributes(ctx context.Context, in *sd.DeleteServiceAttributesInput) (*sd.DeleteServiceAttributesOutput, error) {
	err := b.changeService(ctx, aws.ToString(in.ServiceId), func(v *service) error {
		for _, k := range in.Attributes {
			delete(v.Attributes, k)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &sd.DeleteServiceAttributesOutput{}, nil
}

// changeService applies fn to a stored service.
func (b *Backend) changeService(ctx context.Context, id string, fn func(*service) error) error {
	return b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		v, err := getService(tx, s, id)
		if err != nil {
			return err
		}
		if err := fn(&v); err != nil {
			return err
		}
		return putService(tx, s, v)
	})
}
