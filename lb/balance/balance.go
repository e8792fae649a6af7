// Package balance picks the target of a target group for each request, by
// the group's load_balancing.algorithm.type, among the targets that may
// receive traffic: the healthy ones that are not draining, or, when none
// is healthy, every one that is not draining (ALB fails open).
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html#modify-routing-algorithm
package balance

import (
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"
)

// Health is a target's health as the data plane sees it.
type Health int32

// Target health states.
const (
	Initial Health = iota
	Healthy
	Unhealthy
)

// Target is one registered target's live state. It outlives configuration
// snapshots: the same *Target serves every snapshot that registers it.
type Target struct {
	// Key identifies the target in its group: "id:port".
	Key string
	// Addr is the host:port requests go to.
	Addr string

	health   atomic.Int32
	draining atomic.Bool
	inflight atomic.Int64
	// healthySince is when the target last became healthy (Unix nanos),
	// the start of its slow start.
	healthySince atomic.Int64
	// outlier is its outlier detection's record (outlier.go).
	outlier outlierState
}

// Health returns the target's health.
func (t *Target) Health() Health { return Health(t.health.Load()) }

// SetHealth records a health state; becoming healthy at now starts the
// target's slow start.
func (t *Target) SetHealth(h Health, now time.Time) {
	if Health(t.health.Swap(int32(h))) != Healthy && h == Healthy {
		t.healthySince.Store(now.UnixNano())
	}
}

// Draining reports whether the target was deregistered.
func (t *Target) Draining() bool { return t.draining.Load() }

// Drain takes the target out of selection for good.
func (t *Target) Drain() { t.draining.Store(true) }

// Inflight returns the number of requests the target is serving.
func (t *Target) Inflight() int64 { return t.inflight.Load() }

// Begin counts a request to the target; call the returned func when it
// ends.
func (t *Target) Begin() (end func()) {
	t.inflight.Add(1)
	return func() { t.inflight.Add(-1) }
}

// Algorithms by their attribute values.
const (
	RoundRobin               = "round_robin"
	LeastOutstandingRequests = "least_outstanding_requests"
	WeightedRandom           = "weighted_random"
)

// Group selects among a target group's targets.
type Group struct {
	// Algorithm is one of RoundRobin (the default),
	// LeastOutstandingRequests and WeightedRandom.
	Algorithm string
	// SlowStart is slow_start.duration_seconds: for this long after it
	// becomes healthy a target's share grows linearly from nothing to its
	// full share. Zero disables it.
	SlowStart time.Duration
	// Now and Rand are the clock and random source (rand.IntN when nil).
	Now  func() time.Time
	Rand func(n int) int

	next atomic.Uint64
}

// Available returns the targets that may receive a new request: the
// healthy ones not draining, or, if there are none, all not draining.
func Available(targets []*Target) []*Target {
	all := true // the common case: every target healthy, none draining
	for _, t := range targets {
		if t.Draining() || t.Health() != Healthy {
			all = false
			break
		}
	}
	if all {
		return targets
	}
	var healthy, open []*Target
	for _, t := range targets {
		if t.Draining() {
			continue
		}
		open = append(open, t)
		if t.Health() == Healthy {
			healthy = append(healthy, t)
		}
	}
	if len(healthy) > 0 {
		return healthy
	}
	return open
}

// Pick returns the target for the next request among available (as
// Available returns), skipping those in skip; nil when there is none.
func (g *Group) Pick(available []*Target, skip ...*Target) *Target {
	if len(skip) > 0 {
		kept := make([]*Target, 0, len(available))
		for _, t := range available {
			if !slices.Contains(skip, t) {
				kept = append(kept, t)
			}
		}
		available = kept
	}
	switch len(available) {
	case 0:
		return nil
	case 1:
		return available[0]
	}
	if g.SlowStart > 0 {
		if w, ramping := g.weights(available); ramping {
			return g.weighted(available, w)
		}
	}
	switch g.Algorithm {
	case LeastOutstandingRequests:
		return g.leastOutstanding(available)
	case WeightedRandom:
		return available[g.intn(len(available))]
	}
	return available[int(g.next.Add(1)-1)%len(available)]
}

// leastOutstanding picks the target with the fewest requests in flight,
// starting the scan at a rotating position so that ties spread.
func (g *Group) leastOutstanding(available []*Target) *Target {
	start := int(g.next.Add(1)-1) % len(available)
	best := available[start]
	for i := 1; i < len(available); i++ {
		t := available[(start+i)%len(available)]
		if t.Inflight() < best.Inflight() {
			best = t
		}
	}
	return best
}

// weights returns each target's slow-start share (1 once ramped), and
// whether any target is still ramping.
func (g *Group) weights(available []*Target) ([]float64, bool) {
	now := g.Now().UnixNano()
	w := make([]float64, len(available))
	ramping := false
	for i, t := range available {
		w[i] = 1
		if since := t.healthySince.Load(); since != 0 && t.Health() == Healthy {
			if elapsed := time.Duration(now - since); elapsed < g.SlowStart {
				w[i], ramping = max(float64(elapsed)/float64(g.SlowStart), 0.001), true
			}
		}
	}
	return w, ramping
}

// weighted picks a target with probability proportional to its weight.
func (g *Group) weighted(available []*Target, w []float64) *Target {
	var total float64
	for _, x := range w {
		total += x
	}
	const scale = 1 << 20
	r := float64(g.intn(scale)) / scale * total
	for i, x := range w {
		if r < x {
			return available[i]
		}
		r -= x
	}
	return available[len(available)-1]
}

func (g *Group) intn(n int) int {
	if g.Rand != nil {
		return g.Rand(n)
	}
	return rand.IntN(n)
}
