package ec2

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"vpc-1", "vpc-1", true}, {"vpc-1", "vpc-12", false}, {"vpc-*", "vpc-12", true},
		{"10.0.?.0/24", "10.0.1.0/24", true}, {"10.0.?.0/24", "10.0.12.0/24", false}, {"a.b", "axb", false},
	} {
		if got := glob(c.pattern, c.s); got != c.want {
			t.Errorf("glob(%q, %q) = %v", c.pattern, c.s, got)
		}
	}
}

// TestFilters follows EC2's rules: filters AND together, a filter's values
// OR, tag:<key> matches the tag's value, an unknown filter is an error.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-Requests.html#query-describe-filters
func TestFilters(t *testing.T) {
	sn := types.Subnet{SubnetId: aws.String("subnet-1"), VpcId: aws.String("vpc-1"), AvailabilityZone: aws.String("us-east-1a"),
		DefaultForAz: aws.Bool(true), Tags: []types.Tag{{Key: aws.String("tier"), Value: aws.String("public")}}}
	f := func(name string, values ...string) types.Filter {
		return types.Filter{Name: aws.String(name), Values: values}
	}
	for _, c := range []struct {
		filters []types.Filter
		want    bool
	}{
		{nil, true},
		{[]types.Filter{f("vpc-id", "vpc-2", "vpc-1")}, true},
		{[]types.Filter{f("vpc-id", "vpc-1"), f("availability-zone", "us-east-1b")}, false},
		{[]types.Filter{f("default-for-az", "true"), f("tag:tier", "pub*")}, true},
		{[]types.Filter{f("tag-key", "tier"), f("tag:tier", "private")}, false},
	} {
		got, err := subnetFilter.match(c.filters, sn)
		if err != nil || got != c.want {
			t.Errorf("match(%v) = %v, %v; want %v", c.filters, got, err, c.want)
		}
	}
	if _, err := subnetFilter.match([]types.Filter{f("colour", "blue")}, sn); err == nil {
		t.Error("an unknown filter matched")
	}
}

func TestZones(t *testing.T) {
	z := zones("us-east-1")
	if len(z) != 3 || z[0].name != "us-east-1a" || z[0].id != "use1-az1" || z[2].id != "use1-az3" {
		t.Fatalf("zones(us-east-1) = %+v", z)
	}
	if z := zones("ap-southeast-2"); z[1].name != "ap-southeast-2b" || z[1].id != "aps2-az2" {
		t.Fatalf("zones(ap-southeast-2) = %+v", z)
	}
}

// TestPermissions gathers rules as DescribeSecurityGroups reports them:
// one permission per protocol and port range, ports absent for all
// protocols.
func TestPermissions(t *testing.T) {
	rule := func(proto string, from, to int32, cidr string, egress bool) types.SecurityGroupRule {
		return types.SecurityGroupRule{IpProtocol: aws.String(proto), FromPort: aws.Int32(from), ToPort: aws.Int32(to), CidrIpv4: aws.String(cidr), IsEgress: aws.Bool(egress)}
	}
	rules := []types.SecurityGroupRule{
		rule("tcp", 80, 80, "0.0.0.0/0", false), rule("tcp", 443, 443, "0.0.0.0/0", false),
		rule("tcp", 80, 80, "10.0.0.0/8", false), rule("-1", -1, -1, "0.0.0.0/0", true),
	}
	in := permissions(rules, false)
	if len(in) != 2 || len(in[0].IpRanges) != 2 || *in[0].FromPort != 80 || *in[1].FromPort != 443 {
		t.Fatalf("ingress = %+v", in)
	}
	out := permissions(rules, true)
	if len(out) != 1 || out[0].FromPort != nil || *out[0].IpProtocol != "-1" {
		t.Fatalf("egress = %+v", out)
	}
	// One rule for all protocols to 0.0.0.0/0 and ::/0, or to two IPv4
	// ranges, is one permission holding every range, as Terraform's
	// aws_security_group egress { protocol = "-1" cidr_blocks = [...]
	// ipv6_cidr_blocks = [...] } reads it back.
	v6 := rule("-1", -1, -1, "", true)
	v6.CidrIpv4, v6.CidrIpv6 = nil, aws.String("::/0")
	all := append(rules, v6, rule("-1", -1, -1, "10.0.0.0/8", true))
	out = permissions(all, true)
	if len(out) != 1 || len(out[0].IpRanges) != 2 || len(out[0].Ipv6Ranges) != 1 {
		t.Fatalf("egress with three ranges = %+v", out)
	}
}

func TestProtocol(t *testing.T) {
	for in, want := range map[string]string{"TCP": "tcp", "6": "tcp", "all": "-1", "-1": "-1", "icmp": "icmp", "50": "50"} {
		if got, err := protocol(in); err != nil || got != want {
			t.Errorf("protocol(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := protocol("bogus"); err == nil {
		t.Error("protocol(bogus) did not fail")
	}
}
