package elbv2

import "regexp"

// arnKind is one kind of ELBv2 resource ARN: how it looks and how AWS
// names it when refusing a string that does not look so.
type arnKind struct {
	pattern *regexp.Regexp
	what    string
}

// elbArn matches arn:<partition>:elasticloadbalancing:<region>:<account>:
// followed by resource.
func elbArn(resource string) *regexp.Regexp {
	return regexp.MustCompile(`^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:` + resource + `$`)
}

// The ARN kinds ELBv2 operations take. A string that is not an ARN of the
// kind an operation takes is a ValidationError "'<arn>' is not a valid
// load balancer ARN" (resp. target group ARN), whatever the resource:
// aws/aws-cli#3673, aws/aws-cli#3260, hashicorp/terraform-provider-aws#4552.
// AWS's texts for listener, rule and trust store ARNs are not on record;
// berth words them the same way.
var (
	loadBalancerArn = arnKind{elbArn(`loadbalancer/(app|net|gwy)/[^/]+/[^/]+`), "load balancer"}
	listenerArn     = arnKind{elbArn(`listener/(app|net|gwy)/[^/]+/[^/]+/[^/]+`), "listener"}
	ruleArn         = arnKind{elbArn(`listener-rule/(app|net|gwy)/[^/]+/[^/]+/[^/]+/[^/]+`), "listener rule"}
	targetGroupArn  = arnKind{elbArn(`targetgroup/[^/]+/[^/]+`), "target group"}
	trustStoreArn   = arnKind{elbArn(`truststore/[^/]+/[^/]+`), "trust store"}
)

// check refuses arn unless it is an ARN of kind k.
func (k arnKind) check(arn string) error {
	if !k.pattern.MatchString(arn) {
		return errValidation("'%s' is not a valid %s ARN", arn, k.what)
	}
	return nil
}
