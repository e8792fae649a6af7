package route53

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	mdns "github.com/miekg/dns"
	"github.com/rs/zerolog"

	"berth/backend"
	"berth/lb/dns"
	"berth/sqlite"
)

// Zone is a hosted zone as berth's DNS server answers for it.
type Zone struct {
	Account string
	ID      string
	// Name is the zone's name, lower case with a trailing dot, in DNS
	// presentation form (*.example.com., not \052.example.com.; see
	// presentation).
	Name string
	// Private is true for a zone that answers only in its VPCs.
	Private bool
	VPCs    []types.VPC
	// Records are the zone's record sets (names, and alias targets' DNS
	// names, as Name).
	Records []types.ResourceRecordSet
}

// Zones returns every hosted zone of every account.
func (b *Backend) Zones(ctx context.Context) ([]Zone, error) {
	var stored []sqlite.Keyed[zone]
	err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		stored, err = sqlite.ScanAll[zone](tx, kindZone, "")
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]Zone, len(stored))
	for i, k := range stored {
		z := k.Value
		records := slices.Clone(z.Records)
		for j := range records {
			name := presentation(*records[j].Name)
			records[j].Name = &name
			if a := records[j].AliasTarget; a != nil {
				target := *a
				dns := presentation(aws.ToString(a.DNSName))
				target.DNSName = &dns
				records[j].AliasTarget = &target
			}
		}
		out[i] = Zone{Account: k.Key.Account, ID: z.ID, Name: presentation(z.Name), Private: z.Private, VPCs: slices.Clone(z.VPCs), Records: records}
	}
	return out, nil
}

// PublishDNS gives publish every hosted zone as berth's DNS server answers
// it, now and after every change, until ctx ends.
func (b *Backend) PublishDNS(ctx context.Context, publish func([]dns.Zone), log zerolog.Logger) {
	backend.Republish(ctx, b.wake, b.env.Clock, func(ctx context.Context) (time.Time, error) {
		zones, err := b.Zones(ctx)
		if err != nil {
			return time.Time{}, err
		}
		publish(dns.ZonesOf(zones))
		return time.Time{}, nil
	}, log)
}

// DNS is the zone as berth's DNS server answers it, a private zone to its
// VPCs' clients: every record set's
// values, and alias records answered with their target's records (an
// ELB's DNS name with or without Route 53's "dualstack." prefix). Record
// sets of one name and type with set identifiers (weighted, latency,
// failover, ...) answer together: berth applies no routing policy.
// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resource-record-sets-choosing-alias-non-alias.html
func (z Zone) DNS() dns.Zone {
	out := dns.Zone{Name: z.Name}
	if z.Private {
		// A private zone answers in the VPCs associated with it.
		// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/hosted-zones-private.html
		for _, v := range z.VPCs {
			out.VPCs = append(out.VPCs, aws.ToString(v.VPCId))
		}
	}
	for _, r := range z.Records {
		name, rtype := aws.ToString(r.Name), mdns.StringToType[string(r.Type)]
		if a := r.AliasTarget; a != nil {
			target := strings.TrimPrefix(strings.ToLower(aws.ToString(a.DNSName)), "dualstack.")
			out.Aliases = append(out.Aliases, dns.Alias{Name: name, Type: rtype, Target: target})
			continue
		}
		var set dns.Set
		for _, v := range r.ResourceRecords {
			rr, err := mdns.NewRR(fmt.Sprintf("%s %d IN %s %s", name, aws.ToInt64(r.TTL), r.Type, aws.ToString(v.Value)))
			if err == nil && rr != nil {
				set.Records = append(set.Records, rr)
			}
		}
		out.Sets = append(out.Sets, set)
	}
	return out
}

// presentation is a name as Route 53 stores and returns it, with its
// escapes (a backslash and three octal digits for every character other
// than a-z, 0-9, - and _), written as a DNS server reads names (RFC 1035
// §5.1: a backslash and three decimal digits), so that every escaped
// character stays a byte of its label: a\040b.example.com. is the label
// "a b" under example.com, where reading the escapes as bytes gave a
// record set "a b.example.com. 60 IN A ...", which no zone file parser
// reads (nor a name holding ; or parentheses), and the set was dropped.
// * (\052) stays *, the wildcard Route 53 makes of it.
// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DomainNameFormat.html
func presentation(name string) string {
	var b strings.Builder
	write := func(c byte) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '*':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "\\%03d", c)
		}
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '\\' && i+3 < len(name) {
			if v, err := strconv.ParseUint(name[i+1:i+4], 8, 8); err == nil {
				write(byte(v))
				i += 3
				continue
			}
		}
		if c == '.' {
			b.WriteByte(c)
			continue
		}
		write(c)
	}
	return b.String()
}
