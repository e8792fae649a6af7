// Package dns is berth's DNS server. It answers the names berth gives
// (its load balancers' DNS names) from a table the control plane
// publishes, and forwards every other question to the host's resolvers,
// so that a machine or a container pointed at it resolves berth's names
// and the rest of the world alike. Like the load balancers it never reads
// the store: it serves the last table published, swapped atomically.
// Message parsing and encoding are github.com/miekg/dns's.
package dns

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
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
	Name string
	// VPCs are a private zone's VPCs (their ids): berth answers it to
	// the clients in one of them, and to the clients in no VPC it knows
	// of (see PublishClients); none: a public zone, answered to every
	// client.
	VPCs    []string
	Sets    []Set
	Aliases []Alias
}

// ZonesOf converts what a backend keeps (a Route 53 hosted zone, a Cloud
// Map namespace) into the zones the server answers.
func ZonesOf[Z interface{ DNS() Zone }](in []Z) []Zone {
	out := make([]Zone, len(in))
	for i, z := range in {
		out[i] = z.DNS()
	}
	return out
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
	mu      sync.Mutex            // serializes Publish, PublishZones and PublishClients
	sources map[string][]Zone     // what each source published, guarded by mu
	clients map[netip.Addr]string // the last clients published, guarded by mu
	views   atomic.Pointer[views]

	upstreams []string // host:port of the resolvers questions are forwarded to
	// forwarding counts the questions waiting for an upstream's answer.
	forwarding *quota
	token      []byte // marks the questions this server forwards
	log        zerolog.Logger
}

// peer is where a question comes from: its transport (udp or tcp) and
// its address (host, without port).
type peer struct {
	network, host string
}

// New returns a server that forwards what it cannot answer to upstreams
// (host:port; none: it answers SERVFAIL).
func New(upstreams []string, log zerolog.Logger) *Server {
	s := &Server{upstreams: upstreams, log: log, sources: map[string][]Zone{"localhost": {localhost()}}, forwarding: newQuota(maxForwards, maxForwardsPerClient), token: make([]byte, 8)}
	crand.Read(s.token)
	s.views.Store(buildViews(s.sources["localhost"], nil))
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
	s.views.Store(buildViews(all, s.clients))
}

// PublishClients replaces the table of the clients berth knows in a VPC:
// a client address (the source address of its questions) → the VPC id
// it is in. A client in a VPC is answered the public zones and the
// private zones of its VPC; a private zone of a name hides the public
// zones at and under that name there, as Route 53 Resolver answers in a
// VPC. A client not in the table (the host, the load balancers, a
// developer's tools) is answered every zone: it sees what berth serves
// from no VPC in particular, as through a Resolver inbound endpoint in
// each. The server keeps clients: the caller does not change it after.
func (s *Server) PublishClients(clients map[netip.Addr]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients = clients
	v := *s.views.Load()
	v.clients = clients
	s.views.Store(&v)
}

// views are the tables of one published state, one for each place a
// client may be in, read without locks.
type views struct {
	all     *table            // for clients in no known VPC: every zone
	public  *table            // for clients in a VPC of no private zone: the public zones
	private map[string]*table // by VPC id, for clients in a VPC of a private zone
	clients map[netip.Addr]string
}

// of is the table answering a client at host (an address, without port).
func (v *views) of(host string) *table {
	if len(v.clients) == 0 {
		return v.all
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return v.all
	}
	vpc, ok := v.clients[addr.Unmap().WithZone("")]
	if !ok {
		return v.all
	}
	if t := v.private[vpc]; t != nil {
		return t
	}
	return v.public
}

// buildViews indexes zones into the tables of each place a client may be
// in, for clients.
func buildViews(zones []Zone, clients map[netip.Addr]string) *views {
	zones = packable(zones)
	v := &views{all: build(zones), private: map[string]*table{}, clients: clients}
	var public []Zone
	seen := map[string]bool{}
	var vpcs []string
	for _, z := range zones {
		if len(z.VPCs) == 0 {
			public = append(public, z)
		}
		for _, vpc := range z.VPCs {
			if !seen[vpc] {
				seen[vpc] = true
				vpcs = append(vpcs, vpc)
			}
		}
	}
	v.public = build(public)
	for _, vpc := range vpcs {
		// Route 53 Resolver answers a name under a private zone of the
		// VPC from that zone alone, the public zones at and under its
		// name unasked.
		// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/hosted-zone-private-considerations.html
		var apexes []string
		var in []Zone
		for _, z := range zones {
			if slices.Contains(z.VPCs, vpc) {
				in = append(in, z)
				if z.Name != "" {
					apexes = append(apexes, canonical(z.Name))
				}
			}
		}
		for _, z := range public {
			if z.Name == "" || !slices.ContainsFunc(apexes, func(apex string) bool { return under(canonical(z.Name), apex) }) {
				in = append(in, z)
			}
		}
		v.private[vpc] = build(in)
	}
	return v
}

// under reports whether name is apex or a name under it (both
// canonical).
func under(name, apex string) bool {
	for n := name; ; n = parent(n) {
		if n == apex {
			return true
		}
		if n == "." {
			return false
		}
	}
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
	safe := func(r mdns.Reader) mdns.Reader { return safeReader{Reader: r, check: unpack, log: s.log} }
	udp := &mdns.Server{PacketConn: pc, Handler: s, DecorateReader: safe}
	tcp := &mdns.Server{Listener: &limitListener{Listener: ln, quota: newQuota(maxTCPClients, maxTCPPerClient)}, Handler: s, DecorateReader: safe, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
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
	w.WriteMsg(s.reply(req, peer{network: w.RemoteAddr().Network(), host: host(w.RemoteAddr())}))
}

// reply is the message that answers req, from a client, as it goes on the
// wire.
func (s *Server) reply(req *mdns.Msg, from peer) *mdns.Msg {
	m := s.answer(req, from)
	// A reply carries an OPT record exactly when the question did (RFC
	// 6891 §7): a forwarded reply may have one the client did not ask
	// for (berth's own question carried one), or lack one it did.
	opt := req.IsEdns0()
	if opt == nil {
		m.Extra = slices.DeleteFunc(m.Extra, func(rr mdns.RR) bool { return rr.Header().Rrtype == mdns.TypeOPT })
		if m.Rcode > 0xF {
			// An extended RCODE lives in the OPT record; without one
			// the reply cannot say it.
			m.Rcode = mdns.RcodeServerFailure
		}
	} else if m.IsEdns0() == nil {
		// With the question's DO bit (RFC 3225 §3).
		m.SetEdns0(udpSize, opt.Do())
	}
	// What does not fit goes truncated, compressed first: over UDP the
	// client's buffer (512 bytes, or its EDNS size, never less: RFC 1035
	// §4.2.1, RFC 6891 §6.2.5) but never more than berth's own udpSize
	// (RFC 6891 §6.2.5 lets a responder use the smaller of the two; a
	// question of 40 bytes claiming 65,535 would otherwise get a reply
	// sixteen hundred times its size, to whatever source address it
	// forged), and the client asks again over TCP; over TCP the 65,535
	// bytes a message can have (RFC 1035 §4.2.2), where an answer that
	// does not fit would otherwise not be sent at all.
	size := mdns.MaxMsgSize
	if from.network == "udp" {
		size = mdns.MinMsgSize
		if opt != nil {
			size = min(max(int(opt.UDPSize()), mdns.MinMsgSize), udpSize)
		}
	}
	m.Truncate(size)
	return m
}

// udpSize is the UDP payload berth's replies advertise: the size that
// avoids IP fragmentation on common paths (DNS Flag Day 2020).
const udpSize = 1232

// answer is the reply to req, from a client.
func (s *Server) answer(req *mdns.Msg, from peer) *mdns.Msg {
	m := new(mdns.Msg)
	switch {
	case req.Opcode != mdns.OpcodeQuery:
		// miekg/dns answers NOTIMP to every opcode but QUERY and
		// NOTIFY itself; berth takes no NOTIFY either (RFC 1996 §3.12).
		m.SetRcode(req, mdns.RcodeNotImplemented)
		return m
	case len(req.Question) != 1 || countOPT(req.Extra) > 1:
		// One question a message, as every resolver sends (RFC 9619);
		// at most one OPT record (RFC 6891 §6.1.1).
		m.SetRcode(req, mdns.RcodeFormatError)
		return m
	case req.IsEdns0() != nil && req.IsEdns0().Version() != 0:
		// berth speaks EDNS version 0 (RFC 6891 §6.1.3); ServeDNS adds
		// the OPT record that carries BADVERS.
		m.SetRcode(req, mdns.RcodeBadVers)
		return m
	case s.looped(req):
		// A question berth forwarded came back: the upstream resolvers
		// lead to berth itself.
		s.log.Warn().Str("name", req.Question[0].Name).Msg("a forwarded DNS question came back to berth: an upstream resolver forwards to berth")
		m.SetRcode(req, mdns.RcodeServerFailure)
		return m
	}
	q := req.Question[0]
	switch q.Qtype {
	case mdns.TypeAXFR, mdns.TypeIXFR:
		// berth transfers no zones: REFUSED, as RFC 1035 §4.1.1 gives
		// for a zone transfer a server will not do.
		m.SetRcode(req, mdns.RcodeRefused)
		return m
	case mdns.TypeOPT, mdns.TypeTKEY, mdns.TypeTSIG, mdns.TypeMAILA, mdns.TypeMAILB:
		// Meta types no question is about (RFC 6895 §3.1), or obsolete
		// ones: a kind of query berth does not support (NOTIMP, RFC 1035
		// §4.1.1).
		m.SetRcode(req, mdns.RcodeNotImplemented)
		return m
	}
	t := s.views.Load().of(from.host)
	name := mdns.CanonicalName(q.Name)
	apex, inZone := t.zoneOf(name)
	if !inZone && !t.names[name] {
		return s.forward(req, from)
	}
	m.SetReply(req)
	m.Authoritative = true
	m.RecursionAvailable = len(s.upstreams) > 0
	var missing bool
	m.Answer, missing = s.lookup(t, name, q.Qtype, from, nil)
	if len(m.Answer) > 0 {
		// A chain of CNAME records ending at a name that does not exist
		// is NXDOMAIN: the RCODE is the last name's (RFC 6604 §3, RFC
		// 1034 §4.3.2).
		if missing {
			m.Rcode = mdns.RcodeNameError
		}
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

// countOPT is how many OPT records extra holds.
func countOPT(extra []mdns.RR) int {
	n := 0
	for _, rr := range extra {
		if rr.Header().Rrtype == mdns.TypeOPT {
			n++
		}
	}
	return n
}

// lookup is the answer about name (canonical) of type qtype: its records,
// an alias's target's records under name, or a CNAME record (or a CNAME
// alias) followed by its target's records; a target that is not berth's
// is asked upstream. seen are the names this answer went through: a name
// met again ends a CNAME or alias loop (RFC 1034 §3.6.2), at most
// maxChain of them end a chain. missing is true when the name the answer
// ends at does not exist (berth's NXDOMAIN, or the upstream's).
func (s *Server) lookup(t *table, name string, qtype uint16, from peer, seen []string) (answer []mdns.RR, missing bool) {
	if len(seen) > maxChain || slices.Contains(seen, name) {
		return nil, false
	}
	seen = append(seen, name)
	owner := t.owner(name)
	if owner == "" {
		return nil, true
	}
	if qtype == mdns.TypeANY {
		// One of the name's RRsets answers ANY (RFC 8482 §4.1).
		types := t.types[owner]
		if len(types) == 0 {
			return nil, false
		}
		qtype = types[0]
	}
	if set := t.sets[setKey{owner, qtype}]; set != nil {
		return set.answer(name), false
	}
	if target, ok := t.aliases[setKey{owner, qtype}]; ok {
		return s.aliased(t, name, target, qtype, from, seen), false
	}
	if qtype == mdns.TypeCNAME {
		return nil, false
	}
	var out []mdns.RR
	if set := t.sets[setKey{owner, mdns.TypeCNAME}]; set != nil {
		out = set.answer(name)
	} else if target, ok := t.aliases[setKey{owner, mdns.TypeCNAME}]; ok {
		out = s.aliased(t, name, target, mdns.TypeCNAME, from, seen)
	}
	if len(out) == 0 {
		return nil, false
	}
	// A name has one CNAME record (RFC 2181 §10.1): a set of several
	// (Cloud Map instances of a CNAME service) answers one of them.
	out = out[:1]
	cname, ok := out[0].(*mdns.CNAME)
	if !ok {
		return nil, false
	}
	target := canonical(cname.Target)
	if _, inZone := t.zoneOf(target); inZone || t.names[target] {
		rest, missing := s.lookup(t, target, qtype, from, seen)
		return append(out, rest...), missing
	}
	q := new(mdns.Msg)
	q.SetQuestion(target, qtype)
	reply := s.forward(q, from)
	if reply.Rcode == mdns.RcodeSuccess {
		out = append(out, reply.Answer...)
	}
	return out, reply.Rcode == mdns.RcodeNameError
}

// aliased is the answer about name of an alias to target: target's
// records of type qtype, under name.
func (s *Server) aliased(t *table, name, target string, qtype uint16, from peer, seen []string) []mdns.RR {
	var out []mdns.RR
	answer, _ := s.lookup(t, target, qtype, from, seen)
	for _, rr := range answer {
		if rr.Header().Rrtype == qtype {
			rr = mdns.Copy(rr)
			rr.Header().Name = name
			out = append(out, rr)
		}
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
	types map[string][]uint16 // the types of each owner's sets and aliases, in order
	soa   map[string]mdns.RR  // by zone apex, canonical
}

// packable is zones without the records that do not survive the wire
// (see unpackable), and their sets left empty.
func packable(zones []Zone) []Zone {
	buf := make([]byte, mdns.MaxMsgSize)
	out := make([]Zone, len(zones))
	for i, z := range zones {
		sets := make([]Set, 0, len(z.Sets))
		for _, set := range z.Sets {
			set.Records = slices.DeleteFunc(slices.Clone(set.Records), func(rr mdns.RR) bool { return unpackable(rr, buf) })
			if len(set.Records) > 0 {
				sets = append(sets, set)
			}
		}
		z.Sets = sets
		out[i] = z
	}
	return out
}

// build indexes zones (packable) into a table. Every zone has an SOA and
// an NS set at its apex (RFC 1034 §4.2.1): berth's default (SOA) for one
// that publishes none.
func build(zones []Zone) *table {
	t := &table{sets: map[setKey]*Set{}, aliases: map[setKey]string{}, names: map[string]bool{}, types: map[string][]uint16{}, soa: map[string]mdns.RR{}}
	for _, z := range zones {
		apex := ""
		if z.Name != "" {
			apex = canonical(z.Name)
			t.names[apex] = true
		}
		exists := func(name string, rtype uint16) {
			if !slices.Contains(t.types[name], rtype) {
				t.types[name] = append(t.types[name], rtype)
				slices.Sort(t.types[name])
			}
			for ; name != apex && !t.names[name]; name = parent(name) {
				t.names[name] = true
				if apex == "" || name == "." {
					return
				}
			}
		}
		for _, set := range z.Sets {
			h := set.Records[0].Header()
			k := setKey{canonical(h.Name), h.Rrtype}
			if old := t.sets[k]; old != nil {
				merged := Set{Records: append(append([]mdns.RR(nil), old.Records...), set.Records...), Pick: max(old.Pick, set.Pick)}
				set = merged
			}
			t.sets[k] = &set
			exists(k.name, k.rtype)
			if k.rtype == mdns.TypeSOA && k.name == apex {
				t.soa[apex] = set.Records[0]
			}
		}
		for _, a := range z.Aliases {
			name := canonical(a.Name)
			t.aliases[setKey{name, a.Type}] = canonical(a.Target)
			exists(name, a.Type)
		}
		if apex != "" && t.soa[apex] == nil {
			t.soa[apex] = SOA(apex, 900)
		}
	}
	for apex, soa := range t.soa {
		if t.sets[setKey{apex, mdns.TypeSOA}] == nil {
			t.sets[setKey{apex, mdns.TypeSOA}] = &Set{Records: []mdns.RR{soa}}
			t.types[apex] = append(t.types[apex], mdns.TypeSOA)
		}
		if t.sets[setKey{apex, mdns.TypeNS}] == nil {
			t.sets[setKey{apex, mdns.TypeNS}] = &Set{Records: []mdns.RR{NS(apex, soa)}}
			t.types[apex] = append(t.types[apex], mdns.TypeNS)
		}
		slices.Sort(t.types[apex])
	}
	return t
}

// unpackable reports whether rr does not survive the wire (a name or
// target longer than 255 bytes, RFC 1035 §3.1, as an instance id under a
// long service and namespace name makes): miekg/dns packs it, but every
// client fails to read a reply holding it, the rest of the set with it.
// buf is room for the record (mdns.MaxMsgSize bytes), shared by calls.
func unpackable(rr mdns.RR, buf []byte) bool {
	// Packed in a message, as replies are: PackRR would write the
	// record's Rdlength, racing with replies that pack the same record.
	b, err := (&mdns.Msg{Answer: []mdns.RR{rr}}).PackBuffer(buf)
	if err == nil {
		err = new(mdns.Msg).Unpack(b)
	}
	return err != nil
}

// canonical is name as miekg/dns writes a question's name it unpacks:
// fully qualified, lower case, and every byte as it escapes it (odd@id
// as odd\@id, a dot inside a label as \.), so that a name given in any
// presentation (an instance id's raw bytes, a zone file's escapes)
// matches the question about it.
func canonical(name string) string {
	name = mdns.Fqdn(name)
	buf := make([]byte, 256)
	if n, err := mdns.PackDomainName(name, buf, 0, nil, false); err == nil {
		if unpacked, _, err := mdns.UnpackDomainName(buf[:n], 0); err == nil {
			name = unpacked
		}
	}
	return mdns.CanonicalName(name)
}

// parent is name (canonical) without its first label ("." for a
// top-level name); an escaped dot (\.) is part of its label.
func parent(name string) string {
	for i := 0; i < len(name); i++ {
		switch name[i] {
		case '\\':
			i++ // the escaped byte, or the first digit of \DDD (no dot follows)
		case '.':
			if i+1 < len(name) {
				return name[i+1:]
			}
			return "."
		}
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

// NS is the NS record at apex naming soa's primary name server, with the
// TTL Route 53 gives a new hosted zone's NS records (172800 s): the NS
// set of a zone that publishes none.
// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/SOA-NSrecords.html
func NS(apex string, soa mdns.RR) mdns.RR {
	ns := "ns-2048.awsdns-64.net."
	if s, ok := soa.(*mdns.SOA); ok {
		ns = s.Ns
	}
	return &mdns.NS{Hdr: mdns.RR_Header{Name: canonical(apex), Rrtype: mdns.TypeNS, Class: mdns.ClassINET, Ttl: 172800}, Ns: ns}
}

// loopOption is the EDNS option code (of the range for local use, RFC
// 6891 §9) whose value, the server's token, marks the questions berth
// forwards: one that comes back to it went through a loop.
const loopOption = mdns.EDNS0LOCALSTART + 0x42

// looped reports whether req is a question this server forwarded.
func (s *Server) looped(req *mdns.Msg) bool {
	opt := req.IsEdns0()
	if opt == nil {
		return false
	}
	for _, o := range opt.Option {
		if l, ok := o.(*mdns.EDNS0_LOCAL); ok && l.Code == loopOption && bytes.Equal(l.Data, s.token) {
			return true
		}
	}
	return false
}

// forward asks the upstream resolvers in turn, over the transport the
// question came by, and relays the first answer; SERVFAIL when none
// answers, and at once when maxForwards questions, or
// maxForwardsPerClient of the client's, are already waiting for theirs.
func (s *Server) forward(req *mdns.Msg, from peer) *mdns.Msg {
	fail := new(mdns.Msg)
	fail.SetRcode(req, mdns.RcodeServerFailure)
	if !s.forwarding.take(from.host) {
		s.log.Debug().Str("name", req.Question[0].Name).Str("client", from.host).Msg("too many DNS questions forwarded at once")
		return fail
	}
	defer s.forwarding.give(from.host)
	q := req.Copy()
	opt := q.IsEdns0()
	if opt == nil {
		q.SetEdns0(mdns.MinMsgSize, false)
		opt = q.IsEdns0()
	}
	opt.Option = append(opt.Option, &mdns.EDNS0_LOCAL{Code: loopOption, Data: s.token})
	// Over the transport the question came by: a truncated UDP answer
	// goes back truncated, and the client asks again over TCP.
	client := &mdns.Client{Net: from.network, Timeout: forwardTimeout}
	for _, upstream := range s.upstreams {
		reply, _, err := client.Exchange(q, upstream)
		if err == nil && reply != nil {
			reply.Id = req.Id
			return reply
		}
		s.log.Debug().Err(err).Str("upstream", upstream).Msg("forwarding a DNS question")
	}
	return fail
}
