package route53

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2api "github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

var scope = backend.Scope{Account: "000000000000", Region: "eu-west-1"}

// fakeVPCs knows the VPCs of one region.
type fakeVPCs struct {
	region string
	ids    []string
}

func (f fakeVPCs) DescribeVpcs(ctx context.Context, in *ec2api.DescribeVpcsInput) (*ec2api.DescribeVpcsOutput, error) {
	out := &ec2api.DescribeVpcsOutput{}
	for _, id := range in.VpcIds {
		for _, known := range f.ids {
			if id == known && backend.ScopeFrom(ctx).Region == f.region {
				out.Vpcs = append(out.Vpcs, ec2types.Vpc{VpcId: aws.String(id)})
			}
		}
	}
	if len(out.Vpcs) == 0 {
		return nil, awsproto.ClientError("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", in.VpcIds[0])
	}
	return out, nil
}

// clock is a settable clock.
type clock struct{ now time.Time }

func (c *clock) time() time.Time { return c.now }

func newBackend(tb testing.TB, insync time.Duration) (*Backend, context.Context, *clock) {
	store, err := sqlite.Open(filepath.Join(tb.TempDir(), "berth.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	c := &clock{time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)}
	b := New(store, backend.Env{Clock: c.time, IDs: &backend.SequentialIDs{}}, fakeVPCs{"eu-west-1", []string{"vpc-1", "vpc-2"}}, insync)
	return b, backend.WithScope(context.Background(), scope), c
}

func code(err error) string {
	if ae, ok := err.(*awsproto.Error); ok {
		return ae.Code
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func zoneOf(t *testing.T, b *Backend, ctx context.Context, name string) string {
	t.Helper()
	out, err := b.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String(name), CallerReference: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.HostedZone.Id)
}

func set(name string, typ types.RRType, values ...string) *types.ResourceRecordSet {
	r := &types.ResourceRecordSet{Name: aws.String(name), Type: typ, TTL: aws.Int64(300)}
	for _, v := range values {
		r.ResourceRecords = append(r.ResourceRecords, types.ResourceRecord{Value: aws.String(v)})
	}
	return r
}

func changes(b *Backend, ctx context.Context, zone string, cs ...types.Change) error {
	_, err := b.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zone), ChangeBatch: &types.ChangeBatch{Changes: cs}})
	return err
}

func records(t *testing.T, b *Backend, ctx context.Context, zone string) []string {
	t.Helper()
	out, err := b.ListResourceRecordSets(ctx, &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone)})
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, r := range out.ResourceRecordSets {
		s = append(s, aws.ToString(r.Name)+" "+string(r.Type))
	}
	return s
}

// TestBatchAllOrNothing: "if any of the changes in the batch fail, none of
// them are made" and every problem is reported
// (https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html).
func TestBatchAllOrNothing(t *testing.T) {
	b, ctx, _ := newBackend(t, 0)
	z := zoneOf(t, b, ctx, "example.com")
	if err := changes(b, ctx, z, types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: set("a.example.com", types.RRTypeA, "192.0.2.1")}); err != nil {
		t.Fatal(err)
	}
	err := changes(b, ctx, z,
		types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: set("b.example.com", types.RRTypeA, "192.0.2.2")},
		types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: set("A.example.com.", types.RRTypeA, "192.0.2.3")},
		types.Change{Action: types.ChangeActionDelete, ResourceRecordSet: set("c.example.com", types.RRTypeA, "192.0.2.4")})
	want := "[Tried to create resource record set [name='a.example.com.', type='A'] but it already exists, Tried to delete resource record set [name='c.example.com.', type='A'] but it was not found]"
	if ae, ok := err.(*awsproto.Error); !ok || ae.Code != "InvalidChangeBatch" || ae.Message != want {
		t.Fatalf("batch = %v, want InvalidChangeBatch %s", err, want)
	}
	if got := records(t, b, ctx, z); strings.Join(got, ",") != "example.com. NS,example.com. SOA,a.example.com. A" {
		t.Fatalf("records after a failed batch = %q", got)
	}
	// Within one batch, a DELETE then a CREATE of the same set replaces it.
	if err := changes(b, ctx, z,
		types.Change{Action: types.ChangeActionDelete, ResourceRecordSet: set("a.example.com", types.RRTypeA, "192.0.2.1")},
		types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: set("a.example.com", types.RRTypeA, "192.0.2.9")}); err != nil {
		t.Fatal(err)
	}
	// A DELETE must give the current values.
	err = changes(b, ctx, z, types.Change{Action: types.ChangeActionDelete, ResourceRecordSet: set("a.example.com", types.RRTypeA, "192.0.2.1")})
	if ae, ok := err.(*awsproto.Error); !ok || !strings.Contains(ae.Message, "but the values provided do not match the current values") {
		t.Fatalf("delete with other values = %v", err)
	}
}

// TestCNAMERules: a CNAME is alone at its name (RFC 1034 §3.6.2) and not
// at the apex; Route 53's messages.
func TestCNAMERules(t *testing.T) {
	b, ctx, _ := newBackend(t, 0)
	z := zoneOf(t, b, ctx, "example.com")
	changes(b, ctx, z, types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: set("a.example.com", types.RRTypeA, "192.0.2.1")})
	for _, c := range []struct {
		set  *types.ResourceRecordSet
		want string
	}{
		{set("a.example.com", types.RRTypeCname, "b.example.com"), "RRSet of type CNAME with DNS name a.example.com. is not permitted as it conflicts with other records with the same DNS name in zone example.com."},
		{set("example.com", types.RRTypeCname, "b.example.com"), "RRSet of type CNAME with DNS name example.com. is not permitted at apex in zone example.com."},
		{set("a.other.com", types.RRTypeA, "192.0.2.1"), "RRSet with DNS name a.other.com. is not permitted in zone example.com."},
		{set("x.example.com", types.RRTypeA, "not-an-address"), "ARRDATAIllegalIPv4Address"},
		// Values the DNS server cannot read: Route 53 refuses them
		// (InvalidChangeBatch, "Invalid Resource Record: 'FATAL
		// problem: ..."); a TXT string is at most 255 characters
		// (RFC 1035 section 3.3; field report boto/boto3#1462:
		// "CharacterStringTooLong (Value is too long)").
		{set("m.example.com", types.RRTypeMx, "garbage"), "Invalid Resource Record"},
		{set("s.example.com", types.RRTypeSrv, "1 2 99999 t.example.com"), "Invalid Resource Record"},
		{set("t.example.com", types.RRTypeTxt, `"`+strings.Repeat("a", 256)+`"`), "CharacterStringTooLong"},
		{set("t.example.com", types.RRTypeTxt, "\"a\"\n$INCLUDE /etc/passwd"), "Invalid Resource Record"},
		{set("c.example.com", types.RRTypeCname, ""), "Invalid Resource Record"},
	} {
		err := changes(b, ctx, z, types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: c.set})
		if ae, ok := err.(*awsproto.Error); !ok || ae.Code != "InvalidChangeBatch" || !strings.Contains(ae.Message, c.want) {
			t.Errorf("%s %s = %v, want %q", aws.ToString(c.set.Name), c.set.Type, err, c.want)
		}
	}
	long := `"` + strings.Repeat("a", 255) + `" "` + strings.Repeat("\\065", 255) + `"`
	for _, ok := range []*types.ResourceRecordSet{set("t2.example.com", types.RRTypeTxt, long), set("m.example.com", types.RRTypeMx, "10 mail.example.com"),
		set("s.example.com", types.RRTypeSrv, "1 2 443 t.example.com"), set("w.example.com", types.RRTypeCname, "b.example.com")} {
		if err := changes(b, ctx, z, types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: ok}); err != nil {
			t.Errorf("%s %s: %v", aws.ToString(ok.Name), ok.Type, err)
		}
	}
}

// TestZoneLifecycle: ids of Route 53's form, caller references, a zone
// deleted only with nothing but its SOA and NS
// (https://docs.aws.amazon.com/Route53/latest/APIReference/API_DeleteHostedZone.html).
func TestZoneLifecycle(t *testing.T) {
	b, ctx, _ := newBackend(t, 0)
	z := zoneOf(t, b, ctx, "Example.com.")
	if !strings.HasPrefix(z, "/hostedzone/Z") || len(z) < len("/hostedzone/")+14 {
		t.Fatalf("zone id = %s", z)
	}
	_, err := b.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String("other.com"), CallerReference: aws.String("Example.com.")})
	if code(err) != "HostedZoneAlreadyExists" {
		t.Fatalf("same caller reference = %v", err)
	}
	changes(b, ctx, z, types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: set("*.example.com", types.RRTypeTxt, `"hi"`)})
	if _, err := b.DeleteHostedZone(ctx, &r53.DeleteHostedZoneInput{Id: aws.String(z)}); code(err) != "HostedZoneNotEmpty" {
		t.Fatalf("delete a zone with records = %v", err)
	}
	// The wildcard is stored as \052, and read back as * by Zones.
	zones, err := b.Zones(ctx)
	if err != nil || len(zones) != 1 || zones[0].Name != "example.com." || aws.ToString(zones[0].Records[2].Name) != "*.example.com." {
		t.Fatalf("Zones = %+v, %v", zones, err)
	}
	if err := changes(b, ctx, z, types.Change{Action: types.ChangeActionDelete, ResourceRecordSet: set(`\052.example.com`, types.RRTypeTxt, `"hi"`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.DeleteHostedZone(ctx, &r53.DeleteHostedZoneInput{Id: aws.String(z)}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetHostedZone(ctx, &r53.GetHostedZoneInput{Id: aws.String(z)}); code(err) != "NoSuchHostedZone" {
		t.Fatalf("get a deleted zone = %v", err)
	}
}

// TestPrivateZoneVPC: a private zone needs a VPC that exists in the
// region it names.
func TestPrivateZoneVPC(t *testing.T) {
	b, ctx, _ := newBackend(t, 0)
	private := &types.HostedZoneConfig{PrivateZone: true}
	for i, c := range []struct {
		vpc  *types.VPC
		code string
	}{
		{nil, "InvalidInput"},
		{&types.VPC{VPCId: aws.String("vpc-1"), VPCRegion: "us-west-2"}, "InvalidVPCId"},
		{&types.VPC{VPCId: aws.String("vpc-9"), VPCRegion: "eu-west-1"}, "InvalidVPCId"},
		{&types.VPC{VPCId: aws.String("vpc-1"), VPCRegion: "eu-west-1"}, ""},
		// A second zone of the same name in the same VPC.
		{&types.VPC{VPCId: aws.String("vpc-1"), VPCRegion: "eu-west-1"}, "ConflictingDomainExists"},
		{&types.VPC{VPCId: aws.String("vpc-2"), VPCRegion: "eu-west-1"}, ""},
	} {
		_, err := b.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String("internal"), CallerReference: aws.String(fmt.Sprint(i)), HostedZoneConfig: private, VPC: c.vpc})
		if code(err) != c.code {
			t.Errorf("VPC %+v: %v, want %q", c.vpc, err, c.code)
		}
	}
}

// TestChangeInsync: a change is PENDING when submitted and INSYNC once
// the delay has passed on the clock.
func TestChangeInsync(t *testing.T) {
	b, ctx, clk := newBackend(t, 10*time.Second)
	out, err := b.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String("example.com"), CallerReference: aws.String("r")})
	if err != nil || out.ChangeInfo.Status != types.ChangeStatusPending {
		t.Fatalf("CreateHostedZone = %+v, %v", out, err)
	}
	get := func() types.ChangeStatus {
		c, err := b.GetChange(ctx, &r53.GetChangeInput{Id: out.ChangeInfo.Id})
		if err != nil {
			t.Fatal(err)
		}
		return c.ChangeInfo.Status
	}
	if st := get(); st != types.ChangeStatusPending {
		t.Fatalf("at once = %s", st)
	}
	clk.now = clk.now.Add(10 * time.Second)
	if st := get(); st != types.ChangeStatusInsync {
		t.Fatalf("after the delay = %s", st)
	}
}

// TestListPaging: ListResourceRecordSets pages by name, type and
// identifier, the next page starting at the set named.
func TestListPaging(t *testing.T) {
	b, ctx, _ := newBackend(t, 0)
	z := zoneOf(t, b, ctx, "example.com")
	weighted := func(id string, w int64) *types.ResourceRecordSet {
		s := set("w.example.com", types.RRTypeA, "192.0.2.1")
		s.SetIdentifier, s.Weight = aws.String(id), aws.Int64(w)
		return s
	}
	if err := changes(b, ctx, z,
		types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: weighted("one", 1)},
		types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: weighted("two", 2)},
		types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: set("b.example.com", types.RRTypeA, "192.0.2.1")}); err != nil {
		t.Fatal(err)
	}
	var all []string
	in := &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(z), MaxItems: aws.Int32(2)}
	for range 5 {
		out, err := b.ListResourceRecordSets(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.ResourceRecordSets {
			all = append(all, aws.ToString(r.Name)+" "+string(r.Type)+" "+aws.ToString(r.SetIdentifier))
		}
		if !out.IsTruncated {
			break
		}
		in.StartRecordName, in.StartRecordType, in.StartRecordIdentifier = out.NextRecordName, out.NextRecordType, out.NextRecordIdentifier
	}
	want := "example.com. NS ,example.com. SOA ,b.example.com. A ,w.example.com. A one,w.example.com. A two"
	if strings.Join(all, ",") != want {
		t.Fatalf("pages = %q, want %q", all, want)
	}
}

// TestAliasWithinAccount: an alias to a record set of one of the
// account's zones needs that set to exist
// (https://docs.aws.amazon.com/Route53/latest/APIReference/API_AliasTarget.html:
// "the alias target ... must exist"); a load balancer's is taken as given.
func TestAliasWithinAccount(t *testing.T) {
	b, ctx, _ := newBackend(t, 0)
	z := zoneOf(t, b, ctx, "example.com")
	bare := strings.TrimPrefix(z, "/hostedzone/")
	alias := func(name, target string, zoneID string) types.Change {
		return types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: &types.ResourceRecordSet{Name: aws.String(name), Type: types.RRTypeA,
			AliasTarget: &types.AliasTarget{HostedZoneId: aws.String(zoneID), DNSName: aws.String(target)}}}
	}
	err := changes(b, ctx, z, alias("apex.example.com", "www.example.com", bare))
	if ae, ok := err.(*awsproto.Error); !ok || !strings.Contains(ae.Message, "Tried to create an alias that targets www.example.com., type A in zone "+bare+", but that target was not found") {
		t.Fatalf("alias to nothing = %v", err)
	}
	// The target created earlier in the same batch counts.
	if err := changes(b, ctx, z,
		types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: set("www.example.com", types.RRTypeA, "192.0.2.1")},
		alias("example.com", "www.example.com", bare),
		alias("lb.example.com", "my-lb-1.us-east-1.elb.amazonaws.com", "Z35SXDOTRQ7X7K")); err != nil {
		t.Fatal(err)
	}
}
