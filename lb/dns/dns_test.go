package dns

import (
	"context"
	"net"
	"testing"

	mdns "github.com/miekg/dns"
	"github.com/rs/zerolog"
)

// serve starts s on loopback and returns its address.
func serve(t *testing.T, s *Server) string {
	t.Helper()
	pc, ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveOn(t, s, pc, ln)
}

// serveOn starts s on pc and ln and returns its address.
func serveOn(t *testing.T, s *Server, pc net.PacketConn, ln net.Listener) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Serve(ctx, pc, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return pc.LocalAddr().String()
}

func ask(t *testing.T, network, server, name string, qtype uint16) *mdns.Msg {
	t.Helper()
	m := new(mdns.Msg)
	m.SetQuestion(mdns.Fqdn(name), qtype)
	reply, _, err := (&mdns.Client{Net: network}).Exchange(m, server)
	if err != nil {
		t.Fatalf("%s %s: %v", name, mdns.TypeToString[qtype], err)
	}
	return reply
}

// TestAnswersPublishedNames: a published name answers its addresses,
// any case, over UDP and TCP, authoritatively; a name berth does not
// give goes upstream, whose answer is relayed.
func TestAnswersPublishedNames(t *testing.T) {
	upstream := New(nil, zerolog.Nop())
	upstream.Publish([]Record{{Name: "example.test", Address: "192.0.2.7"}})
	s := New([]string{serve(t, upstream)}, zerolog.Nop())
	s.Publish([]Record{
		{Name: "web-123.us-east-1.elb.amazonaws.com", Address: "127.10.0.1"},
		{Name: "dual-9.us-east-1.elb.amazonaws.com.", Address: "fd00::1"},
	})
	addr := serve(t, s)
	for _, network := range []string{"udp", "tcp"} {
		r := ask(t, network, addr, "WEB-123.us-east-1.elb.amazonaws.com", mdns.TypeA)
		if !r.Authoritative || len(r.Answer) != 1 || r.Answer[0].(*mdns.A).A.String() != "127.10.0.1" {
			t.Errorf("%s: A = %v", network, r)
		}
	}
	if r := ask(t, "udp", addr, "web-123.us-east-1.elb.amazonaws.com", mdns.TypeAAAA); r.Rcode != mdns.RcodeSuccess || len(r.Answer) != 0 {
		t.Errorf("AAAA of an IPv4 name = %v, want no answer, no error", r)
	}
	if r := ask(t, "udp", addr, "dual-9.us-east-1.elb.amazonaws.com", mdns.TypeAAAA); len(r.Answer) != 1 {
		t.Errorf("AAAA = %v", r)
	}
	if r := ask(t, "udp", addr, "example.test", mdns.TypeA); len(r.Answer) != 1 || r.Answer[0].(*mdns.A).A.String() != "192.0.2.7" {
		t.Errorf("forwarded A = %v", r)
	}
}

// TestNoUpstream: a question berth cannot answer or forward is SERVFAIL;
// a message with two questions is FORMERR.
func TestNoUpstream(t *testing.T) {
	addr := serve(t, New(nil, zerolog.Nop()))
	if r := ask(t, "udp", addr, "example.test", mdns.TypeA); r.Rcode != mdns.RcodeServerFailure {
		t.Errorf("rcode %s, want SERVFAIL", mdns.RcodeToString[r.Rcode])
	}
	m := new(mdns.Msg)
	m.SetQuestion("a.test.", mdns.TypeA)
	m.Question = append(m.Question, mdns.Question{Name: "b.test.", Qtype: mdns.TypeA, Qclass: mdns.ClassINET})
	r, _, err := new(mdns.Client).Exchange(m, addr)
	if err != nil || r.Rcode != mdns.RcodeFormatError {
		t.Errorf("two questions: %v, %v", r, err)
	}
}
