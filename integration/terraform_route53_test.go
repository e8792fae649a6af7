package integration

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// TestRoute53Terraform applies public and private zones with A, CNAME and
// alias records (the alias to an internal ALB, by the canonical hosted
// zone id ELBv2 reports), plans no changes, and destroys them: no zone of
// the configuration is left.
func TestRoute53Terraform(t *testing.T) {
	t.Parallel()
	tf := newTerraform(t, "route53", "ap-northeast-1")
	ctx, r := context.Background(), route53Client()
	tf.lifecycle(func(out map[string]string) {
		if n := strings.Split(out["name_servers"], ","); len(n) != 4 || out["alias_fqdn"] != "web.berth-tf.example.com" {
			t.Errorf("outputs = %v", out)
		}
		list := try(r.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(out["public_zone_id"])})).must(t)
		var seen []string
		for _, s := range list.ResourceRecordSets {
			seen = append(seen, aws.ToString(s.Name)+" "+string(s.Type))
			if aws.ToString(s.Name) == "web.berth-tf.example.com." && (s.AliasTarget == nil || aws.ToString(s.AliasTarget.HostedZoneId) != out["lb_zone_id"]) {
				t.Errorf("alias = %+v", s.AliasTarget)
			}
		}
		want := []string{"berth-tf.example.com. NS", "berth-tf.example.com. SOA", "api.berth-tf.example.com. A", "web.berth-tf.example.com. A", "www.berth-tf.example.com. CNAME"}
		if !slices.Equal(seen, want) {
			t.Errorf("record sets = %q, want %q", seen, want)
		}
	})
	zones := try(r.ListHostedZones(ctx, &route53.ListHostedZonesInput{})).must(t).HostedZones
	if i := slices.IndexFunc(zones, func(z types.HostedZone) bool { return strings.HasPrefix(aws.ToString(z.Name), "berth-tf.") }); i >= 0 {
		t.Errorf("terraform destroy left %+v", zones[i])
	}
}
