package route53

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	mdns "github.com/miekg/dns"

	"berth/sqlite"
)

// Limits of a change batch and of record sets.
// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DNSLimitations.html#limits-api-requests-changeresourcerecordsets
const (
	maxChanges      = 1000    // changes in one batch
	maxRecordValues = 1000    // resource records in one ChangeResourceRecordSets
	maxValueChars   = 32000   // characters of all values in one batch
	maxTTL          = 1 << 31 // TTL is an unsigned 32-bit number of seconds, of which DNS uses 31 bits (RFC 2181)
	maxSetID        = 128
)

// recordID is how Route 53 names a record set in its messages:
// [name='www.example.com.', type='A'] and, with one, its set identifier.
func recordID(r *types.ResourceRecordSet) string {
	if r.SetIdentifier != nil {
		return fmt.Sprintf("[name='%s', type='%s', set-identifier='%s']", aws.ToString(r.Name), r.Type, aws.ToString(r.SetIdentifier))
	}
	return fmt.Sprintf("[name='%s', type='%s']", aws.ToString(r.Name), r.Type)
}

// same reports whether two record sets are the same set: name, type and
// set identifier.
func same(a, b *types.ResourceRecordSet) bool {
	return aws.ToString(a.Name) == aws.ToString(b.Name) && a.Type == b.Type && aws.ToString(a.SetIdentifier) == aws.ToString(b.SetIdentifier)
}

// recordOrder orders record sets as ListResourceRecordSets returns them:
// by name with the labels reversed, then type, then set identifier.
func recordOrder(a, b types.ResourceRecordSet) int {
	if c := strings.Compare(sortKey(aws.ToString(a.Name)), sortKey(aws.ToString(b.Name))); c != 0 {
		return c
	}
	if c := strings.Compare(string(a.Type), string(b.Type)); c != 0 {
		return c
	}
	return strings.Compare(aws.ToString(a.SetIdentifier), aws.ToString(b.SetIdentifier))
}

// checkRecord validates a change's record set and normalizes its name (and
// an alias target's DNS name) in place; problems with the set as a whole
// are InvalidInput, as Route 53 reports them before the batch.
func checkRecord(action types.ChangeAction, r *types.ResourceRecordSet) error {
	if r == nil {
		return errInvalidInput("Invalid request: Missing field 'ResourceRecordSet' in Change with [Action=%s]", action)
	}
	name, err := normalize(aws.ToString(r.Name))
	if err != nil {
		return errInvalidInput("Invalid request: the name '%s' is not a valid domain name: %v", aws.ToString(r.Name), err)
	}
	r.Name = aws.String(name)
	where := fmt.Sprintf("Change with [Action=%s, Name=%s, Type=%s, SetIdentifier=%s]", action, name, r.Type, setIDText(r))
	if !slices.Contains(types.RRType("").Values(), r.Type) {
		return errInvalidInput("Invalid request: the type '%s' is not a record type in %s", r.Type, where)
	}
	hasRecords := r.TTL != nil || len(r.ResourceRecords) > 0
	switch {
	case r.AliasTarget != nil && hasRecords:
		return errInvalidInput("Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found more than one in %s", where)
	case r.AliasTarget == nil && (r.TTL == nil || len(r.ResourceRecords) == 0):
		missing := "TTL"
		if r.TTL != nil {
			missing = "ResourceRecords"
		}
		if r.TTL == nil && len(r.ResourceRecords) == 0 {
			return errInvalidInput("Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in %s", where)
		}
		return errInvalidInput("Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found only %s in %s", strings.ToLower(missing[:1])+missing[1:], where)
	}
	if r.TTL != nil && (*r.TTL < 0 || *r.TTL >= maxTTL) {
		return errInvalidInput("1 validation error detected: Value '%d' at 'changeBatch.changes.member.resourceRecordSet.tTL' failed to satisfy constraint: Member must have value between 0 and %d", *r.TTL, maxTTL-1)
	}
	if a := r.AliasTarget; a != nil {
		dns, err := normalize(aws.ToString(a.DNSName))
		if err != nil || aws.ToString(a.HostedZoneId) == "" {
			return errInvalidInput("Invalid request: the alias target of %s needs a HostedZoneId and a valid DNSName", where)
		}
		a.DNSName = aws.String(dns)
	}
	if sid := aws.ToString(r.SetIdentifier); r.SetIdentifier != nil && (sid == "" || len(sid) > maxSetID) {
		return errInvalidInput("The set identifier must have 1 to %d characters in %s", maxSetID, where)
	}
	routed := r.Weight != nil || r.Failover != "" || r.Region != "" || r.GeoLocation != nil || aws.ToBool(r.MultiValueAnswer) || r.CidrRoutingConfig != nil || r.GeoProximityLocation != nil
	if routed != (r.SetIdentifier != nil) {
		return errInvalidInput("Invalid request: a SetIdentifier goes with a routing policy (Weight, Failover, Region, GeoLocation, MultiValueAnswer, ...) and only with one, in %s", where)
	}
	return nil
}

func setIDText(r *types.ResourceRecordSet) string {
	if r.SetIdentifier == nil {
		return "null"
	}
	return *r.SetIdentifier
}

// maxCharacterString is the length of a TXT or SPF value's strings: a
// DNS character-string (RFC 1035 section 3.3), refused longer as
// "CharacterStringTooLong" (a field report: boto/boto3#1462).
const maxCharacterString = 255

// checkValues checks the values of a record set: addresses by Route 53's
// rules, and every value (one line) as the DNS server reads it, so that
// none is taken that it cannot answer (a value it could not read was
// dropped from the zone, its name answered NXDOMAIN).
func checkValues(r *types.ResourceRecordSet) []string {
	var msgs []string
	for _, v := range r.ResourceRecords {
		value := aws.ToString(v.Value)
		if r.Type != types.RRTypeA && r.Type != types.RRTypeAaaa {
			if m := checkRDATA(r.Type, value); m != "" {
				msgs = append(msgs, m)
				continue
			}
		}
		switch r.Type {
		case types.RRTypeA:
			if a, err := netip.ParseAddr(value); err != nil || !a.Is4() {
				msgs = append(msgs, fmt.Sprintf("Invalid Resource Record: 'FATAL problem: ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) encountered with '%s''", value))
			}
		case types.RRTypeAaaa:
			if a, err := netip.ParseAddr(value); err != nil || !a.Is6() || a.Is4In6() {
				msgs = append(msgs, fmt.Sprintf("Invalid Resource Record: 'FATAL problem: AAAARRDATAIllegalIPv6Address (Value is not a valid IPv6 address) encountered with '%s''", value))
			}
		case types.RRTypeCname:
			if len(r.ResourceRecords) > 1 {
				return []string{fmt.Sprintf("RRSet of type CNAME with DNS name %s cannot have more than one value", aws.ToString(r.Name))}
			}
		}
	}
	return msgs
}

// checkRDATA checks one value of a record set of type t as a zone file's
// RDATA, as the DNS server reads it (Zone.DNS), returning Route 53's
// complaint or "".
func checkRDATA(t types.RRType, value string) string {
	bad := fmt.Sprintf("Invalid Resource Record: 'FATAL problem: %sRRDATAIllegal (Value is not a valid %s record) encountered with '%s''", t, t, value)
	if strings.ContainsAny(value, "\n\r") {
		return bad
	}
	rr, err := mdns.NewRR("x. 60 IN " + string(t) + " " + value)
	if err != nil || rr == nil {
		return bad
	}
	if (t == types.RRTypeTxt || t == types.RRTypeSpf) && longestString(value) > maxCharacterString {
		// The DNS server's reader splits a long string; Route 53 refuses it.
		return fmt.Sprintf("Invalid Resource Record: 'FATAL problem: CharacterStringTooLong (Value is too long) encountered with '%s''", value)
	}
	return ""
}

// longestString is the length of the longest character-string of a TXT
// value: quoted strings, or words outside quotes; an escape (\X or \DDD)
// is one character.
func longestString(value string) int {
	longest, n, quoted := 0, 0, false
	end := func() { longest, n = max(longest, n), 0 }
	for i := 0; i < len(value); i++ {
		switch c := value[i]; {
		case c == '\\':
			if i+3 < len(value) && isDigit(value[i+1]) && isDigit(value[i+2]) && isDigit(value[i+3]) {
				i += 3
			} else {
				i++
			}
			n++
		case c == '"':
			end()
			quoted = !quoted
		case !quoted && (c == ' ' || c == '\t'):
			end()
		default:
			n++
		}
	}
	end()
	return longest
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// apply applies one change to the record sets of z, returning the
// problems that make the batch invalid in Route 53's words.
func apply(z *zone, c types.Change) []string {
	r := c.ResourceRecordSet
	name := aws.ToString(r.Name)
	if !within(name, z.Name) {
		return []string{fmt.Sprintf("RRSet with DNS name %s is not permitted in zone %s", name, z.Name)}
	}
	i := slices.IndexFunc(z.Records, func(o types.ResourceRecordSet) bool { return same(&o, r) })
	switch c.Action {
	case types.ChangeActionDelete:
		if i < 0 {
			return []string{fmt.Sprintf("Tried to delete resource record set %s but it was not found", recordID(r))}
		}
		if !equalRecords(&z.Records[i], r) {
			return []string{fmt.Sprintf("Tried to delete resource record set %s but the values provided do not match the current values", recordID(r))}
		}
		if name == z.Name && r.Type == types.RRTypeNs && r.SetIdentifier == nil {
			return []string{"A HostedZone must contain at least one NS record for the zone itself."}
		}
		if name == z.Name && r.Type == types.RRTypeSoa {
			return []string{"A HostedZone must contain exactly one SOA record."}
		}
		z.Records = slices.Delete(z.Records, i, i+1)
		return nil
	case types.ChangeActionCreate:
		if i >= 0 {
			return []string{fmt.Sprintf("Tried to create resource record set %s but it already exists", recordID(r))}
		}
	case types.ChangeActionUpsert:
	default:
		return []string{fmt.Sprintf("Invalid action %s: one of CREATE, DELETE and UPSERT", c.Action)}
	}
	if msgs := checkValues(r); len(msgs) > 0 {
		return msgs
	}
	if r.Type == types.RRTypeCname && name == z.Name {
		return []string{fmt.Sprintf("RRSet of type CNAME with DNS name %s is not permitted at apex in zone %s", name, z.Name)}
	}
	if r.Type == types.RRTypeSoa && name != z.Name {
		return []string{fmt.Sprintf("RRSet of type SOA with DNS name %s is not permitted because SOA records are only allowed at the zone apex %s", name, z.Name)}
	}
	// A CNAME is the only record set of its name (RFC 1034 §3.6.2);
	// weighted or otherwise routed CNAMEs of one name may coexist.
	for j, o := range z.Records {
		if j == i || aws.ToString(o.Name) != name || o.Type == r.Type {
			continue
		}
		if o.Type == types.RRTypeCname || r.Type == types.RRTypeCname {
			return []string{fmt.Sprintf("RRSet of type %s with DNS name %s is not permitted as it conflicts with other records with the same DNS name in zone %s", r.Type, name, z.Name)}
		}
	}
	if i >= 0 {
		z.Records[i] = *r
	} else {
		z.Records = append(z.Records, *r)
	}
	return nil
}

// equalRecords reports whether a DELETE names the record set as it is.
func equalRecords(cur, del *types.ResourceRecordSet) bool {
	if aws.ToInt64(cur.TTL) != aws.ToInt64(del.TTL) || len(cur.ResourceRecords) != len(del.ResourceRecords) {
		return false
	}
	for k := range cur.ResourceRecords {
		if aws.ToString(cur.ResourceRecords[k].Value) != aws.ToString(del.ResourceRecords[k].Value) {
			return false
		}
	}
	ca, da := cur.AliasTarget, del.AliasTarget
	if (ca == nil) != (da == nil) {
		return false
	}
	return ca == nil || aws.ToString(ca.DNSName) == aws.ToString(da.DNSName) && bareID(aws.ToString(ca.HostedZoneId)) == bareID(aws.ToString(da.HostedZoneId)) && ca.EvaluateTargetHealth == da.EvaluateTargetHealth
}

// ChangeResourceRecordSets applies a batch of CREATE, UPSERT and DELETE
// changes in order, all or none: any problem makes the whole batch
// InvalidChangeBatch, listing every problem.
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html
func (b *Backend) ChangeResourceRecordSets(ctx context.Context, in *r53.ChangeResourceRecordSetsInput) (*r53.ChangeResourceRecordSetsOutput, error) {
	if in.ChangeBatch == nil || len(in.ChangeBatch.Changes) == 0 {
		return nil, errInvalidInput("1 validation error detected: Value null at 'changeBatch.changes' failed to satisfy constraint: Member must not be null")
	}
	if len(in.ChangeBatch.Changes) > maxChanges {
		return nil, errInvalidInput("Number of changes in the batch (%d) exceeds the maximum allowed (%d).", len(in.ChangeBatch.Changes), maxChanges)
	}
	values, chars := 0, 0
	for i := range in.ChangeBatch.Changes {
		c := &in.ChangeBatch.Changes[i]
		if err := checkRecord(c.Action, c.ResourceRecordSet); err != nil {
			return nil, err
		}
		for _, v := range c.ResourceRecordSet.ResourceRecords {
			values++
			chars += len(aws.ToString(v.Value))
		}
	}
	if values > maxRecordValues || chars > maxValueChars {
		return nil, errInvalidInput("The request has %d values of %d characters; Route 53 takes at most %d values and %d characters in one request.", values, chars, maxRecordValues, maxValueChars)
	}
	s := scopeOf(ctx)
	now := b.env.Clock()
	var c *change
	err := b.update(ctx, func(tx *sqlite.Tx) error {
		z, err := loadZone(tx, s, aws.ToString(in.HostedZoneId))
		if err != nil {
			return err
		}
		lookup := func(id string) *zone {
			other, err := loadZone(tx, s, id)
			if err != nil {
				return nil
			}
			return other
		}
		var msgs []string
		for _, ch := range in.ChangeBatch.Changes {
			problems := apply(z, ch)
			if len(problems) == 0 && ch.Action != types.ChangeActionDelete {
				problems = checkAlias(ch.ResourceRecordSet, z, lookup)
			}
			msgs = append(msgs, problems...)
		}
		if len(msgs) > 0 {
			return errChangeBatch(msgs)
		}
		if err := saveZone(tx, s, z); err != nil {
			return err
		}
		c, err = b.submit(tx, s, now, aws.ToString(in.ChangeBatch.Comment))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &r53.ChangeResourceRecordSetsOutput{ChangeInfo: c.api(now, b.insync)}, nil
}

// ListResourceRecordSets lists a zone's record sets in Route 53's order,
// from the first at or after StartRecordName (and type and identifier).
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListResourceRecordSets.html
func (b *Backend) ListResourceRecordSets(ctx context.Context, in *r53.ListResourceRecordSetsInput) (*r53.ListResourceRecordSetsOutput, error) {
	limit, err := pageSize(in.MaxItems, defaultRecordPage)
	if err != nil {
		return nil, err
	}
	if in.StartRecordType != "" && in.StartRecordName == nil {
		return nil, errInvalidInput("The input is not valid: you must specify the name with the type.")
	}
	if in.StartRecordIdentifier != nil && in.StartRecordType == "" {
		return nil, errInvalidInput("The input is not valid: you must specify the type with the identifier.")
	}
	var z *zone
	err = b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		z, err = loadZone(tx, scopeOf(ctx), aws.ToString(in.HostedZoneId))
		return err
	})
	if err != nil {
		return nil, err
	}
	records := slices.Clone(z.Records)
	slices.SortFunc(records, recordOrder)
	start := 0
	if in.StartRecordName != nil {
		name, err := normalize(aws.ToString(in.StartRecordName))
		if err != nil {
			return nil, errInvalidInput("The name '%s' is not a valid domain name: %v", aws.ToString(in.StartRecordName), err)
		}
		from := types.ResourceRecordSet{Name: aws.String(name), Type: in.StartRecordType, SetIdentifier: in.StartRecordIdentifier}
		start, _ = slices.BinarySearchFunc(records, from, recordOrder)
	}
	end := min(start+limit, len(records))
	out := &r53.ListResourceRecordSetsOutput{ResourceRecordSets: records[start:end], MaxItems: aws.Int32(int32(limit))}
	if end < len(records) {
		next := records[end]
		out.IsTruncated = true
		out.NextRecordName, out.NextRecordType, out.NextRecordIdentifier = next.Name, next.Type, next.SetIdentifier
	}
	return out, nil
}

// checkAlias checks the alias target of a set being created or upserted
// when it is a record set of one of the account's zones (looked up by
// zone id; z is the zone the batch changes, as changed so far): its name
// must lie within that zone and a record set of the same type must be
// there, as Route 53 requires. Targets elsewhere (load balancers, other
// AWS services) are taken as given.
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_AliasTarget.html
func checkAlias(r *types.ResourceRecordSet, z *zone, lookup func(id string) *zone) []string {
	a := r.AliasTarget
	if a == nil {
		return nil
	}
	targetID := bareID(aws.ToString(a.HostedZoneId))
	target := z
	if targetID != z.ID {
		if target = lookup(targetID); target == nil {
			return nil
		}
	}
	dns := aws.ToString(a.DNSName)
	if !within(dns, target.Name) {
		return []string{fmt.Sprintf("Tried to create an alias that targets %s, type %s in zone %s, but the alias target name does not lie within the target zone", dns, r.Type, targetID)}
	}
	if !slices.ContainsFunc(target.Records, func(o types.ResourceRecordSet) bool { return aws.ToString(o.Name) == dns && o.Type == r.Type }) {
		return []string{fmt.Sprintf("Tried to create an alias that targets %s, type %s in zone %s, but that target was not found", dns, r.Type, targetID)}
	}
	return nil
}
