package dns

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/rs/zerolog"
)

// exchange sends m to server over network and returns the reply.
func exchange(t *testing.T, network, server string, m *mdns.Msg) *mdns.Msg {
	t.Helper()
	reply, _, err := (&mdns.Client{Net: network}).Exchange(m, server)
	if err != nil {
		t.Fatalf("%v: %v", m.Question, err)
	}
	return reply
}

func question(name string, qtype uint16) *mdns.Msg {
	m := new(mdns.Msg)
	m.SetQuestion(name, qtype)
	return m
}

// TestEDNS: a reply carries an OPT record exactly when the question did
// (RFC 6891 §7), forwarded or not; an EDNS version other than 0 is
// BADVERS (RFC 6891 §6.1.3); two OPT records are FORMERR (RFC 6891
// §6.1.1).
func TestEDNS(t *testing.T) {
	upstream := New(nil, zerolog.Nop())
	upstream.Publish([]Record{{Name: "outside.test", Address: "192.0.2.9"}})
	s := New([]string{serve(t, upstream)}, zerolog.Nop())
	s.PublishZones("test", []Zone{{Name: "example.test", Sets: []Set{set(t, 0, "www.example.test. 60 IN A 192.0.2.1")}}})
	addr := serve(t, s)
	for _, name := range []string{"www.example.test.", "nope.example.test.", "outside.test."} {
		for _, network := range []string{"udp", "tcp"} {
			m := question(name, mdns.TypeA)
			if r := exchange(t, network, addr, m); r.IsEdns0() != nil {
				t.Errorf("%s %s without EDNS: reply has OPT %v", network, name, r.IsEdns0())
			}
			m.SetEdns0(1232, false)
			if r := exchange(t, network, addr, m); r.IsEdns0() == nil || r.Rcode == mdns.RcodeServerFailure {
				t.Errorf("%s %s with EDNS: reply %v, want an OPT record", network, name, r)
			}
		}
	}
	m := question("www.example.test.", mdns.TypeA)
	m.SetEdns0(1232, true)
	if r := exchange(t, "udp", addr, m); r.IsEdns0() == nil || !r.IsEdns0().Do() {
		t.Errorf("DO bit: %v, want it copied (RFC 3225 §3)", r)
	}
	m = question("www.example.test.", mdns.TypeA)
	m.SetEdns0(1232, false)
	m.IsEdns0().SetVersion(1)
	if r := exchange(t, "udp", addr, m); r.Rcode != mdns.RcodeBadVers || r.IsEdns0() == nil || r.IsEdns0().Version() != 0 {
		t.Errorf("EDNS version 1: %v, want BADVERS with an OPT of version 0", r)
	}
	m = question("www.example.test.", mdns.TypeA)
	m.SetEdns0(1232, false)
	m.Extra = append(m.Extra, m.Extra[0])
	if r := s.reply(m, peer{"udp", "192.0.2.100"}); r.Rcode != mdns.RcodeFormatError {
		t.Errorf("two OPT records: rcode %s, want FORMERR", mdns.RcodeToString[r.Rcode])
	}
}

// TestQuestionKinds: zone transfers are REFUSED (RFC 1035 §4.1.1), meta
// types and NOTIFY NOTIMP (RFC 1035 §4.1.1, RFC 1996); ANY answers one
// of the name's RRsets (RFC 8482 §4.1); the apex of a zone that
// publishes no SOA or NS has them (RFC 1034 §4.2.1); berth's own answers
// say recursion is available when it has upstreams (RFC 1035 §4.1.1, RA).
func TestQuestionKinds(t *testing.T) {
	s := New([]string{"192.0.2.53:53"}, zerolog.Nop())
	s.PublishZones("test", []Zone{{Name: "example.test", Sets: []Set{set(t, 0, "www.example.test. 60 IN A 192.0.2.1")}}})
	for _, c := range []struct {
		qtype uint16
		rcode int
	}{
		{mdns.TypeAXFR, mdns.RcodeRefused},
		{mdns.TypeIXFR, mdns.RcodeRefused},
		{mdns.TypeTSIG, mdns.RcodeNotImplemented},
		{mdns.TypeOPT, mdns.RcodeNotImplemented},
		{mdns.TypeMAILB, mdns.RcodeNotImplemented},
	} {
		for _, network := range []string{"udp", "tcp"} {
			if r := s.reply(question("example.test.", c.qtype), peer{network, "192.0.2.100"}); r.Rcode != c.rcode || len(r.Answer) != 0 {
				t.Errorf("%s over %s: %v, want %s", mdns.TypeToString[c.qtype], network, r, mdns.RcodeToString[c.rcode])
			}
		}
	}
	notify := question("example.test.", mdns.TypeSOA)
	notify.Opcode = mdns.OpcodeNotify
	if r := s.reply(notify, peer{"udp", "192.0.2.100"}); r.Rcode != mdns.RcodeNotImplemented {
		t.Errorf("NOTIFY: rcode %s, want NOTIMP", mdns.RcodeToString[r.Rcode])
	}
	for _, name := range []string{"www.example.test.", "example.test."} {
		r := s.reply(question(name, mdns.TypeANY), peer{"udp", "192.0.2.100"})
		if r.Rcode != mdns.RcodeSuccess || len(r.Answer) == 0 || !r.RecursionAvailable {
			t.Errorf("ANY %s: %v, want one of its RRsets", name, r)
		}
	}
	for _, qtype := range []uint16{mdns.TypeSOA, mdns.TypeNS} {
		r := s.reply(question("EXAMPLE.test.", qtype), peer{"udp", "192.0.2.100"})
		if len(r.Answer) != 1 || r.Answer[0].Header().Rrtype != qtype || r.Answer[0].Header().Name != "example.test." {
			t.Errorf("%s at the apex: %v", mdns.TypeToString[qtype], r)
		}
	}
}

// TestLargeAnswers: an answer larger than a TCP message can be (65,535
// bytes, RFC 1035 §4.2.2) comes compressed and truncated (TC) rather
// than not at all; over UDP it fits the client's buffer and berth's.
func TestLargeAnswers(t *testing.T) {
	s := New(nil, zerolog.Nop())
	var texts []string
	for i := range 400 {
		texts = append(texts, fmt.Sprintf(`big.example.test. 60 IN TXT "%03d%s" "%s"`, i, strings.Repeat("x", 250), strings.Repeat("y", 250)))
	}
	s.PublishZones("test", []Zone{{Name: "example.test", Sets: []Set{set(t, 0, texts...)}}})
	addr := serve(t, s)
	r := exchange(t, "tcp", addr, question("big.example.test.", mdns.TypeTXT))
	if !r.Truncated || len(r.Answer) == 0 {
		t.Errorf("TCP: truncated %v with %d records, want some, truncated", r.Truncated, len(r.Answer))
	}
	// A UDP reply fits the client's buffer and berth's own (1232 bytes,
	// DNS Flag Day 2020), the smaller (RFC 6891 §6.2.5).
	for _, c := range []struct{ client, want int }{{0, 512}, {700, 700}, {4096, 1232}, {65535, 1232}} {
		m := question("big.example.test.", mdns.TypeTXT)
		if c.client > 0 {
			m.SetEdns0(uint16(c.client), false)
		}
		r = exchange(t, "udp", addr, m)
		if b, err := r.Pack(); err != nil || len(b) > c.want || !r.Truncated {
			t.Errorf("UDP, client's buffer %d: %d bytes (%v), truncated %v; want at most %d, truncated", c.client, len(b), err, r.Truncated, c.want)
		}
	}
}

// TestLoops: a CNAME loop answers each record once (RFC 1034 §3.6.2: a
// loop is detected, not followed); an alias of type CNAME answers every
// type as a CNAME does; an alias loop answers nothing; a CNAME set of
// several records answers one (RFC 2181 §10.1).
func TestLoops(t *testing.T) {
	s := New(nil, zerolog.Nop())
	s.PublishZones("test", []Zone{{
		Name: "example.test",
		Sets: []Set{
			set(t, 0, "c1.example.test. 60 IN CNAME c2.example.test."),
			set(t, 0, "c2.example.test. 60 IN CNAME C1.example.test."),
			set(t, 0, "www.example.test. 60 IN A 192.0.2.1"),
			set(t, 0, "web.example.test. 60 IN CNAME www.example.test."),
			set(t, 8, "multi.example.test. 60 IN CNAME www.example.test.", "multi.example.test. 60 IN CNAME web.example.test."),
		},
		Aliases: []Alias{
			{Name: "al.example.test", Type: mdns.TypeCNAME, Target: "web.example.test"},
			{Name: "a1.example.test", Type: mdns.TypeA, Target: "a2.example.test"},
			{Name: "a2.example.test", Type: mdns.TypeA, Target: "a1.example.test"},
		},
	}})
	r := s.reply(question("c1.example.test.", mdns.TypeA), peer{"tcp", "192.0.2.100"})
	if len(r.Answer) != 2 {
		t.Errorf("CNAME loop: %v, want c1 and c2's CNAME once each", r.Answer)
	}
	r = s.reply(question("al.example.test.", mdns.TypeA), peer{"tcp", "192.0.2.100"})
	if len(r.Answer) != 2 || r.Answer[0].Header().Name != "al.example.test." || r.Answer[0].(*mdns.CNAME).Target != "www.example.test." || r.Answer[1].(*mdns.A).A.String() != "192.0.2.1" {
		t.Errorf("A of a CNAME alias: %v, want al CNAME www, www A", r.Answer)
	}
	if r := s.reply(question("a1.example.test.", mdns.TypeA), peer{"tcp", "192.0.2.100"}); len(r.Answer) != 0 || r.Rcode != mdns.RcodeSuccess {
		t.Errorf("alias loop: %v", r)
	}
	for range 10 {
		if r := s.reply(question("multi.example.test.", mdns.TypeA), peer{"tcp", "192.0.2.100"}); len(r.Answer) == 0 || countType(r.Answer, mdns.TypeCNAME, "multi.example.test.") != 1 {
			t.Errorf("CNAME set of two: %v, want one CNAME of multi", r.Answer)
		}
	}
}

func countType(rrs []mdns.RR, rtype uint16, name string) int {
	n := 0
	for _, rr := range rrs {
		if rr.Header().Rrtype == rtype && rr.Header().Name == name {
			n++
		}
	}
	return n
}

// TestOddNames: names of any bytes (Cloud Map instance ids may hold @,
// RFC 4343 §2.1 lets a label hold any octet, a dot escaped as \. among
// them) answer the question about them; a label with an escaped dot is
// one label (RFC 4343 §2.1), so a wildcard above it answers it (RFC 4592
// §2.2.1, the closest encloser).
func TestOddNames(t *testing.T) {
	s := New(nil, zerolog.Nop())
	s.PublishZones("test", []Zone{{
		Name: "example.test",
		Sets: []Set{
			{Records: []mdns.RR{&mdns.A{Hdr: mdns.RR_Header{Name: "odd@id.srv.example.test.", Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: 60}, A: net.IPv4(192, 0, 2, 1)}}},
			set(t, 0, `a\.b.example.test. 60 IN A 192.0.2.2`),
			set(t, 0, `*.wild.example.test. 60 IN A 192.0.2.3`),
			set(t, 0, `x.y.wild.example.test. 60 IN A 192.0.2.4`),
		},
	}})
	for _, c := range []struct{ wire, want string }{
		{"odd@id.srv.example.test.", "192.0.2.1"},
		{`a\.b.example.test.`, "192.0.2.2"},
		{`a\046B.example.test.`, "192.0.2.2"},
		{`q\.y.wild.example.test.`, "192.0.2.3"}, // one label under wild, whose wildcard answers it
	} {
		// Through the wire, as a client's question arrives.
		b, err := question(c.wire, mdns.TypeA).Pack()
		if err != nil {
			t.Fatal(err)
		}
		req := new(mdns.Msg)
		if err := req.Unpack(b); err != nil {
			t.Fatal(err)
		}
		r := s.reply(req, peer{"udp", "192.0.2.100"})
		if len(r.Answer) != 1 || r.Answer[0].(*mdns.A).A.String() != c.want {
			t.Errorf("%s: %v, want %s", c.wire, r, c.want)
		}
	}
	if r := s.reply(question("b.example.test.", mdns.TypeA), peer{"udp", "192.0.2.100"}); r.Rcode != mdns.RcodeNameError {
		t.Errorf(`b.example.test exists because of a\.b: %v`, r)
	}
}

// TestForwardLoop: a server whose upstream is itself answers SERVFAIL
// (its question comes back marked as its own) instead of forwarding it
// round until sockets run out.
func TestForwardLoop(t *testing.T) {
	pc, ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := New([]string{pc.LocalAddr().String()}, zerolog.Nop())
	addr := serveOn(t, s, pc, ln)
	for _, network := range []string{"udp", "tcp"} {
		if r := exchange(t, network, addr, question("loop.test.", mdns.TypeA)); r.Rcode != mdns.RcodeServerFailure {
			t.Errorf("%s: %v, want SERVFAIL", network, r)
		}
	}
}

// TestForwardBound: with maxForwardsPerClient of a client's questions
// waiting for upstreams, another of its questions is SERVFAIL at once,
// not forwarded, while another client's is; with maxForwards in all,
// every client's is. A question answered through a CNAME to an outside
// name counts too.
func TestForwardBound(t *testing.T) {
	upstream := New(nil, zerolog.Nop())
	upstream.Publish([]Record{{Name: "outside.test", Address: "192.0.2.9"}})
	s := New([]string{serve(t, upstream)}, zerolog.Nop())
	s.PublishZones("test", []Zone{{Name: "example.test", Sets: []Set{set(t, 0, "ext.example.test. 60 IN CNAME outside.test.")}}})
	greedy, other := peer{"udp", "192.0.2.100"}, peer{"udp", "192.0.2.101"}
	forwarded := func(from peer) bool {
		r := s.reply(question("outside.test.", mdns.TypeA), from)
		via := s.reply(question("ext.example.test.", mdns.TypeA), from)
		return len(r.Answer) == 1 && len(via.Answer) == 2
	}
	if !forwarded(greedy) {
		t.Fatal("not forwarded with nothing waiting")
	}
	for range maxForwardsPerClient {
		s.forwarding.take(greedy.host)
	}
	if forwarded(greedy) || !forwarded(other) {
		t.Errorf("with the greedy client's %d waiting: its forwarded %v, the other's %v; want false, true", maxForwardsPerClient, forwarded(greedy), forwarded(other))
	}
	for i := range maxForwards - maxForwardsPerClient {
		s.forwarding.take(fmt.Sprint(i))
	}
	if forwarded(other) {
		t.Errorf("with %d waiting, another client's question was forwarded", maxForwards)
	}
	s.forwarding.give(greedy.host)
	if !forwarded(other) {
		t.Error("with a place free, another client's question was not forwarded")
	}
}

// TestSlowTCPClients: a client holding as many TCP connections as one
// client may, sending nothing, does not keep the server from answering
// another over TCP (RFC 7766 §6.2.2); its next connection is closed at
// once, and one it closes frees a place.
func TestSlowTCPClients(t *testing.T) {
	s := New(nil, zerolog.Nop())
	s.Publish([]Record{{Name: "web.test", Address: "192.0.2.1"}})
	addr := serve(t, s)
	slow := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	var held []net.Conn
	for range maxTCPPerClient {
		c, err := slow.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte{0xff, 0xff}) // a 65,535-byte message, never sent
		held = append(held, c)
	}
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	if r := exchange(t, "tcp", addr, question("web.test.", mdns.TypeA)); len(r.Answer) != 1 {
		t.Errorf("another client: %v", r)
	}
	c, err := slow.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("a connection beyond the client's limit stays open")
	}
	c.Close()
	held[0].Close()
	// The server frees the place once it reads the close: ask until it
	// answers (a place not yet freed closes the connection).
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := slow.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		r, _, err := (&mdns.Client{Net: "tcp"}).ExchangeWithConn(question("web.test.", mdns.TypeA), &mdns.Conn{Conn: conn})
		conn.Close()
		if err == nil && len(r.Answer) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a place is freed: %v, %v", r, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestUnpackableRecords: a record that does not survive the wire (a
// target of more than 255 bytes, RFC 1035 §3.1) is left out, and the rest
// of its set answers in a reply a client reads.
func TestUnpackableRecords(t *testing.T) {
	long := strings.Repeat(strings.Repeat("a", 60)+".", 5) + "example.test."
	s := New(nil, zerolog.Nop())
	s.PublishZones("test", []Zone{{Name: "example.test", Sets: []Set{{Records: []mdns.RR{
		&mdns.SRV{Hdr: mdns.RR_Header{Name: "_x._tcp.example.test.", Rrtype: mdns.TypeSRV, Class: mdns.ClassINET, Ttl: 60}, Priority: 1, Weight: 1, Port: 80, Target: long},
		&mdns.SRV{Hdr: mdns.RR_Header{Name: "_x._tcp.example.test.", Rrtype: mdns.TypeSRV, Class: mdns.ClassINET, Ttl: 60}, Priority: 1, Weight: 1, Port: 81, Target: "ok.example.test."},
	}}}}})
	for _, network := range []string{"udp", "tcp"} {
		r := s.reply(question("_x._tcp.example.test.", mdns.TypeSRV), peer{network, "192.0.2.100"})
		b, err := r.Pack()
		if err == nil {
			err = new(mdns.Msg).Unpack(b)
		}
		if err != nil || len(r.Answer) != 1 || r.Answer[0].(*mdns.SRV).Port != 81 {
			t.Errorf("%s: %v (%v), want the SRV record of port 81", network, r, err)
		}
	}
}

// TestPublishWhileAsked: zones replaced and removed while questions are
// answered (a namespace or hosted zone deleted mid-query) answer from
// one table or the next, never a mix that fails (run with -race).
func TestPublishWhileAsked(t *testing.T) {
	s := New(nil, zerolog.Nop())
	zone := Zone{Name: "example.test", Sets: []Set{set(t, 8, "www.example.test. 60 IN A 192.0.2.1", "www.example.test. 60 IN A 192.0.2.2")}, Aliases: []Alias{{Name: "al.example.test", Type: mdns.TypeA, Target: "www.example.test"}}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			if i%2 == 0 {
				s.PublishZones("test", []Zone{zone})
			} else {
				s.PublishZones("test", nil)
			}
		}
	}()
	for range 200 {
		for _, name := range []string{"www.example.test.", "al.example.test."} {
			r := s.reply(question(name, mdns.TypeA), peer{"udp", "192.0.2.100"})
			if _, err := r.Pack(); err != nil || r.Rcode != mdns.RcodeSuccess && r.Rcode != mdns.RcodeServerFailure {
				t.Fatalf("%s: %v (%v)", name, r, err)
			}
		}
	}
	<-done
}

// TestChainToNowhere: a CNAME chain that ends at a name that does not
// exist, berth's or the upstream's, is NXDOMAIN with the chain (RFC 6604
// §3: the RCODE is the last name's; RFC 1034 §4.3.2 step 3c); one that
// ends at a name without the type asked is NOERROR.
func TestChainToNowhere(t *testing.T) {
	upstream := New(nil, zerolog.Nop())
	upstream.PublishZones("test", []Zone{{Name: "outside.test", Sets: []Set{set(t, 0, "www.outside.test. 60 IN TXT \"x\"")}}})
	s := New([]string{serve(t, upstream)}, zerolog.Nop())
	s.PublishZones("test", []Zone{{Name: "example.test", Sets: []Set{
		set(t, 0, "gone.example.test. 60 IN CNAME nope.example.test."),
		set(t, 0, "far.example.test. 60 IN CNAME nope.outside.test."),
		set(t, 0, "notype.example.test. 60 IN CNAME www.outside.test."),
	}}})
	for _, c := range []struct {
		name  string
		rcode int
	}{
		{"gone.example.test.", mdns.RcodeNameError},
		{"far.example.test.", mdns.RcodeNameError},
		{"notype.example.test.", mdns.RcodeSuccess},
	} {
		r := s.reply(question(c.name, mdns.TypeA), peer{"udp", "192.0.2.100"})
		if r.Rcode != c.rcode || len(r.Answer) != 1 || r.Answer[0].Header().Rrtype != mdns.TypeCNAME {
			t.Errorf("%s: %v, want the CNAME and %s", c.name, r, mdns.RcodeToString[c.rcode])
		}
	}
}
