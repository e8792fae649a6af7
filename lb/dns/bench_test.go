package dns

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/rs/zerolog"
)

// benchNames is the size of the published table: about the number of load
// balancers' and services' names a busy berth gives.
const benchNames = 1000

// benchClients is how many resolvers ask at once, each with one question
// outstanding on a socket of its own, as stub resolvers do.
const benchClients = 8

// BenchmarkDNSQueries serves a published table of benchNames names on
// loopback and has benchClients clients ask A questions about them over
// UDP, b.N questions in all, each checked for its one address. It reports
// the rate the server answered at (queries/s) and the 50th and 99th
// percentiles of the clients' round trips (p50-µs, p99-µs).
//
// It uses only the package's entry points (New, Publish, Listen, Serve),
// so that it measures whatever the server's insides are.
func BenchmarkDNSQueries(b *testing.B) { benchQueries(b, nil) }

// BenchmarkDNSQueriesInVPC is BenchmarkDNSQueries with a table of
// benchNames clients in VPCs, the benchmark's among them (127.0.0.1, in
// a VPC that a private zone is associated with), as a berth running
// awsvpc tasks has: each question finds its client's VPC first.
func BenchmarkDNSQueriesInVPC(b *testing.B) {
	benchQueries(b, func(s *Server) {
		clients := map[netip.Addr]string{netip.MustParseAddr("127.0.0.1"): "vpc-0"}
		for i := 1; i < benchNames; i++ {
			clients[netip.AddrFrom4([4]byte{10, byte(i / 250), byte(i % 250), 1})] = fmt.Sprintf("vpc-%d", i%4)
		}
		s.PublishClients(clients)
		s.PublishZones("cloud map", []Zone{{Name: "internal.local", VPCs: []string{"vpc-0"}}, {Name: "internal.local", VPCs: []string{"vpc-1"}}})
	})
}

// benchQueries is BenchmarkDNSQueries, after setup (if any) has
// published more to the server.
func benchQueries(b *testing.B, setup func(*Server)) {
	records := make([]Record, benchNames)
	for i := range records {
		records[i] = Record{
			Name:    fmt.Sprintf("web-%04d.eu-west-1.elb.amazonaws.com", i),
			Address: fmt.Sprintf("127.10.%d.%d", i/250, 1+i%250),
		}
	}
	s := New(nil, zerolog.Nop())
	s.Publish(records)
	if setup != nil {
		setup(s)
	}
	pc, ln, err := Listen("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Serve(ctx, pc, ln); close(done) }()
	defer func() { cancel(); <-done }()
	addr := pc.LocalAddr().String()

	conns := make([]*mdns.Conn, benchClients)
	for i := range conns {
		co, err := (&mdns.Client{Net: "udp"}).Dial(addr)
		if err != nil {
			b.Fatal(err)
		}
		defer co.Close()
		conns[i] = co
	}
	// Client c asks about names c, c+benchClients, ... in turn.
	latencies := make([][]time.Duration, benchClients)
	errs := make([]error, benchClients)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for c := range benchClients {
		n := b.N / benchClients
		if c < b.N%benchClients {
			n++
		}
		latencies[c] = make([]time.Duration, 0, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[c] = askMany(conns[c], records, c, n, &latencies[c])
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	all := slices.Concat(latencies...)
	slices.Sort(all)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "queries/s")
	b.ReportMetric(float64(percentile(all, 50))/float64(time.Microsecond), "p50-µs")
	b.ReportMetric(float64(percentile(all, 99))/float64(time.Microsecond), "p99-µs")
}

// askMany sends n questions from client c over co, one at a time, appending
// each round trip to lat; a lost, late or wrong answer is an error.
func askMany(co *mdns.Conn, records []Record, c, n int, lat *[]time.Duration) error {
	q := new(mdns.Msg)
	for i := range n {
		r := records[(c+i*benchClients)%len(records)]
		q.SetQuestion(mdns.Fqdn(r.Name), mdns.TypeA)
		sent := time.Now()
		// A loopback answer not back within a second was lost.
		co.SetDeadline(sent.Add(time.Second))
		if err := co.WriteMsg(q); err != nil {
			return err
		}
		reply, err := co.ReadMsg()
		if err != nil {
			return fmt.Errorf("%s: %w", r.Name, err)
		}
		*lat = append(*lat, time.Since(sent))
		if a, ok := answer(reply); reply.Id != q.Id || !ok || !a.Equal(net.ParseIP(r.Address)) {
			return fmt.Errorf("%s: answer %v, want %s", r.Name, reply.Answer, r.Address)
		}
	}
	return nil
}

// answer is the address of reply's one A record.
func answer(reply *mdns.Msg) (net.IP, bool) {
	if len(reply.Answer) != 1 {
		return nil, false
	}
	a, ok := reply.Answer[0].(*mdns.A)
	if !ok {
		return nil, false
	}
	return a.A, true
}

// percentile is the p-th percentile of sorted (nearest rank).
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[max(i-1, 0)]
}
