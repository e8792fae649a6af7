package elbv2

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"berth/awsproto"
)

// The errors the ELBv2 API Reference documents. Their wire codes come from
// the SDK's exception types (ELBv2 codes drop the "Exception" suffix).

func errValidation(format string, args ...any) error {
	return awsproto.ClientError("ValidationError", format, args...)
}

func errLoadBalancerNotFound(refs ...string) error {
	if len(refs) == 0 {
		return awsproto.Modeled(&types.LoadBalancerNotFoundException{}, "One or more load balancers not found")
	}
	return awsproto.Modeled(&types.LoadBalancerNotFoundException{}, "Load balancers '[%s]' not found", strings.Join(refs, ", "))
}

// errTargetGroupNotFound is what DescribeTargetGroups answers, by ARN or
// by name ("One or more target groups not found", aws-samples/
// service-screener-v2#212); an operation that names target groups by ARN
// elsewhere (a forward action, AddTags) names them: "Target groups
// '<arn>' not found" (aws/copilot-cli#3833).
func errTargetGroupNotFound(arns ...string) error {
	if len(arns) == 0 {
		return awsproto.Modeled(&types.TargetGroupNotFoundException{}, "One or more target groups not found")
	}
	return awsproto.Modeled(&types.TargetGroupNotFoundException{}, "Target groups '%s' not found", strings.Join(arns, ", "))
}

func errListenerNotFound() error {
	return awsproto.Modeled(&types.ListenerNotFoundException{}, "One or more listeners not found")
}

func errRuleNotFound() error {
	return awsproto.Modeled(&types.RuleNotFoundException{}, "One or more rules not found")
}

func errPriorityInUse(p string) error {
	return awsproto.Modeled(&types.PriorityInUseException{}, "Priority '%s' is currently in use", p)
}

func errResourceInUse(format string, args ...any) error {
	return awsproto.Modeled(&types.ResourceInUseException{}, format, args...)
}

func errOperationNotPermitted(format string, args ...any) error {
	return awsproto.Modeled(&types.OperationNotPermittedException{}, format, args...)
}

func errInvalidConfiguration(format string, args ...any) error {
	return awsproto.Modeled(&types.InvalidConfigurationRequestException{}, format, args...)
}

func errIncompatibleProtocols(format string, args ...any) error {
	return awsproto.Modeled(&types.IncompatibleProtocolsException{}, format, args...)
}

func errInvalidTarget(format string, args ...any) error {
	return awsproto.Modeled(&types.InvalidTargetException{}, format, args...)
}

func errInvalidAction(format string, args ...any) error {
	return awsproto.Modeled(&types.InvalidLoadBalancerActionException{}, format, args...)
}

func errTrustStoreNotFound() error {
	return awsproto.Modeled(&types.TrustStoreNotFoundException{}, "One or more trust stores not found")
}
