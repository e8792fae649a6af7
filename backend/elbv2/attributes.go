package elbv2

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"berth/sqlite"
)

// attribute is one documented attribute key with its default and a check
// of the values it accepts.
type attribute struct {
	key, def string
	valid    func(string) bool
}

func boolean(v string) bool { return v == "true" || v == "false" }

func anyString(string) bool { return true }

func between(lo, hi int) func(string) bool {
	return func(v string) bool {
		n, err := strconv.Atoi(v)
		return err == nil && n >= lo && n <= hi
	}
}

// headerName is a header name a listener attribute renames a header to:
// an RFC 9110 token, as long as an attribute value may be (1,024). The
// 40-character bound of http-header rule conditions is not one of them:
// the header modification guide renames to longer names
// ("X-Amzn-Mtls-Clientcert-Serial-Number" is 36 before any suffix).
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_ListenerAttribute.html
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/header-modification.html
func headerName(v string) bool {
	return v != "" && len(v) <= 1024 && !strings.ContainsFunc(v, func(r rune) bool {
		return !(r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)) || strings.ContainsRune("!#$%&'*+-.^_`|~", r))
	})
}

// headerValue is a response header's value a listener adds: visible
// ASCII and spaces, up to 1,024 characters; empty leaves it out.
func headerValue(v string) bool {
	return len(v) <= 1024 && !strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r > 0x7e })
}

// methodList is an Access-Control-Allow-Methods value: a comma-separated
// list of the methods API_ListenerAttribute names (GET, HEAD, POST,
// DELETE, CONNECT, OPTIONS, PUT, TRACE and PATCH).
func methodList(v string) bool {
	if v == "" {
		return true
	}
	for _, m := range strings.Split(v, ",") {
		if !slices.Contains([]string{"GET", "HEAD", "POST", "DELETE", "CONNECT", "OPTIONS", "PUT", "TRACE", "PATCH"}, strings.TrimSpace(m)) {
			return false
		}
	}
	return true
}

func oneOf(vs ...string) func(string) bool {
	return func(v string) bool { return slices.Contains(vs, v) }
}

// Load balancer attributes by type, with their defaults.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_LoadBalancerAttribute.html
var (
	albAttributes = []attribute{
		{"access_logs.s3.enabled", "false", boolean},
		{"access_logs.s3.bucket", "", anyString},
		{"access_logs.s3.prefix", "", anyString},
		{"connection_logs.s3.enabled", "false", boolean},
		{"connection_logs.s3.bucket", "", anyString},
		{"connection_logs.s3.prefix", "", anyString},
		{"health_check_logs.s3.enabled", "false", boolean},
		{"health_check_logs.s3.bucket", "", anyString},
		{"health_check_logs.s3.prefix", "", anyString},
		{"client_keep_alive.seconds", "3600", between(60, 604800)},
		{"deletion_protection.enabled", "false", boolean},
		{"idle_timeout.timeout_seconds", "60", between(1, 4000)},
		{"load_balancing.cross_zone.enabled", "true", boolean},
		{"routing.http.desync_mitigation_mode", "defensive", oneOf("monitor", "defensive", "strictest")},
		{"routing.http.drop_invalid_header_fields.enabled", "false", boolean},
		{"routing.http.preserve_host_header.enabled", "false", boolean},
		{"routing.http.x_amzn_tls_version_and_cipher_suite.enabled", "false", boolean},
		{"routing.http.xff_client_port.enabled", "false", boolean},
		{"routing.http.xff_header_processing.mode", "append", oneOf("append", "preserve", "remove")},
		{"routing.http2.enabled", "true", boolean},
		{"waf.fail_open.enabled", "false", boolean},
		{"zonal_shift.config.enabled", "false", boolean},
	}
	nlbAttributes = []attribute{
		{"access_logs.s3.enabled", "false", boolean},
		{"access_logs.s3.bucket", "", anyString},
		{"access_logs.s3.prefix", "", anyString},
		{"deletion_protection.enabled", "false", boolean},
		{"dns_record.client_routing_policy", "any_availability_zone", oneOf("availability_zone_affinity", "partial_availability_zone_affinity", "any_availability_zone")},
		{"load_balancing.cross_zone.enabled", "false", boolean},
		{"secondary_ips.auto_assigned.per_subnet", "0", between(0, 7)},
		{"zonal_shift.config.enabled", "false", boolean},
	}
	gwlbAttributes = []attribute{
		{"deletion_protection.enabled", "false", boolean},
		{"load_balancing.cross_zone.enabled", "false", boolean},
	}
)

// Target group attributes by kind of target group, with their defaults.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupAttribute.html
var (
	targetGroupHealthAttributes = []attribute{
		{"target_group_health.dns_failover.minimum_healthy_targets.count", "1", anyString},
		{"target_group_health.dns_failover.minimum_healthy_targets.percentage", "off", anyString},
		{"target_group_health.unhealthy_state_routing.minimum_healthy_targets.count", "1", anyString},
		{"target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage", "off", anyString},
	}
	albTargetGroupAttributes = append([]attribute{
		{"deregistration_delay.timeout_seconds", "300", between(0, 3600)},
		{"stickiness.enabled", "false", boolean},
		{"stickiness.type", "lb_cookie", stickinessType},
		{"stickiness.lb_cookie.duration_seconds", "86400", between(1, 604800)},
		{"stickiness.app_cookie.cookie_name", "", anyString},
		{"stickiness.app_cookie.duration_seconds", "86400", between(1, 604800)},
		{"load_balancing.algorithm.type", "round_robin", oneOf("round_robin", "least_outstanding_requests", "weighted_random")},
		{"load_balancing.algorithm.anomaly_mitigation", "off", oneOf("on", "off")},
		{"load_balancing.cross_zone.enabled", "use_load_balancer_configuration", oneOf("true", "false", "use_load_balancer_configuration")},
		{"slow_start.duration_seconds", "0", func(v string) bool { return v == "0" || between(30, 900)(v) }},
	}, targetGroupHealthAttributes...)
	nlbTargetGroupAttributes = append([]attribute{
		{"deregistration_delay.timeout_seconds", "300", between(0, 3600)},
		{"deregistration_delay.connection_termination.enabled", "false", boolean},
		{"stickiness.enabled", "false", boolean},
		{"stickiness.type", "source_ip", stickinessType},
		{"proxy_protocol_v2.enabled", "false", boolean},
		{"preserve_client_ip.enabled", "true", boolean},
		{"load_balancing.cross_zone.enabled", "use_load_balancer_configuration", oneOf("true", "false", "use_load_balancer_configuration")},
		{"target_health_state.unhealthy.connection_termination.enabled", "true", boolean},
		{"target_health_state.unhealthy.draining_interval_seconds", "0", between(0, 360000)},
	}, targetGroupHealthAttributes...)
	gwlbTargetGroupAttributes = []attribute{
		{"deregistration_delay.timeout_seconds", "300", between(0, 3600)},
		{"stickiness.enabled", "false", boolean},
		{"stickiness.type", "source_ip_dest_ip_proto", stickinessType},
		{"target_failover.on_deregistration", "no_rebalance", oneOf("rebalance", "no_rebalance")},
		{"target_failover.on_unhealthy", "no_rebalance", oneOf("rebalance", "no_rebalance")},
		{"send_tcp_reset.on_unhealthy.enabled", "false", boolean},
		{"send_tcp_reset.on_deregistration.enabled", "false", boolean},
	}
	lambdaTargetGroupAttributes = []attribute{
		{"lambda.multi_value_headers.enabled", "false", boolean},
	}
)

// stickinessType accepts the stickiness types of every kind of target
// group; validStickiness then checks the type against the group's.
var stickinessType = oneOf("lb_cookie", "app_cookie", "source_ip", "source_ip_dest_ip", "source_ip_dest_ip_proto")

// validStickiness checks a target group's stickiness attributes, as they
// are after a change, against its protocol. API_TargetGroupAttribute: the
// types are lb_cookie and app_cookie for Application Load Balancers,
// source_ip for Network Load Balancers, source_ip_dest_ip and
// source_ip_dest_ip_proto for Gateway Load Balancers. The texts and codes
// are those AWS answers in the Terraform provider's acceptance tests
// (TestAccELBV2TargetGroup_Stickiness_invalidALB, _invalidNLB) and in
// moto's suite (test_target_group_attributes_stickiness, a parity fix,
// getmoto/moto#6886); the app_cookie name is required to enable it.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupAttribute.html
func validStickiness(tg types.TargetGroup, after map[string]string) error {
	typ, enabled := after["stickiness.type"], after["stickiness.enabled"] == "true"
	protocol := tg.Protocol
	switch {
	case tg.TargetType == types.TargetTypeEnumLambda || typ == "":
		return nil
	case protocol == types.ProtocolEnumGeneve:
		if typ != "source_ip_dest_ip" && typ != "source_ip_dest_ip_proto" {
			return errValidation("'%s' must be one of [source_ip_dest_ip_proto, source_ip_dest_ip]", typ)
		}
		return nil
	case typ == "source_ip_dest_ip" || typ == "source_ip_dest_ip_proto":
		return errValidation("'Stickiness type' must be one of [app_cookie, lb_cookie, source_ip]")
	case protocol == types.ProtocolEnumTls && enabled:
		return errInvalidConfiguration("You cannot enable stickiness on target groups with the TLS protocol")
	case isHTTP(protocol) && typ == "source_ip", !isHTTP(protocol) && typ != "source_ip":
		return errInvalidConfiguration("Stickiness type '%s' is not supported for target groups with the %s protocol", typ, protocol)
	case typ == "app_cookie" && enabled && after["stickiness.app_cookie.cookie_name"] == "":
		return errInvalidConfiguration("You must set an application cookie name to enable stickiness of type 'app_cookie'")
	case isHTTP(protocol) && enabled && after["load_balancing.algorithm.type"] == "weighted_random":
		return errInvalidConfiguration("You cannot have both stickiness and weighted random algorithm enabled on the same target group.")
	}
	return nil
}

// validTargetGroupAttributes checks a target group's attributes as they
// are after a change: stickiness (validStickiness), then two rules of
// API_TargetGroupAttribute whose texts are berth's: an application
// cookie name must not start with a prefix the load balancer reserves
// ("Names that start with the following prefixes are not allowed:
// AWSALB, AWSALBAPP, and AWSALBTG"), and anomaly mitigation is only
// for the weighted random algorithm.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupAttribute.html
func validTargetGroupAttributes(tg types.TargetGroup, after map[string]string) error {
	if err := validStickiness(tg, after); err != nil {
		return err
	}
	// AWSALB is a prefix of AWSALBAPP and AWSALBTG.
	if name := after["stickiness.app_cookie.cookie_name"]; strings.HasPrefix(name, "AWSALB") {
		return errValidation("The application cookie name '%s' is not valid: names starting with AWSALB, AWSALBAPP or AWSALBTG are reserved for the load balancer", name)
	}
	if after["load_balancing.algorithm.anomaly_mitigation"] == "on" && after["load_balancing.algorithm.type"] != "weighted_random" {
		return errInvalidConfiguration("Anomaly mitigation can only be turned on with the 'weighted_random' load balancing algorithm")
	}
	return nil
}

// validALBAttributes checks an Application Load Balancer's attributes as
// they are after a change: cross-zone load balancing cannot be turned
// off ("The value is true or false. The default for Application Load
// Balancers is true, and cannot be changed."; the text here is berth's).
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_LoadBalancerAttribute.html
func validALBAttributes(_, after map[string]string) error {
	if after["load_balancing.cross_zone.enabled"] != "true" {
		return errInvalidConfiguration("Cross-zone load balancing is always on for Application Load Balancers: load_balancing.cross_zone.enabled cannot be '%s'", after["load_balancing.cross_zone.enabled"])
	}
	return nil
}

// validSecondaryIPs refuses to lower an NLB's
// secondary_ips.auto_assigned.per_subnet: "After you set this value, you
// can't decrease it." (API_LoadBalancerAttribute).
func validSecondaryIPs(before, after map[string]string) error {
	const key = "secondary_ips.auto_assigned.per_subnet"
	was, _ := strconv.Atoi(before[key])
	now, _ := strconv.Atoi(after[key])
	if now < was {
		return errInvalidConfiguration("Attribute '%s' cannot be decreased from '%d' to '%d'", key, was, now)
	}
	return nil
}

// Listener attributes by protocol.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_ListenerAttribute.html
var (
	httpListenerAttributes = []attribute{
		{"routing.http.request.x_amzn_mtls_clientcert_serial_number.header_name", "X-Amzn-Mtls-Clientcert-Serial-Number", headerName},
		{"routing.http.request.x_amzn_mtls_clientcert_issuer.header_name", "X-Amzn-Mtls-Clientcert-Issuer", headerName},
		{"routing.http.request.x_amzn_mtls_clientcert_subject.header_name", "X-Amzn-Mtls-Clientcert-Subject", headerName},
		{"routing.http.request.x_amzn_mtls_clientcert_validity.header_name", "X-Amzn-Mtls-Clientcert-Validity", headerName},
		{"routing.http.request.x_amzn_mtls_clientcert_leaf.header_name", "X-Amzn-Mtls-Clientcert-Leaf", headerName},
		{"routing.http.request.x_amzn_mtls_clientcert.header_name", "X-Amzn-Mtls-Clientcert", headerName},
		{"routing.http.request.x_amzn_tls_version.header_name", "X-Amzn-Tls-Version", headerName},
		{"routing.http.request.x_amzn_tls_cipher_suite.header_name", "X-Amzn-Tls-Cipher-Suite", headerName},
		{"routing.http.response.server.enabled", "true", boolean},
		{"routing.http.response.strict_transport_security.header_value", "", headerValue},
		{"routing.http.response.access_control_allow_origin.header_value", "", headerValue},
		{"routing.http.response.access_control_allow_methods.header_value", "", methodList},
		{"routing.http.response.access_control_allow_headers.header_value", "", headerValue},
		{"routing.http.response.access_control_allow_credentials.header_value", "", oneOf("", "true")},
		{"routing.http.response.access_control_expose_headers.header_value", "", headerValue},
		{"routing.http.response.access_control_max_age.header_value", "", func(v string) bool { return v == "" || between(0, 86400)(v) }},
		{"routing.http.response.content_security_policy.header_value", "", headerValue},
		{"routing.http.response.x_content_type_options.header_value", "", oneOf("", "nosniff")},
		{"routing.http.response.x_frame_options.header_value", "", func(v string) bool {
			return v == "" || v == "DENY" || v == "SAMEORIGIN" || strings.HasPrefix(v, "ALLOW-FROM ") && headerValue(v)
		}},
	}
	tcpListenerAttributes = []attribute{
		{"tcp.idle_timeout.seconds", "350", between(60, 6000)},
	}
)

// keyValue is the shape of every ELBv2 attribute type.
type keyValue struct{ Key, Value *string }

// readAttributes returns the resource's attributes, defaults filled in, in
// the documented order.
func readAttributes(tx *sqlite.Tx, s scope, arn string, known []attribute) ([]keyValue, error) {
	var set map[string]string
	if err := tx.Get(s.Key(kindAttributes, arn), &set); err != nil && !isNotFound(err) {
		return nil, err
	}
	out := make([]keyValue, len(known))
	for i, a := range known {
		v, ok := set[a.key]
		if !ok {
			v = a.def
		}
		out[i] = keyValue{Key: aws.String(a.key), Value: aws.String(v)}
	}
	return out, nil
}

// attributeValue returns one attribute's current value.
func attributeValue(tx *sqlite.Tx, s scope, arn string, known []attribute, key string) (string, error) {
	all, err := attributeMap(tx, s, arn, known)
	return all[key], err
}

// attributeMap reads a resource's attributes, defaults filled in, by key.
func attributeMap(tx *sqlite.Tx, s scope, arn string, known []attribute) (map[string]string, error) {
	kvs, err := readAttributes(tx, s, arn, known)
	out := map[string]string{}
	for _, kv := range kvs {
		out[*kv.Key] = *kv.Value
	}
	return out, err
}

// attributeRules are what a kind of resource adds to the checks of each
// attribute value: the error for a key it does not have, and a check
// across keys given all of them (defaults filled in) before and after a
// change (nil for none).
type attributeRules struct {
	unknown func(key string) error
	check   func(before, after map[string]string) error
}

// Load balancer attribute keys: one no type has is a ValidationError,
// "Load balancer attribute key 'waf.fail_open.enabled' is not recognized"
// (terraform-provider-aws#22037); one another type has is
// InvalidConfigurationRequest, "Load balancer attribute key
// 'dns_record.client_routing_policy' is not supported on load balancers
// with type 'network'" (terraform-provider-aws#34135).
func unknownLoadBalancerAttribute(key string, lbType types.LoadBalancerTypeEnum) error {
	for _, other := range [][]attribute{albAttributes, nlbAttributes, gwlbAttributes} {
		if slices.ContainsFunc(other, func(a attribute) bool { return a.key == key }) {
			return errInvalidConfiguration("Load balancer attribute key '%s' is not supported on load balancers with type '%s'", key, lbType)
		}
	}
	return errValidation("Load balancer attribute key '%s' is not recognized", key)
}

// unknownAttribute answers a key a target group or listener does not
// have: "Target group attribute key 'stickiness.app_cookie.cookie_name'
// is not recognized" (ValidationError; moto's
// test_target_group_attributes_stickiness, for a GENEVE group), and the
// same words for listeners.
func unknownAttribute(noun string) func(string) error {
	return func(key string) error { return errValidation("%s attribute key '%s' is not recognized", noun, key) }
}

// writeAttributes validates and stores changed attributes.
func writeAttributes(tx *sqlite.Tx, s scope, arn string, known []attribute, change []keyValue, rules attributeRules) error {
	var set map[string]string
	if err := tx.Get(s.Key(kindAttributes, arn), &set); err != nil && !isNotFound(err) {
		return err
	}
	if set == nil {
		set = map[string]string{}
	}
	before := withDefaults(set, known)
	for _, kv := range change {
		k, v := aws.ToString(kv.Key), aws.ToString(kv.Value)
		i := slices.IndexFunc(known, func(a attribute) bool { return a.key == k })
		if i < 0 {
			return rules.unknown(k)
		}
		if !known[i].valid(v) {
			return errInvalidConfiguration("Attribute value '%s' for key '%s' is not valid", v, k)
		}
		set[k] = v
	}
	if rules.check != nil {
		if err := rules.check(before, withDefaults(set, known)); err != nil {
			return err
		}
	}
	return tx.Put(s.Row(kindAttributes, arn, "", ""), set)
}

// withDefaults returns the attributes set, with the defaults of those not.
func withDefaults(set map[string]string, known []attribute) map[string]string {
	out := make(map[string]string, len(known))
	for _, a := range known {
		out[a.key] = a.def
		if v, ok := set[a.key]; ok {
			out[a.key] = v
		}
	}
	return out
}

// convert copies between the SDK attribute types and keyValue, which all
// share the Key/Value shape.
func convert[From, To any](in []From, f func(From) To) []To {
	out := make([]To, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

// attributeSet finds a resource's ARN and the attributes its kind has, or
// returns the resource's not-found error.
type attributeSet func(tx *sqlite.Tx, s scope) (arn string, known []attribute, err error)

// describeAttributes reads every attribute of the resource set finds.
func (b *Backend) describeAttributes(ctx context.Context, set attributeSet) ([]keyValue, error) {
	s := scopeOf(ctx)
	var attrs []keyValue
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		arn, known, err := set(tx, s)
		if err != nil {
			return err
		}
		attrs, err = readAttributes(tx, s, arn, known)
		return err
	})
	return attrs, err
}

// modifyAttributes changes attributes of the resource set finds, as its
// rules allow, and reads them all back.
func (b *Backend) modifyAttributes(ctx context.Context, set attributeSet, change []keyValue, rules attributeRules) ([]keyValue, error) {
	s := scopeOf(ctx)
	if len(change) == 0 {
		return nil, errValidation("Attributes must be specified.")
	}
	var attrs []keyValue
	err := b.update(ctx, func(tx *sqlite.Tx) error {
		arn, known, err := set(tx, s)
		if err != nil {
			return err
		}
		if err := writeAttributes(tx, s, arn, known, change, rules); err != nil {
			return err
		}
		attrs, err = readAttributes(tx, s, arn, known)
		return err
	})
	return attrs, err
}
