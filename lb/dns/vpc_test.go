package dns

import (
	"net/netip"
	"slices"
	"testing"

	mdns "github.com/miekg/dns"
	"github.com/rs/zerolog"
)

// TestPrivateZones: a private zone answers the clients in one of its VPCs;
// two private zones of one name in two VPCs each answer their own VPC's
// clients; a client in a VPC that a private zone of a name is associated
// with gets NXDOMAIN for a name that zone lacks, though a public zone of
// the same name has it, and the public zones under it are hidden; a
// client in a VPC of no private zone, or outside the private zone's VPCs,
// gets the public zone's answer (here the upstream's for a name only a
// private zone has); a client berth knows in no VPC gets every zone, as
// before.
//
// Expected values are Route 53's:
// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/hosted-zones-private.html
// ("To get an answer from a private hosted zone you also have to be
// running an EC2 instance in one of the associated VPCs"; from outside
// them the query goes to the public DNS) and
// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/hosted-zone-private-considerations.html
// ("Public and private hosted zones that have overlapping namespaces":
// "If there's a matching private hosted zone but there's no record that
// matches the domain name and type in the request, Resolver doesn't
// forward the request to a public DNS resolver. Instead, it returns
// NXDOMAIN").
func TestPrivateZones(t *testing.T) {
	upstream := New(nil, zerolog.Nop())
	// The public DNS: only.test has a www, local. has no names.
	upstream.PublishZones("internet", []Zone{{Name: "only.test", Sets: []Set{set(t, 0, "www.only.test. 60 IN A 203.0.113.1")}}, {Name: "local"}})
	s := New([]string{serve(t, upstream)}, zerolog.Nop())
	s.PublishZones("route 53", []Zone{
		{Name: "corp.test", VPCs: []string{"vpc-a"}, Sets: []Set{set(t, 0, "www.corp.test. 60 IN A 10.0.0.1")}},
		{Name: "corp.test", VPCs: []string{"vpc-b", "vpc-c"}, Sets: []Set{set(t, 0, "www.corp.test. 60 IN A 10.1.0.1")}},
		{Name: "corp.test", Sets: []Set{
			set(t, 0, "www.corp.test. 60 IN A 192.0.2.1"),
			set(t, 0, "pub.corp.test. 60 IN A 192.0.2.2"),
		}},
		{Name: "sub.corp.test", Sets: []Set{set(t, 0, "x.sub.corp.test. 60 IN A 192.0.2.3")}},
		{Name: "only.test", VPCs: []string{"vpc-a"}, Sets: []Set{set(t, 0, "www.only.test. 60 IN A 10.0.0.2")}},
	})
	s.PublishZones("cloud map", []Zone{
		{Name: "local", VPCs: []string{"vpc-b"}, Sets: []Set{set(t, 0, "api.local. 60 IN A 10.1.0.9")}},
	})
	s.Publish([]Record{{Name: "web-1.us-east-1.elb.amazonaws.com", Address: "127.10.0.1"}})
	s.PublishClients(map[netip.Addr]string{
		netip.MustParseAddr("10.0.0.5"): "vpc-a",
		netip.MustParseAddr("10.1.0.5"): "vpc-b",
		netip.MustParseAddr("10.2.0.5"): "vpc-c",
		netip.MustParseAddr("10.9.0.5"): "vpc-z", // no private zone's
	})
	const nx, ok = mdns.RcodeNameError, mdns.RcodeSuccess
	for _, c := range []struct {
		client, name string
		rcode        int
		want         []string // the A records' addresses
	}{
		{"10.0.0.5", "www.corp.test.", ok, []string{"10.0.0.1"}},
		{"10.0.0.5", "pub.corp.test.", nx, nil},
		{"10.0.0.5", "x.sub.corp.test.", nx, nil},
		{"10.0.0.5", "www.only.test.", ok, []string{"10.0.0.2"}},
		{"10.0.0.5", "api.local.", nx, nil}, // vpc-b's namespace: not here, nor in the public DNS
		{"10.0.0.5", "web-1.us-east-1.elb.amazonaws.com.", ok, []string{"127.10.0.1"}},
		{"10.1.0.5", "www.corp.test.", ok, []string{"10.1.0.1"}},
		{"10.1.0.5", "api.local.", ok, []string{"10.1.0.9"}},
		{"10.1.0.5", "www.only.test.", ok, []string{"203.0.113.1"}},
		{"10.2.0.5", "www.corp.test.", ok, []string{"10.1.0.1"}},
		{"10.9.0.5", "www.corp.test.", ok, []string{"192.0.2.1"}},
		{"10.9.0.5", "pub.corp.test.", ok, []string{"192.0.2.2"}},
		{"10.9.0.5", "x.sub.corp.test.", ok, []string{"192.0.2.3"}},
		{"10.9.0.5", "www.only.test.", ok, []string{"203.0.113.1"}},
		// Clients berth knows in no VPC: every zone, those of one name
		// together.
		{"192.0.2.100", "www.corp.test.", ok, []string{"10.0.0.1", "10.1.0.1", "192.0.2.1"}},
		{"127.0.0.1", "api.local.", ok, []string{"10.1.0.9"}},
		{"::1", "pub.corp.test.", ok, []string{"192.0.2.2"}},
	} {
		r := s.reply(question(c.name, mdns.TypeA), peer{"udp", c.client})
		var got []string
		for _, rr := range r.Answer {
			if a, isA := rr.(*mdns.A); isA {
				got = append(got, a.A.String())
			}
		}
		slices.Sort(got)
		if r.Rcode != c.rcode || !slices.Equal(got, c.want) {
			t.Errorf("%s asks %s: %s %v, want %s %v", c.client, c.name, mdns.RcodeToString[r.Rcode], got, mdns.RcodeToString[c.rcode], c.want)
		}
	}

	// A later table moves the clients: 10.0.0.5 is no longer known.
	s.PublishClients(map[netip.Addr]string{netip.MustParseAddr("10.1.0.5"): "vpc-a"})
	if r := s.reply(question("www.corp.test.", mdns.TypeA), peer{"udp", "10.1.0.5"}); len(r.Answer) != 1 || r.Answer[0].(*mdns.A).A.String() != "10.0.0.1" {
		t.Errorf("10.1.0.5, now in vpc-a: %v", r.Answer)
	}
	if r := s.reply(question("www.corp.test.", mdns.TypeA), peer{"udp", "10.0.0.5"}); len(r.Answer) != 3 {
		t.Errorf("10.0.0.5, now unknown: %v", r.Answer)
	}
	// Zones published after the clients keep them.
	s.PublishZones("cloud map", nil)
	if r := s.reply(question("www.corp.test.", mdns.TypeA), peer{"udp", "10.1.0.5"}); len(r.Answer) != 1 || r.Answer[0].(*mdns.A).A.String() != "10.0.0.1" {
		t.Errorf("10.1.0.5 after zones changed: %v", r.Answer)
	}
}
