package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"

	"sync"

	"github.com/rs/zerolog"

	"berth/backend/ecs"
	"berth/backend/elbv2"
	"berth/backend/route53"
	"berth/backend/servicediscovery"
	"berth/lb/dns"
)

// dnsAddress is where berth's DNS server listens: listen as given, or
// for auto port 53 of the load balancer network's last address but one
// (load balancers take addresses from its first on), or "" for none.
func dnsAddress(listen, lbNetwork string) (string, error) {
	switch listen {
	case "none":
		return "", nil
	case "auto":
		if lbNetwork == "none" {
			return "", nil
		}
		network, err := netip.ParsePrefix(lbNetwork)
		if err != nil || !network.Addr().Is4() || network.Bits() > 24 {
			return "", nil // --lb-network reports what is wrong with it
		}
		last := network.Masked().Addr().As4()
		hostBits := 32 - network.Bits()
		for i := range 4 {
			if bits := min(max(hostBits-8*(3-i), 0), 8); bits > 0 {
				last[i] |= byte(1<<bits - 1)
			}
		}
		last[3]--
		return netip.AddrPortFrom(netip.AddrFrom4(last), 53).String(), nil
	}
	if _, _, err := net.SplitHostPort(listen); err != nil {
		return "", fmt.Errorf("--dns-listen: %w", err)
	}
	return listen, nil
}

// dnsListeners is berth's DNS server and the addresses it serves on.
type dnsListeners struct {
	server *dns.Server
	log    zerolog.Logger
	stops  []func()
}

// newDNS returns berth's DNS server, forwarding to the resolvers of
// /etc/resolv.conf but those of own (the addresses berth may serve on).
func newDNS(own []string, log zerolog.Logger) *dnsListeners {
	upstreams := slices.DeleteFunc(dns.Upstreams("/etc/resolv.conf"), func(u string) bool { return slices.Contains(own, u) })
	return &dnsListeners{server: dns.New(upstreams, log), log: log}
}

// serve answers on address (UDP and TCP) and returns where it listens, or
// "" when it could not bind there (port 53 needs privileges, which berth
// may lack): what it is for is then missing, as what says.
func (d *dnsListeners) serve(address, what string) string {
	pc, ln, err := dns.Listen(address)
	if err != nil {
		d.log.Warn().Err(err).Str("dns_listen", address).Msg(what)
		return ""
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.server.Serve(ctx, pc, ln); close(done) }()
	d.stops = append(d.stops, func() { cancel(); <-done })
	return pc.LocalAddr().String()
}

// stop closes every listener.
func (d *dnsListeners) stop() {
	for _, stop := range d.stops {
		stop()
	}
}

// publishZones keeps the DNS server's Cloud Map and Route 53 zones, and
// the table of the tasks in VPCs their private zones answer, up to date
// until the returned function is called.
func (d *dnsListeners) publishZones(cloudMap *servicediscovery.Backend, r53 *route53.Backend, tasks *ecs.Backend) func() {
	ctx, cancel := context.WithCancel(context.Background())
	var running sync.WaitGroup
	running.Go(func() {
		cloudMap.PublishDNS(ctx, func(z []dns.Zone) { d.server.PublishZones("cloud map", z) }, d.log)
	})
	running.Go(func() {
		r53.PublishDNS(ctx, func(z []dns.Zone) { d.server.PublishZones("route 53", z) }, d.log)
	})
	running.Go(func() { tasks.PublishDNSClients(ctx, d.server.PublishClients, d.log) })
	return func() { cancel(); running.Wait() }
}

// publishNames returns the function that gives the DNS server (if any)
// the load balancers' names.
func publishNames(d *dnsListeners) func([]elbv2.Host) {
	if d == nil {
		return nil
	}
	return func(hosts []elbv2.Host) {
		records := make([]dns.Record, 0, len(hosts))
		for _, h := range hosts {
			records = append(records, dns.Record{Name: h.DNSName, Address: h.Address})
		}
		d.server.Publish(records)
	}
}
