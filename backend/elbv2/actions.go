package elbv2

import (
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"berth/awsproto"
	"berth/sqlite"
)

// listenerContext is what action validation needs to know of the listener.
type listenerContext struct {
	lb       types.LoadBalancer
	protocol types.ProtocolEnum
}

var (
	fixedStatusPattern = regexp.MustCompile(`^(2|4|5)\d\d$`)
	fixedContentTypes  = []string{"text/plain", "text/css", "text/html", "application/javascript", "application/json"}
)

// compatible reports whether a listener protocol can forward to a target
// group protocol.
func compatible(listener, tg types.ProtocolEnum) bool {
	switch listener {
	case types.ProtocolEnumHttp, types.ProtocolEnumHttps:
		return isHTTP(tg)
	case types.ProtocolEnumTcp:
		return tg == types.ProtocolEnumTcp || tg == types.ProtocolEnumTcpUdp
	case types.ProtocolEnumTls:
		return tg == types.ProtocolEnumTcp || tg == types.ProtocolEnumTls
	case types.ProtocolEnumUdp:
		return tg == types.ProtocolEnumUdp || tg == types.ProtocolEnumTcpUdp
	case types.ProtocolEnumTcpUdp:
		return tg == types.ProtocolEnumTcpUdp
	case types.ProtocolEnumGeneve:
		return tg == types.ProtocolEnumGeneve
	}
	return false
}

// validActions validates a rule's actions as ELBv2 does, fills in what it
// returns by default, and lists the target groups they forward to.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_Action.html
func (b *Backend) validActions(tx *sqlite.Tx, s scope, lc listenerContext, actions []types.Action) ([]types.Action, []string, error) {
	if len(actions) == 0 {
		return nil, nil, errValidation("At least one action must be specified")
	}
	out := slices.Clone(actions)
	var tgs []string
	terminal := 0
	orders := map[int32]bool{}
	for i := range out {
		a := &out[i]
		if a.Order == nil {
			a.Order = aws.Int32(int32(i + 1))
		}
		if *a.Order < 1 || *a.Order > 50000 || orders[*a.Order] {
			return nil, nil, errValidation("Action order '%d' is not valid: orders must be unique and between 1 and 50000", *a.Order)
		}
		orders[*a.Order] = true
		if lc.lb.Type != types.LoadBalancerTypeEnumApplication && a.Type != types.ActionTypeEnumForward {
			return nil, nil, errInvalidAction("Action type '%s' is not supported for %s load balancers", a.Type, lc.lb.Type)
		}
		switch a.Type {
		case types.ActionTypeEnumForward:
			terminal++
			arns, err := b.validForward(tx, s, lc, a)
			if err != nil {
				return nil, nil, err
			}
			tgs = append(tgs, arns...)
		case types.ActionTypeEnumRedirect:
			terminal++
			if err := validRedirect(a.RedirectConfig); err != nil {
				return nil, nil, err
			}
		case types.ActionTypeEnumFixedResponse:
			terminal++
			fr := a.FixedResponseConfig
			if fr == nil || !fixedStatusPattern.MatchString(aws.ToString(fr.StatusCode)) {
				return nil, nil, errValidation("A fixed-response action needs a StatusCode matching ^(2|4|5)\\d\\d$")
			}
			if fr.ContentType != nil && !slices.Contains(fixedContentTypes, *fr.ContentType) {
				return nil, nil, errValidation("Fixed-response content type '%s' is not valid: it must be one of %s", *fr.ContentType, strings.Join(fixedContentTypes, ", "))
			}
			if len(aws.ToString(fr.MessageBody)) > 1024 {
				return nil, nil, errValidation("A fixed-response message body can have at most 1024 characters")
			}
		case types.ActionTypeEnumAuthenticateOidc, types.ActionTypeEnumAuthenticateCognito, types.ActionTypeEnumJwtValidation:
			if lc.protocol != types.ProtocolEnumHttps {
				return nil, nil, errInvalidAction("Authenticate actions are supported only on HTTPS listeners")
			}
		default:
			return nil, nil, errValidation("Action type '%s' is not valid", a.Type)
		}
	}
	slices.SortFunc(out, func(x, y types.Action) int { return int(*x.Order - *y.Order) })
	last := out[len(out)-1].Type
	if terminal != 1 || (last != types.ActionTypeEnumForward && last != types.ActionTypeEnumRedirect && last != types.ActionTypeEnumFixedResponse) {
		return nil, nil, errInvalidAction("A rule must end with exactly one forward, redirect or fixed-response action")
	}
	return out, tgs, nil
}

func (b *Backend) validForward(tx *sqlite.Tx, s scope, lc listenerContext, a *types.Action) ([]string, error) {
	fc := a.ForwardConfig
	switch {
	case a.TargetGroupArn == nil && (fc == nil || len(fc.TargetGroups) == 0):
		return nil, errValidation("A forward action needs a target group ARN or a forward configuration")
	case a.TargetGroupArn != nil && fc != nil && len(fc.TargetGroups) > 0 &&
		(len(fc.TargetGroups) != 1 || aws.ToString(fc.TargetGroups[0].TargetGroupArn) != *a.TargetGroupArn):
		return nil, errValidation("You cannot specify both a target group ARN and a forward configuration with other target groups")
	}
	if fc == nil || len(fc.TargetGroups) == 0 {
		fc = &types.ForwardActionConfig{TargetGroups: []types.TargetGroupTuple{{TargetGroupArn: a.TargetGroupArn}}}
	} else {
		copied := *fc
		copied.TargetGroups = slices.Clone(fc.TargetGroups)
		fc = &copied
	}
	max := 5
	if lc.lb.Type != types.LoadBalancerTypeEnumApplication {
		max = 1
	}
	if len(fc.TargetGroups) > max {
		return nil, awsproto.Modeled(&types.TooManyTargetGroupsException{}, "A forward action can have at most %d target groups", max)
	}
	var arns []string
	for i := range fc.TargetGroups {
		t := &fc.TargetGroups[i]
		if t.Weight == nil {
			t.Weight = aws.Int32(1)
		}
		if *t.Weight < 0 || *t.Weight > 999 {
			return nil, errValidation("Target group weights must be between 0 and 999")
		}
		arn := aws.ToString(t.TargetGroupArn)
		if slices.Contains(arns, arn) {
			return nil, errValidation("Target group '%s' is specified more than once", arn)
		}
		tg, err := b.targetGroup(tx, s, arn)
		if awsproto.HasCode(err, &types.TargetGroupNotFoundException{}) {
			return nil, errTargetGroupNotFound(arn)
		}
		if err != nil {
			return nil, err
		}
		if tg.TargetType == types.TargetTypeEnumLambda {
			if lc.lb.Type != types.LoadBalancerTypeEnumApplication {
				return nil, errInvalidConfiguration("Target groups of the lambda target type can only be used by application load balancers")
			}
		} else if !compatible(lc.protocol, tg.Protocol) {
			// AWS's words as the README of a public sandbox,
			// tf_asg_dual_alb_nlb, quotes them; the ARN after them is
			// berth's.
			return nil, errIncompatibleProtocols("The listener and the following target groups have incompatible protocols: %s", arn)
		}
		if slices.ContainsFunc(tg.LoadBalancerArns, func(lb string) bool { return lb != *lc.lb.LoadBalancerArn }) {
			return nil, awsproto.Modeled(&types.TargetGroupAssociationLimitException{}, "The following target groups cannot be associated with more than one load balancer: %s", arn)
		}
		arns = append(arns, arn)
	}
	if fc.TargetGroupStickinessConfig == nil {
		fc.TargetGroupStickinessConfig = &types.TargetGroupStickinessConfig{Enabled: aws.Bool(false)}
	}
	if st := fc.TargetGroupStickinessConfig; aws.ToBool(st.Enabled) {
		if d := aws.ToInt32(st.DurationSeconds); d < 1 || d > 604800 {
			return nil, errValidation("Target group stickiness duration must be between 1 and 604800 seconds")
		}
	}
	a.ForwardConfig = fc
	if len(fc.TargetGroups) == 1 {
		a.TargetGroupArn = fc.TargetGroups[0].TargetGroupArn
	}
	return arns, nil
}

// validRedirect checks a redirect and fills the #{...} defaults AWS
// returns for the parts left out.
func validRedirect(rc *types.RedirectActionConfig) error {
	if rc == nil {
		return errValidation("A redirect action needs a redirect configuration")
	}
	if rc.StatusCode != types.RedirectActionStatusCodeEnumHttp301 && rc.StatusCode != types.RedirectActionStatusCodeEnumHttp302 {
		return errValidation("Redirect status code must be HTTP_301 or HTTP_302")
	}
	def := func(p **string, v string) {
		if *p == nil {
			*p = aws.String(v)
		}
	}
	unchanged := rc.Protocol == nil && rc.Host == nil && rc.Port == nil && rc.Path == nil && rc.Query == nil
	def(&rc.Protocol, "#{protocol}")
	def(&rc.Host, "#{host}")
	def(&rc.Port, "#{port}")
	def(&rc.Path, "/#{path}")
	def(&rc.Query, "#{query}")
	if unchanged {
		return errInvalidAction("The redirect configuration would redirect to the same URL: change at least one of protocol, host, port, path or query")
	}
	if p := *rc.Protocol; p != "HTTP" && p != "HTTPS" && p != "#{protocol}" {
		return errValidation("Redirect protocol must be HTTP, HTTPS or #{protocol}")
	}
	if p := *rc.Port; p != "#{port}" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return errValidation("Redirect port must be between 1 and 65535 or #{port}")
		}
	}
	if !strings.HasPrefix(*rc.Path, "/") || len(*rc.Path) > 128 {
		return errValidation("Redirect path must begin with '/' and have at most 128 characters")
	}
	return nil
}

var (
	hostPattern   = regexp.MustCompile(`^[A-Za-z0-9\-_.*?]+$`)
	methodPattern = regexp.MustCompile(`^[A-Z_-]+$`) // case-sensitive: GET, not get
)

// conditionChars are the characters besides letters and digits that the
// values of each condition type may hold, wildcards included, as the
// console's rule editor lists them: header values may hold spaces, paths
// and query strings a few punctuation characters. A query-string value
// may hold a space too, as its URL-decoded form does.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/add-rule.html
var conditionChars = map[string]string{
	"host-header":  "-_.*?",
	"path-pattern": "_-.$/~\"'@:+&*?",
	"query-string": "_-.$/~\"'@:+&()!,;=*? ",
	"http-header":  " !\"#$%&'()+,./:;<=>@[]^_`{|}~-*?",
}

// headerNameChars are the characters besides letters and digits of an
// http-header condition's header name (no wildcards).
const headerNameChars = "*?-!#$%&'+.^_`|~"

func isAlnum(r rune) bool { return r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)) }

// legacyValues returns the values of a host-header or path-pattern
// condition, given in its legacy Values or in its config (HostHeaderConfig,
// PathPatternConfig), not both. Values holds a single value; several need
// the config (API_RuleCondition: "you can specify a single host name ...
// in Values"). The texts are moto's, which took them from LocalStack
// (getmoto/moto#4082; test_elbv2_listener_rules.py asserts the second).
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RuleCondition.html
func legacyValues(field, config string, legacy, configured []string, hasConfig bool) ([]string, error) {
	switch {
	case hasConfig && len(legacy) > 0:
		return nil, errValidation("You cannot provide both Values and '%s' for a condition of type '%s'", config, field)
	case hasConfig:
		return configured, nil
	case len(legacy) > 1:
		return nil, errValidation("The '%s' field contains too many values; the limit is '1'", field)
	}
	return legacy, nil
}

// errRegexValues refuses the regular-expression match values of a
// condition (RegexValues in HostHeaderConfig, HttpHeaderConfig,
// PathPatternConfig), which berth's rule matcher does not evaluate:
// storing them would route requests otherwise than ALB does. The text is
// berth's.
func errRegexValues(config string) error {
	return errValidation("%s.RegexValues is not supported by berth: use Values with the * and ? wildcards", config)
}

// validConditions checks a rule's conditions: at most one each of
// host-header, http-request-method, path-pattern and source-ip; at most
// three values per condition and five per rule; values not empty. It
// returns the conditions with the legacy Values and the typed config
// filled from each other, as AWS returns them.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RuleCondition.html
func validConditions(in []types.RuleCondition) ([]types.RuleCondition, error) {
	if len(in) == 0 {
		return nil, errValidation("A rule must have at least one condition")
	}
	out := slices.Clone(in)
	seen := map[string]bool{}
	total, wildcards := 0, 0
	for i := range out {
		c := &out[i]
		field := aws.ToString(c.Field)
		var values []string
		switch field {
		case "host-header":
			var err error
			config := c.HostHeaderConfig
			var configured []string
			if config != nil {
				configured = config.Values
			}
			if values, err = legacyValues(field, "HostHeaderConfig", c.Values, configured, config != nil); err != nil {
				return nil, err
			}
			if config != nil && len(config.RegexValues) > 0 {
				return nil, errRegexValues("HostHeaderConfig")
			}
			c.HostHeaderConfig = &types.HostHeaderConditionConfig{Values: values}
			c.Values = values
			for _, v := range values {
				if len(v) > 128 || !hostPattern.MatchString(v) {
					return nil, errValidation("Host header value '%s' is not valid: use up to 128 of A-Z, a-z, 0-9, '-', '.', '*' and '?'", v)
				}
			}
		case "path-pattern":
			var err error
			config := c.PathPatternConfig
			var configured []string
			if config != nil {
				configured = config.Values
			}
			if values, err = legacyValues(field, "PathPatternConfig", c.Values, configured, config != nil); err != nil {
				return nil, err
			}
			if config != nil && len(config.RegexValues) > 0 {
				return nil, errRegexValues("PathPatternConfig")
			}
			c.PathPatternConfig = &types.PathPatternConditionConfig{Values: values}
			c.Values = values
			for _, v := range values {
				if len(v) > 128 {
					return nil, errValidation("Path pattern '%s' is longer than 128 characters", v)
				}
			}
		case "http-header":
			h := c.HttpHeaderConfig
			if h == nil || aws.ToString(h.HttpHeaderName) == "" {
				return nil, errValidation("An http-header condition needs an HTTP header name")
			}
			if len(h.RegexValues) > 0 {
				return nil, errRegexValues("HttpHeaderConfig")
			}
			if strings.EqualFold(*h.HttpHeaderName, "host") {
				return nil, errValidation("Use a host-header condition to match the Host header")
			}
			name := *h.HttpHeaderName
			if len(name) > 40 || strings.IndexFunc(name, func(r rune) bool { return !isAlnum(r) && !strings.ContainsRune(headerNameChars, r) }) >= 0 {
				return nil, errValidation("HTTP header name '%s' is not valid: use up to 40 of A-Z, a-z, 0-9 and %q", name, headerNameChars)
			}
			for _, v := range h.Values {
				if len(v) > 128 {
					return nil, errValidation("HTTP header value '%s' is longer than 128 characters", v)
				}
			}
			values = h.Values
		case "http-request-method":
			if c.HttpRequestMethodConfig == nil {
				return nil, errValidation("An http-request-method condition needs a configuration")
			}
			values = c.HttpRequestMethodConfig.Values
			for _, v := range values {
				if !methodPattern.MatchString(v) || len(v) > 40 {
					return nil, errValidation("HTTP request method '%s' is not valid", v)
				}
			}
		case "query-string":
			if c.QueryStringConfig == nil {
				return nil, errValidation("A query-string condition needs a configuration")
			}
			for _, kv := range c.QueryStringConfig.Values {
				if aws.ToString(kv.Value) == "" {
					return nil, errValidation("Query string conditions need a value in every key/value pair")
				}
				if len(aws.ToString(kv.Key)) > 128 || len(aws.ToString(kv.Value)) > 128 {
					return nil, errValidation("Query string key '%s' or value '%s' is longer than 128 characters", aws.ToString(kv.Key), aws.ToString(kv.Value))
				}
				values = append(values, aws.ToString(kv.Key)+aws.ToString(kv.Value))
			}
		case "source-ip":
			if c.SourceIpConfig == nil {
				return nil, errValidation("A source-ip condition needs a configuration")
			}
			values = c.SourceIpConfig.Values
			for _, v := range values {
				if _, err := netip.ParsePrefix(v); err != nil {
					return nil, errValidation("Source IP '%s' is not a valid CIDR block", v)
				}
			}
		default:
			return nil, errValidation("Condition field '%s' is not valid: use host-header, path-pattern, http-header, http-request-method, query-string or source-ip", field)
		}
		if field != "http-header" && field != "query-string" {
			if seen[field] {
				return nil, errValidation("A rule can have at most one '%s' condition", field)
			}
			seen[field] = true
		}
		if len(values) == 0 {
			return nil, errValidation("Condition '%s' must have at least one value", field)
		}
		if len(values) > 3 && field != "source-ip" {
			return nil, errValidation("A condition can have at most 3 values")
		}
		for _, v := range values {
			if v == "" {
				return nil, errValidation("Condition values cannot be empty")
			}
			if extra, ok := conditionChars[field]; ok {
				if bad := strings.IndexFunc(v, func(r rune) bool { return !isAlnum(r) && !strings.ContainsRune(extra, r) }); bad >= 0 {
					return nil, errValidation("The %s condition value '%s' contains a character that is not allowed: use A-Z, a-z, 0-9 and %q", field, v, extra)
				}
			}
			wildcards += strings.Count(v, "*") + strings.Count(v, "?")
		}
		if field != "source-ip" {
			total += len(values)
		}
	}
	if total > 5 {
		return nil, errValidation("A rule can have at most 5 condition values")
	}
	if wildcards > 5 {
		return nil, errValidation("A rule can have at most 5 wildcards")
	}
	return out, nil
}
