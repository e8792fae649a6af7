// Package lb is berth's data plane: every listener of every load balancer
// is a real socket that routes real requests, by the listener's rules, to
// the healthy targets of its target groups, with active health checks and
// draining as ELBv2 does them.
//
// The control plane hands it immutable Config snapshots (Manager.Apply);
// each listener swaps its routes atomically, so a change never drops a
// connection or a request, and the request path takes no lock that the
// control plane holds. Target health goes back through a callback. lb
// never reads the store.
package lb

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Manager runs the listeners and target groups of the latest Config.
type Manager struct {
	log    zerolog.Logger
	now    func() time.Time
	report func(HealthReport)
	// buffers are the copy buffers of response bodies.
	buffers sync.Pool

	mu        sync.Mutex           // serializes Apply and Close
	listeners map[string]*listener // by socket: "address:port/tcp"
	groups    map[string]*group    // by target group ARN
}

// New returns a manager that serves nothing yet. report, which may be
// nil, hears every change of a target's health.
func New(log zerolog.Logger, now func() time.Time, report func(HealthReport)) *Manager {
	return &Manager{
		log: log, now: now, report: report, listeners: map[string]*listener{}, groups: map[string]*group{},
		buffers: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }},
	}
}

// Apply makes cfg the served configuration: listeners that are new are
// bound, those that stay get cfg's routes at once, those gone are closed
// after their in-flight requests end. It returns, by listener ARN, the
// listeners whose socket could not be bound.
func (m *Manager) Apply(cfg Config) map[string]error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for arn, tg := range cfg.TargetGroups {
		g := m.groups[arn]
		if g == nil {
			g = &group{arn: arn, targets: map[string]*target{}}
			m.groups[arn] = g
		}
		m.syncGroup(g, tg)
	}
	for arn, g := range m.groups {
		if _, ok := cfg.TargetGroups[arn]; !ok {
			m.finishGroup(g)
			delete(m.groups, arn)
		}
	}

	failed := map[string]error{}
	wanted := map[string]bool{}
	for i := range cfg.LoadBalancers {
		lb := &cfg.LoadBalancers[i]
		for _, lc := range lb.Listeners {
			key := socketKey(lb.Address, lc)
			wanted[key] = true
			r := m.compile(lb, lc)
			l := m.listeners[key]
			if l != nil && l.protocol != lc.Protocol {
				l.close(0)
				l = nil
			}
			if l == nil {
				var err error
				if l, err = m.listen(lb.Address, lc); err != nil {
					m.log.Error().Err(err).Str("listener", lc.ARN).Msg("cannot bind listener")
					failed[lc.ARN] = err
					delete(wanted, key)
					continue
				}
				m.listeners[key] = l
			}
			l.routes.Store(r)
		}
	}
	for key, l := range m.listeners {
		if !wanted[key] {
			go l.close(l.routes.Load().drain)
			delete(m.listeners, key)
		}
	}
	return failed
}

// Close closes every listener and ends every target at once.
func (m *Manager) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for key, l := range m.listeners {
		l.close(0)
		delete(m.listeners, key)
	}
	for arn, g := range m.groups {
		m.finishGroup(g)
		delete(m.groups, arn)
	}
}

func socketKey(address string, l Listener) string {
	network := "tcp"
	if l.Protocol == "UDP" {
		network = "udp"
	}
	return net.JoinHostPort(address, strconv.Itoa(l.Port)) + "/" + network
}

// listener is one bound socket and the routes it serves.
type listener struct {
	protocol string
	addr     string
	routes   atomicRoutes
	close    func(drain time.Duration)
}

// listen binds a listener's socket and starts serving it.
func (m *Manager) listen(address string, lc Listener) (*listener, error) {
	addr := net.JoinHostPort(address, strconv.Itoa(lc.Port))
	l := &listener{protocol: lc.Protocol, addr: addr}
	switch lc.Protocol {
	case "HTTP", "HTTPS", "TCP", "TLS", "UDP", "TCP_UDP":
	default:
		return nil, fmt.Errorf("listener %s: berth does not serve %s listeners", lc.ARN, lc.Protocol)
	}
	var ln net.Listener
	if lc.Protocol != "UDP" {
		var err error
		if ln, err = net.Listen("tcp", addr); err != nil {
			return nil, fmt.Errorf("listener %s on %s: %w", lc.ARN, addr, err)
		}
	}
	var pc *net.UDPConn
	if lc.Protocol == "UDP" || lc.Protocol == "TCP_UDP" {
		ua, err := net.ResolveUDPAddr("udp", addr)
		if err == nil {
			pc, err = net.ListenUDP("udp", ua)
		}
		if err != nil {
			if ln != nil {
				ln.Close()
			}
			return nil, fmt.Errorf("listener %s on %s/udp: %w", lc.ARN, addr, err)
		}
	}
	switch lc.Protocol {
	case "HTTP":
		l.close = m.serveHTTP(l, ln, nil)
	case "HTTPS":
		l.close = m.serveHTTP(l, ln, l.tlsConfig("h2", "http/1.1"))
	case "TCP":
		l.close = m.serveTCP(l, ln)
	case "TLS":
		l.close = m.serveTCP(l, tls.NewListener(ln, l.tlsConfig()))
	case "UDP":
		l.close = m.serveUDP(l, pc)
	case "TCP_UDP":
		closeTCP, closeUDP := m.serveTCP(l, ln), m.serveUDP(l, pc)
		l.close = func(drain time.Duration) { closeUDP(drain); closeTCP(drain) }
	}
	m.log.Info().Str("listener", lc.ARN).Str("address", addr).Str("protocol", lc.Protocol).Msg("listening")
	return l, nil
}

// compile resolves a listener's rules against the live target groups.
func (m *Manager) compile(lb *LoadBalancer, lc Listener) *routes {
	r := &routes{lb: lb, listener: lc}
	for _, rule := range lc.Rules {
		cr := compiledRule{Rule: rule}
		if f := rule.Action.Forward; f != nil {
			for _, wg := range f.Groups {
				g := m.groups[wg.ARN]
				if g == nil {
					continue
				}
				if wg.Weight > 0 {
					cr.groups = append(cr.groups, weighted{g, wg.Weight})
					cr.total += wg.Weight
				}
				r.drain = max(r.drain, g.cfg.Load().DeregistrationDelay)
			}
		}
		r.rules = append(r.rules, cr)
	}
	return r
}

// routes is one listener's compiled configuration.
type routes struct {
	lb       *LoadBalancer
	listener Listener
	rules    []compiledRule
	// drain is how long the listener's in-flight requests may go on when
	// it is removed: the longest deregistration delay of its groups.
	drain time.Duration
}

type compiledRule struct {
	Rule
	groups []weighted // the forward action's groups of weight > 0
	total  int
}

// pick chooses one of the rule's groups by weight; nil when it has none.
func (r *compiledRule) pick() *group {
	switch len(r.groups) {
	case 0:
		return nil
	case 1:
		return r.groups[0].g
	}
	n := intn(r.total)
	for _, wg := range r.groups {
		if n < wg.weight {
			return wg.g
		}
		n -= wg.weight
	}
	return r.groups[len(r.groups)-1].g
}

type weighted struct {
	g      *group
	weight int
}

// shutdown closes ln's server within drain: new connections are refused
// at once, requests in flight may finish.
func shutdown(ctx context.Context, drain time.Duration, stop func(context.Context) error, kill func() error) {
	ctx, cancel := context.WithTimeout(ctx, drain)
	defer cancel()
	if stop(ctx) != nil {
		kill()
	}
}
