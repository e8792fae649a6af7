package lb

import (
	"errors"
	"net"
	"sync/atomic"
	"syscall"
	"time"

	"berth/lb/balance"
)

// The data plane counts what CloudWatch publishes of load balancers
// (AWS/ApplicationELB, AWS/NetworkELB) as it serves: atomic counters per
// load balancer and per target group of a load balancer, reached through
// pointers that compile puts in each listener's routes, so that a request
// adds to them without a lock and without a map. The control plane takes
// what was counted since it last asked with Manager.Metrics, and
// publishes it.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
// https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-cloudwatch-metrics.html

// lbStats are one load balancer's counters.
type lbStats struct {
	arn, typ string
	// elb counts the load balancer's own answers, by elbClass.
	elb [elbClasses]atomic.Int64
	// fixed and redirect count fixed-response and redirect actions.
	fixed, redirect atomic.Int64
	// conns are an ALB's TCP connections: from clients, and to targets.
	conns gauge
	// bytes are an ALB's bytes to and from clients.
	bytes atomic.Int64
	// flows are an NLB's flows by protocol (flowTCP, flowTLS, flowUDP).
	flows [flowProtocols]flowStats
}

// Classes of the load balancer's own answers: a status counts in its
// class and, for 500, 502, 503 and 504, in its own.
const (
	elb3XX = iota
	elb4XX
	elb5XX
	elb500
	elb502
	elb503
	elb504
	elbClasses
)

// NLB listener protocols that have metrics of their own (ActiveFlowCount_TCP, ...).
const (
	flowTCP = iota
	flowTLS
	flowUDP
	flowProtocols
)

// flowStats are an NLB's flows of one protocol.
type flowStats struct {
	flows gauge
	bytes atomic.Int64
}

// pairStats are the counters of one target group behind one load
// balancer: the TargetGroup, LoadBalancer dimensions.
type pairStats struct {
	lb, tg string
	// requests are those for which a target of the group was chosen.
	requests atomic.Int64
	// target counts the targets' answers by class: 2XX to 5XX.
	target [4]atomic.Int64
	// responseTime is from the request leaving for the target to the
	// target's response head.
	responseTime timing
	// connectErrors are connections to targets that could not be made.
	connectErrors atomic.Int64
}

// gauge counts things that open and close (connections, flows): how many
// opened, and the most open at once, since the last take.
type gauge struct {
	open, peak, opened atomic.Int64
}

// begin counts one opening.
func (g *gauge) begin() {
	g.opened.Add(1)
	n := g.open.Add(1)
	for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
	}
}

// end counts one closing.
func (g *gauge) end() { g.open.Add(-1) }

// take returns the openings and the peak since the last take, and starts
// the next peak from what is open now.
func (g *gauge) take() (opened, peak int64) {
	open := g.open.Load()
	return g.opened.Swap(0), max(g.peak.Swap(open), open)
}

// timing sums durations, with their least and greatest.
type timing struct {
	count, sum atomic.Int64
	min, max   atomic.Int64 // nanoseconds; min 0 when there is none
}

func (t *timing) add(d time.Duration) {
	n := max(int64(d), 1) // 0 is "none" for min
	t.count.Add(1)
	t.sum.Add(n)
	for m := t.max.Load(); n > m && !t.max.CompareAndSwap(m, n); m = t.max.Load() {
	}
	for m := t.min.Load(); (m == 0 || n < m) && !t.min.CompareAndSwap(m, n); m = t.min.Load() {
	}
}

// take returns the durations added since the last take. The four are
// taken one by one, so an add that races the take may land in one take
// with part of its fields and in the next with the rest: a take always
// has Min <= Max all the same, as CloudWatch requires of a statistic set.
func (t *timing) take() Timing {
	out := Timing{Count: t.count.Swap(0), Sum: time.Duration(t.sum.Swap(0)),
		Min: time.Duration(t.min.Swap(0)), Max: time.Duration(t.max.Swap(0))}
	if out.Min > out.Max {
		out.Min, out.Max = out.Max, out.Min
	}
	return out
}

// answered counts one of the load balancer's own answers (fixed
// responses, redirects and errors); s may be nil, when metrics are off.
func (s *lbStats) answered(status int) {
	if s == nil {
		return
	}
	switch status / 100 {
	case 3:
		s.elb[elb3XX].Add(1)
	case 4:
		s.elb[elb4XX].Add(1)
	case 5:
		s.elb[elb5XX].Add(1)
		switch status {
		case 500:
			s.elb[elb500].Add(1)
		case 502:
			s.elb[elb502].Add(1)
		case 503:
			s.elb[elb503].Add(1)
		case 504:
			s.elb[elb504].Add(1)
		}
	}
}

// chosen counts a request for which a target of the group was chosen.
func (p *pairStats) chosen() {
	if p != nil {
		p.requests.Add(1)
	}
}

// connectFailed counts a connection to a target that could not be made.
func (p *pairStats) connectFailed() {
	if p != nil {
		p.connectErrors.Add(1)
	}
}

// responded counts a target's response head, read d after the request
// left for it.
func (p *pairStats) responded(status int, d time.Duration) {
	if p == nil {
		return
	}
	if c := status/100 - 2; c >= 0 && c < len(p.target) {
		p.target[c].Add(1)
	}
	p.responseTime.add(d)
}

// counted wraps an ALB listener's socket so that its connections count
// for the load balancer; unwrapped when metrics are off.
func (m *Manager) counted(l *listener, ln net.Listener) net.Listener {
	if m.metricsOff {
		return ln
	}
	return &countedListener{Listener: ln, stats: func() *lbStats { return l.routes.Load().stats }}
}

// countedListener counts the connections it accepts, and their bytes, for
// the load balancer that its routes name at the time.
type countedListener struct {
	net.Listener
	stats func() *lbStats
}

func (l *countedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return c, err
	}
	s := l.stats()
	if s == nil {
		return c, nil
	}
	s.conns.begin()
	return &countedConn{Conn: c, bytes: &s.bytes, conns: &s.conns}, nil
}

// countedConn adds what goes through a connection to bytes, and ends its
// count in conns when closed (once, however often it is closed). bytes
// may be nil: a target connection's bytes are not a client's.
type countedConn struct {
	net.Conn
	bytes  *atomic.Int64
	conns  *gauge
	closed atomic.Bool
}

func (c *countedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && c.bytes != nil {
		c.bytes.Add(int64(n))
	}
	return n, err
}

func (c *countedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if n > 0 && c.bytes != nil {
		c.bytes.Add(int64(n))
	}
	return n, err
}

func (c *countedConn) Close() error {
	if !c.closed.Swap(true) {
		c.conns.end()
	}
	return c.Conn.Close()
}

// SyscallConn is the wrapped connection's, for peeking at a pooled
// target connection (closedByTarget).
func (c *countedConn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.New("not a socket")
}

// CloseWrite half-closes a TCP connection, as the TCP proxy does.
func (c *countedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return c.Conn.Close()
}

// Metrics is what the data plane counted since the previous call of
// Manager.Metrics, with the target groups' health as it is now.
type Metrics struct {
	LoadBalancers []LoadBalancerMetrics
	// TargetGroups has one entry per target group and load balancer that
	// forwards to it.
	TargetGroups []TargetGroupMetrics
}

// LoadBalancerMetrics are one load balancer's counts.
type LoadBalancerMetrics struct {
	ARN string
	// Type is "application" or "network".
	Type string
	// ELB3XX to ELB504 count the load balancer's own answers.
	ELB3XX, ELB4XX, ELB5XX, ELB500, ELB502, ELB503, ELB504 int64
	// FixedResponses and Redirects count those actions.
	FixedResponses, Redirects int64
	// NewConnections and PeakConnections are an ALB's TCP connections,
	// from clients and to targets: those opened, and the most open at
	// once.
	NewConnections, PeakConnections int64
	// ProcessedBytes are an ALB's bytes to and from clients.
	ProcessedBytes int64
	// Flows are an NLB's flows by listener protocol: TCP, TLS and UDP.
	Flows []FlowMetrics
}

// FlowMetrics are an NLB's flows of one protocol.
type FlowMetrics struct {
	Protocol string
	// New flows were joined to a target; Peak is the most open at once;
	// Bytes went either way (payload: the TCP/IP headers are the
	// kernel's).
	New, Peak, Bytes int64
}

// TargetGroupMetrics are the counts of one target group behind one load
// balancer.
type TargetGroupMetrics struct {
	LoadBalancerARN, TargetGroupARN string
	// Requests are those for which a target of the group was chosen.
	Requests int64
	// Target2XX to Target5XX count the targets' answers.
	Target2XX, Target3XX, Target4XX, Target5XX int64
	// ResponseTime is from a request leaving for its target to the
	// target's response head.
	ResponseTime Timing
	// ConnectionErrors are connections to targets that could not be made.
	ConnectionErrors int64
	// Healthy and Unhealthy are the targets in those states now, draining
	// ones aside; Registered are all those not draining.
	Healthy, Unhealthy, Registered int
}

// Timing is a sum of durations with their count and extremes.
type Timing struct {
	Count         int64
	Sum, Min, Max time.Duration
}

// pairKey identifies a target group behind a load balancer.
func pairKey(lbARN, tgARN string) string { return lbARN + " " + tgARN }

// statsFor returns the load balancer's counters, made on first use. Apply
// calls it, under the lock.
func (m *Manager) statsFor(lb *LoadBalancer) *lbStats {
	if m.metricsOff {
		return nil
	}
	s := m.lbStats[lb.ARN]
	if s == nil {
		s = &lbStats{arn: lb.ARN, typ: lb.Type}
		m.lbStats[lb.ARN] = s
	}
	m.lbSeen[lb.ARN] = true
	return s
}

// pairFor returns the counters of a target group behind a load balancer.
func (m *Manager) pairFor(lb *LoadBalancer, tgARN string) *pairStats {
	if m.metricsOff {
		return nil
	}
	key := pairKey(lb.ARN, tgARN)
	p := m.pairs[key]
	if p == nil {
		p = &pairStats{lb: lb.ARN, tg: tgARN}
		m.pairs[key] = p
	}
	m.pairSeen[key] = true
	return p
}

// retireStats moves the counters of load balancers and pairs that the
// applied config no longer has to retired, to be reported once more.
func (m *Manager) retireStats() {
	for arn, s := range m.lbStats {
		if !m.lbSeen[arn] {
			m.retiredLBs = append(m.retiredLBs, s)
			delete(m.lbStats, arn)
		}
	}
	for key, p := range m.pairs {
		if !m.pairSeen[key] {
			m.retiredPairs = append(m.retiredPairs, p)
			delete(m.pairs, key)
		}
	}
	clear(m.lbSeen)
	clear(m.pairSeen)
}

// Metrics returns what was counted since the previous call: each count is
// taken and reset at once, so none is lost or counted twice. Load
// balancers and pairs the configuration dropped are reported one last
// time.
func (m *Manager) Metrics() Metrics {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out Metrics
	lbs := append(m.retiredLBs, mapValues(m.lbStats)...)
	pairs := append(m.retiredPairs, mapValues(m.pairs)...)
	m.retiredLBs, m.retiredPairs = nil, nil
	for _, s := range lbs {
		lm := LoadBalancerMetrics{ARN: s.arn, Type: s.typ,
			ELB3XX: s.elb[elb3XX].Swap(0), ELB4XX: s.elb[elb4XX].Swap(0), ELB5XX: s.elb[elb5XX].Swap(0),
			ELB500: s.elb[elb500].Swap(0), ELB502: s.elb[elb502].Swap(0), ELB503: s.elb[elb503].Swap(0), ELB504: s.elb[elb504].Swap(0),
			FixedResponses: s.fixed.Swap(0), Redirects: s.redirect.Swap(0), ProcessedBytes: s.bytes.Swap(0),
		}
		lm.NewConnections, lm.PeakConnections = s.conns.take()
		if s.typ == "network" {
			for i, name := range [flowProtocols]string{"TCP", "TLS", "UDP"} {
				f := FlowMetrics{Protocol: name, Bytes: s.flows[i].bytes.Swap(0)}
				f.New, f.Peak = s.flows[i].flows.take()
				lm.Flows = append(lm.Flows, f)
			}
		}
		out.LoadBalancers = append(out.LoadBalancers, lm)
	}
	for _, p := range pairs {
		tm := TargetGroupMetrics{LoadBalancerARN: p.lb, TargetGroupARN: p.tg, Requests: p.requests.Swap(0),
			Target2XX: p.target[0].Swap(0), Target3XX: p.target[1].Swap(0), Target4XX: p.target[2].Swap(0), Target5XX: p.target[3].Swap(0),
			ResponseTime: p.responseTime.take(), ConnectionErrors: p.connectErrors.Swap(0)}
		if g := m.groups[p.tg]; g != nil && m.pairs[pairKey(p.lb, p.tg)] == p {
			for _, t := range g.members.Load().targets {
				if t.Draining() {
					continue
				}
				tm.Registered++
				switch t.Health() {
				case balance.Healthy:
					tm.Healthy++
				case balance.Unhealthy:
					tm.Unhealthy++
				}
			}
		}
		out.TargetGroups = append(out.TargetGroups, tm)
	}
	return out
}

func mapValues[K comparable, V any](m map[K]V) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
