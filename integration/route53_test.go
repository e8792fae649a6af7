package integration

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// route53Client is a Route 53 client of the shared berth. Route 53 is
// global: the SDK signs for us-east-1 whatever region it is given.
func route53Client() *route53.Client {
	return route53.New(route53.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(shared.url), Retryer: connectionRetryer(),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	})
}

// wantStatus checks the HTTP status of an error response.
func wantStatus(t *testing.T, err error, status int) {
	t.Helper()
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Fatalf("got error %v, want HTTP status %d", err, status)
	}
}

// zoneID is the form of Route 53's hosted zone ids as its API returns them
// (/hostedzone/Z1D633PJN98FT9: a Z and upper-case alphanumerics).
var zoneID = regexp.MustCompile(`^/hostedzone/Z[0-9A-Z]{13,21}$`)

func rrset(name string, typ types.RRType, ttl int64, values ...string) *types.ResourceRecordSet {
	r := &types.ResourceRecordSet{Name: aws.String(name), Type: typ, TTL: aws.Int64(ttl)}
	for _, v := range values {
		r.ResourceRecords = append(r.ResourceRecords, types.ResourceRecord{Value: aws.String(v)})
	}
	return r
}

func changeBatch(action types.ChangeAction, sets ...*types.ResourceRecordSet) *types.ChangeBatch {
	b := &types.ChangeBatch{}
	for _, s := range sets {
		b.Changes = append(b.Changes, types.Change{Action: action, ResourceRecordSet: s})
	}
	return b
}

// TestRoute53Zones creates a public zone and changes its record sets with
// the SDK, checking the values and errors of
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_Operations_Amazon_Route_53.html
func TestRoute53Zones(t *testing.T) {
	ctx, c := setup(t)
	r := route53Client()
	name := c.region + ".example.com"
	ref := "ref-" + c.region

	created := try(r.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String(name), CallerReference: aws.String(ref),
		HostedZoneConfig: &types.HostedZoneConfig{Comment: aws.String("test zone")}})).must(t)
	id := aws.ToString(created.HostedZone.Id)
	// A new zone: its name with a trailing dot, an id of Route 53's form,
	// a delegation set of four name servers, a change PENDING, and the
	// zone's URL in Location (API_CreateHostedZone.html).
	if !zoneID.MatchString(id) || aws.ToString(created.HostedZone.Name) != name+"." || created.HostedZone.Config.PrivateZone ||
		aws.ToString(created.HostedZone.Config.Comment) != "test zone" || len(created.DelegationSet.NameServers) != 4 ||
		created.ChangeInfo.Status != types.ChangeStatusPending || !strings.HasSuffix(aws.ToString(created.Location), "/2013-04-01"+id) ||
		aws.ToInt64(created.HostedZone.ResourceRecordSetCount) != 2 {
		t.Fatalf("CreateHostedZone = %+v %+v %+v %+v", created.HostedZone, created.HostedZone.Config, created.DelegationSet, created.ChangeInfo)
	}
	change := try(r.GetChange(ctx, &route53.GetChangeInput{Id: created.ChangeInfo.Id})).must(t)
	if change.ChangeInfo.Status != types.ChangeStatusInsync {
		t.Fatalf("GetChange = %+v", change.ChangeInfo)
	}
	// The same caller reference again: HostedZoneAlreadyExists, 409
	// (API_CreateHostedZone.html#API_CreateHostedZone_Errors).
	_, err := r.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String(name), CallerReference: aws.String(ref)})
	wantErr[*types.HostedZoneAlreadyExists](t, err)
	wantStatus(t, err, 409)

	got := try(r.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(id)})).must(t)
	if aws.ToString(got.HostedZone.Id) != id || !slices.Equal(got.DelegationSet.NameServers, created.DelegationSet.NameServers) {
		t.Fatalf("GetHostedZone = %+v %+v", got.HostedZone, got.DelegationSet)
	}
	_, err = r.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String("Z0000000000000NOPE")})
	wantErr[*types.NoSuchHostedZone](t, err)
	wantStatus(t, err, 404)

	// A batch of an A record, a wildcard CNAME and an alias to a load
	// balancer (us-east-1's ALB hosted zone, Z35SXDOTRQ7X7K, from
	// https://docs.aws.amazon.com/general/latest/gr/elb.html).
	alias := &types.ResourceRecordSet{Name: aws.String("lb." + name), Type: types.RRTypeA, AliasTarget: &types.AliasTarget{
		HostedZoneId: aws.String("Z35SXDOTRQ7X7K"), DNSName: aws.String("my-lb-1234.us-east-1.elb.amazonaws.com"), EvaluateTargetHealth: true}}
	batch := changeBatch(types.ChangeActionCreate, rrset("WWW."+name, types.RRTypeA, 300, "192.0.2.1", "192.0.2.2"), rrset("*."+name, types.RRTypeCname, 60, "www."+name), alias)
	ch := try(r.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(id), ChangeBatch: batch})).must(t)
	if ch.ChangeInfo.Status != types.ChangeStatusPending || !strings.HasPrefix(aws.ToString(ch.ChangeInfo.Id), "/change/") {
		t.Fatalf("ChangeResourceRecordSets = %+v", ch.ChangeInfo)
	}
	if st := try(r.GetChange(ctx, &route53.GetChangeInput{Id: ch.ChangeInfo.Id})).must(t).ChangeInfo.Status; st != types.ChangeStatusInsync {
		t.Fatalf("GetChange = %s", st)
	}

	// Errors of a batch, in Route 53's words: the whole batch fails, and
	// the record it would have created first is not there.
	_, err = r.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(id), ChangeBatch: changeBatch(types.ChangeActionCreate,
		rrset("new."+name, types.RRTypeA, 300, "192.0.2.9"), rrset("www."+name, types.RRTypeA, 300, "192.0.2.1"))})
	e := wantErr[*types.InvalidChangeBatch](t, err)
	wantStatus(t, err, 400)
	if want := fmt.Sprintf("Tried to create resource record set [name='www.%s.', type='A'] but it already exists", name); !strings.Contains(err.Error(), want) {
		t.Fatalf("InvalidChangeBatch = %v (%+v), want %q", err, e, want)
	}
	_, err = r.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(id), ChangeBatch: changeBatch(types.ChangeActionDelete,
		rrset("gone."+name, types.RRTypeA, 300, "192.0.2.1"))})
	wantErr[*types.InvalidChangeBatch](t, err)
	if want := fmt.Sprintf("Tried to delete resource record set [name='gone.%s.', type='A'] but it was not found", name); !strings.Contains(err.Error(), want) {
		t.Fatalf("InvalidChangeBatch = %v, want %q", err, want)
	}
	_, err = r.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(id), ChangeBatch: changeBatch(types.ChangeActionCreate,
		rrset("x.other.com", types.RRTypeA, 300, "192.0.2.1"))})
	wantErr[*types.InvalidChangeBatch](t, err)
	_, err = r.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(id), ChangeBatch: changeBatch(types.ChangeActionCreate,
		&types.ResourceRecordSet{Name: aws.String("none." + name), Type: types.RRTypeA})})
	wantErr[*types.InvalidInput](t, err)
	wantStatus(t, err, 400)

	// UPSERT replaces the A record's values.
	try(r.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(id), ChangeBatch: changeBatch(types.ChangeActionUpsert,
		rrset("www."+name, types.RRTypeA, 60, "192.0.2.3"))})).must(t)

	// The listing: names with labels reversed (the apex first, then its
	// children in order), * as \052, then types in order.
	list := try(r.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(id)})).must(t)
	var seen []string
	for _, s := range list.ResourceRecordSets {
		seen = append(seen, aws.ToString(s.Name)+" "+string(s.Type))
	}
	want := []string{name + ". NS", name + ". SOA", `\052.` + name + ". CNAME", "lb." + name + ". A", "www." + name + ". A"}
	if !slices.Equal(seen, want) || list.IsTruncated {
		t.Fatalf("ListResourceRecordSets = %q, want %q", seen, want)
	}
	if a := list.ResourceRecordSets[3].AliasTarget; a == nil || aws.ToString(a.DNSName) != "my-lb-1234.us-east-1.elb.amazonaws.com." || !a.EvaluateTargetHealth {
		t.Fatalf("alias = %+v", a)
	}
	if w := list.ResourceRecordSets[4]; aws.ToInt64(w.TTL) != 60 || len(w.ResourceRecords) != 1 || aws.ToString(w.ResourceRecords[0].Value) != "192.0.2.3" {
		t.Fatalf("upserted = %+v", w)
	}
	page := try(r.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(id), MaxItems: aws.Int32(2)})).must(t)
	if len(page.ResourceRecordSets) != 2 || !page.IsTruncated || aws.ToString(page.NextRecordName) != `\052.`+name+"." || page.NextRecordType != types.RRTypeCname {
		t.Fatalf("page = %+v", page)
	}
	page = try(r.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(id), StartRecordName: page.NextRecordName, StartRecordType: page.NextRecordType})).must(t)
	if len(page.ResourceRecordSets) != 3 || page.IsTruncated {
		t.Fatalf("second page = %+v", page)
	}

	// Tags on the zone.
	try(r.ChangeTagsForResource(ctx, &route53.ChangeTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(strings.TrimPrefix(id, "/hostedzone/")),
		AddTags: []types.Tag{{Key: aws.String("team"), Value: aws.String("dns")}, {Key: aws.String("env"), Value: aws.String("test")}}})).must(t)
	try(r.ChangeTagsForResource(ctx, &route53.ChangeTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(strings.TrimPrefix(id, "/hostedzone/")), RemoveTagKeys: []string{"env"}})).must(t)
	tags := try(r.ListTagsForResource(ctx, &route53.ListTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(strings.TrimPrefix(id, "/hostedzone/"))})).must(t)
	if len(tags.ResourceTagSet.Tags) != 1 || aws.ToString(tags.ResourceTagSet.Tags[0].Key) != "team" {
		t.Fatalf("ListTagsForResource = %+v", tags.ResourceTagSet)
	}

	// By name, the zone is found from its name.
	byName := try(r.ListHostedZonesByName(ctx, &route53.ListHostedZonesByNameInput{DNSName: aws.String(name), MaxItems: aws.Int32(1)})).must(t)
	if len(byName.HostedZones) != 1 || aws.ToString(byName.HostedZones[0].Id) != id {
		t.Fatalf("ListHostedZonesByName = %+v", byName.HostedZones)
	}

	// A zone with more than its SOA and NS is not deleted: HostedZoneNotEmpty
	// (API_DeleteHostedZone.html#API_DeleteHostedZone_Errors).
	_, err = r.DeleteHostedZone(ctx, &route53.DeleteHostedZoneInput{Id: aws.String(id)})
	wantErr[*types.HostedZoneNotEmpty](t, err)
	wantStatus(t, err, 400)
	// The apex NS and SOA are not deleted.
	_, err = r.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(id), ChangeBatch: &types.ChangeBatch{Changes: []types.Change{
		{Action: types.ChangeActionDelete, ResourceRecordSet: &list.ResourceRecordSets[0]}}}})
	wantErr[*types.InvalidChangeBatch](t, err)
	del := &types.ChangeBatch{}
	for _, s := range list.ResourceRecordSets[2:] {
		del.Changes = append(del.Changes, types.Change{Action: types.ChangeActionDelete, ResourceRecordSet: &s})
	}
	try(r.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(id), ChangeBatch: del})).must(t)
	gone := try(r.DeleteHostedZone(ctx, &route53.DeleteHostedZoneInput{Id: aws.String(id)})).must(t)
	if gone.ChangeInfo == nil || gone.ChangeInfo.Status != types.ChangeStatusPending {
		t.Fatalf("DeleteHostedZone = %+v", gone.ChangeInfo)
	}
	_, err = r.DeleteHostedZone(ctx, &route53.DeleteHostedZoneInput{Id: aws.String(id)})
	wantErr[*types.NoSuchHostedZone](t, err)
	_, err = r.GetChange(ctx, &route53.GetChangeInput{Id: aws.String("C0000NOPE")})
	wantErr[*types.NoSuchChange](t, err)
	wantStatus(t, err, 404)
}

// TestRoute53PrivateZones creates a zone private to a VPC of EC2 and
// associates another, checking the errors of
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_AssociateVPCWithHostedZone.html
func TestRoute53PrivateZones(t *testing.T) {
	ctx, c := setup(t)
	r := route53Client()
	name := c.region + ".internal"
	vpc1 := aws.ToString(try(c.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16")})).must(t).Vpc.VpcId)
	vpc2 := aws.ToString(try(c.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.2.0.0/16")})).must(t).Vpc.VpcId)
	region := types.VPCRegion(c.region)

	_, err := r.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String(name), CallerReference: aws.String("nope-" + c.region),
		HostedZoneConfig: &types.HostedZoneConfig{PrivateZone: true}, VPC: &types.VPC{VPCId: aws.String("vpc-00000000000000000"), VPCRegion: region}})
	wantErr[*types.InvalidVPCId](t, err)
	wantStatus(t, err, 400)

	created := try(r.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String(name), CallerReference: aws.String("private-" + c.region),
		HostedZoneConfig: &types.HostedZoneConfig{PrivateZone: true}, VPC: &types.VPC{VPCId: aws.String(vpc1), VPCRegion: region}})).must(t)
	id := aws.ToString(created.HostedZone.Id)
	// A private zone has no delegation set (API_CreateHostedZone.html:
	// "DelegationSet ... for public hosted zones").
	if !created.HostedZone.Config.PrivateZone || created.DelegationSet != nil || aws.ToString(created.VPC.VPCId) != vpc1 {
		t.Fatalf("CreateHostedZone = %+v %+v %+v", created.HostedZone.Config, created.DelegationSet, created.VPC)
	}
	try(r.AssociateVPCWithHostedZone(ctx, &route53.AssociateVPCWithHostedZoneInput{HostedZoneId: aws.String(id), VPC: &types.VPC{VPCId: aws.String(vpc2), VPCRegion: region}})).must(t)
	got := try(r.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(id)})).must(t)
	if len(got.VPCs) != 2 || got.DelegationSet != nil {
		t.Fatalf("GetHostedZone = %+v %+v", got.VPCs, got.DelegationSet)
	}
	try(r.DisassociateVPCFromHostedZone(ctx, &route53.DisassociateVPCFromHostedZoneInput{HostedZoneId: aws.String(id), VPC: &types.VPC{VPCId: aws.String(vpc1), VPCRegion: region}})).must(t)
	_, err = r.DisassociateVPCFromHostedZone(ctx, &route53.DisassociateVPCFromHostedZoneInput{HostedZoneId: aws.String(id), VPC: &types.VPC{VPCId: aws.String(vpc2), VPCRegion: region}})
	wantErr[*types.LastVPCAssociation](t, err)
	_, err = r.GetDNSSEC(ctx, &route53.GetDNSSECInput{HostedZoneId: aws.String(id)})
	wantErr[*types.InvalidArgument](t, err)
	try(r.DeleteHostedZone(ctx, &route53.DeleteHostedZoneInput{Id: aws.String(id)})).must(t)
}

// TestRoute53HealthChecks creates, reads, tags and deletes a health check.
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_CreateHealthCheck.html
func TestRoute53HealthChecks(t *testing.T) {
	ctx, c := setup(t)
	r := route53Client()
	in := &route53.CreateHealthCheckInput{CallerReference: aws.String("hc-" + c.region), HealthCheckConfig: &types.HealthCheckConfig{
		Type: types.HealthCheckTypeHttp, FullyQualifiedDomainName: aws.String("example.com"), Port: aws.Int32(80), ResourcePath: aws.String("/health")}}
	hc := try(r.CreateHealthCheck(ctx, in)).must(t).HealthCheck
	if aws.ToInt32(hc.HealthCheckConfig.RequestInterval) != 30 || aws.ToInt32(hc.HealthCheckConfig.FailureThreshold) != 3 || aws.ToInt64(hc.HealthCheckVersion) != 1 {
		t.Fatalf("CreateHealthCheck = %+v %+v", hc, hc.HealthCheckConfig)
	}
	// The same request again returns the same check; other settings under
	// the same caller reference are HealthCheckAlreadyExists, 409.
	if again := try(r.CreateHealthCheck(ctx, in)).must(t).HealthCheck; aws.ToString(again.Id) != aws.ToString(hc.Id) {
		t.Fatalf("CreateHealthCheck again = %s, want %s", aws.ToString(again.Id), aws.ToString(hc.Id))
	}
	in.HealthCheckConfig.Port = aws.Int32(8080)
	_, err := r.CreateHealthCheck(ctx, in)
	wantErr[*types.HealthCheckAlreadyExists](t, err)
	wantStatus(t, err, 409)
	try(r.ChangeTagsForResource(ctx, &route53.ChangeTagsForResourceInput{ResourceType: types.TagResourceTypeHealthcheck, ResourceId: hc.Id,
		AddTags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("web")}}})).must(t)
	tags := try(r.ListTagsForResource(ctx, &route53.ListTagsForResourceInput{ResourceType: types.TagResourceTypeHealthcheck, ResourceId: hc.Id})).must(t)
	if len(tags.ResourceTagSet.Tags) != 1 {
		t.Fatalf("tags = %+v", tags.ResourceTagSet)
	}
	try(r.GetHealthCheckStatus(ctx, &route53.GetHealthCheckStatusInput{HealthCheckId: hc.Id})).must(t)
	try(r.DeleteHealthCheck(ctx, &route53.DeleteHealthCheckInput{HealthCheckId: hc.Id})).must(t)
	_, err = r.GetHealthCheck(ctx, &route53.GetHealthCheckInput{HealthCheckId: hc.Id})
	wantErr[*types.NoSuchHealthCheck](t, err)
	wantStatus(t, err, 404)
}
