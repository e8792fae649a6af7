package balance

import (
	"testing"
	"time"
)

// TestOutlier: five failures in a row eject a target for the ejection
// time, a success in between resets the count, and a pool whose targets
// are all ejected is served whole (consecutive_5xx 5, base_ejection_time
// 30 s: https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/outlier_detection.proto).
func TestOutlier(t *testing.T) {
	t.Parallel()
	o := &Outlier{Consecutive: 5, Ejection: 30 * time.Second}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b := &Target{Key: "a"}, &Target{Key: "b"}
	for range 4 {
		if a.Outcome(o, true, now) {
			t.Fatal("ejected before the fifth failure")
		}
	}
	a.Outcome(o, false, now) // a success resets the count
	for i := range 5 {
		if ejected := a.Outcome(o, true, now); ejected != (i == 4) {
			t.Fatalf("failure %d: ejected = %v", i+1, ejected)
		}
	}
	if !a.Ejected(now) || !a.Ejected(now.Add(29*time.Second)) || a.Ejected(now.Add(30*time.Second)) {
		t.Fatal("ejection does not last 30 s")
	}
	if got := Unejected([]*Target{a, b}, now); len(got) != 1 || got[0] != b {
		t.Fatalf("Unejected = %v", got)
	}
	for range 5 {
		b.Outcome(o, true, now)
	}
	if got := Unejected([]*Target{a, b}, now); len(got) != 2 {
		t.Fatalf("all ejected: Unejected = %v, want both", got)
	}
	if (&Target{}).Outcome(nil, true, now) {
		t.Fatal("no outlier detection ejects")
	}
}
