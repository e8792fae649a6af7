package elbv2

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2api "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

var lbNamePattern = regexp.MustCompile(`^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$`)

// hostedZones are the canonical hosted zone ids of ALBs and NLBs by region
// (https://docs.aws.amazon.com/general/latest/gr/elb.html); other regions
// use us-east-1's.
var hostedZones = map[string][2]string{
	"us-east-1":      {"Z35SXDOTRQ7X7K", "Z26RNL4JYFTOTI"},
	"us-east-2":      {"Z3AADJGX6KTTL2", "ZLMOA37VPKANP"},
	"us-west-1":      {"Z368ELLRRE2KJ0", "Z24FKFUX50B4VW"},
	"us-west-2":      {"Z1H1FL5HABSF5", "Z18D5FSROUN65G"},
	"eu-west-1":      {"Z32O12XQLNTSW2", "Z2IFOLAFXWLO4F"},
	"eu-central-1":   {"Z215JYRZR1TBD5", "Z3F0SRJ5LGBH90"},
	"ap-southeast-1": {"Z1LMS91P8CMLE5", "ZKVM4W9LS7TM"},
	"ap-northeast-1": {"Z14GRHDCWA56QT", "Z31USIVHYNEOWT"},
}

func hostedZone(region string, lbType types.LoadBalancerTypeEnum) string {
	z, ok := hostedZones[region]
	if !ok {
		z = hostedZones["us-east-1"]
	}
	if lbType == types.LoadBalancerTypeEnumApplication {
		return z[0]
	}
	return z[1]
}

func lbAttributes(t types.LoadBalancerTypeEnum) []attribute {
	switch t {
	case types.LoadBalancerTypeEnumNetwork:
		return nlbAttributes
	case types.LoadBalancerTypeEnumGateway:
		return gwlbAttributes
	}
	return albAttributes
}

// CreateLoadBalancer creates an application, network or gateway load
// balancer. Creating one that exists with the same settings returns it.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html
func (b *Backend) CreateLoadBalancer(ctx context.Context, in *elbv2api.CreateLoadBalancerInput) (*elbv2api.CreateLoadBalancerOutput, error) {
	s := scopeOf(ctx)
	name := aws.ToString(in.Name)
	if !lbNamePattern.MatchString(name) || strings.HasPrefix(name, "internal-") {
		return nil, errValidation("The load balancer name '%s' is not valid: it must have 1 to 32 alphanumeric characters or hyphens, must not begin or end with a hyphen, and must not begin with 'internal-'.", name)
	}
	lbType := in.Type
	if lbType == "" {
		lbType = types.LoadBalancerTypeEnumApplication
	}
	scheme := in.Scheme
	if scheme == "" {
		scheme = types.LoadBalancerSchemeEnumInternetFacing
	}
	ipType := in.IpAddressType
	if ipType == "" {
		ipType = types.IpAddressTypeIpv4
	}
	if !slices.Contains(types.LoadBalancerTypeEnum("").Values(), lbType) {
		return nil, errValidation("Load balancer type '%s' is not valid.", lbType)
	}
	if !slices.Contains(types.LoadBalancerSchemeEnum("").Values(), scheme) {
		return nil, errValidation("Scheme '%s' is not valid.", scheme)
	}
	if !slices.Contains(types.IpAddressType("").Values(), ipType) {
		return nil, errValidation("IP address type '%s' is not valid.", ipType)
	}
	// Gateway Load Balancers take neither a scheme nor security groups
	// (API_CreateLoadBalancer: both are "[Application Load Balancers and
	// Network Load Balancers]"); the texts are berth's.
	if lbType == types.LoadBalancerTypeEnumGateway && in.Scheme != "" {
		return nil, errValidation("A scheme cannot be specified for Gateway Load Balancers")
	}
	if lbType == types.LoadBalancerTypeEnumGateway && len(in.SecurityGroups) > 0 {
		return nil, errInvalidConfiguration("Gateway load balancers do not support security groups")
	}
	known, err := b.subnets(ctx, in.Subnets, in.SubnetMappings)
	if err != nil {
		return nil, err
	}
	zones, err := availabilityZones(s, in.Subnets, in.SubnetMappings, lbType, known)
	if err != nil {
		return nil, err
	}
	if err := requireIPv6(ipType, zones, known); err != nil {
		return nil, err
	}
	vpc := s.defaultVPC()
	if len(zones) > 0 && known[*zones[0].SubnetId].VpcId != nil {
		vpc = *known[*zones[0].SubnetId].VpcId
	}
	groups := in.SecurityGroups
	if lbType == types.LoadBalancerTypeEnumApplication && len(groups) == 0 {
		groups = []string{"default"}
	}
	if groups, err = b.securityGroups(ctx, s, vpc, groups); err != nil {
		return nil, err
	}
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	var lb types.LoadBalancer
	err = b.update(ctx, func(tx *sqlite.Tx) error {
		existing, err := byName[types.LoadBalancer](tx, s, kindLoadBalancer, name)
		switch {
		case err == nil && existing.Type == lbType && existing.Scheme == scheme:
			lb = existing
			return nil
		case err == nil:
			return awsproto.Modeled(&types.DuplicateLoadBalancerNameException{}, "A load balancer with the same name '%s' exists, but with different settings", name)
		case !isNotFound(err):
			return err
		}
		if err := loadBalancerQuota(tx, s, lbType); err != nil {
			return err
		}
		id := b.env.IDs.Hex(16)
		prefix := map[types.LoadBalancerTypeEnum]string{"application": "app", "network": "net", "gateway": "gwy"}[lbType]
		lb = types.LoadBalancer{
			LoadBalancerArn:       aws.String(s.arn("loadbalancer/" + prefix + "/" + name + "/" + id)),
			LoadBalancerName:      aws.String(name),
			DNSName:               aws.String(dnsName(s, name, id, lbType, scheme)),
			CanonicalHostedZoneId: aws.String(hostedZone(s.Region, lbType)),
			CreatedTime:           b.now(),
			Scheme:                scheme,
			VpcId:                 aws.String(vpc),
			State:                 &types.LoadBalancerState{Code: types.LoadBalancerStateEnumActive},
			Type:                  lbType,
			AvailabilityZones:     zones,
			IpAddressType:         ipType,
			CustomerOwnedIpv4Pool: in.CustomerOwnedIpv4Pool,
			SecurityGroups:        groups,
			IpamPools:             in.IpamPools,
		}
		if lbType == types.LoadBalancerTypeEnumNetwork {
			lb.EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic = nil
			if len(lb.SecurityGroups) > 0 {
				lb.EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic = aws.String("on")
			}
		}
		if err := tx.Put(s.Row(kindLoadBalancer, *lb.LoadBalancerArn, "", name), lb); err != nil {
			return err
		}
		return setTags(tx, s, *lb.LoadBalancerArn, in.Tags)
	})
	if err != nil {
		return nil, err
	}
	// A new load balancer reports provisioning once, as AWS does at first;
	// it is active from then on (berth has nothing to provision).
	created := lb
	created.State = &types.LoadBalancerState{Code: types.LoadBalancerStateEnumProvisioning}
	return &elbv2api.CreateLoadBalancerOutput{LoadBalancers: []types.LoadBalancer{created}}, nil
}

// maxLoadBalancers is the default quota of load balancers of each type per
// region. https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html
const maxLoadBalancers = 50

func loadBalancerQuota(tx *sqlite.Tx, s scope, t types.LoadBalancerTypeEnum) error {
	n := 0
	_, err := tx.List(s.Query(kindLoadBalancer, ""), func(body []byte) (bool, error) {
		var lb struct{ Type types.LoadBalancerTypeEnum }
		if err := json.Unmarshal(body, &lb); err != nil {
			return false, err
		}
		if lb.Type == t {
			n++
		}
		return true, nil
	})
	if err == nil && n >= maxLoadBalancers {
		return awsproto.Modeled(&types.TooManyLoadBalancersException{}, "You've reached the limit of %d %s load balancers per region", maxLoadBalancers, t)
	}
	return err
}

func dnsName(s scope, name, id string, t types.LoadBalancerTypeEnum, scheme types.LoadBalancerSchemeEnum) string {
	prefix := ""
	if scheme == types.LoadBalancerSchemeEnumInternal {
		prefix = "internal-"
	}
	if t == types.LoadBalancerTypeEnumApplication {
		n, _ := strconv.ParseUint(id[:12], 16, 64)
		return fmt.Sprintf("%s%s-%010d.%s.elb.amazonaws.com", prefix, name, n%10_000_000_000, s.Region)
	}
	return fmt.Sprintf("%s%s-%s.elb.%s.amazonaws.com", prefix, name, id, s.Region)
}

// subnets looks the subnets up in EC2, by id: nil without EC2.
func (b *Backend) subnets(ctx context.Context, ids []string, mappings []types.SubnetMapping) (map[string]ec2types.Subnet, error) {
	if b.Network == nil {
		return nil, nil
	}
	for _, m := range mappings {
		ids = append(ids, aws.ToString(m.SubnetId))
	}
	known := map[string]ec2types.Subnet{}
	if len(ids) == 0 {
		return known, nil
	}
	out, err := b.Network.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("subnet-id"), Values: ids}}})
	if err != nil {
		return nil, err
	}
	for _, sn := range out.Subnets {
		known[*sn.SubnetId] = sn
	}
	return known, nil
}

// securityGroups checks that EC2 has each group, in the load balancer's
// VPC, and returns their ids; "default" alone names the VPC's default
// group. Without EC2 they are taken as given, the default one made up.
func (b *Backend) securityGroups(ctx context.Context, s scope, vpc string, ids []string) ([]string, error) {
	byName := slices.Equal(ids, []string{"default"})
	switch {
	case len(ids) == 0:
		return ids, nil
	case b.Network == nil && byName:
		return []string{"sg-" + hash(17, s.Account, s.Region, "default-sg")}, nil
	case b.Network == nil:
		return ids, nil
	}
	filter := ec2types.Filter{Name: aws.String("group-id"), Values: ids}
	if byName {
		filter.Name = aws.String("group-name")
	}
	out, err := b.Network.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
		filter, {Name: aws.String("vpc-id"), Values: []string{vpc}},
	}})
	if err != nil {
		return nil, err
	}
	found := map[string]string{} // by id, or by name for the default
	for _, g := range out.SecurityGroups {
		found[*g.GroupId], found[*g.GroupName] = *g.GroupId, *g.GroupId
	}
	groups := make([]string, len(ids))
	for i, id := range ids {
		if groups[i] = found[id]; groups[i] == "" {
			return nil, awsproto.Modeled(&types.InvalidSecurityGroupException{}, "Security group '%s' does not exist in VPC '%s'", id, vpc)
		}
	}
	return groups, nil
}

// requireIPv6 refuses dualstack addressing unless every subnet has an
// IPv6 CIDR block, as EC2 knows it: "You must specify subnets with an
// associated IPv6 CIDR block." (ValidationError,
// kubernetes-sigs/aws-load-balancer-controller#4852). Without EC2
// (known is nil) the subnets are taken as given.
func requireIPv6(ipType types.IpAddressType, zones []types.AvailabilityZone, known map[string]ec2types.Subnet) error {
	if ipType == types.IpAddressTypeIpv4 || known == nil {
		return nil
	}
	for _, z := range zones {
		sn := known[aws.ToString(z.SubnetId)]
		if !slices.ContainsFunc(sn.Ipv6CidrBlockAssociationSet, func(a ec2types.SubnetIpv6CidrBlockAssociation) bool {
			return a.Ipv6CidrBlock != nil && (a.Ipv6CidrBlockState == nil || a.Ipv6CidrBlockState.State == ec2types.SubnetCidrBlockStateCodeAssociated)
		}) {
			return errValidation("You must specify subnets with an associated IPv6 CIDR block.")
		}
	}
	return nil
}

// availabilityZones places each subnet in its zone, as EC2 knows it, and
// checks the ALB rule of two zones. Without EC2 (known is nil) a subnet is
// placed in a zone of the region in order.
func availabilityZones(s scope, subnets []string, mappings []types.SubnetMapping, t types.LoadBalancerTypeEnum, known map[string]ec2types.Subnet) ([]types.AvailabilityZone, error) {
	if len(subnets) > 0 && len(mappings) > 0 {
		return nil, errValidation("You can specify subnets or subnet mappings, not both.")
	}
	for _, id := range subnets {
		mappings = append(mappings, types.SubnetMapping{SubnetId: aws.String(id)})
	}
	// "You must specify either subnets or subnet mappings."
	// (awsdocs/aws-cloudformation-user-guide#455)
	if len(mappings) == 0 {
		return nil, errValidation("You must specify either subnets or subnet mappings.")
	}
	if t == types.LoadBalancerTypeEnumApplication && len(mappings) < 2 {
		return nil, errValidation("At least two subnets in two different Availability Zones must be specified")
	}
	var zones []types.AvailabilityZone
	for i, m := range mappings {
		id := aws.ToString(m.SubnetId)
		if !strings.HasPrefix(id, "subnet-") {
			return nil, awsproto.Modeled(&types.SubnetNotFoundException{}, "The subnet ID '%s' is not valid", id)
		}
		if slices.ContainsFunc(zones, func(z types.AvailabilityZone) bool { return *z.SubnetId == id }) {
			return nil, errValidation("The subnet '%s' is specified more than once", id)
		}
		if _, ok := known[id]; !ok && known != nil {
			return nil, awsproto.Modeled(&types.SubnetNotFoundException{}, "The subnet ID '%s' is not valid", id)
		}
		z := types.AvailabilityZone{
			SubnetId:              aws.String(id),
			ZoneName:              aws.String(s.Region + string(rune('a'+i%6))),
			LoadBalancerAddresses: []types.LoadBalancerAddress{},
		}
		if sn, ok := known[id]; ok {
			z.ZoneName = sn.AvailabilityZone
			if vpc := known[*mappings[0].SubnetId].VpcId; aws.ToString(sn.VpcId) != aws.ToString(vpc) {
				return nil, awsproto.Modeled(&types.InvalidSubnetException{}, "The subnets '%s' and '%s' are in different VPCs", *mappings[0].SubnetId, id)
			}
			if slices.ContainsFunc(zones, func(o types.AvailabilityZone) bool { return *o.ZoneName == *z.ZoneName }) {
				return nil, errValidation("You cannot specify multiple subnets in the same Availability Zone")
			}
		}
		if m.AllocationId != nil || m.PrivateIPv4Address != nil {
			z.LoadBalancerAddresses = []types.LoadBalancerAddress{{AllocationId: m.AllocationId, PrivateIPv4Address: m.PrivateIPv4Address, IPv6Address: m.IPv6Address}}
		}
		zones = append(zones, z)
	}
	return zones, nil
}

func (b *Backend) loadBalancer(tx *sqlite.Tx, s scope, arn string) (types.LoadBalancer, error) {
	var lb types.LoadBalancer
	if err := loadBalancerArn.check(arn); err != nil {
		return lb, err
	}
	err := tx.Get(s.Key(kindLoadBalancer, arn), &lb)
	return lb, err
}

// byName loads the resource of kind with the given name, or returns
// sqlite.ErrNotFound.
func byName[T any](tx *sqlite.Tx, s scope, kind, name string) (T, error) {
	q := s.Query(kind, "")
	q.Name = name
	all, err := sqlite.ListAll[T](tx, q)
	if err == nil && len(all) == 0 {
		err = sqlite.ErrNotFound
	}
	if err != nil {
		var zero T
		return zero, err
	}
	return all[0], nil
}

// byNames loads resources of kind by name and lists the names not found.
func byNames[T any](tx *sqlite.Tx, s scope, kind string, names []string) (found []T, missing []string, err error) {
	for _, name := range names {
		v, err := byName[T](tx, s, kind, name)
		if isNotFound(err) {
			missing = append(missing, name)
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		found = append(found, v)
	}
	return found, missing, nil
}

// DescribeLoadBalancers describes load balancers by ARN, by name, or all of
// them a page at a time.
func (b *Backend) DescribeLoadBalancers(ctx context.Context, in *elbv2api.DescribeLoadBalancersInput) (*elbv2api.DescribeLoadBalancersOutput, error) {
	s := scopeOf(ctx)
	if len(in.LoadBalancerArns) > 0 && len(in.Names) > 0 {
		return nil, errValidation("Load balancer names and load balancer ARNs cannot be specified at the same time")
	}
	out := &elbv2api.DescribeLoadBalancersOutput{LoadBalancers: []types.LoadBalancer{}}
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		switch {
		case len(in.LoadBalancerArns) > 0:
			for _, arn := range in.LoadBalancerArns {
				lb, err := b.loadBalancer(tx, s, arn)
				if isNotFound(err) {
					return errLoadBalancerNotFound()
				}
				if err != nil {
					return err
				}
				out.LoadBalancers = append(out.LoadBalancers, lb)
			}
		case len(in.Names) > 0:
			found, missing, err := byNames[types.LoadBalancer](tx, s, kindLoadBalancer, in.Names)
			if err != nil {
				return err
			}
			if len(missing) > 0 {
				return errLoadBalancerNotFound(missing...)
			}
			out.LoadBalancers = append(out.LoadBalancers, found...)
		default:
			q, err := page(s.Query(kindLoadBalancer, ""), in.Marker, in.PageSize, 400)
			if err != nil {
				return err
			}
			lbs, next, err := sqlite.ListPage[types.LoadBalancer](tx, q, nil)
			out.LoadBalancers = append(out.LoadBalancers, lbs...)
			out.NextMarker, err = marker(next, err)
			return err
		}
		return nil
	})
	for i, l := range out.LoadBalancers {
		if reason := b.listenerFailure(*l.LoadBalancerArn); reason != "" {
			out.LoadBalancers[i].State = &types.LoadBalancerState{Code: types.LoadBalancerStateEnumActiveImpaired, Reason: aws.String(reason)}
		}
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteLoadBalancer deletes a load balancer with its listeners and rules.
// Deleting one that does not exist succeeds, as in AWS; deletion protection
// refuses.
func (b *Backend) DeleteLoadBalancer(ctx context.Context, in *elbv2api.DeleteLoadBalancerInput) (*elbv2api.DeleteLoadBalancerOutput, error) {
	s := scopeOf(ctx)
	arn := aws.ToString(in.LoadBalancerArn)
	err := b.update(ctx, func(tx *sqlite.Tx) error {
		lb, err := b.loadBalancer(tx, s, arn)
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		protected, err := attributeValue(tx, s, arn, lbAttributes(lb.Type), "deletion_protection.enabled")
		if err != nil {
			return err
		}
		if protected == "true" {
			return errOperationNotPermitted("Load balancer '%s' cannot be deleted because deletion protection is enabled", arn)
		}
		listeners, err := sqlite.ListAll[types.Listener](tx, s.Query(kindListener, arn))
		if err != nil {
			return err
		}
		for _, l := range listeners {
			if err := b.deleteListener(tx, s, l); err != nil {
				return err
			}
		}
		for _, k := range []string{kindLoadBalancer, kindAttributes, kindTags} {
			if err := tx.Delete(s.Key(k, arn)); err != nil {
				return err
			}
		}
		for _, k := range []string{kindAddress, kindIssuedCertificate} {
			if err := tx.Delete(sqlite.Key{Kind: k, ID: arn}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.DeleteLoadBalancerOutput{}, nil
}

// updateLoadBalancer applies change to a stored load balancer.
func (b *Backend) updateLoadBalancer(ctx context.Context, arn *string, change func(*sqlite.Tx, *types.LoadBalancer) error) (types.LoadBalancer, error) {
	s := scopeOf(ctx)
	var lb types.LoadBalancer
	err := b.update(ctx, func(tx *sqlite.Tx) error {
		var err error
		lb, err = b.loadBalancer(tx, s, aws.ToString(arn))
		if isNotFound(err) {
			return errLoadBalancerNotFound()
		}
		if err != nil {
			return err
		}
		if err := change(tx, &lb); err != nil {
			return err
		}
		return tx.Put(s.Row(kindLoadBalancer, *lb.LoadBalancerArn, "", *lb.LoadBalancerName), lb)
	})
	return lb, err
}

// SetSubnets replaces the subnets (and so the zones) of a load balancer.
func (b *Backend) SetSubnets(ctx context.Context, in *elbv2api.SetSubnetsInput) (*elbv2api.SetSubnetsOutput, error) {
	s := scopeOf(ctx)
	known, err := b.subnets(ctx, in.Subnets, in.SubnetMappings)
	if err != nil {
		return nil, err
	}
	lb, err := b.updateLoadBalancer(ctx, in.LoadBalancerArn, func(_ *sqlite.Tx, lb *types.LoadBalancer) error {
		zones, err := availabilityZones(s, in.Subnets, in.SubnetMappings, lb.Type, known)
		if err != nil {
			return err
		}
		if len(zones) > 0 && known != nil && aws.ToString(known[*zones[0].SubnetId].VpcId) != aws.ToString(lb.VpcId) {
			return awsproto.Modeled(&types.InvalidSubnetException{}, "The subnet '%s' is not in the load balancer's VPC '%s'", *zones[0].SubnetId, aws.ToString(lb.VpcId))
		}
		lb.AvailabilityZones = zones
		if in.IpAddressType != "" {
			lb.IpAddressType = in.IpAddressType
		}
		return requireIPv6(lb.IpAddressType, zones, known)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.SetSubnetsOutput{AvailabilityZones: lb.AvailabilityZones, IpAddressType: lb.IpAddressType}, nil
}

// SetSecurityGroups replaces the security groups of an ALB or NLB.
func (b *Backend) SetSecurityGroups(ctx context.Context, in *elbv2api.SetSecurityGroupsInput) (*elbv2api.SetSecurityGroupsOutput, error) {
	s := scopeOf(ctx)
	var current types.LoadBalancer
	if err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		current, err = b.loadBalancer(tx, s, aws.ToString(in.LoadBalancerArn))
		return err
	}); err != nil && !isNotFound(err) {
		return nil, err
	}
	for _, sg := range in.SecurityGroups {
		if !strings.HasPrefix(sg, "sg-") {
			return nil, awsproto.Modeled(&types.InvalidSecurityGroupException{}, "Security group '%s' does not exist", sg)
		}
	}
	groups, err := b.securityGroups(ctx, s, aws.ToString(current.VpcId), in.SecurityGroups)
	if err != nil && current.LoadBalancerArn != nil {
		return nil, err
	}
	lb, err := b.updateLoadBalancer(ctx, in.LoadBalancerArn, func(_ *sqlite.Tx, lb *types.LoadBalancer) error {
		if lb.Type == types.LoadBalancerTypeEnumGateway {
			return errInvalidConfiguration("Gateway load balancers do not support security groups")
		}
		// "If you create a Network Load Balancer without associating
		// any security groups, you can't associate them with the load
		// balancer later on."
		// https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-security-groups.html
		// AWS's text: kubernetes-sigs/cluster-api-provider-aws#4790.
		if lb.Type == types.LoadBalancerTypeEnumNetwork && len(lb.SecurityGroups) == 0 {
			return errInvalidConfiguration("You cannot set security groups on a Network Load Balancer which was created without any security groups.")
		}
		lb.SecurityGroups = backend.OrEmpty(groups)
		if in.EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic != "" {
			lb.EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic = aws.String(string(in.EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := &elbv2api.SetSecurityGroupsOutput{SecurityGroupIds: lb.SecurityGroups}
	if v := lb.EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic; v != nil {
		out.EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic = types.EnforceSecurityGroupInboundRulesOnPrivateLinkTrafficEnum(*v)
	}
	return out, nil
}

// SetIpAddressType sets ipv4 or dualstack addressing.
func (b *Backend) SetIpAddressType(ctx context.Context, in *elbv2api.SetIpAddressTypeInput) (*elbv2api.SetIpAddressTypeOutput, error) {
	if !slices.Contains(types.IpAddressType("").Values(), in.IpAddressType) {
		return nil, errValidation("IP address type '%s' is not valid.", in.IpAddressType)
	}
	// Dualstack needs IPv6 subnets here as in CreateLoadBalancer: look
	// the load balancer's subnets up in EC2 first.
	var known map[string]ec2types.Subnet
	if in.IpAddressType != types.IpAddressTypeIpv4 {
		s := scopeOf(ctx)
		var current types.LoadBalancer
		if err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
			current, err = b.loadBalancer(tx, s, aws.ToString(in.LoadBalancerArn))
			return err
		}); err != nil && !isNotFound(err) {
			return nil, err
		}
		var ids []string
		for _, z := range current.AvailabilityZones {
			ids = append(ids, aws.ToString(z.SubnetId))
		}
		var err error
		if known, err = b.subnets(ctx, ids, nil); err != nil {
			return nil, err
		}
	}
	lb, err := b.updateLoadBalancer(ctx, in.LoadBalancerArn, func(_ *sqlite.Tx, lb *types.LoadBalancer) error {
		if err := requireIPv6(in.IpAddressType, lb.AvailabilityZones, known); err != nil {
			return err
		}
		lb.IpAddressType = in.IpAddressType
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.SetIpAddressTypeOutput{IpAddressType: lb.IpAddressType}, nil
}

// lbAttributeSet finds a load balancer's attributes; found, when not nil,
// receives the load balancer.
func (b *Backend) lbAttributeSet(arn *string, found *types.LoadBalancer) attributeSet {
	return func(tx *sqlite.Tx, s scope) (string, []attribute, error) {
		lb, err := b.loadBalancer(tx, s, aws.ToString(arn))
		if found != nil {
			*found = lb
		}
		if isNotFound(err) {
			return "", nil, errLoadBalancerNotFound()
		}
		return aws.ToString(lb.LoadBalancerArn), lbAttributes(lb.Type), err
	}
}

func toLoadBalancerAttribute(kv keyValue) types.LoadBalancerAttribute {
	return types.LoadBalancerAttribute{Key: kv.Key, Value: kv.Value}
}

// DescribeLoadBalancerAttributes returns every attribute of the load
// balancer's type with its current value.
func (b *Backend) DescribeLoadBalancerAttributes(ctx context.Context, in *elbv2api.DescribeLoadBalancerAttributesInput) (*elbv2api.DescribeLoadBalancerAttributesOutput, error) {
	attrs, err := b.describeAttributes(ctx, b.lbAttributeSet(in.LoadBalancerArn, nil))
	if err != nil {
		return nil, err
	}
	return &elbv2api.DescribeLoadBalancerAttributesOutput{Attributes: convert(attrs, toLoadBalancerAttribute)}, nil
}

// ModifyLoadBalancerAttributes changes attributes and returns all of them.
func (b *Backend) ModifyLoadBalancerAttributes(ctx context.Context, in *elbv2api.ModifyLoadBalancerAttributesInput) (*elbv2api.ModifyLoadBalancerAttributesOutput, error) {
	change := convert(in.Attributes, func(a types.LoadBalancerAttribute) keyValue { return keyValue{a.Key, a.Value} })
	var lb types.LoadBalancer
	attrs, err := b.modifyAttributes(ctx, b.lbAttributeSet(in.LoadBalancerArn, &lb), change, attributeRules{
		unknown: func(key string) error { return unknownLoadBalancerAttribute(key, lb.Type) },
		check: func(before, after map[string]string) error {
			if lb.Type == types.LoadBalancerTypeEnumApplication {
				return validALBAttributes(before, after)
			}
			return validSecondaryIPs(before, after)
		},
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.ModifyLoadBalancerAttributesOutput{Attributes: convert(attrs, toLoadBalancerAttribute)}, nil
}
