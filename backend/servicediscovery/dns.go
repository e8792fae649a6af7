package servicediscovery

import (
	"context"
	"math"
	"net"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	mdns "github.com/miekg/dns"
	"github.com/rs/zerolog"

	"berth/backend"
	"berth/lb/dns"
)

// multivalueAnswers is how many healthy records a MULTIVALUE service's
// answer carries.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_DnsConfig.html
const multivalueAnswers = 8

// PublishDNS gives publish the zones of every DNS namespace, now and after
// every change, until ctx ends.
func (b *Backend) PublishDNS(ctx context.Context, publish func([]dns.Zone), log zerolog.Logger) {
	backend.Republish(ctx, b.wake, b.env.Clock, func(ctx context.Context) (time.Time, error) {
		zones, err := b.Records(ctx)
		if err != nil {
			return time.Time{}, err
		}
		publish(dns.ZonesOf(zones))
		return time.Time{}, nil
	}, log)
}

// DNS is the zone as berth's DNS server answers it, as Route 53 answers a
// namespace's hosted zone (a private namespace's to the clients in its
// VPC): each service's records under <service>.<namespace>, one per
// instance, of its healthy instances (all of them when none is healthy).
// https://docs.aws.amazon.com/cloud-map/latest/api/API_DnsRecord.html
func (z Zone) DNS() dns.Zone {
	out := dns.Zone{Name: z.Name}
	if z.Private && z.Vpc != "" {
		// A private DNS namespace's hosted zone is associated with its
		// VPC.
		// https://docs.aws.amazon.com/cloud-map/latest/api/API_CreatePrivateDnsNamespace.html
		out.VPCs = []string{z.Vpc}
	}
	if z.SOATTL != nil {
		out.Sets = append(out.Sets, dns.Set{Records: []mdns.RR{dns.SOA(z.Name, uint32(min(max(*z.SOATTL, 0), math.MaxInt32)))}})
	}
	for _, v := range z.Services {
		name := mdns.CanonicalName(v.Name + "." + z.Name)
		pick := multivalueAnswers
		if v.RoutingPolicy == types.RoutingPolicyWeighted {
			pick = 1 // one record, chosen at random
		}
		instances := v.Instances
		var healthy []Endpoint
		for _, i := range instances {
			if i.Healthy {
				healthy = append(healthy, i)
			}
		}
		if len(healthy) > 0 {
			instances = healthy
		}
		sets := map[uint16]*dns.Set{}
		add := func(rr mdns.RR) {
			h := rr.Header()
			h.Class = mdns.ClassINET
			if h.Name == name {
				if sets[h.Rrtype] == nil {
					sets[h.Rrtype] = &dns.Set{Pick: pick}
				}
				sets[h.Rrtype].Records = append(sets[h.Rrtype].Records, rr)
				return
			}
			out.Sets = append(out.Sets, dns.Set{Records: []mdns.RR{rr}})
		}
		for _, i := range instances {
			ipv4, ipv6 := net.ParseIP(i.Attributes["AWS_INSTANCE_IPV4"]).To4(), net.ParseIP(i.Attributes["AWS_INSTANCE_IPV6"])
			if ipv6 != nil && ipv6.To4() != nil {
				ipv6 = nil
			}
			if alias := i.Attributes["AWS_ALIAS_DNS_NAME"]; alias != "" {
				for _, r := range v.Records {
					if t := mdns.StringToType[string(r.Type)]; t == mdns.TypeA || t == mdns.TypeAAAA {
						out.Aliases = append(out.Aliases, dns.Alias{Name: name, Type: t, Target: alias})
					}
				}
				continue
			}
			for _, r := range v.Records {
				hdr := func(owner string, t uint16) mdns.RR_Header {
					return mdns.RR_Header{Name: owner, Rrtype: t, Ttl: uint32(min(max(aws.ToInt64(r.TTL), 0), math.MaxInt32))}
				}
				switch r.Type {
				case types.RecordTypeA:
					if ipv4 != nil {
						add(&mdns.A{Hdr: hdr(name, mdns.TypeA), A: ipv4})
					}
				case types.RecordTypeAaaa:
					if ipv6 != nil {
						add(&mdns.AAAA{Hdr: hdr(name, mdns.TypeAAAA), AAAA: ipv6})
					}
				case types.RecordTypeCname:
					if target := i.Attributes["AWS_INSTANCE_CNAME"]; target != "" {
						add(&mdns.CNAME{Hdr: hdr(name, mdns.TypeCNAME), Target: mdns.Fqdn(target)})
					}
				case types.RecordTypeSrv:
					// priority and weight 1; the target is
					// <instance id>.<service>.<namespace>, which has A and
					// AAAA records of the instance's addresses.
					port, err := strconv.ParseUint(i.Attributes["AWS_INSTANCE_PORT"], 10, 16)
					if err != nil {
						continue
					}
					host := mdns.CanonicalName(i.ID + "." + name)
					add(&mdns.SRV{Hdr: hdr(name, mdns.TypeSRV), Priority: 1, Weight: 1, Port: uint16(port), Target: host})
					if ipv4 != nil {
						add(&mdns.A{Hdr: hdr(host, mdns.TypeA), A: ipv4})
					}
					if ipv6 != nil {
						add(&mdns.AAAA{Hdr: hdr(host, mdns.TypeAAAA), AAAA: ipv6})
					}
				}
			}
		}
		for _, t := range []uint16{mdns.TypeA, mdns.TypeAAAA, mdns.TypeCNAME, mdns.TypeSRV} {
			if set := sets[t]; set != nil {
				out.Sets = append(out.Sets, *set)
			}
		}
	}
	return out
}
