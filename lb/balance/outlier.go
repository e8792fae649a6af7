package balance

import (
	"sync/atomic"
	"time"
)

// Outlier detection is passive health checking: a target whose requests
// fail several times in a row is ejected from selection for a while,
// without waiting for an active check. It is what ECS Service Connect's
// proxy does; ELBv2 target groups do not.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-concepts.html

// Outlier is a target group's outlier detection.
type Outlier struct {
	// Consecutive failures (connection failures and 5xx answers) eject a
	// target.
	Consecutive int
	// Ejection is how long an ejected target stays out of selection.
	Ejection time.Duration
}

// outlierState is a target's record of its recent failures; it lives in
// Target, beside its health.
type outlierState struct {
	failures     atomic.Int32
	ejectedUntil atomic.Int64 // Unix nanos; zero when never ejected
}

// Ejected reports whether outlier detection holds the target out of
// selection at now.
func (t *Target) Ejected(now time.Time) bool {
	until := t.outlier.ejectedUntil.Load()
	return until != 0 && now.UnixNano() < until
}

// Outcome records how a request to the target ended under o: a failure
// (the target could not be reached, failed, or answered 5xx) counts
// towards ejection, any other answer resets the count. It reports whether
// this outcome ejected the target.
func (t *Target) Outcome(o *Outlier, failed bool, now time.Time) bool {
	if o == nil || o.Consecutive <= 0 {
		return false
	}
	if !failed {
		if t.outlier.failures.Load() != 0 {
			t.outlier.failures.Store(0)
		}
		return false
	}
	if int(t.outlier.failures.Add(1)) < o.Consecutive {
		return false
	}
	t.outlier.failures.Store(0)
	t.outlier.ejectedUntil.Store(now.Add(o.Ejection).UnixNano())
	return true
}

// Unejected returns the targets of available that outlier detection does
// not hold out at now; when it holds out all of them, it returns them
// all, as a proxy in panic mode does rather than answering nothing.
func Unejected(available []*Target, now time.Time) []*Target {
	ejected := 0
	for _, t := range available {
		if t.Ejected(now) {
			ejected++
		}
	}
	if ejected == 0 || ejected == len(available) {
		return available
	}
	kept := make([]*Target, 0, len(available)-ejected)
	for _, t := range available {
		if !t.Ejected(now) {
			kept = append(kept, t)
		}
	}
	return kept
}
