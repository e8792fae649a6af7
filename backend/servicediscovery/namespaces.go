package servicediscovery

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// namespace is a stored namespace.
type namespace struct {
	ID, ARN, Name, Description string
	Type                       types.NamespaceType
	// CreatorRequestID makes a retried create the same create;
	// OperationID is that create's operation.
	CreatorRequestID, OperationID string
	// Vpc is a private DNS namespace's VPC.
	Vpc string `json:",omitempty"`
	// HostedZoneID is a DNS namespace's Route 53 hosted zone.
	HostedZoneID string `json:",omitempty"`
	// HTTPName is the name DiscoverInstances takes: Name, unless another
	// namespace has that HTTP name already.
	HTTPName string
	// SOATTL is a DNS namespace's SOA record's TTL, nil for the default.
	SOATTL  *int64 `json:",omitempty"`
	Tags    []types.Tag
	Created time.Time
}

// dns reports whether the namespace is answered by DNS.
func (n namespace) dns() bool { return n.Type != types.NamespaceTypeHttp }

func (n namespace) properties() *types.NamespaceProperties {
	p := &types.NamespaceProperties{HttpProperties: &types.HttpProperties{HttpName: aws.String(n.HTTPName)}}
	if n.dns() {
		p.DnsProperties = &types.DnsProperties{HostedZoneId: aws.String(n.HostedZoneID)}
		if n.SOATTL != nil {
			p.DnsProperties.SOA = &types.SOA{TTL: n.SOATTL}
		}
	}
	return p
}

// idOf is the id a namespace or service parameter names: its id, or its
// ARN, as Cloud Map takes either for a shared namespace
// (https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateService.html).
func idOf(v string) string {
	if strings.HasPrefix(v, "arn:") {
		if i := strings.LastIndexByte(v, '/'); i >= 0 {
			return v[i+1:]
		}
	}
	return v
}

// getNamespace reads the namespace id names, or NamespaceNotFound.
func getNamespace(tx *sqlite.Tx, s backend.Scope, id string) (namespace, error) {
	var n namespace
	err := tx.Get(s.Key(kindNamespace, idOf(id)), &n)
	return n, notFound(err, errNamespaceNotFound(id))
}

// newNamespace is what a Create*Namespace request asks for.
type newNamespace struct {
	typ                            types.NamespaceType
	name, vpc, description, client string
	soaTTL                         *int64
	tags                           []types.Tag
}

// createNamespace creates a namespace and returns its create operation.
// A namespace's name must be unique among namespaces of its type, but
// private DNS namespaces of one name may sit in different VPCs; a create
// repeated with the CreatorRequestId of the first is the first
// (https://docs.aws.amazon.com/cloud-map/latest/api/API_CreatePrivateDnsNamespace.html:
// "CreatorRequestId ... allows failed CreatePrivateDnsNamespace requests
// to be retried without the risk of running the operation twice").
func (b *Backend) createNamespace(ctx context.Context, req newNamespace) (string, error) {
	if err := validTags(req.name, req.tags); err != nil {
		return "", err
	}
	if req.typ == types.NamespaceTypeDnsPrivate && b.vpcs != nil {
		if _, err := b.vpcs.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{req.vpc}}); err != nil {
			if ae, ok := err.(*awsproto.Error); ok {
				return "", errInvalid("The VPC %s can't be used: %s", req.vpc, ae.Message)
			}
			return "", err
		}
	}
	var opID string
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		all, err := sqlite.ListAll[namespace](tx, s.Query(kindNamespace, ""))
		if err != nil {
			return err
		}
		httpName := req.name
		for _, o := range all {
			if o.Name == req.name && o.Type == req.typ && req.client != "" && o.CreatorRequestID == req.client {
				opID = o.OperationID
				return nil
			}
			if strings.EqualFold(o.Name, req.name) && o.Type == req.typ && (req.typ != types.NamespaceTypeDnsPrivate || o.Vpc == req.vpc) {
				return errNamespaceExists(o)
			}
		}
		if slices.ContainsFunc(all, func(o namespace) bool { return o.HTTPName == httpName }) {
			// "if you reuse Name for namespace creation, a generated hash
			// is added to HttpName to distinguish the two"
			// (https://docs.aws.amazon.com/cloud-map/latest/api/API_DiscoverInstances.html).
			httpName += "-" + b.env.IDs.Hex(8)
		}
		id := b.id("ns-")
		n := namespace{ID: id, ARN: arn(s, "namespace/"+id), Name: req.name, Description: req.description, Type: req.typ,
			CreatorRequestID: req.client, Vpc: req.vpc, HTTPName: httpName, SOATTL: req.soaTTL, Tags: req.tags, Created: b.now()}
		if n.dns() {
			n.HostedZoneID = b.hostedZoneID()
		}
		if opID, err = b.record(tx, s, types.OperationTypeCreateNamespace, map[types.OperationTargetType]string{types.OperationTargetTypeNamespace: id}); err != nil {
			return err
		}
		n.OperationID = opID
		return tx.Put(s.Row(kindNamespace, id, "", n.Name), n)
	})
	return opID, err
}

// CreateHttpNamespace creates a namespace discoverable only by
// DiscoverInstances.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateHttpNamespace.html
func (b *Backend) CreateHttpNamespace(ctx context.Context, in *sd.CreateHttpNamespaceInput) (*sd.CreateHttpNamespaceOutput, error) {
	if err := validNamespaceName("name", aws.ToString(in.Name), httpNamePattern); err != nil {
		return nil, err
	}
	op, err := b.createNamespace(ctx, newNamespace{typ: types.NamespaceTypeHttp, name: aws.ToString(in.Name),
		description: aws.ToString(in.Description), client: aws.ToString(in.CreatorRequestId), tags: in.Tags})
	if err != nil {
		return nil, err
	}
	return &sd.CreateHttpNamespaceOutput{OperationId: aws.String(op)}, nil
}

// CreatePrivateDnsNamespace creates a namespace answered by DNS within a
// VPC, which must exist.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_CreatePrivateDnsNamespace.html
func (b *Backend) CreatePrivateDnsNamespace(ctx context.Context, in *sd.CreatePrivateDnsNamespaceInput) (*sd.CreatePrivateDnsNamespaceOutput, error) {
	if err := validNamespaceName("name", aws.ToString(in.Name), privateDNSNamePattern); err != nil {
		return nil, err
	}
	req := newNamespace{typ: types.NamespaceTypeDnsPrivate, name: aws.ToString(in.Name), vpc: aws.ToString(in.Vpc),
		description: aws.ToString(in.Description), client: aws.ToString(in.CreatorRequestId), tags: in.Tags}
	if p := in.Properties; p != nil && p.DnsProperties != nil && p.DnsProperties.SOA != nil {
		req.soaTTL = p.DnsProperties.SOA.TTL
	}
	op, err := b.createNamespace(ctx, req)
	if err != nil {
		return nil, err
	}
	return &sd.CreatePrivateDnsNamespaceOutput{OperationId: aws.String(op)}, nil
}

// CreatePublicDnsNamespace creates a namespace answered by public DNS.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_CreatePublicDnsNamespace.html
func (b *Backend) CreatePublicDnsNamespace(ctx context.Context, in *sd.CreatePublicDnsNamespaceInput) (*sd.CreatePublicDnsNamespaceOutput, error) {
	req := newNamespace{typ: types.NamespaceTypeDnsPublic, name: aws.ToString(in.Name),
		description: aws.ToString(in.Description), client: aws.ToString(in.CreatorRequestId), tags: in.Tags}
	if p := in.Properties; p != nil && p.DnsProperties != nil && p.DnsProperties.SOA != nil {
		req.soaTTL = p.DnsProperties.SOA.TTL
	}
	op, err := b.createNamespace(ctx, req)
	if err != nil {
		return nil, err
	}
	return &sd.CreatePublicDnsNamespaceOutput{OperationId: aws.String(op)}, nil
}

// GetNamespace describes a namespace.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_GetNamespace.html
func (b *Backend) GetNamespace(ctx context.Context, in *sd.GetNamespaceInput) (*sd.GetNamespaceOutput, error) {
	var out *types.Namespace
	err := b.view(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		n, err := getNamespace(tx, s, aws.ToString(in.Id))
		if err != nil {
			return err
		}
		count, err := tx.Count(s.Query(kindService, n.ID))
		out = &types.Namespace{Id: aws.String(n.ID), Arn: aws.String(n.ARN), Name: aws.String(n.Name), Type: n.Type,
			Description: aws.String(n.Description), CreateDate: aws.Time(n.Created), CreatorRequestId: aws.String(n.CreatorRequestID),
			Properties: n.properties(), ServiceCount: aws.Int32(int32(count)), ResourceOwner: aws.String(s.Account)}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &sd.GetNamespaceOutput{Namespace: out}, nil
}

// ListNamespaces lists namespaces, those matching every filter: TYPE,
// NAME, HTTP_NAME and RESOURCE_OWNER with EQ (the default) or
// BEGINS_WITH, and TYPE also with IN.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_ListNamespaces.html
// https://docs.aws.amazon.com/cloud-map/latest/api/API_NamespaceFilter.html
func (b *Backend) ListNamespaces(ctx context.Context, in *sd.ListNamespacesInput) (*sd.ListNamespacesOutput, error) {
	s := backend.ScopeFrom(ctx)
	var keep []func(namespace) bool
	for _, f := range in.Filters {
		var get func(namespace) string
		switch f.Name {
		case types.NamespaceFilterNameType:
			get = func(n namespace) string { return string(n.Type) }
		case types.NamespaceFilterNameName:
			get = func(n namespace) string { return n.Name }
		case types.NamespaceFilterNameHttpName:
			get = func(n namespace) string { return n.HTTPName }
		case types.NamespaceFilterNameResourceOwner:
			get = func(namespace) string { return s.Account }
		default:
			return nil, errInvalid("Unknown filter %s.", f.Name)
		}
		match, err := stringFilter(string(f.Name), f.Condition, f.Values, f.Name == types.NamespaceFilterNameType)
		if err != nil {
			return nil, err
		}
		keep = append(keep, func(n namespace) bool { return match(get(n)) })
	}
	type summary struct {
		namespace
		services int
	}
	var found []summary
	err := b.view(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		all, err := sqlite.ListAll[namespace](tx, s.Query(kindNamespace, ""))
		if err != nil {
			return err
		}
		for _, n := range all {
			if slices.ContainsFunc(keep, func(k func(namespace) bool) bool { return !k(n) }) {
				continue
			}
			count, err := tx.Count(s.Query(kindService, n.ID))
			if err != nil {
				return err
			}
			found = append(found, summary{n, count})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(found, func(a, b summary) int { return cmpStrings(a.ID, b.ID) })
	pg, next, err := page(found, func(n summary) string { return n.ID }, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := &sd.ListNamespacesOutput{Namespaces: []types.NamespaceSummary{}, NextToken: next}
	for _, n := range pg {
		out.Namespaces = append(out.Namespaces, types.NamespaceSummary{Id: aws.String(n.ID), Arn: aws.String(n.ARN), Name: aws.String(n.Name),
			Type: n.Type, Description: aws.String(n.Description), CreateDate: aws.Time(n.Created), Properties: n.properties(),
			ServiceCount: aws.Int32(int32(n.services)), ResourceOwner: aws.String(s.Account)})
	}
	return out, nil
}

// stringFilter is the test of a filter on a string: EQ (the default) with
// one value, BEGINS_WITH with one, IN (where allowed) with any.
func stringFilter(name string, cond types.FilterCondition, values []string, in bool) (func(string) bool, error) {
	if cond == "" {
		cond = types.FilterConditionEq
	}
	switch {
	case cond == types.FilterConditionEq && len(values) == 1:
		return func(v string) bool { return v == values[0] }, nil
	case cond == types.FilterConditionBeginsWith && len(values) == 1:
		return func(v string) bool { return strings.HasPrefix(v, values[0]) }, nil
	case cond == types.FilterConditionIn && in && len(values) > 0:
		return func(v string) bool { return slices.Contains(values, v) }, nil
	}
	return nil, errInvalid("Condition %s with %d values is not supported for filter %s.", cond, len(values), name)
}

// DeleteNamespace deletes a namespace that holds no services.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_DeleteNamespace.html
func (b *Backend) DeleteNamespace(ctx context.Context, in *sd.DeleteNamespaceInput) (*sd.DeleteNamespaceOutput, error) {
	var op string
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		n, err := getNamespace(tx, s, aws.ToString(in.Id))
		if err != nil {
			return err
		}
		count, err := tx.Count(s.Query(kindService, n.ID))
		if err != nil {
			return err
		}
		if count > 0 {
			return errInUse("Namespace %s has %d associated services. Delete the services first.", n.ID, count)
		}
		if err := tx.Delete(s.Key(kindNamespace, n.ID)); err != nil {
			return err
		}
		op, err = b.record(tx, s, types.OperationTypeDeleteNamespace, map[types.OperationTargetType]string{types.OperationTargetTypeNamespace: n.ID})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &sd.DeleteNamespaceOutput{OperationId: aws.String(op)}, nil
}

// updateNamespace changes a namespace of type typ with change and
// returns the update operation.
func (b *Backend) updateNamespace(ctx context.Context, id string, typ types.NamespaceType, change func(*namespace)) (string, error) {
	var op string
	err := b.update(ctx, func(tx *sqlite.Tx, s backend.Scope) error {
		n, err := getNamespace(tx, s, id)
		if err != nil {
			return err
		}
		if n.Type != typ {
			return errInvalid("Namespace %s is of type %s, not %s.", n.ID, n.Type, typ)
		}
		change(&n)
		if err := tx.Put(s.Row(kindNamespace, n.ID, "", n.Name), n); err != nil {
			return err
		}
		op, err = b.record(tx, s, types.OperationTypeUpdateNamespace, map[types.OperationTargetType]string{types.OperationTargetTypeNamespace: n.ID})
		return err
	})
	return op, err
}

// UpdateHttpNamespace changes an HTTP namespace's description.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_UpdateHttpNamespace.html
func (b *Backend) UpdateHttpNamespace(ctx context.Context, in *sd.UpdateHttpNamespaceInput) (*sd.UpdateHttpNamespaceOutput, error) {
	if in.Namespace == nil {
		return nil, errNull("namespace")
	}
	op, err := b.updateNamespace(ctx, aws.ToString(in.Id), types.NamespaceTypeHttp, func(n *namespace) {
		n.Description = aws.ToString(in.Namespace.Description)
	})
	if err != nil {
		return nil, err
	}
	return &sd.UpdateHttpNamespaceOutput{OperationId: aws.String(op)}, nil
}

// UpdatePrivateDnsNamespace changes a private DNS namespace's description
// and SOA TTL.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_UpdatePrivateDnsNamespace.html
func (b *Backend) UpdatePrivateDnsNamespace(ctx context.Context, in *sd.UpdatePrivateDnsNamespaceInput) (*sd.UpdatePrivateDnsNamespaceOutput, error) {
	if in.Namespace == nil {
		return nil, errNull("namespace")
	}
	op, err := b.updateNamespace(ctx, aws.ToString(in.Id), types.NamespaceTypeDnsPrivate, func(n *namespace) {
		if in.Namespace.Description != nil {
			n.Description = aws.ToString(in.Namespace.Description)
		}
		if p := in.Namespace.Properties; p != nil && p.DnsProperties != nil && p.DnsProperties.SOA != nil {
			n.SOATTL = p.DnsProperties.SOA.TTL
		}
	})
	if err != nil {
		return nil, err
	}
	return &sd.UpdatePrivateDnsNamespaceOutput{OperationId: aws.String(op)}, nil
}

// UpdatePublicDnsNamespace changes a public DNS namespace's description
// and SOA TTL.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_UpdatePublicDnsNamespace.html
func (b *Backend) UpdatePublicDnsNamespace(ctx context.Context, in *sd.UpdatePublicDnsNamespaceInput) (*sd.UpdatePublicDnsNamespaceOutput, error) {
	if in.Namespace == nil {
		return nil, errNull("namespace")
	}
	op, err := b.updateNamespace(ctx, aws.ToString(in.Id), types.NamespaceTypeDnsPublic, func(n *namespace) {
		if in.Namespace.Description != nil {
			n.Description = aws.ToString(in.Namespace.Description)
		}
		if p := in.Namespace.Properties; p != nil && p.DnsProperties != nil && p.DnsProperties.SOA != nil {
			n.SOATTL = p.DnsProperties.SOA.TTL
		}
	})
	if err != nil {
		return nil, err
	}
	return &sd.UpdatePublicDnsNamespaceOutput{OperationId: aws.String(op)}, nil
}
