package route53

import (
	"context"
	"fmt"
	"slices"
	"strings"

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
	// Name is the zone's name, lower case with a trailing dot, escapes
	// read (*.example.com., not \052.example.com.).
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
			name := display(*records[j].Name)
			records[j].Name = &name
			if a := records[j].AliasTarget; a != nil {
				target := *a
				dns := display(aws.ToString(a.DNSName))
				target.DNSName = &dns
				records[j].AliasTarget = &target
			}
		}
		out[i] = Zone{Account: k.Key.Account, ID: z.ID, Name: display(z.Name), Private: z.Private, VPCs: slices.Clone(z.VPCs), Records: records}
	}
	return out, nil
}

// PublishDNS gives publish every hosted zone as berth's DNS server answers
// it, now and after every change, until ctx ends.
func (b *Backend) PublishDNS(ctx context.Context, publish func([]dns.Zone), log zerolog.Logger) {
	backend.Republish(ctx, b.wake, func(ctx context.Context) error {
		zones, err := b.Zones(ctx)
		if err != nil {
			return err
		}
		out := make([]dns.Zone, len(zones))
		for i, z := range zones {
			out[i] = z.DNS()
		}
		publish(out)
		return nil
	}, log)
}

// DNS is the zone as berth's DNS server answers it: every record set's
// values, and alias records answered with their target's records (an
// ELB's DNS name with or without Route 53's "dualstack." prefix). Record
// sets of one name and type with set identifiers (weighted, latency,
// failover, ...) answer together: berth applies no routing policy.
// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resource-record-sets-choosing-alias-non-alias.html
func (z Zone) DNS() dns.Zone {
	out := dns.Zone{Name: z.Name}
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
