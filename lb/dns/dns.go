// Package dns is berth's DNS server. It answers the names berth gives
// (its load balancers' DNS names) from a table the control plane
// publishes, and forwards every other question to the host's resolvers,
// so that a machine or a container pointed at it resolves berth's names
// and the rest of the world alike. Like the load balancers it never reads
// the store: it serves the last table published, swapped atomically.
// Message parsing and encoding are github.com/miekg/dns's.
package dns

import (
	"context"
	"net"
	"sync/atomic"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/rs/zerolog"
)

// Record is one address record berth serves: Name (a DNS name, any case,
// with or without the final dot) has the IPv4 or IPv6 Address.
type Record struct {
	Name    string
	Address string
}

// ttl is the time to live of berth's answers: load balancers' addresses
// are kept for 60 s by AWS's resolvers.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#dns-name
const ttl = 60

// forwardTimeout bounds one forwarded question.
const forwardTimeout = 5 * time.Second

// Server answers DNS questions over UDP and TCP.
type Server struct {
	names     atomic.Pointer[map[string][]net.IP] // by lower-case name with the final dot
	upstreams []string                            // host:port of the resolvers questions are forwarded to
	log       zerolog.Logger
}

// New returns a server that forwards what it cannot answer to upstreams
// (host:port; none: it answers SERVFAIL).
func New(upstreams []string, log zerolog.Logger) *Server {
	s := &Server{upstreams: upstreams, log: log}
	s.Publish(nil)
	return s
}

// Upstreams returns the resolvers of a resolv.conf file (port 53 unless
// it names one), or none when it cannot be read.
func Upstreams(resolvConf string) []string {
	config, err := mdns.ClientConfigFromFile(resolvConf)
	if err != nil {
		return nil
	}
	var out []string
	for _, server := range config.Servers {
		out = append(out, net.JoinHostPort(server, config.Port))
	}
	return out
}

// Publish replaces the records the server answers.
func (s *Server) Publish(records []Record) {
	names := map[string][]net.IP{}
	for _, r := range records {
		if ip := net.ParseIP(r.Address); ip != nil {
			name := mdns.CanonicalName(r.Name)
			names[name] = append(names[name], ip)
		}
	}
	s.names.Store(&names)
}

// Listen binds address (host:port) over UDP and TCP, as a DNS server
// serves both on one port. With port 0 the system picks a UDP port, which
// may be taken over TCP: Listen then tries other ports, up to 20 times.
func Listen(address string) (net.PacketConn, net.Listener, error) {
	_, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, nil, err
	}
	for try := 0; ; try++ {
		pc, err := net.ListenPacket("udp", address)
		if err != nil {
			return nil, nil, err
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		if port != "0" || try == 19 {
			return nil, nil, err
		}
	}
}

// Serve answers questions on pc (UDP) and ln (TCP) until ctx ends.
func (s *Server) Serve(ctx context.Context, pc net.PacketConn, ln net.Listener) {
	udp := &mdns.Server{PacketConn: pc, Handler: s}
	tcp := &mdns.Server{Listener: ln, Handler: s, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
	done := make(chan struct{}, 2)
	for _, srv := range []*mdns.Server{udp, tcp} {
		go func() {
			defer func() { done <- struct{}{} }()
			if err := srv.ActivateAndServe(); err != nil && ctx.Err() == nil {
				s.log.Warn().Err(err).Msg("DNS server stopped")
			}
		}()
	}
	<-ctx.Done()
	udp.Shutdown()
	tcp.Shutdown()
	<-done
	<-done
}

// ServeDNS answers one message: a question about a name berth gives from
// its table, any other forwarded. A panic answers SERVFAIL and is logged;
// the server goes on.
func (s *Server) ServeDNS(w mdns.ResponseWriter, req *mdns.Msg) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error().Interface("panic", p).Msg("answering a DNS question")
			m := new(mdns.Msg)
			m.SetRcode(req, mdns.RcodeServerFailure)
			w.WriteMsg(m)
		}
	}()
	w.WriteMsg(s.answer(req, w.RemoteAddr().Network()))
}

// answer is the reply to req, received over network (udp or tcp).
func (s *Server) answer(req *mdns.Msg, network string) *mdns.Msg {
	m := new(mdns.Msg)
	// One question a message, as every resolver sends (RFC 9619).
	if req.Opcode != mdns.OpcodeQuery || len(req.Question) != 1 {
		m.SetRcode(req, mdns.RcodeFormatError)
		return m
	}
	q := req.Question[0]
	ips, ours := (*s.names.Load())[mdns.CanonicalName(q.Name)]
	if !ours {
		return s.forward(req, network)
	}
	m.SetReply(req)
	m.Authoritative = true
	for _, ip := range ips {
		hdr := mdns.RR_Header{Name: q.Name, Class: mdns.ClassINET, Ttl: ttl}
		switch v4 := ip.To4(); {
		case q.Qtype == mdns.TypeA && v4 != nil:
			hdr.Rrtype = mdns.TypeA
			m.Answer = append(m.Answer, &mdns.A{Hdr: hdr, A: v4})
		case q.Qtype == mdns.TypeAAAA && v4 == nil:
			hdr.Rrtype = mdns.TypeAAAA
			m.Answer = append(m.Answer, &mdns.AAAA{Hdr: hdr, AAAA: ip})
		}
	}
	return m
}

// forward asks the upstream resolvers in turn and relays the first
// answer; SERVFAIL when none answers.
func (s *Server) forward(req *mdns.Msg, network string) *mdns.Msg {
	// Over the transport the question came by: a truncated UDP answer
	// goes back truncated, and the client asks again over TCP.
	client := &mdns.Client{Net: network, Timeout: forwardTimeout}
	for _, upstream := range s.upstreams {
		reply, _, err := client.Exchange(req, upstream)
		if err == nil && reply != nil {
			reply.Id = req.Id
			return reply
		}
		s.log.Debug().Err(err).Str("upstream", upstream).Msg("forwarding a DNS question")
	}
	m := new(mdns.Msg)
	m.SetRcode(req, mdns.RcodeServerFailure)
	return m
}
