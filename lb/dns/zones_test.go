package dns

import (
	"fmt"
	"testing"

	mdns "github.com/miekg/dns"
	"github.com/rs/zerolog"
)

func rr(t *testing.T, text string) mdns.RR {
	t.Helper()
	r, err := mdns.NewRR(text)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func set(t *testing.T, pick int, texts ...string) Set {
	s := Set{Pick: pick}
	for _, text := range texts {
		s.Records = append(s.Records, rr(t, text))
	}
	return s
}

// TestZones: berth is the authority of the zones it publishes: records,
// CNAME chains, aliases to load balancers' names, wildcards (RFC 4592),
// NXDOMAIN and NODATA with the zone's SOA (RFC 2308), empty non-terminals.
func TestZones(t *testing.T) {
	upstream := New(nil, zerolog.Nop())
	upstream.Publish([]Record{{Name: "outside.test", Address: "192.0.2.9"}})
	s := New([]string{serve(t, upstream)}, zerolog.Nop())
	s.Publish([]Record{{Name: "web-1.us-east-1.elb.amazonaws.com", Address: "127.10.0.1"}})
	s.PublishZones("route 53", []Zone{{
		Name: "example.test",
		Sets: []Set{
			set(t, 0, "example.test. 900 IN SOA ns-1.awsdns-01.org. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"),
			set(t, 0, "www.example.test. 300 IN A 192.0.2.1", "www.example.test. 300 IN A 192.0.2.2"),
			set(t, 0, "docs.example.test. 300 IN CNAME www.example.test."),
			set(t, 0, "ext.example.test. 300 IN CNAME outside.test."),
			set(t, 0, "*.apps.example.test. 60 IN A 192.0.2.3"),
			set(t, 0, "_web._tcp.example.test. 60 IN SRV 1 1 8080 www.example.test."),
		},
		Aliases: []Alias{{Name: "api.example.test", Type: mdns.TypeA, Target: "web-1.us-east-1.elb.amazonaws.com"}},
	}})
	addr := serve(t, s)

	a := func(r *mdns.Msg) []string {
		var out []string
		for _, x := range r.Answer {
			out = append(out, x.String())
		}
		return out
	}
	if r := ask(t, "udp", addr, "WWW.example.test", mdns.TypeA); !r.Authoritative || len(r.Answer) != 2 {
		t.Errorf("www A = %v", a(r))
	}
	if r := ask(t, "udp", addr, "docs.example.test", mdns.TypeA); len(r.Answer) != 3 || r.Answer[0].Header().Rrtype != mdns.TypeCNAME {
		t.Errorf("docs A (CNAME then www's A) = %v", a(r))
	}
	if r := ask(t, "udp", addr, "ext.example.test", mdns.TypeA); len(r.Answer) != 2 || r.Answer[1].(*mdns.A).A.String() != "192.0.2.9" {
		t.Errorf("ext A (CNAME then the upstream's A) = %v", a(r))
	}
	if r := ask(t, "udp", addr, "api.example.test", mdns.TypeA); len(r.Answer) != 1 || r.Answer[0].Header().Name != "api.example.test." || r.Answer[0].(*mdns.A).A.String() != "127.10.0.1" || r.Answer[0].Header().Ttl != 60 {
		t.Errorf("alias A = %v", a(r))
	}
	if r := ask(t, "udp", addr, "x.apps.example.test", mdns.TypeA); len(r.Answer) != 1 || r.Answer[0].Header().Name != "x.apps.example.test." {
		t.Errorf("wildcard A = %v", a(r))
	}
	if r := ask(t, "udp", addr, "_web._tcp.example.test", mdns.TypeSRV); len(r.Answer) != 1 || r.Answer[0].(*mdns.SRV).Port != 8080 {
		t.Errorf("SRV = %v", a(r))
	}
	for _, c := range []struct {
		name  string
		qtype uint16
		rcode int
	}{
		{"nope.example.test", mdns.TypeA, mdns.RcodeNameError},    // no such name
		{"www.example.test", mdns.TypeAAAA, mdns.RcodeSuccess},    // the name, not the type
		{"_tcp.example.test", mdns.TypeA, mdns.RcodeSuccess},      // an empty non-terminal exists
		{"a.b.www.example.test", mdns.TypeA, mdns.RcodeNameError}, // under an existing name, no wildcard
		{"x.apps.example.test", mdns.TypeAAAA, mdns.RcodeSuccess}, // the wildcard's name, not its type
		{"apps.example.test", mdns.TypeA, mdns.RcodeSuccess},      // the wildcard's parent exists
		{"web-1.us-east-1.elb.amazonaws.com", mdns.TypeAAAA, mdns.RcodeSuccess},
	} {
		r := ask(t, "udp", addr, c.name, c.qtype)
		if r.Rcode != c.rcode || len(r.Answer) != 0 {
			t.Errorf("%s %s: rcode %s, answer %v; want %s and none", c.name, mdns.TypeToString[c.qtype], mdns.RcodeToString[r.Rcode], a(r), mdns.RcodeToString[c.rcode])
		}
		if soa, ok := firstSOA(r); (c.name != "web-1.us-east-1.elb.amazonaws.com") != ok || ok && soa.Ns != "ns-1.awsdns-01.org." {
			t.Errorf("%s: authority %v, want the zone's SOA", c.name, r.Ns)
		}
	}
	// A zone removed is no longer berth's: its names go upstream.
	s.PublishZones("route 53", nil)
	if r := ask(t, "udp", addr, "www.example.test", mdns.TypeA); r.Rcode != mdns.RcodeServerFailure {
		t.Errorf("after removal: %v", a(r))
	}
}

func firstSOA(r *mdns.Msg) (*mdns.SOA, bool) {
	for _, x := range r.Ns {
		if soa, ok := x.(*mdns.SOA); ok {
			return soa, true
		}
	}
	return nil, false
}

// TestPickAndTruncate: a set that limits its answers (Cloud Map's
// MULTIVALUE: up to eight) gives that many; an answer larger than a UDP
// client's 512 bytes comes truncated (TC), whole over TCP (RFC 1035 §4.2.1).
func TestPickAndTruncate(t *testing.T) {
	s := New(nil, zerolog.Nop())
	var many, eight []string
	for i := range 100 {
		many = append(many, fmt.Sprintf("many.ns.test. 60 IN A 10.0.%d.%d", i/250, i%250+1))
	}
	for i := range 12 {
		eight = append(eight, fmt.Sprintf("multi.ns.test. 60 IN A 10.1.0.%d", i+1))
	}
	s.PublishZones("cloud map", []Zone{{Name: "ns.test", Sets: []Set{set(t, 0, many...), set(t, 8, eight...)}}})
	addr := serve(t, s)
	if r := ask(t, "udp", addr, "multi.ns.test", mdns.TypeA); len(r.Answer) != 8 {
		t.Errorf("MULTIVALUE gave %d records, want 8", len(r.Answer))
	}
	m := new(mdns.Msg)
	m.SetQuestion("many.ns.test.", mdns.TypeA)
	r, _, err := (&mdns.Client{Net: "udp"}).Exchange(m, addr)
	if err != nil || !r.Truncated || len(r.Answer) >= 100 {
		t.Errorf("UDP: truncated %v, %d records, %v", r != nil && r.Truncated, len(r.Answer), err)
	}
	if r := ask(t, "tcp", addr, "many.ns.test", mdns.TypeA); r.Truncated || len(r.Answer) != 100 {
		t.Errorf("TCP: %d records, truncated %v", len(r.Answer), r.Truncated)
	}
}

// FuzzAnswer: any message miekg/dns unpacks gets a reply that packs and
// fits, over UDP and TCP, from
// a table with zones, wildcards, aliases and CNAME loops; nothing panics.
func FuzzAnswer(f *testing.F) {
	for _, q := range []string{"www.example.test.", "x.apps.example.test.", "loop.example.test.", "api.example.test.", "al.example.test.", "nope.example.test.", "example.test.", "."} {
		for _, qtype := range []uint16{mdns.TypeA, mdns.TypeANY, mdns.TypeSOA} {
			m := new(mdns.Msg)
			m.SetQuestion(q, qtype)
			m.SetEdns0(600, false)
			b, _ := m.Pack()
			f.Add(b)
		}
	}
	s := New(nil, zerolog.Nop())
	s.PublishZones("test", []Zone{{
		Name: "example.test",
		Sets: []Set{
			{Records: []mdns.RR{&mdns.A{Hdr: mdns.RR_Header{Name: "www.example.test.", Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: 1}, A: []byte{192, 0, 2, 1}}}},
			{Records: []mdns.RR{&mdns.CNAME{Hdr: mdns.RR_Header{Name: "loop.example.test.", Rrtype: mdns.TypeCNAME, Class: mdns.ClassINET, Ttl: 1}, Target: "loop.example.test."}}},
			{Records: []mdns.RR{&mdns.A{Hdr: mdns.RR_Header{Name: "*.apps.example.test.", Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: 1}, A: []byte{192, 0, 2, 3}}}, Pick: 1},
		},
		Aliases: []Alias{{Name: "api.example.test", Type: mdns.TypeA, Target: "api.example.test"}, {Name: "al.example.test", Type: mdns.TypeCNAME, Target: "loop.example.test"}},
	}})
	f.Fuzz(func(t *testing.T, b []byte) {
		req := new(mdns.Msg)
		if req.Unpack(b) != nil {
			return
		}
		for _, network := range []string{"udp", "tcp"} {
			reply := s.reply(req, peer{network, "192.0.2.100"})
			out, err := reply.Pack()
			if err != nil {
				t.Fatalf("reply to %v does not pack: %v", req, err)
			}
			// A UDP reply fits the client's buffer (RFC 1035 §4.2.1,
			// RFC 6891 §6.2.5); it has an OPT record exactly when the
			// question has one (RFC 6891 §7).
			size := mdns.MinMsgSize
			if opt := req.IsEdns0(); opt != nil {
				size = min(max(size, int(opt.UDPSize())), udpSize)
			}
			if network == "udp" && len(out) > size {
				t.Fatalf("UDP reply of %d bytes to a client of %d", len(out), size)
			}
			if (req.IsEdns0() == nil) != (reply.IsEdns0() == nil) {
				t.Fatalf("reply %v to %v: OPT records do not match", reply, req)
			}
		}
	})
}

// TestLocalhost: localhost names are the loopback addresses, answered by
// berth itself (RFC 6761 §6.3), so a prefixed endpoint host such as
// data-berth.localhost resolves.
func TestLocalhost(t *testing.T) {
	addr := serve(t, New(nil, zerolog.Nop()))
	for _, name := range []string{"localhost", "berth.localhost", "data-berth.localhost", "a.b.LOCALHOST"} {
		if r := ask(t, "udp", addr, name, mdns.TypeA); len(r.Answer) != 1 || r.Answer[0].(*mdns.A).A.String() != "127.0.0.1" {
			t.Errorf("%s A = %v", name, r.Answer)
		}
		if r := ask(t, "udp", addr, name, mdns.TypeAAAA); len(r.Answer) != 1 || r.Answer[0].(*mdns.AAAA).AAAA.String() != "::1" {
			t.Errorf("%s AAAA = %v", name, r.Answer)
		}
	}
}
