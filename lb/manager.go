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
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
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
	// dial connects to targets: HTTP, TCP and UDP traffic, not health
	// checks.
	dial func(ctx context.Context, network, address string) (net.Conn, error)
	// panics counts the panics contained in the data plane's goroutines.
	panics atomic.Int64
	// checking counts the health checkers running.
	checking atomic.Int64

	mu        sync.Mutex           // serializes Apply and Close
	listeners map[string]*listener // by socket: "address:port/tcp"
	groups    map[string]*group    // by target group ARN

	// Counters for CloudWatch (metrics.go), written by Apply under mu:
	// by load balancer ARN, and by pairKey; those the last Apply found
	// gone wait in retired for Metrics to report them once more.
	lbStats          map[string]*lbStats
	pairs            map[string]*pairStats
	lbSeen, pairSeen map[string]bool
	retiredLBs       []*lbStats
	retiredPairs     []*pairStats
	// metricsOff leaves every counter out, for the benchmark that
	// measures what they cost; set before the first Apply.
	metricsOff bool
}

// New returns a manager that serves nothing yet. report, which may be
// nil, hears every change of a target's health.
func New(log zerolog.Logger, now func() time.Time, report func(HealthReport)) *Manager {
	return &Manager{
		log: log, now: now, report: report, listeners: map[string]*listener{}, groups: map[string]*group{},
		lbStats: map[string]*lbStats{}, pairs: map[string]*pairStats{}, lbSeen: map[string]bool{}, pairSeen: map[string]bool{},
		buffers: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }},
		dial:    (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	}
}

// Panics is how many panics the data plane has contained: each ended the
// connection, flow or health check it happened in, and nothing else.
func (m *Manager) Panics() int64 { return m.panics.Load() }

// contain, deferred at the top of a goroutine, stops a panic there from
// ending the process: it logs it with its stack, counts it, and runs
// cleanup (which may be nil), such as closing the connection.
func (m *Manager) contain(what string, cleanup func()) {
	v := recover()
	if v == nil {
		return
	}
	m.contained(what, v)
	if cleanup != nil {
		cleanup()
	}
}

func (m *Manager) contained(what string, v any) {
	m.panics.Add(1)
	m.log.Error().Str("in", what).Str("panic", fmt.Sprint(v)).Str("stack", string(debug.Stack())).Msg("contained a panic")
}

// panicked runs fn, contains its panic and reports whether there was one.
func (m *Manager) panicked(what string, fn func()) (panicked bool) {
	defer m.contain(what, func() { panicked = true })
	fn()
	return false
}

// safely runs fn and contains its panic.
func (m *Manager) safely(what string, fn func()) {
	defer m.contain(what, nil)
	fn()
}

// accept hands every connection ln accepts to serve, each in a goroutine
// of its own that contains its panic (and then closes the connection),
// until ln is closed. Any other error, such as running out of file
// descriptors, pauses accepting for a backoff that grows to a second,
// and accepting goes on.
func (m *Manager) accept(ln net.Listener, what string, serve func(net.Conn)) {
	var backoff time.Duration
	for {
		conn, err := ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			m.log.Warn().Err(err).Str("address", ln.Addr().String()).Dur("backoff", backoff).Msg("cannot accept a connection")
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		go func() {
			defer m.contain(what, func() { conn.Close() })
			serve(conn)
		}()
	}
}

// Apply makes cfg the served configuration: listeners that are new are
// bound, and serve cfg's routes from their first connection; those that
// stay get cfg's routes at once; those gone are unbound before Apply
// returns, so that their port can be bound again at once, while their
// in-flight requests go on for the drain of their routes. It returns, by
// listener ARN, the listeners whose socket could not be bound.
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

	// Sockets that go, or change protocol, are unbound first: a new
	// listener may want the port (UDP, then TCP_UDP, for one).
	wanted := map[string]string{} // protocol by socket
	for i := range cfg.LoadBalancers {
		for _, lc := range cfg.LoadBalancers[i].Listeners {
			wanted[socketKey(cfg.LoadBalancers[i].Address, lc)] = lc.Protocol
		}
	}
	for key, l := range m.listeners {
		if wanted[key] != l.protocol {
			l.close(l.routes.Load().drain)
			delete(m.listeners, key)
		}
	}
	failed := map[string]error{}
	for i := range cfg.LoadBalancers {
		lb := &cfg.LoadBalancers[i]
		stats := m.statsFor(lb)
		for _, lc := range lb.Listeners {
			key := socketKey(lb.Address, lc)
			r := m.compile(lb, lc, stats)
			if l := m.listeners[key]; l != nil {
				l.routes.Store(r)
				continue
			}
			l, err := m.listen(lb.Address, lc, r)
			if err != nil {
				m.log.Error().Err(err).Str("listener", lc.ARN).Msg("cannot bind listener")
				failed[lc.ARN] = err
				continue
			}
			m.listeners[key] = l
		}
	}
	m.retireStats()
	return failed
}

// Close closes every listener and ends every target at once, cutting what
// is in flight.
func (m *Manager) Close() { m.Shutdown(0) }

// Shutdown closes every listener at once (new connections are refused),
// lets the requests and flows in flight go on for the drain of their
// listener's routes but no longer than grace, then ends every target. It
// returns when all of that is done.
func (m *Manager) Shutdown(grace time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var drained []<-chan struct{}
	for key, l := range m.listeners {
		drained = append(drained, l.close(min(l.routes.Load().drain, grace)))
		delete(m.listeners, key)
	}
	for _, d := range drained {
		<-d
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
	routes   atomicRoutes // never nil: set before the socket serves
	// close unbinds the socket before it returns, and lets what is in
	// flight go on for drain; the channel closes when that has ended.
	close func(drain time.Duration) <-chan struct{}
}

// listen binds a listener's socket and serves r on it.
func (m *Manager) listen(address string, lc Listener, r *routes) (*listener, error) {
	addr := net.JoinHostPort(address, strconv.Itoa(lc.Port))
	l := &listener{protocol: lc.Protocol, addr: addr}
	l.routes.Store(r) // before the first connection can read them
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
		l.close = func(drain time.Duration) <-chan struct{} {
			udp, tcp := closeUDP(drain), closeTCP(drain)
			return inBackground(func() { <-udp; <-tcp })
		}
	}
	m.log.Info().Str("listener", lc.ARN).Str("address", addr).Str("protocol", lc.Protocol).Msg("listening")
	return l, nil
}

// compile resolves a listener's rules against the live target groups.
func (m *Manager) compile(lb *LoadBalancer, lc Listener, stats *lbStats) *routes {
	r := &routes{lb: lb, listener: lc, stats: stats}
	for _, rule := range lc.Rules {
		cr := compiledRule{Rule: rule}
		if f := rule.Action.Forward; f != nil {
			for _, wg := range f.Groups {
				g := m.groups[wg.ARN]
				if g == nil {
					continue
				}
				if wg.Weight > 0 {
					cr.groups = append(cr.groups, weighted{g, wg.Weight, m.pairFor(lb, wg.ARN)})
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
	// stats are the load balancer's counters; nil when metrics are off.
	stats *lbStats
}

type compiledRule struct {
	Rule
	groups []weighted // the forward action's groups of weight > 0
	total  int
}

// pick chooses one of the rule's groups by weight; nil when it has none.
func (r *compiledRule) pick() *weighted {
	switch len(r.groups) {
	case 0:
		return nil
	case 1:
		return &r.groups[0]
	}
	n := intn(r.total)
	for i := range r.groups {
		if n < r.groups[i].weight {
			return &r.groups[i]
		}
		n -= r.groups[i].weight
	}
	return &r.groups[len(r.groups)-1]
}

// weighted is a group a rule forwards to, its weight, and the counters of
// the group behind this load balancer (nil when metrics are off).
type weighted struct {
	g      *group
	weight int
	stats  *pairStats
}

// shutdown closes a net/http server within drain: new connections are
// refused at once, requests in flight may finish.
func shutdown(ctx context.Context, drain time.Duration, stop func(context.Context) error, kill func() error) {
	ctx, cancel := context.WithTimeout(ctx, drain)
	defer cancel()
	if stop(ctx) != nil {
		kill()
	}
}

// inBackground runs fn in a goroutine and returns a channel closed when
// it has returned.
func inBackground(fn func()) <-chan struct{} {
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	return done
}

// inFlight counts a listener's connections, for draining it: once it
// drains, no new one may begin.
type inFlight struct {
	mu      sync.Mutex
	closing bool
	wg      sync.WaitGroup
}

// begin counts a new connection, unless the listener drains.
func (f *inFlight) begin() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closing {
		return false
	}
	f.wg.Add(1)
	return true
}

func (f *inFlight) end() { f.wg.Done() }

// wait refuses new connections and waits for those counted to end, or for
// d, whichever comes first.
func (f *inFlight) wait(d time.Duration) {
	f.mu.Lock()
	f.closing = true
	f.mu.Unlock()
	done := inBackground(f.wg.Wait)
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
	}
}

// closeOnce is a listener that may be closed twice, by its owner and by
// the net/http server that serves it; the second close is a no-op.
type closeOnce struct {
	net.Listener
	once sync.Once
	err  error
}

func (l *closeOnce) Close() error {
	l.once.Do(func() { l.err = l.Listener.Close() })
	return l.err
}
