package lb

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"berth/lb/balance"
	"berth/lb/health"
)

// group is a target group's live state. It outlives snapshots: the rules
// of every snapshot that forwards to the group point at the same *group.
type group struct {
	arn      string
	cfg      atomic.Pointer[TargetGroup]
	balancer atomic.Pointer[balance.Group]
	members  atomic.Pointer[members]

	// targets is written by Apply only, under the manager's lock.
	targets map[string]*target // by "id:port"
}

// members is the group's targets as the request path reads them.
type members struct {
	targets []*target
	balance []*balance.Target // the same targets, for balance.Available
	byKey   map[string]*target
}

// target is a registered target's live state: health, in-flight
// requests, its connection pool, and what ends it.
type target struct {
	*balance.Target
	cfg      Target
	upstream *upstream
	// ctx is the parent of every request to the target and of its health
	// checks; finish cancels it, which aborts what is still in flight and
	// ends the checks, those started after it included.
	ctx    context.Context
	cancel context.CancelFunc
	// stopHealth ends its current health checks; it is set and called by
	// Apply only, under the manager's lock.
	stopHealth context.CancelFunc
	once       sync.Once
}

// dialError marks a failure to connect to a target: nothing was sent, so
// the request may go to another target.
type dialError struct{ error }

func (e dialError) Unwrap() error { return e.error }

func isDialError(err error) bool {
	var d dialError
	return errors.As(err, &d)
}

func (m *Manager) newTarget(t Target, connectTimeout time.Duration) *target {
	key := targetKey(t.ID, t.Port)
	addr := net.JoinHostPort(t.Host, strconv.Itoa(t.Port))
	ctx, cancel := context.WithCancel(context.Background())
	return &target{
		Target: &balance.Target{Key: key, Addr: addr},
		cfg:    t,
		upstream: newUpstream(addr, func(request context.Context) (net.Conn, error) {
			if t.Host == "" {
				return nil, dialError{errors.New("target " + key + " has no address berth can reach")}
			}
			// A dial ends with the target too: one to a task that died
			// (its SYNs unanswered) is not kept waiting for the dial
			// timeout once the target leaves the snapshot, and the
			// request is tried on another target.
			dialing, stop := context.WithCancel(request)
			if connectTimeout > 0 {
				dialing, stop = context.WithTimeout(request, connectTimeout)
			}
			defer stop()
			defer context.AfterFunc(ctx, stop)()
			conn, err := m.dial(dialing, "tcp", addr)
			if err != nil {
				return nil, dialError{err}
			}
			return conn, nil
		}),
		ctx: ctx, cancel: cancel,
	}
}

func targetKey(id string, port int) string { return id + ":" + strconv.Itoa(port) }

// finish ends the target: requests still in flight are aborted and its
// connections closed. It is idempotent.
func (t *target) finish() {
	t.once.Do(func() {
		t.Drain()
		t.cancel()
		t.upstream.close()
	})
}

// syncGroup brings g to cfg: new targets start their health checks,
// deregistered ones drain until their DrainUntil, and those gone from the
// snapshot are finished.
func (m *Manager) syncGroup(g *group, cfg TargetGroup) {
	old := g.cfg.Swap(&cfg)
	if old == nil || old.Algorithm != cfg.Algorithm || old.SlowStart != cfg.SlowStart {
		g.balancer.Store(&balance.Group{Algorithm: cfg.Algorithm, SlowStart: cfg.SlowStart, Now: m.now})
	}
	healthChanged := old == nil || !sameHealth(old.HealthCheck, cfg.HealthCheck) || old.ProxyProtocol != cfg.ProxyProtocol
	seen := map[string]bool{}
	next := &members{byKey: map[string]*target{}}
	now := m.now()
	for _, tc := range cfg.Targets {
		key := targetKey(tc.ID, tc.Port)
		seen[key] = true
		t := g.targets[key]
		if t != nil && (t.cfg.Host != tc.Host || t.Draining() && tc.DrainUntil.IsZero()) {
			t.finish() // moved, or registered again after deregistration
			t = nil
		}
		if t == nil {
			t = m.newTarget(tc, cfg.ConnectTimeout)
			g.targets[key] = t
			m.checkHealth(g, t, &cfg, tc.Health)
		} else if healthChanged {
			t.stopHealth()
			m.checkHealth(g, t, &cfg, health.Status{})
		}
		if !tc.DrainUntil.IsZero() {
			if !now.Before(tc.DrainUntil) {
				t.finish()
				continue
			}
			if !t.Draining() {
				t.Drain()
				time.AfterFunc(tc.DrainUntil.Sub(now), t.finish) // finishing twice is harmless
			}
		}
		t.cfg = tc
		next.targets = append(next.targets, t)
		next.balance = append(next.balance, t.Target)
		next.byKey[key] = t
	}
	for key, t := range g.targets {
		if !seen[key] {
			t.finish()
			delete(g.targets, key)
		}
	}
	g.members.Store(next)
}

// finishGroup ends every target of a group no snapshot uses any more.
func (m *Manager) finishGroup(g *group) {
	for _, t := range g.targets {
		t.finish()
	}
	g.members.Store(&members{})
}

// checkHealth starts the target's health checks by tg's settings, from
// its known status; with checks disabled the target counts as healthy. A
// finished target is not checked: its checks would never end.
func (m *Manager) checkHealth(g *group, t *target, tg *TargetGroup, known health.Status) {
	ctx, cancel := context.WithCancel(t.ctx)
	t.stopHealth = cancel
	if tg.HealthCheck == nil || ctx.Err() != nil {
		if ctx.Err() == nil {
			t.SetHealth(balance.Healthy, m.now())
		}
		return
	}
	cfg := *tg.HealthCheck
	cfg.ProxyProtocol = tg.ProxyProtocol
	if known.Health != balance.Initial {
		t.SetHealth(known.Health, m.now()) // before the first request can pick it
	}
	id, port := t.cfg.ID, t.cfg.Port
	what := "health check of " + t.Key + " in " + g.arn
	c := &health.Checker{
		Config: cfg, Host: t.cfg.Host, TrafficPort: port, Target: t.Target, Now: m.now, Known: known,
		Report: func(s health.Status) {
			if ctx.Err() == nil && m.report != nil {
				m.safely(what+" (report)", func() { m.report(HealthReport{TargetGroupARN: g.arn, ID: id, Port: port, Status: s}) })
			}
		},
	}
	m.checking.Add(1)
	go func() {
		defer m.checking.Add(-1)
		// A check that a panic ended resumes an interval later from the
		// status it had, rather than leaving the target's health frozen.
		for m.panicked(what, func() { c.Run(ctx) }) {
			c.Known = c.Status()
			select {
			case <-ctx.Done():
				return
			case <-time.After(cfg.Interval):
			}
		}
	}()
}

func sameHealth(a, b *health.Config) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
