package elbv2

import "testing"

// TestARNKinds: each ARN kind takes ARNs of its own resource only.
func TestARNKinds(t *testing.T) {
	const prefix = "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
	arns := map[string]arnKind{
		prefix + "loadbalancer/app/web/50dc6c495c0c9188":                                    loadBalancerArn,
		prefix + "loadbalancer/net/tcp/50dc6c495c0c9188":                                    loadBalancerArn,
		prefix + "listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2":                       listenerArn,
		prefix + "listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee": ruleArn,
		prefix + "targetgroup/web-tg/73e2d6bc24d8a067":                                      targetGroupArn,
		prefix + "truststore/ca/73e2d6bc24d8a067":                                           trustStoreArn,
	}
	kinds := []arnKind{loadBalancerArn, listenerArn, ruleArn, targetGroupArn, trustStoreArn}
	for arn, own := range arns {
		for _, k := range kinds {
			if err := k.check(arn); (err == nil) != (k == own) {
				t.Errorf("%s ARN check of %s = %v", k.what, arn, err)
			}
		}
	}
	for _, bad := range []string{"", "garbage", prefix + "loadbalancer/app/web", "arn:aws:ec2:us-east-1:123456789012:loadbalancer/app/web/1"} {
		for _, k := range kinds {
			if err := k.check(bad); err == nil {
				t.Errorf("%s ARN check of %q passed", k.what, bad)
			}
		}
	}
}
