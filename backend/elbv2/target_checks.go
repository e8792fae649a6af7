package elbv2

import (
	"context"
	"net/netip"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2api "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"berth/sqlite"
)

// ContainerInstances knows the EC2 instances ECS has as container
// instances, which ECS registers the tasks it places there on with their
// ids: the host's own EC2-style id when berth runs the containers, or an
// instance an agent registered, which berth's EC2 may not know. The ECS
// backend satisfies it.
type ContainerInstances interface {
	HasContainerInstance(ctx context.Context, ec2InstanceID string) (bool, error)
}

// privateRanges are the IPv4 addresses an ip target may have besides its
// VPC's: "You can't specify publicly routable IP addresses", only the
// subnets of the target group's VPC, 10.0.0.0/8 (RFC 1918),
// 100.64.0.0/10 (RFC 6598), 172.16.0.0/12 (RFC 1918) and 192.168.0.0/16
// (RFC 1918). Loopback is berth's addition: berth's data plane reaches
// processes on its own host there.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetDescription.html
var privateRanges = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("127.0.0.0/8"),
}

// requireTargets checks, before RegisterTargets stores anything, that
// instance targets name instances that exist and that ip targets are not
// publicly routable. Malformed targets are left to validTarget. It needs
// EC2 (Network): without it targets are taken as given.
func (b *Backend) requireTargets(ctx context.Context, in *elbv2api.RegisterTargetsInput) error {
	if b.Network == nil {
		return nil
	}
	s := scopeOf(ctx)
	var tg types.TargetGroup
	if err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		tg, err = b.targetGroup(tx, s, aws.ToString(in.TargetGroupArn))
		return err
	}); err != nil {
		return err
	}
	switch tg.TargetType {
	case types.TargetTypeEnumInstance:
		return b.requireInstances(ctx, s, in.Targets)
	case types.TargetTypeEnumIp:
		return b.requirePrivateIPs(ctx, tg, in.Targets)
	}
	return nil
}

// requireInstances refuses instance ids that neither EC2 nor ECS knows:
// "InvalidTarget: The following instances do not exist: 'i-…', 'i-…'"
// (kubernetes-sigs/aws-load-balancer-controller#272). An EC2 instance
// must be running: "The following targets are not in a running state and
// cannot be registered: 'i-…'" (hashicorp/terraform#20345;
// API_RegisterTargets: "it must be in the running state when you
// register it").
func (b *Backend) requireInstances(ctx context.Context, s scope, targets []types.TargetDescription) error {
	var ids []string
	for _, t := range targets {
		id := aws.ToString(t.Id)
		if instanceIDPattern.MatchString(id) && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	out, err := b.Network.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("instance-id"), Values: ids}}})
	if err != nil {
		return err
	}
	state := map[string]ec2types.InstanceStateName{}
	for _, r := range out.Reservations {
		for _, i := range r.Instances {
			if i.State != nil {
				state[aws.ToString(i.InstanceId)] = i.State.Name
			}
		}
	}
	var missing, stopped []string
	for _, id := range ids {
		switch st, ok := state[id]; {
		case ok && st == ec2types.InstanceStateNameTerminated:
			missing = append(missing, id)
		case ok && st != ec2types.InstanceStateNameRunning && st != ec2types.InstanceStateNamePending:
			// A pending instance is on its way to running, as right
			// after RunInstances; berth takes it.
			stopped = append(stopped, id)
		case !ok:
			known := false
			if b.ContainerInstances != nil {
				if known, err = b.ContainerInstances.HasContainerInstance(ctx, id); err != nil {
					return err
				}
			}
			if !known {
				missing = append(missing, id)
			}
		}
	}
	switch {
	case len(missing) > 0:
		return errInvalidTarget("The following instances do not exist: %s", quoteList(missing))
	case len(stopped) > 0:
		return errInvalidTarget("The following targets are not in a running state and cannot be registered: %s", quoteList(stopped))
	}
	return nil
}

// requirePrivateIPs refuses IPv4 targets outside the private ranges and
// the target group's VPC. The rule is API_TargetDescription's; the text
// is berth's.
func (b *Backend) requirePrivateIPs(ctx context.Context, tg types.TargetGroup, targets []types.TargetDescription) error {
	allowed := slices.Clone(privateRanges)
	if tg.VpcId != nil {
		out, err := b.Network.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{*tg.VpcId}}}})
		if err != nil {
			return err
		}
		for _, v := range out.Vpcs {
			for _, a := range v.CidrBlockAssociationSet {
				if p, err := netip.ParsePrefix(aws.ToString(a.CidrBlock)); err == nil {
					allowed = append(allowed, p)
				}
			}
		}
	}
	for _, t := range targets {
		ip, err := netip.ParseAddr(aws.ToString(t.Id))
		if err != nil || !ip.Is4() {
			continue // validTarget answers malformed addresses; IPv6 is not checked
		}
		if !slices.ContainsFunc(allowed, func(p netip.Prefix) bool { return p.Contains(ip) }) {
			return errInvalidTarget("The IP address '%s' is not valid: IP targets must be in the target group's VPC or in 10.0.0.0/8, 100.64.0.0/10, 172.16.0.0/12 or 192.168.0.0/16, not publicly routable", ip)
		}
	}
	return nil
}

// quoteList writes ids as AWS lists them in messages: 'a', 'b'.
func quoteList(ids []string) string {
	return "'" + strings.Join(ids, "', '") + "'"
}
