package elbv2

import (
	"context"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2api "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"berth/awsproto"
	"berth/sqlite"
)

// accountLimits are ELBv2's default quotas.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html
var accountLimits = [][2]string{
	{"application-load-balancers", "50"},
	{"target-groups", "3000"},
	{"targets-per-application-load-balancer", "1000"},
	{"listeners-per-application-load-balancer", "50"},
	{"rules-per-application-load-balancer", "100"},
	{"network-load-balancers", "50"},
	{"targets-per-network-load-balancer", "3000"},
	{"targets-per-availability-zone-per-network-load-balancer", "500"},
	{"listeners-per-network-load-balancer", "50"},
	{"condition-values-per-alb-rule", "5"},
	{"condition-wildcards-per-alb-rule", "5"},
	{"target-groups-per-application-load-balancer", "100"},
	{"target-groups-per-action-on-application-load-balancer", "5"},
	{"target-groups-per-action-on-network-load-balancer", "1"},
	{"certificates-per-application-load-balancer", "25"},
	{"certificates-per-network-load-balancer", "25"},
	{"targets-per-target-group", "1000"},
	{"target-id-registrations-per-application-load-balancer", "1000"},
	{"network-load-balancer-enis-per-vpc", "1200"},
	{"application-load-balancer-enis-per-vpc", "1200"},
	{"gateway-load-balancers", "100"},
	{"gateway-load-balancers-per-vpc", "100"},
	{"geneve-target-groups", "100"},
	{"targets-per-availability-zone-per-gateway-load-balancer", "300"},
}

// DescribeAccountLimits lists the quotas, a page at a time.
func (b *Backend) DescribeAccountLimits(ctx context.Context, in *elbv2api.DescribeAccountLimitsInput) (*elbv2api.DescribeAccountLimitsOutput, error) {
	names := make([]string, len(accountLimits))
	for i, l := range accountLimits {
		names[i] = l[0]
	}
	pageNames, next, err := pageStrings(names, in.Marker, in.PageSize, 400)
	if err != nil {
		return nil, err
	}
	out := &elbv2api.DescribeAccountLimitsOutput{Limits: []types.Limit{}, NextMarker: next}
	for _, n := range pageNames {
		out.Limits = append(out.Limits, types.Limit{Name: aws.String(n), Max: aws.String(accountLimits[slices.Index(names, n)][1])})
	}
	return out, nil
}

func policy(name string, protocols []string, ciphers ...string) types.SslPolicy {
	p := types.SslPolicy{Name: aws.String(name), SslProtocols: protocols, SupportedLoadBalancerTypes: []string{"application", "network"}}
	for i, c := range ciphers {
		p.Ciphers = append(p.Ciphers, types.Cipher{Name: aws.String(c), Priority: aws.Int32(int32(i + 1))})
	}
	return p
}

// Cipher groups the predefined policies are made of.
var (
	tls13         = []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}
	tls13FIPS     = []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"}
	ecdheGCM      = []string{"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384"}
	ecdheCBC      = []string{"ECDHE-ECDSA-AES128-SHA256", "ECDHE-RSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA384"}
	ecdheSHA1     = []string{"ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA", "ECDHE-ECDSA-AES256-SHA"}
	rsaSHA2       = []string{"AES128-GCM-SHA256", "AES128-SHA256", "AES256-GCM-SHA384", "AES256-SHA256"}
	rsaSHA1       = []string{"AES128-SHA", "AES256-SHA"}
	tls10to12     = []string{"TLSv1", "TLSv1.1", "TLSv1.2"}
	tls10to13     = []string{"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"}
	tls11to13     = []string{"TLSv1.1", "TLSv1.2", "TLSv1.3"}
	tls12and13    = []string{"TLSv1.2", "TLSv1.3"}
	tls12         = []string{"TLSv1.2"}
	classic       = slices.Concat(ecdheGCM, ecdheCBC, ecdheSHA1, rsaSHA2, rsaSHA1)
	forwardOnly   = slices.Concat(ecdheGCM, ecdheCBC, ecdheSHA1)
	strongTLS12   = slices.Concat(ecdheGCM, ecdheCBC)
	strongPlusRSA = slices.Concat(ecdheGCM, ecdheCBC, rsaSHA2)
)

// sslPolicies are the predefined security policies berth knows, by the
// protocols and cipher suites the ALB guide lists for each (the order of
// suites within a policy is not AWS's). The data plane serves TLS 1.2 and
// 1.3 with Go's suites whichever policy a listener names.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html
var sslPolicies = []types.SslPolicy{
	policy("ELBSecurityPolicy-2016-08", tls10to12, classic...),
	policy("ELBSecurityPolicy-2015-05", tls10to12, classic...),
	policy("ELBSecurityPolicy-TLS13-1-2-2021-06", tls12and13, slices.Concat(tls13, strongTLS12)...),
	policy("ELBSecurityPolicy-TLS13-1-2-Res-2021-06", tls12and13, slices.Concat(tls13, ecdheGCM)...),
	policy("ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06", tls12and13, slices.Concat(tls13, strongPlusRSA)...),
	policy("ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06", tls12and13, slices.Concat(tls13, classic)...),
	policy("ELBSecurityPolicy-TLS13-1-1-2021-06", tls11to13, slices.Concat(tls13, classic)...),
	policy("ELBSecurityPolicy-TLS13-1-0-2021-06", tls10to13, slices.Concat(tls13, classic)...),
	policy("ELBSecurityPolicy-TLS13-1-3-2021-06", []string{"TLSv1.3"}, tls13...),
	policy("ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04", tls12and13, slices.Concat(tls13FIPS, strongTLS12)...),
	policy("ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04", tls12and13, slices.Concat(tls13FIPS, ecdheGCM)...),
	policy("ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-2023-04", tls12and13, slices.Concat(tls13FIPS, strongPlusRSA)...),
	policy("ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-2023-04", tls12and13, slices.Concat(tls13FIPS, strongPlusRSA, rsaSHA1)...),
	policy("ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-2023-04", tls12and13, slices.Concat(tls13FIPS, classic)...),
	policy("ELBSecurityPolicy-TLS13-1-1-FIPS-2023-04", tls11to13, slices.Concat(tls13FIPS, classic)...),
	policy("ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04", tls10to13, slices.Concat(tls13FIPS, classic)...),
	policy("ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04", []string{"TLSv1.3"}, tls13FIPS...),
	policy("ELBSecurityPolicy-TLS-1-2-2017-01", tls12, strongPlusRSA...),
	policy("ELBSecurityPolicy-TLS-1-2-Ext-2018-06", tls12, slices.Concat(strongPlusRSA, ecdheSHA1, rsaSHA1)...),
	policy("ELBSecurityPolicy-TLS-1-1-2017-01", []string{"TLSv1.1", "TLSv1.2"}, classic...),
	policy("ELBSecurityPolicy-FS-2018-06", tls10to12, forwardOnly...),
	policy("ELBSecurityPolicy-FS-1-1-2019-08", []string{"TLSv1.1", "TLSv1.2"}, forwardOnly...),
	policy("ELBSecurityPolicy-FS-1-2-2019-08", tls12, forwardOnly...),
	policy("ELBSecurityPolicy-FS-1-2-Res-2019-08", tls12, strongTLS12...),
	policy("ELBSecurityPolicy-FS-1-2-Res-2020-10", tls12, ecdheGCM...),
}

// DescribeSSLPolicies describes the named policies, or all of them.
func (b *Backend) DescribeSSLPolicies(ctx context.Context, in *elbv2api.DescribeSSLPoliciesInput) (*elbv2api.DescribeSSLPoliciesOutput, error) {
	var names []string
	for _, p := range sslPolicies {
		if in.LoadBalancerType == "" || slices.Contains(p.SupportedLoadBalancerTypes, string(in.LoadBalancerType)) {
			names = append(names, *p.Name)
		}
	}
	for _, n := range in.Names {
		if !slices.Contains(names, n) {
			return nil, awsproto.Modeled(&types.SSLPolicyNotFoundException{}, "SSL policy '%s' not found", n)
		}
	}
	if len(in.Names) > 0 {
		names = in.Names
	}
	pageNames, next, err := pageStrings(names, in.Marker, in.PageSize, 400)
	if err != nil {
		return nil, err
	}
	out := &elbv2api.DescribeSSLPoliciesOutput{SslPolicies: []types.SslPolicy{}, NextMarker: next}
	for _, n := range pageNames {
		i := slices.IndexFunc(sslPolicies, func(p types.SslPolicy) bool { return *p.Name == n })
		out.SslPolicies = append(out.SslPolicies, sslPolicies[i])
	}
	return out, nil
}

// capacityReservation is what Modify/DescribeCapacityReservation store.
type capacityReservation struct {
	MinimumLoadBalancerCapacity *types.MinimumLoadBalancerCapacity
	LastModifiedTime            *time.Time
}

// DescribeCapacityReservation describes a load balancer's capacity
// reservation: none unless one was set, every zone provisioned.
func (b *Backend) DescribeCapacityReservation(ctx context.Context, in *elbv2api.DescribeCapacityReservationInput) (*elbv2api.DescribeCapacityReservationOutput, error) {
	s := scopeOf(ctx)
	var out *elbv2api.DescribeCapacityReservationOutput
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		lb, err := b.loadBalancer(tx, s, aws.ToString(in.LoadBalancerArn))
		if isNotFound(err) {
			return errLoadBalancerNotFound()
		}
		if err != nil {
			return err
		}
		out, err = b.capacityReservation(tx, s, lb)
		return err
	})
	return out, err
}

func (b *Backend) capacityReservation(tx *sqlite.Tx, s scope, lb types.LoadBalancer) (*elbv2api.DescribeCapacityReservationOutput, error) {
	var cr capacityReservation
	if err := tx.Get(s.Key(kindCapacityReservation, *lb.LoadBalancerArn), &cr); err != nil && !isNotFound(err) {
		return nil, err
	}
	out := &elbv2api.DescribeCapacityReservationOutput{
		CapacityReservationState:    []types.ZonalCapacityReservationState{},
		DecreaseRequestsRemaining:   aws.Int32(3),
		LastModifiedTime:            cr.LastModifiedTime,
		MinimumLoadBalancerCapacity: cr.MinimumLoadBalancerCapacity,
	}
	if cr.MinimumLoadBalancerCapacity != nil {
		for _, z := range lb.AvailabilityZones {
			units := float64(aws.ToInt32(cr.MinimumLoadBalancerCapacity.CapacityUnits)) / float64(len(lb.AvailabilityZones))
			out.CapacityReservationState = append(out.CapacityReservationState, types.ZonalCapacityReservationState{
				AvailabilityZone:       z.ZoneName,
				EffectiveCapacityUnits: aws.Float64(units),
				State:                  &types.CapacityReservationStatus{Code: types.CapacityReservationStateEnumProvisioned},
			})
		}
	}
	return out, nil
}

// ModifyCapacityReservation sets or resets a load balancer's minimum
// capacity. Nothing is provisioned: the record is kept and reported.
func (b *Backend) ModifyCapacityReservation(ctx context.Context, in *elbv2api.ModifyCapacityReservationInput) (*elbv2api.ModifyCapacityReservationOutput, error) {
	s := scopeOf(ctx)
	if (in.MinimumLoadBalancerCapacity == nil) == !aws.ToBool(in.ResetCapacityReservation) {
		return nil, errValidation("Specify either MinimumLoadBalancerCapacity or ResetCapacityReservation")
	}
	var out *elbv2api.DescribeCapacityReservationOutput
	err := b.update(ctx, func(tx *sqlite.Tx) error {
		lb, err := b.loadBalancer(tx, s, aws.ToString(in.LoadBalancerArn))
		if isNotFound(err) {
			return errLoadBalancerNotFound()
		}
		if err != nil {
			return err
		}
		cr := capacityReservation{MinimumLoadBalancerCapacity: in.MinimumLoadBalancerCapacity, LastModifiedTime: b.now()}
		if err := tx.Put(s.Row(kindCapacityReservation, *lb.LoadBalancerArn, *lb.LoadBalancerArn, ""), cr); err != nil {
			return err
		}
		out, err = b.capacityReservation(tx, s, lb)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.ModifyCapacityReservationOutput{
		CapacityReservationState: out.CapacityReservationState, DecreaseRequestsRemaining: out.DecreaseRequestsRemaining,
		LastModifiedTime: out.LastModifiedTime, MinimumLoadBalancerCapacity: out.MinimumLoadBalancerCapacity,
	}, nil
}

// GetResourcePolicy returns a resource's policy. berth stores none, so
// every resource reports ResourceNotFound, as AWS does for one without.
func (b *Backend) GetResourcePolicy(ctx context.Context, in *elbv2api.GetResourcePolicyInput) (*elbv2api.GetResourcePolicyOutput, error) {
	return nil, awsproto.Modeled(&types.ResourceNotFoundException{}, "The specified resource '%s' does not have a resource policy", aws.ToString(in.ResourceArn))
}

// ModifyIpPools sets or removes the IPAM pools of a load balancer.
func (b *Backend) ModifyIpPools(ctx context.Context, in *elbv2api.ModifyIpPoolsInput) (*elbv2api.ModifyIpPoolsOutput, error) {
	lb, err := b.updateLoadBalancer(ctx, in.LoadBalancerArn, func(_ *sqlite.Tx, lb *types.LoadBalancer) error {
		if in.IpamPools != nil {
			lb.IpamPools = in.IpamPools
		}
		if slices.Contains(in.RemoveIpamPools, types.RemoveIpamPoolEnumIpv4) {
			lb.IpamPools = nil
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.ModifyIpPoolsOutput{IpamPools: lb.IpamPools}, nil
}
