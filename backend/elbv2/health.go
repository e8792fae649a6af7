package elbv2

import (
	"context"
	"strings"
	"time"

	"berth/backend"
	"berth/lb"
	"berth/lb/balance"
	"berth/lb/health"
	"berth/sqlite"
)

// Target health as the data plane reports it is kept in the store, on the
// target's row, and written only when it changes (the data plane reports
// transitions, not probes). It lives and dies with the registration: a
// deregistered target, or one of a deleted group, takes its health with
// it, and a restarted berth serves, and seeds the data plane with, the
// health its targets last had, as a load balancer that kept running would.

// reportTimeout bounds the write of one health report.
const reportTimeout = 10 * time.Second

// Report records a change of a target's health, as the data plane saw it.
// A report about a target that is no longer registered is dropped.
func (b *Backend) Report(r lb.HealthReport) {
	s, ok := scopeOfARN(r.TargetGroupARN)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), reportTimeout)
	defer cancel()
	probe := target{Id: r.ID, Port: int32(r.Port)}
	key := probe.key(r.TargetGroupARN)
	status := r.Status
	// Not b.update: the data plane already serves this health, so the
	// configuration it is given need not change.
	b.store.Update(ctx, func(tx *sqlite.Tx) error {
		var t target
		if err := tx.Get(s.Key(kindTarget, key), &t); err != nil {
			return nil // deregistered, or its group deleted, meanwhile
		}
		if t.DrainUntil != nil || (t.Health != nil && *t.Health == status) {
			return nil
		}
		t.Health = &status
		return tx.Put(s.Row(kindTarget, key, r.TargetGroupARN, t.Id), t)
	})
}

// lastHealth is the health the data plane last reported for the target,
// initial if none.
func (t target) lastHealth() health.Status {
	if t.Health == nil {
		return health.Status{Health: balance.Initial}
	}
	return *t.Health
}

// scopeOfARN is the account and region of an ELBv2 ARN.
func scopeOfARN(arn string) (scope, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[2] != "elasticloadbalancing" {
		return scope{}, false
	}
	return scope{backend.Scope{Region: parts[3], Account: parts[4]}}, true
}
