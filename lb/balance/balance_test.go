package balance

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func pool(n int) []*Target {
	var out []*Target
	for i := range n {
		t := &Target{Key: string(rune('a' + i))}
		t.SetHealth(Healthy, t0.Add(-time.Hour))
		out = append(out, t)
	}
	return out
}

func counts(g *Group, targets []*Target, picks int) map[string]int {
	out := map[string]int{}
	for range picks {
		out[g.Pick(Available(targets)).Key]++
	}
	return out
}

func TestRoundRobinOrder(t *testing.T) {
	targets := pool(3)
	g := &Group{Algorithm: RoundRobin}
	var order string
	for range 7 {
		order += g.Pick(targets).Key
	}
	if order != "abcabca" {
		t.Fatalf("order %s", order)
	}
}

func TestAvailableSkipsDrainingAndFailsOpen(t *testing.T) {
	targets := pool(3)
	targets[0].Drain()
	targets[1].SetHealth(Unhealthy, t0)
	if got := Available(targets); len(got) != 1 || got[0].Key != "c" {
		t.Fatalf("available = %v", got)
	}
	// None healthy: every target not draining (fail open).
	targets[2].SetHealth(Unhealthy, t0)
	if got := Available(targets); len(got) != 2 || got[0].Key != "b" || got[1].Key != "c" {
		t.Fatalf("fail open = %v", got)
	}
	targets[1].Drain()
	targets[2].Drain()
	if got := (&Group{}).Pick(Available(targets)); got != nil {
		t.Fatalf("all draining, picked %s", got.Key)
	}
}

func TestPickSkips(t *testing.T) {
	targets := pool(2)
	g := &Group{}
	for range 4 {
		if got := g.Pick(targets, targets[0]); got != targets[1] {
			t.Fatalf("picked %s, skipping a", got.Key)
		}
	}
}

// Slow requests pile up on no target: each new request goes to the one
// with the fewest in flight.
func TestLeastOutstandingUnderSlowRequests(t *testing.T) {
	targets := pool(3)
	g := &Group{Algorithm: LeastOutstandingRequests}
	var wg sync.WaitGroup
	release := make(chan struct{})
	var mu sync.Mutex
	picked := map[string]int{}
	for range 30 {
		// Picks are serialized here, as requests arriving one by one; the
		// requests themselves stay in flight together.
		target := g.Pick(targets)
		end := target.Begin()
		mu.Lock()
		picked[target.Key]++
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-release
			end()
		}()
	}
	for _, tg := range targets {
		if tg.Inflight() != 10 || picked[tg.Key] != 10 {
			t.Errorf("target %s: %d in flight, %d picked; want 10", tg.Key, tg.Inflight(), picked[tg.Key])
		}
	}
	// A target with a request done gets the next one.
	close(release)
	wg.Wait()
	end := targets[0].Begin()
	end2 := targets[1].Begin()
	if got := g.Pick(targets); got != targets[2] {
		t.Errorf("picked %s, want the idle c", got.Key)
	}
	end()
	end2()
}

func TestWeightedRandomDistribution(t *testing.T) {
	targets := pool(4)
	r := rand.New(rand.NewPCG(1, 2))
	g := &Group{Algorithm: WeightedRandom, Rand: r.IntN}
	const picks = 40000
	for key, n := range counts(g, targets, picks) {
		if share := float64(n) / picks; math.Abs(share-0.25) > 0.02 {
			t.Errorf("target %s got %.3f of picks, want 0.25 ± 0.02", key, share)
		}
	}
}

// A target that became healthy a quarter of the slow start ago gets a
// quarter of a full share; once ramped, a full share.
func TestSlowStartRamp(t *testing.T) {
	targets := pool(2)
	now := t0
	r := rand.New(rand.NewPCG(3, 4))
	g := &Group{SlowStart: 100 * time.Second, Now: func() time.Time { return now }, Rand: r.IntN}
	targets[1].SetHealth(Unhealthy, now)
	targets[1].SetHealth(Healthy, now)
	for _, c := range []struct {
		after time.Duration
		share float64 // of the new target: w / (1 + w)
	}{
		{25 * time.Second, 0.25 / 1.25},
		{50 * time.Second, 0.5 / 1.5},
		{100 * time.Second, 0.5},
	} {
		now = t0.Add(c.after)
		const picks = 40000
		share := float64(counts(g, targets, picks)["b"]) / picks
		if math.Abs(share-c.share) > 0.02 {
			t.Errorf("after %v the new target got %.3f, want %.3f", c.after, share, c.share)
		}
	}
}
