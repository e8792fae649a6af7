package query

import (
	"fmt"
	"net/url"
	"strconv"
	"testing"

	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"berth/awsproto"
)

// registerTargets is the form of a RegisterTargets call with n targets,
// each with an id, a port and an availability zone, as the SDK sends it
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RegisterTargets.html).
func registerTargets(n int) url.Values {
	form := url.Values{"Action": {"RegisterTargets"}, "Version": {"2015-12-01"}, "TargetGroupArn": {"arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/tg/0123456789abcdef"}}
	for i := 1; i <= n; i++ {
		member := "Targets.member." + strconv.Itoa(i)
		form.Set(member+".Id", fmt.Sprintf("10.0.%d.%d", i/256%256, i%256))
		form.Set(member+".Port", strconv.Itoa(1024+i%50000))
		form.Set(member+".AvailabilityZone", "all")
	}
	return form
}

// TestDecodeManyMembers: 8,000 targets (215 KB of form) decode into 8,000
// targets in order, each with its own values.
func TestDecodeManyMembers(t *testing.T) {
	const n = 8000
	var in elbv2.RegisterTargetsInput
	if err := Decode(registerTargets(n), &in); err != nil {
		t.Fatal(err)
	}
	if len(in.Targets) != n {
		t.Fatalf("decoded %d targets, want %d", len(in.Targets), n)
	}
	for i, target := range in.Targets {
		k := i + 1
		if *target.Id != fmt.Sprintf("10.0.%d.%d", k/256%256, k%256) || *target.Port != int32(1024+k%50000) || *target.AvailabilityZone != "all" {
			t.Fatalf("target %d decoded as %s:%d in %s", k, *target.Id, *target.Port, *target.AvailabilityZone)
		}
	}
}

// BenchmarkDecodeRegisterTargets measures decoding against the number of
// members: the time per member must stay flat (it grew with the form when
// every member scanned every key).
func BenchmarkDecodeRegisterTargets(b *testing.B) {
	for _, n := range []int{1000, 3000, awsproto.MaxItems} {
		form := registerTargets(n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				var in elbv2.RegisterTargetsInput
				if err := Decode(form, &in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
