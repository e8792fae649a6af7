package elbv2

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
)

// errorText returns an error's code and message, or "" for nil.
func errorText(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// TestLegacyConditionValues: one legacy value, or the config, not both
// (API_RuleCondition).
func TestLegacyConditionValues(t *testing.T) {
	for _, c := range []struct {
		name      string
		condition types.RuleCondition
		want      string
	}{
		{"one legacy path", types.RuleCondition{Field: aws.String("path-pattern"), Values: []string{"/a"}}, ""},
		{"config paths", types.RuleCondition{Field: aws.String("path-pattern"), PathPatternConfig: &types.PathPatternConditionConfig{Values: []string{"/a", "/b"}}}, ""},
		{"both paths", types.RuleCondition{Field: aws.String("path-pattern"), Values: []string{"/a"}, PathPatternConfig: &types.PathPatternConditionConfig{Values: []string{"/a"}}},
			"ValidationError: You cannot provide both Values and 'PathPatternConfig' for a condition of type 'path-pattern'"},
		{"two legacy hosts", types.RuleCondition{Field: aws.String("host-header"), Values: []string{"a.example.com", "b.example.com"}},
			"ValidationError: The 'host-header' field contains too many values; the limit is '1'"},
		{"both hosts", types.RuleCondition{Field: aws.String("host-header"), Values: []string{"a.example.com"}, HostHeaderConfig: &types.HostHeaderConditionConfig{}},
			"ValidationError: You cannot provide both Values and 'HostHeaderConfig' for a condition of type 'host-header'"},
	} {
		out, err := validConditions([]types.RuleCondition{c.condition})
		if got := errorText(err); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
			continue
		}
		if err == nil && len(out[0].Values) == 0 {
			t.Errorf("%s: the legacy Values were not filled in: %+v", c.name, out[0])
		}
	}
}

// TestStickinessByProtocol: each kind of target group has its stickiness
// types (API_TargetGroupAttribute).
func TestStickinessByProtocol(t *testing.T) {
	group := func(p types.ProtocolEnum) types.TargetGroup {
		return types.TargetGroup{Protocol: p, TargetType: types.TargetTypeEnumInstance}
	}
	for _, c := range []struct {
		protocol types.ProtocolEnum
		attrs    map[string]string
		want     string
	}{
		{types.ProtocolEnumHttp, map[string]string{"stickiness.enabled": "true", "stickiness.type": "lb_cookie"}, ""},
		{types.ProtocolEnumHttps, map[string]string{"stickiness.enabled": "true", "stickiness.type": "app_cookie", "stickiness.app_cookie.cookie_name": "SESSION"}, ""},
		{types.ProtocolEnumHttp, map[string]string{"stickiness.enabled": "false", "stickiness.type": "app_cookie"}, ""},
		{types.ProtocolEnumHttp, map[string]string{"stickiness.enabled": "true", "stickiness.type": "app_cookie"},
			"InvalidConfigurationRequest: You must set an application cookie name to enable stickiness of type 'app_cookie'"},
		{types.ProtocolEnumHttps, map[string]string{"stickiness.type": "source_ip"},
			"InvalidConfigurationRequest: Stickiness type 'source_ip' is not supported for target groups with the HTTPS protocol"},
		{types.ProtocolEnumHttp, map[string]string{"stickiness.type": "source_ip_dest_ip_proto"},
			"ValidationError: 'Stickiness type' must be one of [app_cookie, lb_cookie, source_ip]"},
		{types.ProtocolEnumHttp, map[string]string{"stickiness.enabled": "true", "stickiness.type": "lb_cookie", "load_balancing.algorithm.type": "weighted_random"},
			"InvalidConfigurationRequest: You cannot have both stickiness and weighted random algorithm enabled on the same target group."},
		{types.ProtocolEnumTcp, map[string]string{"stickiness.enabled": "true", "stickiness.type": "source_ip"}, ""},
		{types.ProtocolEnumUdp, map[string]string{"stickiness.enabled": "true", "stickiness.type": "source_ip"}, ""},
		{types.ProtocolEnumTcpUdp, map[string]string{"stickiness.type": "app_cookie"},
			"InvalidConfigurationRequest: Stickiness type 'app_cookie' is not supported for target groups with the TCP_UDP protocol"},
		{types.ProtocolEnumTcp, map[string]string{"stickiness.enabled": "false", "stickiness.type": "lb_cookie"},
			"InvalidConfigurationRequest: Stickiness type 'lb_cookie' is not supported for target groups with the TCP protocol"},
		{types.ProtocolEnumTls, map[string]string{"stickiness.enabled": "true", "stickiness.type": "lb_cookie"},
			"InvalidConfigurationRequest: You cannot enable stickiness on target groups with the TLS protocol"},
		{types.ProtocolEnumTls, map[string]string{"stickiness.enabled": "false", "stickiness.type": "source_ip"}, ""},
		{types.ProtocolEnumGeneve, map[string]string{"stickiness.enabled": "true", "stickiness.type": "source_ip_dest_ip"}, ""},
		{types.ProtocolEnumGeneve, map[string]string{"stickiness.type": "source_ip"},
			"ValidationError: 'source_ip' must be one of [source_ip_dest_ip_proto, source_ip_dest_ip]"},
	} {
		if got := errorText(validStickiness(group(c.protocol), c.attrs)); got != c.want {
			t.Errorf("%s %v: %q, want %q", c.protocol, c.attrs, got, c.want)
		}
	}
}

// TestHealthCheckTiming: the interval exceeds the timeout for ALB groups;
// NLB and GWLB groups take a timeout up to the interval.
func TestHealthCheckTiming(t *testing.T) {
	for _, c := range []struct {
		protocol          types.ProtocolEnum
		interval, timeout int32
		want              string
	}{
		{types.ProtocolEnumHttp, 10, 5, ""},
		{types.ProtocolEnumHttp, 10, 10, "ValidationError: Health check interval must be greater than the timeout."},
		{types.ProtocolEnumHttps, 5, 6, "ValidationError: Health check interval must be greater than the timeout."},
		{types.ProtocolEnumTcp, 10, 10, ""},
		{types.ProtocolEnumTcp, 5, 10, "ValidationError: Health check timeout '10' must be smaller than or equal to the interval '5'"},
		{types.ProtocolEnumGeneve, 10, 5, ""},
	} {
		tg := types.TargetGroup{Protocol: c.protocol, HealthCheckIntervalSeconds: aws.Int32(c.interval), HealthCheckTimeoutSeconds: aws.Int32(c.timeout)}
		if got := errorText(validHealthCheckTiming(tg)); got != c.want {
			t.Errorf("%s interval %d timeout %d: %q, want %q", c.protocol, c.interval, c.timeout, got, c.want)
		}
	}
	lambda := types.TargetGroup{TargetType: types.TargetTypeEnumLambda, HealthCheckIntervalSeconds: aws.Int32(30), HealthCheckTimeoutSeconds: aws.Int32(30)}
	if validHealthCheckTiming(lambda) == nil {
		t.Error("a lambda group (ALB) took a timeout equal to its interval")
	}
}

// TestListenerProtocolText names the protocols of each load balancer type
// in AWS's order.
func TestListenerProtocolText(t *testing.T) {
	for lbType, want := range map[types.LoadBalancerTypeEnum]string{
		types.LoadBalancerTypeEnumApplication: "ValidationError: Listener protocol 'TCP' must be one of 'HTTPS, HTTP'",
		types.LoadBalancerTypeEnumNetwork:     "ValidationError: Listener protocol 'TCP' must be one of 'TLS, TCP, TCP_UDP, UDP'",
	} {
		if got := errorText(errListenerProtocol(types.ProtocolEnumTcp, lbType)); got != want {
			t.Errorf("%s: %q, want %q", lbType, got, want)
		}
	}
}

// TestSecondaryIPsNeverDecrease: "After you set this value, you can't
// decrease it." (API_LoadBalancerAttribute).
func TestSecondaryIPsNeverDecrease(t *testing.T) {
	const key = "secondary_ips.auto_assigned.per_subnet"
	if err := validSecondaryIPs(map[string]string{key: "0"}, map[string]string{key: "7"}); err != nil {
		t.Errorf("0 to 7: %v", err)
	}
	if err := validSecondaryIPs(map[string]string{key: "3"}, map[string]string{key: "2"}); err == nil {
		t.Error("3 to 2 was accepted")
	}
}

// TestIAMServerCertificateARN tells IAM server certificates from others.
func TestIAMServerCertificateARN(t *testing.T) {
	for arn, want := range map[string]bool{
		"arn:aws:iam::123456789012:server-certificate/web":         true,
		"arn:aws:iam::123456789012:server-certificate/path/to/web": true,
		"arn:aws-us-gov:iam::123456789012:server-certificate/web":  true,
		"arn:aws:acm:us-east-1:123456789012:certificate/abc":       false,
		"arn:aws:iam::123456789012:role/server-certificate/web":    false,
		"arn:aws:iam::123456789012:server-certificate/":            false,
		"not-an-arn": false,
	} {
		if got := iamServerCertificate.MatchString(arn); got != want {
			t.Errorf("%s: %v, want %v", arn, got, want)
		}
	}
}
