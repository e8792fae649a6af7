package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/rs/zerolog"

	"berth/backend/elbv2"
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

// startDNS starts berth's DNS server at address (none when ""), which
// forwards to the resolvers of /etc/resolv.conf but itself. It returns
// the server, the address it listens on ("" when it could not listen:
// binding port 53 needs privileges, which berth may lack) and a stop
// function.
func startDNS(address string, log zerolog.Logger) (*dns.Server, string, func()) {
	if address == "" {
		return nil, "", func() {}
	}
	pc, ln, err := dns.Listen(address)
	if err != nil {
		log.Warn().Err(err).Str("dns_listen", address).Msg("no DNS server: the load balancers' names resolve only through /_berth/hosts")
		return nil, "", func() {}
	}
	bound := pc.LocalAddr().String()
	upstreams := slices.DeleteFunc(dns.Upstreams("/etc/resolv.conf"), func(u string) bool { return u == bound })
	server := dns.New(upstreams, log.With().Str("component", "dns").Logger())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { server.Serve(ctx, pc, ln); close(done) }()
	return server, bound, func() { cancel(); <-done }
}

// publishNames returns the function that gives the DNS server (if any)
// the load balancers' names.
func publishNames(server *dns.Server) func([]elbv2.Host) {
	if server == nil {
		return nil
	}
	return func(hosts []elbv2.Host) {
		records := make([]dns.Record, 0, len(hosts))
		for _, h := range hosts {
			records = append(records, dns.Record{Name: h.DNSName, Address: h.Address})
		}
		server.Publish(records)
	}
}
