package servicediscovery

import (
	"context"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	"berth/backend"
	"berth/sqlite"
)

// The attributes Cloud Map reads when an instance registers.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_RegisterInstance.html
const (
	AttrAliasDNSName = "AWS_ALIAS_DNS_NAME"
	AttrEC2Instance  = "AWS_EC2_INSTANCE_ID"
	AttrInitHealth   = "AWS_INIT_HEALTH_STATUS"
	AttrCNAME        = "AWS_INSTANCE_CNAME"
	AttrIPv4         = "AWS_INSTANCE_IPV4"
	AttrIPv6         = "AWS_INSTANCE_IPV6"
	AttrPort         = "AWS_INSTANCE_PORT"
)

// instance is a stored service instance.
type instance struct {
	ServiceID, ID, CreatorRequestID string
	Attributes                      map[string]string
	// Health is the custom health status of an instance of a service with
	// HealthCheckCustomConfig; "" for the others.
	Health types.HealthStatus `json:",omitempty"`
}

func instanceKey(serviceID, id string) string { return serviceID + "/" + id }

func putInstance(tx *sqlite.Tx, s backend.Scope, i instance) error {
	return tx.Put(s.Row(kindInstance, instanceKey(i.ServiceID, i.ID), i.ServiceID, i.ID), i)
}

// health is the instance's health as DiscoverInstances and
// GetInstancesHealthStatus answer it: its custom status, HEALTHY for a
// Route 53 health check (berth runs none and counts every endpoint
// healthy), UNKNOWN for a service without health checks.
func (i instance) health(v service) types.HealthStatus {
	switch {
	case v.CustomHealth != nil:
		if i.Health == "" {
			return types.HealthStatusHealthy
		}
		return i.Health
	case v.HealthCheck != nil:
		return types.HealthStatusHealthy
	}
	return types.HealthStatusUnknown
}

// maxCustomAttributes bounds an instance's custom attributes, and
// maxAttributesSize the characters of all its attributes' keys and
// values.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_RegisterInstance.html
const (
	maxCustomAttributes = 30
	maxAttributesSize   = 5000
)

// validAttributes checks an instance's attributes against its service's
// records and health check, as RegisterInstance's reference says:
//   - AWS_ALIAS_DNS_NAME needs an A or AAAA record and the WEIGHTED
//     routing policy, and no AWS_INSTANCE_* attribute beside it;
//   - an A record needs AWS_INSTANCE_IPV4, an AAAA record
//     AWS_INSTANCE_IPV6, a CNAME record AWS_INSTANCE_CNAME;
//   - an SRV record needs AWS_INSTANCE_PORT and AWS_INSTANCE_IPV4 or
//     AWS_INSTANCE_IPV6 or both, a Route 53 health check
//     AWS_INSTANCE_PORT;
//   - AWS_EC2_INSTANCE_ID is for HTTP namespaces only, beside
//     AWS_INIT_HEALTH_STATUS alone;
//   - AWS_INIT_HEALTH_STATUS is HEALTHY or UNHEALTHY;
//   - at most 30 custom attributes, 5,000 characters in all.
//
// https://docs.aws.amazon.com/cloud-map/latest/api/API_RegisterInstance.html
func validAttributes(attrs map[string]string, v service, ns types.NamespaceType) error {
	has := func(k string) bool { _, ok := attrs[k]; return ok }
	records := map[types.RecordType]bool{}
	if v.DNS != nil {
		for _, r := range v.DNS.DnsRecords {
			records[r.Type] = true
		}
	}
	size, custom := 0, 0
	for k, val := range attrs {
		size += len(k) + len(val)
		if !strings.HasPrefix(k, "AWS_") {
			custom++
		}
	}
	if custom > maxCustomAttributes {
		return errInvalid("An instance can have at most %d custom attributes.", maxCustomAttributes)
	}
	if size > maxAttributesSize {
		return errInvalid("The attributes of an instance can have at most %d characters in all.", maxAttributesSize)
	}
	if s, ok := attrs[AttrInitHealth]; ok && s != string(types.CustomHealthStatusHealthy) && s != string(types.CustomHealthStatusUnhealthy) {
		return errInvalid("%s must be HEALTHY or UNHEALTHY, not %s.", AttrInitHealth, s)
	}
	if has(AttrEC2Instance) {
		if ns != types.NamespaceTypeHttp {
			return errInvalid("%s is for instances of HTTP namespaces only.", AttrEC2Instance)
		}
		for k := range attrs {
			if k != AttrEC2Instance && k != AttrInitHealth {
				return errInvalid("With %s the only other attribute can be %s.", AttrEC2Instance, AttrInitHealth)
			}
		}
	}
	if has(AttrAliasDNSName) {
		if !records[types.RecordTypeA] && !records[types.RecordTypeAaaa] {
			return errInvalid("%s needs a service with an A or AAAA record.", AttrAliasDNSName)
		}
		if v.DNS.RoutingPolicy != types.RoutingPolicyWeighted {
			return errInvalid("%s needs a service with the WEIGHTED routing policy.", AttrAliasDNSName)
		}
		for k := range attrs {
			if strings.HasPrefix(k, "AWS_INSTANCE") {
				return errInvalid("%s can't be specified with %s.", k, AttrAliasDNSName)
			}
		}
		return nil
	}
	if ip, ok := attrs[AttrIPv4]; ok {
		if a, err := netip.ParseAddr(ip); err != nil || !a.Is4() {
			return errInvalid("%s is not an IPv4 address: %s", AttrIPv4, ip)
		}
	}
	if ip, ok := attrs[AttrIPv6]; ok {
		if a, err := netip.ParseAddr(ip); err != nil || !a.Is6() || a.Is4In6() {
			return errInvalid("%s is not an IPv6 address: %s", AttrIPv6, ip)
		}
	}
	if port, ok := attrs[AttrPort]; ok {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return errInvalid("%s is not a port (1 to 65535): %s", AttrPort, port)
		}
	}
	switch {
	case records[types.RecordTypeA] && !has(AttrIPv4):
		return errInvalid("%s is required for a service with an A record.", AttrIPv4)
	case records[types.RecordTypeAaaa] && !has(AttrIPv6):
		return errInvalid("%s is required for a service with an AAAA record.", AttrIPv6)
	case records[types.RecordTypeCname] && !has(AttrCNAME):
		return errInvalid("%s is required for a service with a CNAME record.", AttrCNAME)
	case records[types.RecordTypeSrv] && !has(AttrPort):
		return errInvalid("%s is required for a service with an SRV record.", AttrPort)
	case records[types.RecordTypeSrv] && !has(AttrIPv4) && !has(AttrIPv6):
		return errInvalid("%s or %s is required for a service with an SRV record.", AttrIPv4, AttrIPv6)
	case v.HealthCheck != nil && !has(AttrPort):
		return errInvalid("%s is required for a service with a HealthCheckConfig.", AttrPort)
	}
	return nil
}

// RegisterInstance registers an instance of a service, or updates the
// instance of that id.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_RegisterInstance.html
func (b *Backend) RegisterInstance(ctx context.Context, in *sd.RegisterInstanceInput) (*sd.RegisterInstanceOutput, error) {
	var op string
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		v, err := getService(tx, s, aws.ToString(in.ServiceId))
		if err != nil {
			return err
		}
		n, err := getNamespace(tx, s, v.NamespaceID)
		if err != nil {
			return err
		}
		if err := validAttributes(in.Attributes, v, n.Type); err != nil {
			return err
		}
		i := instance{ServiceID: v.ID, ID: aws.ToString(in.InstanceId), CreatorRequestID: aws.ToString(in.CreatorRequestId), Attributes: maps.Clone(in.Attributes)}
		if i.Attributes == nil {
			i.Attributes = map[string]string{}
		}
		if v.CustomHealth != nil {
			i.Health = types.HealthStatusHealthy
			if status, ok := in.Attributes[AttrInitHealth]; ok {
				i.Health = types.HealthStatus(status)
			}
		}
		if err := putInstance(tx, s, i); err != nil {
			return err
		}
		v.Revision++
		if err := putService(tx, s, v); err != nil {
			return err
		}
		op, err = b.record(tx, s, types.OperationTypeRegisterInstance, map[types.OperationTargetType]string{
			types.OperationTargetTypeService: v.ID, types.OperationTargetTypeInstance: i.ID})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &sd.RegisterInstanceOutput{OperationId: aws.String(op)}, nil
}

// getInstance reads an instance of a service, or InstanceNotFound.
func getInstance(tx *sqlite.Tx, s backend.Scope, serviceID, id string) (instance, error) {
	var i instance
	err := tx.Get(s.Key(kindInstance, instanceKey(serviceID, id)), &i)
	return i, notFound(err, errInstanceNotFound(id))
}

// DeregisterInstance removes an instance of a service.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_DeregisterInstance.html
func (b *Backend) DeregisterInstance(ctx context.Context, in *sd.DeregisterInstanceInput) (*sd.DeregisterInstanceOutput, error) {
	var op string
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		v, err := getService(tx, s, aws.ToString(in.ServiceId))
		if err != nil {
			return err
		}
		i, err := getInstance(tx, s, v.ID, aws.ToString(in.InstanceId))
		if err != nil {
			return err
		}
		if err := tx.Delete(s.Key(kindInstance, instanceKey(v.ID, i.ID))); err != nil {
			return err
		}
		v.Revision++
		if err := putService(tx, s, v); err != nil {
			return err
		}
		op, err = b.record(tx, s, types.OperationTypeDeregisterInstance, map[types.OperationTargetType]string{
			types.OperationTargetTypeService: v.ID, types.OperationTargetTypeInstance: i.ID})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &sd.DeregisterInstanceOutput{OperationId: aws.String(op)}, nil
}

// GetInstance describes an instance.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_GetInstance.html
func (b *Backend) GetInstance(ctx context.Context, in *sd.GetInstanceInput) (*sd.GetInstanceOutput, error) {
	var i instance
	err := b.view(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		v, err := getService(tx, s, aws.ToString(in.ServiceId))
		if err != nil {
			return err
		}
		i, err = getInstance(tx, s, v.ID, aws.ToString(in.InstanceId))
		return err
	})
	if err != nil {
		return nil, err
	}
	account := backend.ScopeFrom(ctx).Account
	return &sd.GetInstanceOutput{Instance: &types.Instance{Id: aws.String(i.ID), Attributes: i.Attributes,
		CreatorRequestId: aws.String(i.CreatorRequestID), CreatedByAccount: aws.String(account)}, ResourceOwner: aws.String(account)}, nil
}

// instances reads a service and its instances, sorted by id.
func instances(tx *sqlite.Tx, s backend.Scope, id string) (service, []instance, error) {
	v, err := getService(tx, s, id)
	if err != nil {
		return v, nil, err
	}
	all, err := sqlite.ListAll[instance](tx, s.Query(kindInstance, v.ID))
	slices.SortFunc(all, func(a, b instance) int { return cmpStrings(a.ID, b.ID) })
	return v, all, err
}

// ListInstances lists a service's instances.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_ListInstances.html
func (b *Backend) ListInstances(ctx context.Context, in *sd.ListInstancesInput) (*sd.ListInstancesOutput, error) {
	var all []instance
	err := b.view(ctx, func(tx *sqlite.Tx, s backend.Scope) (err error) {
		_, all, err = instances(tx, s, aws.ToString(in.ServiceId))
		return err
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(all, func(i instance) string { return i.ID }, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	account := backend.ScopeFrom(ctx).Account
	out := &sd.ListInstancesOutput{Instances: []types.InstanceSummary{}, NextToken: next, ResourceOwner: aws.String(account)}
	for _, i := range pg {
		out.Instances = append(out.Instances, types.InstanceSummary{Id: aws.String(i.ID), Attributes: i.Attributes, CreatedByAccount: aws.String(account)})
	}
	return out, nil
}

// GetInstancesHealthStatus answers the health of a service's instances,
// all of them or those named.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_GetInstancesHealthStatus.html
func (b *Backend) GetInstancesHealthStatus(ctx context.Context, in *sd.GetInstancesHealthStatusInput) (*sd.GetInstancesHealthStatusOutput, error) {
	var v service
	var all []instance
	err := b.view(ctx, func(tx *sqlite.Tx, s backend.Scope) (err error) {
		v, all, err = instances(tx, s, aws.ToString(in.ServiceId))
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(in.Instances) > 0 {
		var named []instance
		for _, id := range in.Instances {
			i := slices.IndexFunc(all, func(i instance) bool { return i.ID == id })
			if i < 0 {
				return nil, errInstanceNotFound(id)
			}
			named = append(named, all[i])
		}
		all = named
	}
	pg, next, err := page(all, func(i instance) string { return i.ID }, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := &sd.GetInstancesHealthStatusOutput{Status: map[string]types.HealthStatus{}, NextToken: next}
	for _, i := range pg {
		out.Status[i.ID] = i.health(v)
	}
	return out, nil
}

// UpdateInstanceCustomHealthStatus sets the custom health status of an
// instance of a service with HealthCheckCustomConfig; for another service
// it is CustomHealthNotFound.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_UpdateInstanceCustomHealthStatus.html
func (b *Backend) UpdateInstanceCustomHealthStatus(ctx context.Context, in *sd.UpdateInstanceCustomHealthStatusInput) (*sd.UpdateInstanceCustomHealthStatusOutput, error) {
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		v, err := getService(tx, s, aws.ToString(in.ServiceId))
		if err != nil {
			return err
		}
		i, err := getInstance(tx, s, v.ID, aws.ToString(in.InstanceId))
		if err != nil {
			return err
		}
		if v.CustomHealth == nil {
			return errCustomHealthNotFound(v.ID)
		}
		status := types.HealthStatus(in.Status)
		if i.Health == status {
			return nil
		}
		i.Health = status
		if err := putInstance(tx, s, i); err != nil {
			return err
		}
		v.Revision++
		return putService(tx, s, v)
	})
	if err != nil {
		return nil, err
	}
	return &sd.UpdateInstanceCustomHealthStatusOutput{}, nil
}
