// Package ec2 is the networking part of Amazon EC2 that ECS stacks are
// built on: VPCs, subnets, security groups and their rules, internet
// gateways, route tables, network ACLs, tags, and the region's
// availability zones. Every region of every account has a default VPC,
// as in AWS, made the first time the region is used. Nothing here moves
// packets: these are records that ELBv2, ECS and Terraform refer to.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Welcome.html
//
// Every exported method is one EC2 action with the SDK client's signature
// minus its options.
package ec2

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// Backend serves the EC2 API from the store.
type Backend struct {
	store *sqlite.Store
	env   backend.Env

	// Tasks, when set, lists the network interfaces of awsvpc tasks: ECS.
	// Set it before serving.
	Tasks TaskInterfaces

	// Hosts, when set, lists the hosts that run ECS tasks: ECS. Each is an
	// instance that DescribeInstances shows. Set it before serving.
	Hosts Hosts

	// Left, when set, learns of the instances a TerminateInstances or
	// StopInstances call has just taken out of the running state: Auto
	// Scaling, whose health checks replace the instances of its groups
	// that are terminated or stopped behind its back. Set it before
	// serving.
	Left func(ctx context.Context, ids []string)

	// instanceLimit bounds the instances (not terminated) of a scope.
	instanceLimit int
}

// Hosts lists the machines that run ECS tasks in a scope as instances:
// their ids, types, private addresses and availability zones; EC2 fills
// in the rest.
type Hosts interface {
	HostInstances(s backend.Scope) []types.Instance
}

// TaskInterfaces lists the elastic network interfaces that awsvpc tasks
// hold in a scope, with their ids, subnets, addresses and descriptions;
// EC2 fills in where the subnets are.
type TaskInterfaces interface {
	NetworkInterfaces(ctx context.Context, s backend.Scope) ([]types.NetworkInterface, error)
}

// New returns an EC2 backend over store.
func New(store *sqlite.Store, env backend.Env) *Backend {
	return &Backend{store: store, env: env, instanceLimit: defaultInstanceLimit}
}

// Stored resource kinds. Resources inside a VPC are stored under it.
const (
	kindVpc                = "ec2/vpc"                     // vpc: by id
	kindSubnet             = "ec2/subnet"                  // types.Subnet: by id, under its VPC
	kindSecurityGroup      = "ec2/security-group"          // types.SecurityGroup without rules: by id, under its VPC, named by its name
	kindRule               = "ec2/security-group-rule"     // types.SecurityGroupRule: by id, under its group
	kindInternetGateway    = "ec2/internet-gateway"        // types.InternetGateway: by id
	kindRouteTable         = "ec2/route-table"             // types.RouteTable: by id, under its VPC
	kindNetworkACL         = "ec2/network-acl"             // types.NetworkAcl without associations: by id, under its VPC
	kindAddress            = "ec2/address"                 // types.Address: by allocation id
	kindAddressDomain      = "ec2/address-domain-name"     // an address's reverse DNS name (string): by allocation id
	kindNatGateway         = "ec2/nat-gateway"             // types.NatGateway: by id, under its VPC
	kindInstance           = "ec2/instance"                // instance: by id, under its VPC
	kindVolume             = "ec2/volume"                  // types.Volume: by id, under the instance it is attached to
	kindVolumeModification = "ec2/volume-modification"     // types.VolumeModification: the latest of a volume, by volume id
	kindLaunchTemplate     = "ec2/launch-template"         // types.LaunchTemplate: by id, named by its name
	kindTemplateVersion    = "ec2/launch-template-version" // types.LaunchTemplateVersion: by template id/version, under its template
	kindDefaults           = "ec2/defaults"                // the region's default VPC id, once made
)

// vpc is a VPC with the attributes DescribeVpcAttribute reports.
type vpc struct {
	Vpc                  types.Vpc
	DNSSupport           bool
	DNSHostnames         bool
	AddressUsageMetrics  bool
	MainRouteTable       string
	DefaultSecurityGroup string
	DefaultNetworkACL    string
}

func (b *Backend) id(prefix string) string { return prefix + "-" + b.env.IDs.Hex(17) }

func arn(s backend.Scope, resource string) string {
	return "arn:aws:ec2:" + s.Region + ":" + s.Account + ":" + resource
}

func isNotFound(err error) bool { return errors.Is(err, sqlite.ErrNotFound) }

func errInvalid(format string, args ...any) error {
	return awsproto.ClientError("InvalidParameterValue", format, args...)
}

func errMissing(name string) error {
	return awsproto.ClientError("MissingParameter", "The request must contain the parameter %s", name)
}

func errDependency(format string, args ...any) error {
	return awsproto.ClientError("DependencyViolation", format, args...)
}

// notFound is the error EC2 returns for an id that names nothing, by the
// id's prefix.
func notFound(id string) error {
	prefix, _, _ := strings.Cut(id, "-")
	switch prefix {
	case "vpc":
		return awsproto.ClientError("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", id)
	case "subnet":
		return awsproto.ClientError("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", id)
	case "sg":
		return awsproto.ClientError("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
	case "sgr":
		return awsproto.ClientError("InvalidSecurityGroupRuleId.NotFound", "The security group rule ID '%s' does not exist", id)
	case "igw":
		return awsproto.ClientError("InvalidInternetGatewayID.NotFound", "The internetGateway ID '%s' does not exist", id)
	case "rtb":
		return awsproto.ClientError("InvalidRouteTableID.NotFound", "The routeTable ID '%s' does not exist", id)
	case "rtbassoc", "aclassoc":
		return awsproto.ClientError("InvalidAssociationID.NotFound", "The association ID '%s' does not exist", id)
	case "acl":
		return awsproto.ClientError("InvalidNetworkAclID.NotFound", "The networkAcl ID '%s' does not exist", id)
	case "eni":
		return awsproto.ClientError("InvalidNetworkInterfaceID.NotFound", "The networkInterface ID '%s' does not exist", id)
	case "eipalloc":
		return awsproto.ClientError("InvalidAllocationID.NotFound", "The allocation ID '%s' does not exist", id)
	case "nat":
		return awsproto.ClientError("NatGatewayNotFound", "The Nat Gateway %s was not found", id)
	case "i":
		return awsproto.ClientError("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
	case "vol":
		return awsproto.ClientError("InvalidVolume.NotFound", "The volume '%s' does not exist.", id)
	case "lt":
		return awsproto.ClientError("InvalidLaunchTemplateId.NotFound", "The specified launch template, with template ID %s, does not exist.", id)
	}
	return awsproto.ClientError("InvalidID", "The ID '%s' is not valid", id)
}

// kindOf is the stored kind of the resource an id names.
func kindOf(id string) string {
	prefix, _, _ := strings.Cut(id, "-")
	return map[string]string{
		"vpc": kindVpc, "subnet": kindSubnet, "sg": kindSecurityGroup, "sgr": kindRule,
		"igw": kindInternetGateway, "rtb": kindRouteTable, "acl": kindNetworkACL,
		"eipalloc": kindAddress, "nat": kindNatGateway, "i": kindInstance,
		"vol": kindVolume, "lt": kindLaunchTemplate,
	}[prefix]
}

// scope returns the request's scope, making the region's default VPC the
// first time the region is used.
func (b *Backend) scope(ctx context.Context) (backend.Scope, error) {
	s := backend.ScopeFrom(ctx)
	var made bool
	err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		made, err = tx.Exists(s.Key(kindDefaults, "vpc"))
		return err
	})
	if err != nil || made {
		return s, err
	}
	return s, b.store.Update(ctx, func(tx *sqlite.Tx) error {
		if made, err := tx.Exists(s.Key(kindDefaults, "vpc")); err != nil || made {
			return err
		}
		id, err := b.makeDefaultVpc(tx, s)
		if err != nil {
			return err
		}
		return tx.Put(s.Row(kindDefaults, "vpc", "", ""), id)
	})
}

// update runs fn in a write transaction of the request's scope.
func (b *Backend) update(ctx context.Context, fn func(tx *sqlite.Tx, s backend.Scope) error) error {
	s, err := b.scope(ctx)
	if err != nil {
		return err
	}
	return b.store.Update(ctx, func(tx *sqlite.Tx) error { return fn(tx, s) })
}

// view runs fn in a read transaction of the request's scope.
func (b *Backend) view(ctx context.Context, fn func(tx *sqlite.Tx, s backend.Scope) error) error {
	s, err := b.scope(ctx)
	if err != nil {
		return err
	}
	return b.store.View(ctx, func(tx *sqlite.Tx) error { return fn(tx, s) })
}

// get loads the resource id of kind into v, or returns EC2's not-found
// error.
func get(tx *sqlite.Tx, s backend.Scope, kind, id string, v any) error {
	err := tx.Get(s.Key(kind, id), v)
	if isNotFound(err) {
		return notFound(id)
	}
	return err
}

// all lists every resource of kind in scope s.
func all[T any](tx *sqlite.Tx, s backend.Scope, kind, parent string) ([]T, error) {
	q := s.Query(kind, parent)
	q.Limit = 1 << 30
	return sqlite.ListAll[T](tx, q)
}

// tagsFor returns the tags of the tag specifications for resourceType.
func tagsFor(specs []types.TagSpecification, resourceType types.ResourceType) []types.Tag {
	var out []types.Tag
	for _, spec := range specs {
		if spec.ResourceType == resourceType || spec.ResourceType == "" {
			out = append(out, spec.Tags...)
		}
	}
	return out
}

// filter is, for one resource type, its id and the values of the
// resource for each filter name EC2 takes; tag:<key>, tag-key and
// tag-value are common to all.
type filter[T any] struct {
	id     func(T) string
	fields map[string]func(T) []string
	tags   func(T) []types.Tag
}

// match reports whether r passes every filter: one of a filter's values
// (which may hold * and ? wildcards) must equal one of r's.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-Requests.html#query-describe-filters
func (f filter[T]) match(filters []types.Filter, r T) (bool, error) {
	for _, fl := range filters {
		name := aws.ToString(fl.Name)
		var have []string
		switch key, isTag := strings.CutPrefix(name, "tag:"); {
		case isTag:
			for _, t := range f.tags(r) {
				if aws.ToString(t.Key) == key {
					have = append(have, aws.ToString(t.Value))
				}
			}
		case name == "tag-key" || name == "tag-value":
			for _, t := range f.tags(r) {
				have = append(have, aws.ToString(map[bool]*string{true: t.Key, false: t.Value}[name == "tag-key"]))
			}
		default:
			values, ok := f.fields[name]
			if !ok {
				return false, errInvalid("The filter '%s' is invalid", name)
			}
			have = values(r)
		}
		if !slices.ContainsFunc(fl.Values, func(want string) bool {
			return slices.ContainsFunc(have, func(v string) bool { return glob(want, v) })
		}) {
			return false, nil
		}
	}
	return true, nil
}

// glob matches s against a filter value with * and ? wildcards.
func glob(pattern, s string) bool {
	if !strings.ContainsAny(pattern, "*?") {
		return pattern == s
	}
	re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pattern)) + "$"
	ok, _ := regexp.MatchString(re, s)
	return ok
}

// describe is a Describe call: it loads the resources with load, keeps
// those selected by ids and filters, and pages them.
func describe[T any](ctx context.Context, b *Backend, load func(*sqlite.Tx, backend.Scope) ([]T, error), f filter[T],
	ids []string, filters []types.Filter, token *string, max *int32) ([]T, *string, error) {
	var rs []T
	err := b.view(ctx, func(tx *sqlite.Tx, s backend.Scope) (err error) {
		rs, err = load(tx, s)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if rs, err = selected(rs, ids, filters, f); err != nil {
		return nil, nil, err
	}
	return page(rs, f.id, token, max)
}

// stored loads every resource of kind, as describe's load.
func stored[T any](kind string) func(*sqlite.Tx, backend.Scope) ([]T, error) {
	return func(tx *sqlite.Tx, s backend.Scope) ([]T, error) { return all[T](tx, s, kind, "") }
}

// selected returns the resources with the ids asked for (all if none
// are; an id that names nothing is an error) that pass the filters,
// ordered by id.
func selected[T any](rs []T, ids []string, filters []types.Filter, f filter[T]) ([]T, error) {
	id := f.id
	for _, want := range ids {
		if !slices.ContainsFunc(rs, func(r T) bool { return id(r) == want }) {
			return nil, notFound(want)
		}
	}
	var out []T
	for _, r := range rs {
		if len(ids) > 0 && !slices.Contains(ids, id(r)) {
			continue
		}
		ok, err := f.match(filters, r)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b T) int { return strings.Compare(id(a), id(b)) })
	return out, nil
}

// page pages a describe call's results by MaxResults and NextToken.
func page[T any](rs []T, id func(T) string, token *string, max *int32) ([]T, *string, error) {
	out, next, err := backend.PageOf(rs, id, token, max, 1000)
	if err != nil {
		return nil, nil, errInvalid("The token '%s' is invalid", aws.ToString(token))
	}
	return out, next, nil
}

func str(v *string) []string { return []string{aws.ToString(v)} }

// each is the value f picks from each of xs, for a filter over a list.
func each[T any](xs []T, f func(T) *string) []string {
	var out []string
	for _, x := range xs {
		out = append(out, aws.ToString(f(x)))
	}
	return out
}

func boolean(v *bool) []string {
	if aws.ToBool(v) {
		return []string{"true"}
	}
	return []string{"false"}
}
