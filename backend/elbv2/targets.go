package elbv2

import (
	"context"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2api "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"berth/awsproto"
	"berth/lb/balance"
	"berth/lb/health"
	"berth/sqlite"
)

// target is a registration of one target (id and port) in a target group.
type target struct {
	Id               string
	Port             int32
	AvailabilityZone *string
	RegisteredAt     time.Time
	// DrainUntil is set once the target is deregistered: it reports
	// draining until then and is gone after.
	DrainUntil *time.Time
	// Health is the last change of health the data plane reported, kept
	// so that a restart of berth forgets no target's health (health.go).
	Health *health.Status `json:",omitempty"`
}

func (t target) key(tgArn string) string {
	return tgArn + " " + t.Id + ":" + strconv.Itoa(int(t.Port))
}

func (t target) draining(now time.Time) bool { return t.DrainUntil != nil && now.Before(*t.DrainUntil) }

func (t target) gone(now time.Time) bool { return t.DrainUntil != nil && !now.Before(*t.DrainUntil) }

// forgetGone deletes the group's targets whose draining has ended, with
// the health recorded for them, so that a group's rows stay bounded by its
// registered and draining targets.
func forgetGone(tx *sqlite.Tx, s scope, tgArn string, now time.Time) error {
	targets, err := sqlite.ListAll[target](tx, s.Query(kindTarget, tgArn))
	if err != nil {
		return err
	}
	for _, t := range targets {
		if t.gone(now) {
			if err := tx.Delete(s.Key(kindTarget, t.key(tgArn))); err != nil {
				return err
			}
		}
	}
	return nil
}

var instanceIDPattern = regexp.MustCompile(`^i-[0-9a-f]{8,17}$`)

// validTarget checks a target against its group's target type and fills in
// the group's port.
func validTarget(tg types.TargetGroup, d types.TargetDescription) (target, error) {
	t := target{Id: aws.ToString(d.Id), AvailabilityZone: d.AvailabilityZone}
	if d.Port != nil {
		t.Port = *d.Port
	} else {
		t.Port = aws.ToInt32(tg.Port)
	}
	if tg.TargetType != types.TargetTypeEnumLambda && (t.Port < 1 || t.Port > 65535) {
		return t, errValidation("Port '%d' must be between 1 and 65535", t.Port)
	}
	switch tg.TargetType {
	case types.TargetTypeEnumInstance:
		if !instanceIDPattern.MatchString(t.Id) {
			return t, errInvalidTarget("The following targets are not valid instances: '%s'", t.Id)
		}
	case types.TargetTypeEnumIp:
		ip, err := netip.ParseAddr(t.Id)
		if err != nil {
			return t, errInvalidTarget("The IP address '%s' is not a valid IP address", t.Id)
		}
		if ip.Is6() != (tg.IpAddressType == types.TargetGroupIpAddressTypeEnumIpv6) {
			return t, errInvalidTarget("The IP address '%s' does not match the IP address type of the target group", t.Id)
		}
	case types.TargetTypeEnumLambda:
		if !strings.HasPrefix(t.Id, "arn:aws:lambda:") {
			return t, errInvalidTarget("The target '%s' is not a Lambda function ARN", t.Id)
		}
		t.Port = 0
	case types.TargetTypeEnumAlb:
		if !strings.Contains(t.Id, ":loadbalancer/app/") {
			return t, errInvalidTarget("The target '%s' is not an Application Load Balancer ARN", t.Id)
		}
	}
	return t, nil
}

// RegisterTargets registers targets in a target group. A target that is
// draining is registered again.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RegisterTargets.html
func (b *Backend) RegisterTargets(ctx context.Context, in *elbv2api.RegisterTargetsInput) (*elbv2api.RegisterTargetsOutput, error) {
	s := scopeOf(ctx)
	if len(in.Targets) == 0 {
		return nil, errValidation("Targets must be specified")
	}
	if err := b.requireTargets(ctx, in); err != nil {
		return nil, err
	}
	now := *b.now()
	err := b.update(ctx, func(tx *sqlite.Tx) error {
		tg, err := b.targetGroup(tx, s, aws.ToString(in.TargetGroupArn))
		if err != nil {
			return err
		}
		if tg.TargetType == types.TargetTypeEnumLambda && len(in.Targets) > 1 {
			return awsproto.Modeled(&types.TooManyTargetsException{}, "A target group with the lambda target type can have only one target")
		}
		if err := forgetGone(tx, s, *tg.TargetGroupArn, now); err != nil {
			return err
		}
		for _, d := range in.Targets {
			t, err := validTarget(tg, d)
			if err != nil {
				return err
			}
			var existing target
			err = tx.Get(s.Key(kindTarget, t.key(*tg.TargetGroupArn)), &existing)
			if err == nil && existing.DrainUntil == nil {
				continue // already registered
			}
			if err != nil && !isNotFound(err) {
				return err
			}
			t.RegisteredAt = now
			if err := tx.Put(s.Row(kindTarget, t.key(*tg.TargetGroupArn), *tg.TargetGroupArn, t.Id), t); err != nil {
				return err
			}
		}
		n, err := tx.Count(s.Query(kindTarget, *tg.TargetGroupArn))
		if err != nil {
			return err
		}
		if n > 1000 {
			return awsproto.Modeled(&types.TooManyTargetsException{}, "You've reached the limit of 1000 targets per target group")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.RegisterTargetsOutput{}, nil
}

// DeregisterTargets starts draining targets for the group's deregistration
// delay. Deregistering a target that is not registered succeeds.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DeregisterTargets.html
func (b *Backend) DeregisterTargets(ctx context.Context, in *elbv2api.DeregisterTargetsInput) (*elbv2api.DeregisterTargetsOutput, error) {
	s := scopeOf(ctx)
	if len(in.Targets) == 0 {
		return nil, errValidation("Targets must be specified")
	}
	now := *b.now()
	err := b.update(ctx, func(tx *sqlite.Tx) error {
		tg, err := b.targetGroup(tx, s, aws.ToString(in.TargetGroupArn))
		if err != nil {
			return err
		}
		if err := forgetGone(tx, s, *tg.TargetGroupArn, now); err != nil {
			return err
		}
		delay := 0
		if tg.TargetType != types.TargetTypeEnumLambda {
			v, err := attributeValue(tx, s, *tg.TargetGroupArn, tgAttributes(tg), "deregistration_delay.timeout_seconds")
			if err != nil {
				return err
			}
			delay, _ = strconv.Atoi(v)
		}
		for _, d := range in.Targets {
			probe := target{Id: aws.ToString(d.Id), Port: aws.ToInt32(d.Port)}
			if d.Port == nil && tg.TargetType != types.TargetTypeEnumLambda {
				probe.Port = aws.ToInt32(tg.Port)
			}
			key := s.Key(kindTarget, probe.key(*tg.TargetGroupArn))
			var t target
			if err := tx.Get(key, &t); isNotFound(err) {
				continue
			} else if err != nil {
				return err
			}
			if t.DrainUntil != nil {
				continue
			}
			if delay == 0 || len(tg.LoadBalancerArns) == 0 {
				if err := tx.Delete(key); err != nil {
					return err
				}
				continue
			}
			until := now.Add(time.Duration(delay) * time.Second)
			t.DrainUntil = &until
			if err := tx.Put(s.Row(kindTarget, t.key(*tg.TargetGroupArn), *tg.TargetGroupArn, t.Id), t); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.DeregisterTargetsOutput{}, nil
}

// DescribeTargetHealth reports the health of a group's targets, or of the
// targets named (a target that is not registered is unused with reason
// Target.NotRegistered). Targets of a group in use have the health the
// data plane's checks found; until it reports, they are initial.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html
func (b *Backend) DescribeTargetHealth(ctx context.Context, in *elbv2api.DescribeTargetHealthInput) (*elbv2api.DescribeTargetHealthOutput, error) {
	s := scopeOf(ctx)
	now := b.env.Clock()
	out := &elbv2api.DescribeTargetHealthOutput{TargetHealthDescriptions: []types.TargetHealthDescription{}}
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		tg, err := b.targetGroup(tx, s, aws.ToString(in.TargetGroupArn))
		if err != nil {
			return err
		}
		registered, err := sqlite.ListAll[target](tx, s.Query(kindTarget, *tg.TargetGroupArn))
		if err != nil {
			return err
		}
		find := func(id string, port int32) (target, bool) {
			for _, t := range registered {
				if t.Id == id && (port == 0 || t.Port == port) && !t.gone(now) {
					return t, true
				}
			}
			return target{}, false
		}
		if len(in.Targets) == 0 {
			for _, t := range registered {
				if !t.gone(now) {
					out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, b.describeTarget(tg, t, now))
				}
			}
			return nil
		}
		for _, d := range in.Targets {
			if t, ok := find(aws.ToString(d.Id), aws.ToInt32(d.Port)); ok {
				out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, b.describeTarget(tg, t, now))
				continue
			}
			port := aws.ToInt32(d.Port)
			if d.Port == nil {
				port = aws.ToInt32(tg.Port)
			}
			out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, types.TargetHealthDescription{
				Target:          &types.TargetDescription{Id: d.Id, Port: aws.Int32(port), AvailabilityZone: d.AvailabilityZone},
				HealthCheckPort: aws.String(healthCheckPort(tg, port)),
				TargetHealth: &types.TargetHealth{
					State:       types.TargetHealthStateEnumUnused,
					Reason:      types.TargetHealthReasonEnumNotRegistered,
					Description: aws.String("Target is not registered to the target group"),
				},
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func healthCheckPort(tg types.TargetGroup, port int32) string {
	if p := aws.ToString(tg.HealthCheckPort); p != "" && p != "traffic-port" {
		return p
	}
	return strconv.Itoa(int(port))
}

func (b *Backend) describeTarget(tg types.TargetGroup, t target, now time.Time) types.TargetHealthDescription {
	d := types.TargetHealthDescription{
		Target:          &types.TargetDescription{Id: aws.String(t.Id), AvailabilityZone: t.AvailabilityZone},
		HealthCheckPort: aws.String(healthCheckPort(tg, t.Port)),
	}
	if tg.TargetType != types.TargetTypeEnumLambda {
		d.Target.Port = aws.Int32(t.Port)
	} else {
		d.HealthCheckPort = nil
	}
	switch {
	case t.draining(now):
		d.TargetHealth = &types.TargetHealth{State: types.TargetHealthStateEnumDraining, Reason: types.TargetHealthReasonEnumDeregistrationInProgress,
			Description: aws.String("Target deregistration is in progress")}
	case !aws.ToBool(tg.HealthCheckEnabled):
		d.TargetHealth = &types.TargetHealth{State: types.TargetHealthStateEnumUnavailable, Reason: types.TargetHealthReasonEnumHealthCheckDisabled,
			Description: aws.String("Health checks are disabled")}
	case len(tg.LoadBalancerArns) == 0:
		d.TargetHealth = &types.TargetHealth{State: types.TargetHealthStateEnumUnused, Reason: types.TargetHealthReasonEnumNotInUse,
			Description: aws.String("Target group is not configured to receive traffic from the load balancer")}
	default:
		d.TargetHealth = &types.TargetHealth{State: types.TargetHealthStateEnumInitial, Reason: types.TargetHealthReasonEnumRegistrationInProgress,
			Description: aws.String("Target registration is in progress")}
		if t.Health != nil {
			d.TargetHealth = targetHealth(*t.Health)
		}
	}
	return d
}

// targetHealth is the API's form of a health status the data plane
// reported.
func targetHealth(s health.Status) *types.TargetHealth {
	th := &types.TargetHealth{Reason: types.TargetHealthReasonEnum(s.Reason)}
	if s.Description != "" {
		th.Description = aws.String(s.Description)
	}
	switch s.Health {
	case balance.Healthy:
		th.State = types.TargetHealthStateEnumHealthy
	case balance.Unhealthy:
		th.State = types.TargetHealthStateEnumUnhealthy
	default:
		th.State = types.TargetHealthStateEnumInitial
	}
	return th
}
