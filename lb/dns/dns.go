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
	"math/rand/v2"
	"net"
	"strings"
	"sync"
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

// Zone is what berth answers for one zone. With a Name (its apex), berth
// is the zone's authority: a name at or under the apex that has no
// records does not exist (NXDOMAIN), and negative answers carry the
// zone's SOA record (its own at the apex in Sets, else berth's default).
// Without one, Sets are loose names (load balancers' names): berth
// answers them and forwards every other question.
type Zone struct {
	Name    string
	Sets    []Set
	Aliases []Alias
}

// Set is the records of one name and type (an RRset).
type Set struct {
	Records []mdns.RR
	// Pick is how many of the records one answer carries, chosen at
	// random when there are more (Cloud Map's MULTIVALUE answers up to 8,
	// WEIGHTED one); 0 is all of them.
	Pick int
}

// Alias is an alias record (Route 53's AliasTarget): a question of Type
// about Name is answered with Target's records of that type, under Name.
type Alias struct {
	Name, Target string
	Type         uint16
}

// ttl is the time to live of berth's answers about load balancers: their
// addresses are kept for 60 s by AWS's resolvers.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#dns-name
const ttl = 60

// forwardTimeout bounds one forwarded question.
const forwardTimeout = 5 * time.Second

// maxChain bounds the CNAME and alias records one answer follows.
const maxChain = 8

// Server answers DNS questions over UDP and TCP.
type Server struct {
	mu      sync.Mutex        // serializes Publish and PublishZones
	sources map[string][]Zone // what each source published, guarded by mu
	table   atomic.Pointer[table]

	upstreams []string // host:port of the resolvers questions are forwarded to
	log       zerolog.Logger
}

// New returns a server that forwards what it cannot answer to upstreams
// (host:port; none: it answers SERVFAIL).
func New(upstreams []string, log zerolog.Logger) *Server {
	s := &Server{upstreams: upstreams, log: log, sources: map[string][]Zone{"localhost": {localhost()}}}
	s.table.Store(build(s.sources["localhost"]))
	return s
}

// localhost is the zone of localhost names: localhost. and every name
// under it have the loopback addresses, as a DNS server answers them
// without asking anyone (RFC 6761 §6.3). So an endpoint such as
// http://berth.localhost:4566 keeps resolving when an SDK prefixes its
// host (data-berth.localhost for Cloud Map's DiscoverInstances).
func localhost() Zone {
	z := Zone{Name: "localhost."}
	for _, name := range []string{"localhost.", "*.localhost."} {
		z.Sets = append(z.Sets,
			Set{Records: []mdns.RR{&mdns.A{Hdr: mdns.RR_Header{Name: name, Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: 86400}, A: net.IPv4(127, 0, 0, 1).To4()}}},
			Set{Records: []mdns.RR{&mdns.AAAA{Hdr: mdns.RR_Header{Name: name, Rrtype: mdns.TypeAAAA, Class: mdns.ClassINET, Ttl: 86400}, AAAA: net.IPv6loopback}}})
	}
	return z
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

// Publish replaces the load balancers' address records the server
// answers.
func (s *Server) Publish(records []Record) {
	sets := map[string]*Set{}
	var order []string
	for _, r := range records {
		ip := net.ParseIP(r.Address)
		if ip == nil {
			continue
		}
		hdr := mdns.RR_Header{Name: mdns.CanonicalName(r.Name), Class: mdns.ClassINET, Ttl: ttl}
		var rr mdns.RR
		if v4 := ip.To4(); v4 != nil {
			hdr.Rrtype = mdns.TypeA
			rr = &mdns.A{Hdr: hdr, A: v4}
		} else {
			hdr.Rrtype = mdns.TypeAAAA
			rr = &mdns.AAAA{Hdr: hdr, AAAA: ip}
		}
		k := hdr.Name + "/" + mdns.TypeToString[hdr.Rrtype]
		if sets[k] == nil {
			sets[k] = &Set{}
			order = append(order, k)
		}
		sets[k].Records = append(sets[k].Records, rr)
	}
	z := Zone{}
	for _, k := range order {
		z.Sets = append(z.Sets, *sets[k])
	}
	s.PublishZones("load balancers", []Zone{z})
}

// PublishZones replaces what source (a name of the caller's choosing:
// "cloud map", "route 53") publishes. Zones of one name from several
// sources, or twice from one, answer together.
func (s *Server) PublishZones(source string, zones []Zone) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sources[source] = zones
	var all []Zone
	for _, z := range s.sources {
		all = append(all, z...)
	}
	s.table.Store(build(all))
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
	network := w.RemoteAddr().Network()
	m := s.answer(req, network)
	if network == "udp" {
		// What does not fit the client's buffer (512 bytes, or its EDNS
		// size) goes truncated; the client asks again over TCP (RFC 1035
		// §4.2.1, RFC 6891).
		size := mdns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil {
			size = max(int(opt.UDPSize()), mdns.MinMsgSize)
		}
		m.Truncate(size)
	}
	w.WriteMsg(m)
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
	t := s.table.Load()
	name := mdns.CanonicalName(q.Name)
	apex, inZone := t.zoneOf(name)
	if !inZone && !t.names[name] {
		return s.forward(req, network)
	}
	m.SetReply(req)
	m.Authoritative = true
	m.Answer = s.lookup(t, name, q.Qtype, network, 0)
	if len(m.Answer) > 0 {
		return m
	}
	if t.owner(name) == "" {
		m.Rcode = mdns.RcodeNameError
	}
	if inZone {
		m.Ns = []mdns.RR{t.soa[apex]}
	}
	return m
}

// lookup is the answer about name (canonical) of type qtype: its records,
// an alias's target's records under name, or a CNAME record followed by
// its target's records; a target that is not berth's is asked upstream.
func (s *Server) lookup(t *table, name string, qtype uint16, network string, depth int) []mdns.RR {
	if depth > maxChain {
		return nil
	}
	owner := t.owner(name)
	if owner == "" {
		return nil
	}
	if set := t.sets[setKey{owner, qtype}]; set != nil {
		return set.answer(name)
	}
	if target, ok := t.aliases[setKey{owner, qtype}]; ok {
		var out []mdns.RR
		for _, rr := range s.lookup(t, target, qtype, network, depth+1) {
			if rr.Header().Rrtype == qtype {
				rr = mdns.Copy(rr)
				rr.Header().Name = name
				out = append(out, rr)
			}
		}
		return out
	}
	if qtype == mdns.TypeCNAME {
		return nil
	}
	set := t.sets[setKey{owner, mdns.TypeCNAME}]
	if set == nil {
		return nil
	}
	out := set.answer(name)
	target := mdns.CanonicalName(out[0].(*mdns.CNAME).Target)
	if _, inZone := t.zoneOf(target); inZone || t.names[target] {
		return append(out, s.lookup(t, target, qtype, network, depth+1)...)
	}
	q := new(mdns.Msg)
	q.SetQuestion(target, qtype)
	if reply := s.forward(q, network); reply.Rcode == mdns.RcodeSuccess {
		out = append(out, reply.Answer...)
	}
	return out
}

// setKey is a set's canonical owner name and type.
type setKey struct {
	name  string
	rtype uint16
}

// table is one published state of every source, read without locks.
type table struct {
	sets    map[setKey]*Set
	aliases map[setKey]string // alias name and type → target, canonical
	// names are the names that exist: owners of sets and aliases, and
	// the names between them and their zone's apex.
	names map[string]bool
	soa   map[string]mdns.RR // by zone apex, canonical
}

// build indexes zones into a table.
func build(zones []Zone) *table {
	t := &table{sets: map[setKey]*Set{}, aliases: map[setKey]string{}, names: map[string]bool{}, soa: map[string]mdns.RR{}}
	for _, z := range zones {
		apex := ""
		if z.Name != "" {
			apex = mdns.CanonicalName(z.Name)
			t.names[apex] = true
			if t.soa[apex] == nil {
				t.soa[apex] = SOA(apex, 900)
			}
		}
		exists := func(name string) {
			for ; name != apex && !t.names[name]; name = parent(name) {
				t.names[name] = true
				if apex == "" || name == "." {
					return
				}
			}
		}
		for _, set := range z.Sets {
			if len(set.Records) == 0 {
				continue
			}
			h := set.Records[0].Header()
			k := setKey{mdns.CanonicalName(h.Name), h.Rrtype}
			if old := t.sets[k]; old != nil {
				merged := Set{Records: append(append([]mdns.RR(nil), old.Records...), set.Records...), Pick: max(old.Pick, set.Pick)}
				set = merged
			}
			t.sets[k] = &set
			exists(k.name)
			if k.rtype == mdns.TypeSOA && k.name == apex {
				t.soa[apex] = set.Records[0]
			}
		}
		for _, a := range z.Aliases {
			name := mdns.CanonicalName(a.Name)
			t.aliases[setKey{name, a.Type}] = mdns.CanonicalName(a.Target)
			exists(name)
		}
	}
	return t
}

// parent is name without its first label ("." for a top-level name).
func parent(name string) string {
	if _, rest, ok := strings.Cut(name, "."); ok && rest != "" {
		return rest
	}
	return "."
}

// zoneOf is the apex of the closest zone holding name.
func (t *table) zoneOf(name string) (string, bool) {
	for n := name; ; n = parent(n) {
		if _, ok := t.soa[n]; ok {
			return n, true
		}
		if n == "." {
			return "", false
		}
	}
}

// owner is the name whose records answer for name: name itself when it
// exists, else the wildcard of its closest existing ancestor in its zone,
// if there is one (RFC 4592 §3.3.1); "" when neither exists.
func (t *table) owner(name string) string {
	if t.names[name] {
		return name
	}
	apex, ok := t.zoneOf(name)
	if !ok {
		return ""
	}
	n := parent(name)
	for !t.names[n] && n != apex {
		n = parent(n)
	}
	if t.names["*."+n] {
		return "*." + n
	}
	return ""
}

// answer is the set's records under name (a wildcard's take the name
// asked), Pick of them at random when the set limits them.
func (set *Set) answer(name string) []mdns.RR {
	records := set.Records
	if set.Pick > 0 && len(records) > set.Pick {
		records = make([]mdns.RR, 0, set.Pick)
		for _, i := range rand.Perm(len(set.Records))[:set.Pick] {
			records = append(records, set.Records[i])
		}
	}
	out := make([]mdns.RR, len(records))
	for i, rr := range records {
		if rr.Header().Name != name {
			rr = mdns.Copy(rr)
			rr.Header().Name = name
		}
		out[i] = rr
	}
	return out
}

// SOA is an SOA record for apex with the values Route 53 gives a new
// hosted zone's (a 900 s TTL), the SOA of a zone that publishes none.
// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/SOA-NSrecords.html
func SOA(apex string, ttl uint32) mdns.RR {
	return &mdns.SOA{
		Hdr: mdns.RR_Header{Name: mdns.CanonicalName(apex), Rrtype: mdns.TypeSOA, Class: mdns.ClassINET, Ttl: ttl},
		Ns:  "ns-2048.awsdns-64.net.", Mbox: "awsdns-hostmaster.amazon.com.",
		Serial: 1, Refresh: 7200, Retry: 900, Expire: 1209600, Minttl: 86400,
	}
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
