package elbv2

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2api "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"berth/awsproto"
	"berth/sqlite"
)

// kindTargetGroupUse records that a rule forwards to a target group: id
// "<target group ARN> <rule ARN>", parent the target group, name the load
// balancer. A target group's LoadBalancerArns and whether it may be
// deleted follow from these.
const kindTargetGroupUse = "elbv2/target-group-use"

type targetGroupUse struct{ TargetGroupArn, RuleArn, LoadBalancerArn string }

// forwardedTo lists the target groups a rule's actions forward to.
func forwardedTo(actions []types.Action) []string {
	var out []string
	for _, a := range actions {
		if a.ForwardConfig != nil {
			for _, t := range a.ForwardConfig.TargetGroups {
				out = append(out, aws.ToString(t.TargetGroupArn))
			}
		} else if a.TargetGroupArn != nil {
			out = append(out, *a.TargetGroupArn)
		}
	}
	return out
}

// putRule stores r under listenerArn, replacing old (nil for a new rule),
// and records which target groups it now uses.
func (b *Backend) putRule(tx *sqlite.Tx, s scope, listenerArn string, r types.Rule, old *types.Rule, tgs []string) error {
	if err := tx.Put(s.Row(kindRule, *r.RuleArn, listenerArn, *r.Priority), r); err != nil {
		return err
	}
	var before []string
	if old != nil {
		before = forwardedTo(old.Actions)
	}
	return b.reuse(tx, s, *r.RuleArn, loadBalancerOf(listenerArn), before, tgs)
}

func (b *Backend) deleteRule(tx *sqlite.Tx, s scope, listenerArn string, r types.Rule) error {
	for _, k := range []string{kindRule, kindTags} {
		if err := tx.Delete(s.Key(k, *r.RuleArn)); err != nil {
			return err
		}
	}
	return b.reuse(tx, s, *r.RuleArn, loadBalancerOf(listenerArn), forwardedTo(r.Actions), nil)
}

// reuse moves a rule's target group uses from before to after and updates
// the LoadBalancerArns of every target group involved.
func (b *Backend) reuse(tx *sqlite.Tx, s scope, ruleArn, lbArn string, before, after []string) error {
	for _, tg := range before {
		if err := tx.Delete(s.Key(kindTargetGroupUse, tg+" "+ruleArn)); err != nil {
			return err
		}
	}
	for _, tg := range after {
		use := targetGroupUse{TargetGroupArn: tg, RuleArn: ruleArn, LoadBalancerArn: lbArn}
		if err := tx.Put(s.Row(kindTargetGroupUse, tg+" "+ruleArn, tg, lbArn), use); err != nil {
			return err
		}
	}
	for _, arn := range slices.Compact(slices.Sorted(slices.Values(append(before, after...)))) {
		var tg types.TargetGroup
		if err := tx.Get(s.Key(kindTargetGroup, arn), &tg); isNotFound(err) {
			continue
		} else if err != nil {
			return err
		}
		uses, err := sqlite.ListAll[targetGroupUse](tx, s.Query(kindTargetGroupUse, arn))
		if err != nil {
			return err
		}
		lbs := []string{}
		for _, u := range uses {
			if !slices.Contains(lbs, u.LoadBalancerArn) {
				lbs = append(lbs, u.LoadBalancerArn)
			}
		}
		tg.LoadBalancerArns = lbs
		if err := tx.Put(s.Row(kindTargetGroup, arn, "", *tg.TargetGroupName), tg); err != nil {
			return err
		}
	}
	return nil
}

func (b *Backend) rule(tx *sqlite.Tx, s scope, arn string) (types.Rule, error) {
	var r types.Rule
	if err := ruleArn.check(arn); err != nil {
		return r, err
	}
	err := tx.Get(s.Key(kindRule, arn), &r)
	if isNotFound(err) {
		return r, errRuleNotFound()
	}
	return r, err
}

func (b *Backend) defaultRule(tx *sqlite.Tx, s scope, listenerArn string) (types.Rule, error) {
	q := s.Query(kindRule, listenerArn)
	q.Name = "default"
	rules, err := sqlite.ListAll[types.Rule](tx, q)
	if err != nil || len(rules) == 0 {
		return types.Rule{}, errRuleNotFound()
	}
	return rules[0], nil
}

// listenerOfRule finds the listener a rule belongs to: the rule ARN
// "listener-rule/app/name/id/listener-id/rule-id" names it.
func (b *Backend) listenerOfRule(tx *sqlite.Tx, s scope, ruleArn string) (types.Listener, types.LoadBalancer, error) {
	listenerArn := strings.Replace(ruleArn[:max(strings.LastIndex(ruleArn, "/"), 0)], ":listener-rule/", ":listener/", 1)
	l, err := b.listener(tx, s, listenerArn)
	if err != nil {
		return l, types.LoadBalancer{}, err
	}
	lb, err := b.loadBalancer(tx, s, *l.LoadBalancerArn)
	return l, lb, err
}

func validPriority(p int32) error {
	if p < 1 || p > 50000 {
		return errValidation("Priority '%d' must be between 1 and 50000", p)
	}
	return nil
}

// maxRules is the quota of rules per Application Load Balancer, default
// rules not counted: "Rules per Application Load Balancer (excluding
// default rules): 100".
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html
const maxRules = 100

// ruleQuota refuses a new rule on a load balancer whose listeners have
// maxRules rules besides their default rules. The quota is AWS's; the
// message is berth's.
func ruleQuota(tx *sqlite.Tx, s scope, lbArn string) error {
	listeners, err := sqlite.ListAll[types.Listener](tx, s.Query(kindListener, lbArn))
	if err != nil {
		return err
	}
	n := 0
	for _, l := range listeners {
		c, err := tx.Count(s.Query(kindRule, *l.ListenerArn))
		if err != nil {
			return err
		}
		n += max(c-1, 0) // each listener has one default rule
	}
	if n >= maxRules {
		return awsproto.Modeled(&types.TooManyRulesException{}, "You've reached the limit of %d rules per load balancer, default rules not counted", maxRules)
	}
	return nil
}

// CreateRule adds a rule to a listener at a priority no other rule has.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateRule.html
func (b *Backend) CreateRule(ctx context.Context, in *elbv2api.CreateRuleInput) (*elbv2api.CreateRuleOutput, error) {
	s := scopeOf(ctx)
	if in.Priority == nil {
		return nil, errValidation("A priority must be specified")
	}
	if err := validPriority(*in.Priority); err != nil {
		return nil, err
	}
	conditions, err := validConditions(in.Conditions)
	if err != nil {
		return nil, err
	}
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	var r types.Rule
	err = b.update(ctx, func(tx *sqlite.Tx) error {
		l, err := b.listener(tx, s, aws.ToString(in.ListenerArn))
		if err != nil {
			return err
		}
		lb, err := b.loadBalancer(tx, s, *l.LoadBalancerArn)
		if err != nil {
			return err
		}
		if lb.Type != types.LoadBalancerTypeEnumApplication {
			return errValidation("Rules can only be created for listeners of application load balancers")
		}
		priority := itoa(*in.Priority)
		q := s.Query(kindRule, *l.ListenerArn)
		q.Name = priority
		if n, err := tx.Count(q); err != nil {
			return err
		} else if n > 0 {
			return errPriorityInUse(priority)
		}
		if err := ruleQuota(tx, s, *lb.LoadBalancerArn); err != nil {
			return err
		}
		actions, tgs, err := b.validActions(tx, s, listenerContext{lb, l.Protocol}, in.Actions)
		if err != nil {
			return err
		}
		r = types.Rule{
			RuleArn:    aws.String(childArn(*l.ListenerArn, "listener", "listener-rule", b.env.IDs.Hex(16))),
			Priority:   aws.String(priority),
			Conditions: conditions,
			Actions:    actions,
			IsDefault:  aws.Bool(false),
			Transforms: in.Transforms,
		}
		if err := b.putRule(tx, s, *l.ListenerArn, r, nil, tgs); err != nil {
			return err
		}
		return setTags(tx, s, *r.RuleArn, in.Tags)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.CreateRuleOutput{Rules: []types.Rule{r}}, nil
}

// sortRules orders rules by priority with the default rule last, the order
// in which ALB evaluates them.
func sortRules(rules []types.Rule) {
	key := func(r types.Rule) int {
		if aws.ToBool(r.IsDefault) {
			return 1 << 30
		}
		n, _ := strconv.Atoi(aws.ToString(r.Priority))
		return n
	}
	slices.SortStableFunc(rules, func(a, b types.Rule) int { return key(a) - key(b) })
}

// DescribeRules describes a listener's rules in evaluation order, or the
// rules named.
func (b *Backend) DescribeRules(ctx context.Context, in *elbv2api.DescribeRulesInput) (*elbv2api.DescribeRulesOutput, error) {
	s := scopeOf(ctx)
	if (in.ListenerArn == nil) == (len(in.RuleArns) == 0) {
		return nil, errValidation("Either a listener ARN or rule ARNs must be specified, but not both")
	}
	out := &elbv2api.DescribeRulesOutput{Rules: []types.Rule{}}
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		if in.ListenerArn == nil {
			for _, arn := range in.RuleArns {
				r, err := b.rule(tx, s, arn)
				if err != nil {
					return err
				}
				out.Rules = append(out.Rules, r)
			}
			return nil
		}
		if _, err := b.listener(tx, s, *in.ListenerArn); err != nil {
			return err
		}
		rules, err := sqlite.ListAll[types.Rule](tx, s.Query(kindRule, *in.ListenerArn))
		if err != nil {
			return err
		}
		sortRules(rules)
		arns := make([]string, len(rules))
		for i, r := range rules {
			arns[i] = *r.RuleArn
		}
		pageArns, next, err := pageStrings(arns, in.Marker, in.PageSize, 400)
		if err != nil {
			return err
		}
		for _, arn := range pageArns {
			out.Rules = append(out.Rules, rules[slices.Index(arns, arn)])
		}
		out.NextMarker = next
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ModifyRule replaces a rule's conditions, actions or transforms. The
// default rule's conditions cannot change.
func (b *Backend) ModifyRule(ctx context.Context, in *elbv2api.ModifyRuleInput) (*elbv2api.ModifyRuleOutput, error) {
	s := scopeOf(ctx)
	var r types.Rule
	err := b.update(ctx, func(tx *sqlite.Tx) error {
		var err error
		if r, err = b.rule(tx, s, aws.ToString(in.RuleArn)); err != nil {
			return err
		}
		old := r
		l, lb, err := b.listenerOfRule(tx, s, *r.RuleArn)
		if err != nil {
			return err
		}
		if in.Conditions != nil {
			if aws.ToBool(r.IsDefault) {
				return errOperationNotPermitted("The conditions of a default rule cannot be modified")
			}
			if r.Conditions, err = validConditions(in.Conditions); err != nil {
				return err
			}
		}
		tgs := forwardedTo(r.Actions)
		if in.Actions != nil {
			if r.Actions, tgs, err = b.validActions(tx, s, listenerContext{lb, l.Protocol}, in.Actions); err != nil {
				return err
			}
		}
		if in.Transforms != nil {
			r.Transforms = in.Transforms
		}
		if aws.ToBool(in.ResetTransforms) {
			r.Transforms = nil
		}
		if aws.ToBool(r.IsDefault) {
			l.DefaultActions = r.Actions
			if err := putListener(tx, s, l); err != nil {
				return err
			}
		}
		return b.putRule(tx, s, *l.ListenerArn, r, &old, tgs)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.ModifyRuleOutput{Rules: []types.Rule{r}}, nil
}

// DeleteRule deletes a rule other than the default rule.
func (b *Backend) DeleteRule(ctx context.Context, in *elbv2api.DeleteRuleInput) (*elbv2api.DeleteRuleOutput, error) {
	s := scopeOf(ctx)
	err := b.update(ctx, func(tx *sqlite.Tx) error {
		r, err := b.rule(tx, s, aws.ToString(in.RuleArn))
		if err != nil {
			return err
		}
		if aws.ToBool(r.IsDefault) {
			return errOperationNotPermitted("Default rule '%s' cannot be deleted", *r.RuleArn)
		}
		l, _, err := b.listenerOfRule(tx, s, *r.RuleArn)
		if err != nil {
			return err
		}
		return b.deleteRule(tx, s, *l.ListenerArn, r)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.DeleteRuleOutput{}, nil
}

// SetRulePriorities changes the priorities of rules of one listener at
// once; the result must leave every priority unique.
func (b *Backend) SetRulePriorities(ctx context.Context, in *elbv2api.SetRulePrioritiesInput) (*elbv2api.SetRulePrioritiesOutput, error) {
	s := scopeOf(ctx)
	if len(in.RulePriorities) == 0 {
		return nil, errValidation("Rule priorities must be specified")
	}
	out := &elbv2api.SetRulePrioritiesOutput{Rules: []types.Rule{}}
	err := b.update(ctx, func(tx *sqlite.Tx) error {
		listener := ""
		changed := map[string]string{}
		for _, rp := range in.RulePriorities {
			if rp.Priority == nil {
				return errValidation("A priority must be specified for every rule")
			}
			if err := validPriority(*rp.Priority); err != nil {
				return err
			}
			r, err := b.rule(tx, s, aws.ToString(rp.RuleArn))
			if err != nil {
				return err
			}
			if aws.ToBool(r.IsDefault) {
				return errOperationNotPermitted("The priority of a default rule cannot be changed")
			}
			l, _, err := b.listenerOfRule(tx, s, *r.RuleArn)
			if err != nil {
				return err
			}
			if listener != "" && listener != *l.ListenerArn {
				return errValidation("All rules must belong to the same listener")
			}
			listener = *l.ListenerArn
			changed[*r.RuleArn] = itoa(*rp.Priority)
		}
		rules, err := sqlite.ListAll[types.Rule](tx, s.Query(kindRule, listener))
		if err != nil {
			return err
		}
		used := map[string]bool{}
		for i := range rules {
			r := &rules[i]
			if p, ok := changed[*r.RuleArn]; ok {
				r.Priority = aws.String(p)
			}
			if used[*r.Priority] {
				return errPriorityInUse(*r.Priority)
			}
			used[*r.Priority] = true
		}
		for _, r := range rules {
			if _, ok := changed[*r.RuleArn]; !ok {
				continue
			}
			if err := tx.Put(s.Row(kindRule, *r.RuleArn, listener, *r.Priority), r); err != nil {
				return err
			}
			out.Rules = append(out.Rules, r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
