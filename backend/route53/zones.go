package route53

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2api "github.com/aws/aws-sdk-go-v2/service/ec2"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// kindZone is a hosted zone with its record sets, by zone id.
const kindZone = "route53/zone"

// Limits and defaults of Route 53.
// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DNSLimitations.html
const (
	maxCallerReference = 128
	maxComment         = 256
	defaultZonePage    = 100 // ListHostedZones' and ListHostedZonesByName's maxitems default
	defaultRecordPage  = 300 // ListResourceRecordSets' maxitems default
	maxZoneTags        = 50
	nsTTL              = 172800 // the NS record's TTL in a new zone
	soaTTL             = 900    // the SOA record's TTL in a new zone
)

// zone is a stored hosted zone.
type zone struct {
	ID              string
	Name            string // normalized
	CallerReference string
	Comment         string `json:",omitempty"`
	Private         bool
	VPCs            []types.VPC `json:",omitempty"`
	NameServers     []string
	Records         []types.ResourceRecordSet
	Tags            []types.Tag `json:",omitempty"`
	Created         time.Time
}

// api is the SDK's view of z.
func (z *zone) api() *types.HostedZone {
	hz := &types.HostedZone{
		Id: aws.String("/hostedzone/" + z.ID), Name: aws.String(z.Name), CallerReference: aws.String(z.CallerReference),
		Config:                 &types.HostedZoneConfig{PrivateZone: z.Private},
		ResourceRecordSetCount: aws.Int64(int64(len(z.Records))),
	}
	if z.Comment != "" {
		hz.Config.Comment = aws.String(z.Comment)
	}
	return hz
}

// delegation is the delegation set of a public zone; private zones have
// none.
func (z *zone) delegation() *types.DelegationSet {
	if z.Private {
		return nil
	}
	return &types.DelegationSet{NameServers: slices.Clone(z.NameServers)}
}

// nameServers are the four name servers Route 53 assigns a zone, one in
// each of its top-level domains (ns-N.awsdns-NN.com, .net, .org, .co.uk),
// drawn from the zone's id so that they are stable.
// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/SOA-NSrecords.html
func nameServers(id string) []string {
	h := fnv.New32a()
	h.Write([]byte(id))
	v := h.Sum32()
	n, set := int(v%512), int(v/512%64)
	return []string{
		fmt.Sprintf("ns-%d.awsdns-%02d.com", n, set),
		fmt.Sprintf("ns-%d.awsdns-%02d.net", n+512, set),
		fmt.Sprintf("ns-%d.awsdns-%02d.org", n+1024, set),
		fmt.Sprintf("ns-%d.awsdns-%02d.co.uk", n+1536, set),
	}
}

// apexRecords are the NS and SOA record sets Route 53 creates with a zone.
// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/SOA-NSrecords.html
func apexRecords(name string, servers []string) []types.ResourceRecordSet {
	ns := make([]types.ResourceRecord, len(servers))
	for i, s := range servers {
		ns[i] = types.ResourceRecord{Value: aws.String(s + ".")}
	}
	soa := fmt.Sprintf("%s. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400", servers[0])
	return []types.ResourceRecordSet{
		{Name: aws.String(name), Type: types.RRTypeNs, TTL: aws.Int64(nsTTL), ResourceRecords: ns},
		{Name: aws.String(name), Type: types.RRTypeSoa, TTL: aws.Int64(soaTTL), ResourceRecords: []types.ResourceRecord{{Value: aws.String(soa)}}},
	}
}

// loadZone reads the stored zone id ("/hostedzone/" prefix or not).
func loadZone(tx *sqlite.Tx, s backend.Scope, id string) (*zone, error) {
	var z zone
	err := tx.Get(s.Key(kindZone, bareID(id)), &z)
	if errors.Is(err, sqlite.ErrNotFound) {
		return nil, errNoSuchZone(bareID(id))
	}
	if err != nil {
		return nil, err
	}
	return &z, nil
}

func saveZone(tx *sqlite.Tx, s backend.Scope, z *zone) error {
	return tx.Put(s.Row(kindZone, z.ID, "", z.CallerReference), z)
}

// changeZone applies fn to the stored zone id in one transaction.
func (b *Backend) changeZone(ctx context.Context, id string, fn func(*zone) error) error {
	s := scopeOf(ctx)
	return b.update(ctx, func(tx *sqlite.Tx) error {
		z, err := loadZone(tx, s, id)
		if err != nil {
			return err
		}
		if err := fn(z); err != nil {
			return err
		}
		return saveZone(tx, s, z)
	})
}

// newID is an id of Route 53's form: a letter and upper-case
// alphanumerics, 14 to 22 characters in all (Z0123456789ABCDEFGHIJ).
func (b *Backend) newID(prefix string) string {
	return prefix + strings.ToUpper(b.env.IDs.Hex(20))
}

// checkVPC reports an error unless vpc names a VPC of the caller's account
// in its region.
func (b *Backend) checkVPC(ctx context.Context, vpc *types.VPC) error {
	if vpc == nil || aws.ToString(vpc.VPCId) == "" || vpc.VPCRegion == "" {
		return awsproto.Modeled(&types.InvalidVPCId{}, "A private hosted zone needs a VPC: its VPCId and VPCRegion.")
	}
	if b.vpcs == nil {
		return nil
	}
	s := backend.ScopeFrom(ctx)
	s.Region = string(vpc.VPCRegion)
	out, err := b.vpcs.DescribeVpcs(backend.WithScope(ctx, s), &ec2api.DescribeVpcsInput{VpcIds: []string{aws.ToString(vpc.VPCId)}})
	if err != nil || len(out.Vpcs) == 0 {
		var ae *awsproto.Error
		if err != nil && !errors.As(err, &ae) {
			return err
		}
		return awsproto.Modeled(&types.InvalidVPCId{}, "The VPC ID '%s' is not valid, or the VPC is not in region %s.", aws.ToString(vpc.VPCId), vpc.VPCRegion)
	}
	return nil
}

// CreateHostedZone creates a public zone, or a private one associated with
// a VPC. A second request with the same CallerReference is
// HostedZoneAlreadyExists.
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_CreateHostedZone.html
func (b *Backend) CreateHostedZone(ctx context.Context, in *r53.CreateHostedZoneInput) (*r53.CreateHostedZoneOutput, error) {
	name, err := normalize(aws.ToString(in.Name))
	if err != nil {
		return nil, awsproto.Modeled(&types.InvalidDomainName{}, "%s is not a valid domain name: %v", aws.ToString(in.Name), err)
	}
	ref := aws.ToString(in.CallerReference)
	if ref == "" || len(ref) > maxCallerReference {
		return nil, errInvalidInput("CallerReference must have 1 to %d characters.", maxCallerReference)
	}
	if in.DelegationSetId != nil {
		return nil, awsproto.Modeled(&types.NoSuchDelegationSet{}, "berth has no reusable delegation sets: %s", aws.ToString(in.DelegationSetId))
	}
	private := in.HostedZoneConfig != nil && in.HostedZoneConfig.PrivateZone
	switch {
	case private && in.VPC == nil:
		return nil, errInvalidInput("When you're creating a private hosted zone (when you specify true for PrivateZone), you must also specify values for VPCId and VPCRegion.")
	case !private && in.VPC != nil:
		// A VPC makes the zone private even without the flag.
		private = true
	}
	if private {
		if err := b.checkVPC(ctx, in.VPC); err != nil {
			return nil, err
		}
	}
	comment := ""
	if in.HostedZoneConfig != nil {
		comment = aws.ToString(in.HostedZoneConfig.Comment)
	}
	if len(comment) > maxComment {
		return nil, errInvalidInput("The comment must have at most %d characters.", maxComment)
	}
	s := scopeOf(ctx)
	now := b.env.Clock()
	z := &zone{ID: b.newID("Z"), Name: name, CallerReference: ref, Comment: comment, Private: private, Created: now}
	z.NameServers = nameServers(z.ID)
	if private {
		// Private zones have Route 53's fixed internal name servers.
		z.NameServers = []string{"ns-0.awsdns-00.com", "ns-512.awsdns-64.net", "ns-1024.awsdns-00.org", "ns-1536.awsdns-00.co.uk"}
		z.VPCs = []types.VPC{*in.VPC}
	}
	z.Records = apexRecords(name, z.NameServers)
	var change *change
	err = b.update(ctx, func(tx *sqlite.Tx) error {
		taken, err := tx.Count(sqlite.Query{Account: s.Account, Region: s.Region, Kind: kindZone, Name: ref})
		if err != nil {
			return err
		}
		if taken > 0 {
			return awsproto.Modeled(&types.HostedZoneAlreadyExists{}, "A hosted zone has already been created with the specified caller reference.")
		}
		if private {
			if other, err := conflicting(tx, s, name, "", *in.VPC); err != nil || other != nil {
				if err != nil {
					return err
				}
				return errConflictingDomain(*in.VPC, name)
			}
		}
		if err := saveZone(tx, s, z); err != nil {
			return err
		}
		change, err = b.submit(tx, s, now, "")
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &r53.CreateHostedZoneOutput{
		HostedZone: z.api(), ChangeInfo: change.api(now, b.insync), DelegationSet: z.delegation(),
		Location: aws.String("https://route53.amazonaws.com/2013-04-01/hostedzone/" + z.ID),
	}
	if private {
		out.VPC = in.VPC
	}
	return out, nil
}

// GetHostedZone describes a zone with its delegation set (public) or VPCs
// (private).
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetHostedZone.html
func (b *Backend) GetHostedZone(ctx context.Context, in *r53.GetHostedZoneInput) (*r53.GetHostedZoneOutput, error) {
	var z *zone
	err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		z, err = loadZone(tx, scopeOf(ctx), aws.ToString(in.Id))
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &r53.GetHostedZoneOutput{HostedZone: z.api(), DelegationSet: z.delegation()}
	if z.Private {
		out.VPCs = slices.Clone(z.VPCs)
	}
	return out, nil
}

// allZones is every zone of the caller's account, in creation order.
func (b *Backend) allZones(ctx context.Context) ([]zone, error) {
	s := scopeOf(ctx)
	var zones []zone
	err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		zones, err = sqlite.ListAll[zone](tx, s.Query(kindZone, ""))
		return err
	})
	return zones, err
}

// pageSize is a maxitems value, or def when it is unset: def is also the
// most a page holds ("If you specify a value greater than 100, Route 53
// returns only the first 100", API_ListHostedZones.html; 300 record sets,
// API_ListResourceRecordSets.html).
func pageSize(max *int32, def int) (int, error) {
	if max == nil {
		return def, nil
	}
	if *max < 1 {
		return 0, errInvalidInput("1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must be greater than or equal to 1", *max)
	}
	return min(int(*max), def), nil
}

// ListHostedZones lists the account's zones in creation order, from the
// zone Marker names.
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListHostedZones.html
func (b *Backend) ListHostedZones(ctx context.Context, in *r53.ListHostedZonesInput) (*r53.ListHostedZonesOutput, error) {
	limit, err := pageSize(in.MaxItems, defaultZonePage)
	if err != nil {
		return nil, err
	}
	zones, err := b.allZones(ctx)
	if err != nil {
		return nil, err
	}
	if in.DelegationSetId != nil {
		return nil, awsproto.Modeled(&types.NoSuchDelegationSet{}, "berth has no reusable delegation sets: %s", aws.ToString(in.DelegationSetId))
	}
	if in.HostedZoneType == types.HostedZoneTypePrivateHostedZone {
		zones = slices.DeleteFunc(zones, func(z zone) bool { return !z.Private })
	}
	start := 0
	if m := aws.ToString(in.Marker); m != "" {
		if start = slices.IndexFunc(zones, func(z zone) bool { return z.ID == bareID(m) }); start < 0 {
			return nil, errInvalidInput("The marker %s does not name a hosted zone.", m)
		}
	}
	out := &r53.ListHostedZonesOutput{Marker: in.Marker, MaxItems: aws.Int32(int32(limit)), HostedZones: []types.HostedZone{}}
	end := min(start+limit, len(zones))
	for _, z := range zones[start:end] {
		out.HostedZones = append(out.HostedZones, *z.api())
	}
	if end < len(zones) {
		out.IsTruncated, out.NextMarker = true, aws.String(zones[end].ID)
	}
	return out, nil
}

// zoneOrder orders zones as ListHostedZonesByName does: by name with the
// labels reversed, then by id.
func zoneOrder(a, b zone) int {
	if c := strings.Compare(sortKey(a.Name), sortKey(b.Name)); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// ListHostedZonesByName lists the account's zones by name, from DNSName
// (and HostedZoneId among zones of that name).
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListHostedZonesByName.html
func (b *Backend) ListHostedZonesByName(ctx context.Context, in *r53.ListHostedZonesByNameInput) (*r53.ListHostedZonesByNameOutput, error) {
	limit, err := pageSize(in.MaxItems, defaultZonePage)
	if err != nil {
		return nil, err
	}
	if in.HostedZoneId != nil && in.DNSName == nil {
		return nil, errInvalidInput("If you specify hostedzoneid, you must also specify dnsname.")
	}
	zones, err := b.allZones(ctx)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(zones, zoneOrder)
	start := 0
	if in.DNSName != nil {
		name, err := normalize(aws.ToString(in.DNSName))
		if err != nil {
			return nil, awsproto.Modeled(&types.InvalidDomainName{}, "%s is not a valid domain name: %v", aws.ToString(in.DNSName), err)
		}
		from := zone{Name: name, ID: bareID(aws.ToString(in.HostedZoneId))}
		start, _ = slices.BinarySearchFunc(zones, from, zoneOrder)
	}
	out := &r53.ListHostedZonesByNameOutput{DNSName: in.DNSName, HostedZoneId: in.HostedZoneId, MaxItems: aws.Int32(int32(limit)), HostedZones: []types.HostedZone{}}
	end := min(start+limit, len(zones))
	for _, z := range zones[start:end] {
		out.HostedZones = append(out.HostedZones, *z.api())
	}
	if end < len(zones) {
		out.IsTruncated = true
		out.NextDNSName, out.NextHostedZoneId = aws.String(zones[end].Name), aws.String(zones[end].ID)
	}
	return out, nil
}

// GetHostedZoneCount counts the account's zones.
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetHostedZoneCount.html
func (b *Backend) GetHostedZoneCount(ctx context.Context, _ *r53.GetHostedZoneCountInput) (*r53.GetHostedZoneCountOutput, error) {
	s := scopeOf(ctx)
	var n int
	err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		n, err = tx.Count(s.Query(kindZone, ""))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &r53.GetHostedZoneCountOutput{HostedZoneCount: aws.Int64(int64(n))}, nil
}

// DeleteHostedZone deletes a zone that holds only its apex SOA and NS
// record sets.
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_DeleteHostedZone.html
func (b *Backend) DeleteHostedZone(ctx context.Context, in *r53.DeleteHostedZoneInput) (*r53.DeleteHostedZoneOutput, error) {
	s := scopeOf(ctx)
	now := b.env.Clock()
	var c *change
	err := b.update(ctx, func(tx *sqlite.Tx) error {
		z, err := loadZone(tx, s, aws.ToString(in.Id))
		if err != nil {
			return err
		}
		for _, r := range z.Records {
			if aws.ToString(r.Name) != z.Name || (r.Type != types.RRTypeSoa && r.Type != types.RRTypeNs) {
				return awsproto.Modeled(&types.HostedZoneNotEmpty{}, "The specified hosted zone contains non-required resource record sets and so cannot be deleted.")
			}
		}
		if err := tx.Delete(s.Key(kindZone, z.ID)); err != nil {
			return err
		}
		c, err = b.submit(tx, s, now, "")
		return err
	})
	if err != nil {
		return nil, err
	}
	return &r53.DeleteHostedZoneOutput{ChangeInfo: c.api(now, b.insync)}, nil
}

// UpdateHostedZoneComment sets or clears a zone's comment.
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_UpdateHostedZoneComment.html
func (b *Backend) UpdateHostedZoneComment(ctx context.Context, in *r53.UpdateHostedZoneCommentInput) (*r53.UpdateHostedZoneCommentOutput, error) {
	comment := aws.ToString(in.Comment)
	if len(comment) > maxComment {
		return nil, errInvalidInput("The comment must have at most %d characters.", maxComment)
	}
	var z *zone
	err := b.changeZone(ctx, aws.ToString(in.Id), func(zz *zone) error {
		zz.Comment, z = comment, zz
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &r53.UpdateHostedZoneCommentOutput{HostedZone: z.api()}, nil
}

// AssociateVPCWithHostedZone associates another VPC with a private zone.
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_AssociateVPCWithHostedZone.html
func (b *Backend) AssociateVPCWithHostedZone(ctx context.Context, in *r53.AssociateVPCWithHostedZoneInput) (*r53.AssociateVPCWithHostedZoneOutput, error) {
	if err := b.checkVPC(ctx, in.VPC); err != nil {
		return nil, err
	}
	s := scopeOf(ctx)
	now := b.env.Clock()
	var c *change
	err := b.update(ctx, func(tx *sqlite.Tx) error {
		z, err := loadZone(tx, s, aws.ToString(in.HostedZoneId))
		if err != nil {
			return err
		}
		if !z.Private {
			return awsproto.Modeled(&types.PublicZoneVPCAssociation{}, "You're trying to associate a VPC with a public hosted zone. Amazon Route 53 doesn't support associating a VPC with a public hosted zone.")
		}
		if slices.ContainsFunc(z.VPCs, sameVPC(*in.VPC)) {
			return awsproto.Modeled(&types.ConflictingDomainExists{}, "The VPC %s in region %s is already associated with the hosted zone %s with the same domain name.", aws.ToString(in.VPC.VPCId), in.VPC.VPCRegion, z.ID)
		}
		if other, err := conflicting(tx, s, z.Name, z.ID, *in.VPC); err != nil || other != nil {
			if err != nil {
				return err
			}
			return errConflictingDomain(*in.VPC, z.Name)
		}
		z.VPCs = append(z.VPCs, *in.VPC)
		if err := saveZone(tx, s, z); err != nil {
			return err
		}
		c, err = b.submit(tx, s, now, aws.ToString(in.Comment))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &r53.AssociateVPCWithHostedZoneOutput{ChangeInfo: c.api(now, b.insync)}, nil
}

// conflicting is the private zone other than except of the account
// named name and associated with vpc, if any: a VPC resolves a name
// through one private zone.
// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/hosted-zone-private-considerations.html
func conflicting(tx *sqlite.Tx, s backend.Scope, name, except string, vpc types.VPC) (*zone, error) {
	zones, err := sqlite.ListAll[zone](tx, s.Query(kindZone, ""))
	if err != nil {
		return nil, err
	}
	for i := range zones {
		if z := &zones[i]; z.Private && z.ID != except && z.Name == name && slices.ContainsFunc(z.VPCs, sameVPC(vpc)) {
			return z, nil
		}
	}
	return nil, nil
}

func errConflictingDomain(vpc types.VPC, name string) error {
	return awsproto.Modeled(&types.ConflictingDomainExists{}, "The VPC %s in region %s is already associated with another private hosted zone that has the same name, %s.", aws.ToString(vpc.VPCId), vpc.VPCRegion, name)
}

func sameVPC(v types.VPC) func(types.VPC) bool {
	return func(w types.VPC) bool {
		return aws.ToString(w.VPCId) == aws.ToString(v.VPCId) && w.VPCRegion == v.VPCRegion
	}
}

// DisassociateVPCFromHostedZone removes a VPC from a private zone; the
// last one cannot be.
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_DisassociateVPCFromHostedZone.html
func (b *Backend) DisassociateVPCFromHostedZone(ctx context.Context, in *r53.DisassociateVPCFromHostedZoneInput) (*r53.DisassociateVPCFromHostedZoneOutput, error) {
	if in.VPC == nil {
		return nil, errInvalidInput("The VPC is required.")
	}
	s := scopeOf(ctx)
	now := b.env.Clock()
	var c *change
	err := b.update(ctx, func(tx *sqlite.Tx) error {
		z, err := loadZone(tx, s, aws.ToString(in.HostedZoneId))
		if err != nil {
			return err
		}
		i := slices.IndexFunc(z.VPCs, sameVPC(*in.VPC))
		switch {
		case i < 0:
			return awsproto.Modeled(&types.VPCAssociationNotFound{}, "The specified VPC %s is not associated with the hosted zone %s.", aws.ToString(in.VPC.VPCId), z.ID)
		case len(z.VPCs) == 1:
			return awsproto.Modeled(&types.LastVPCAssociation{}, "The VPC that you're trying to disassociate from the private hosted zone is the last VPC that is associated with the hosted zone. Amazon Route 53 doesn't support disassociating the last VPC from a hosted zone.")
		}
		z.VPCs = slices.Delete(z.VPCs, i, i+1)
		if err := saveZone(tx, s, z); err != nil {
			return err
		}
		c, err = b.submit(tx, s, now, aws.ToString(in.Comment))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &r53.DisassociateVPCFromHostedZoneOutput{ChangeInfo: c.api(now, b.insync)}, nil
}

// GetDNSSEC reports a public zone's DNSSEC signing: berth never signs.
// Private zones have no DNSSEC.
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetDNSSEC.html
func (b *Backend) GetDNSSEC(ctx context.Context, in *r53.GetDNSSECInput) (*r53.GetDNSSECOutput, error) {
	var z *zone
	err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		z, err = loadZone(tx, scopeOf(ctx), aws.ToString(in.HostedZoneId))
		return err
	})
	if err != nil {
		return nil, err
	}
	if z.Private {
		return nil, awsproto.Modeled(&types.InvalidArgument{}, "Operation is unsupported for private hosted zones.")
	}
	return &r53.GetDNSSECOutput{Status: &types.DNSSECStatus{ServeSignature: aws.String("NOT_SIGNING")}, KeySigningKeys: []types.KeySigningKey{}}, nil
}
