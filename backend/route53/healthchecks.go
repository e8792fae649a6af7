package route53

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// kindHealthCheck is a health check, by id.
const kindHealthCheck = "route53/healthcheck"

// defaultHealthCheckPage is ListHealthChecks' maxitems default.
const defaultHealthCheckPage = 100

// healthCheck is a stored health check. berth does not probe its
// endpoint: GetHealthCheckStatus reports it healthy.
type healthCheck struct {
	ID              string
	CallerReference string
	Config          types.HealthCheckConfig
	Version         int64
	Tags            []types.Tag `json:",omitempty"`
}

func (h *healthCheck) api() *types.HealthCheck {
	cfg := h.Config
	return &types.HealthCheck{Id: aws.String(h.ID), CallerReference: aws.String(h.CallerReference), HealthCheckConfig: &cfg, HealthCheckVersion: aws.Int64(h.Version)}
}

func loadHealthCheck(tx *sqlite.Tx, s backend.Scope, id string) (*healthCheck, error) {
	var h healthCheck
	err := tx.Get(s.Key(kindHealthCheck, id), &h)
	if errors.Is(err, sqlite.ErrNotFound) {
		return nil, errNoSuchHealthCheck(id)
	}
	if err != nil {
		return nil, err
	}
	return &h, nil
}

// CreateHealthCheck creates a health check. A second request with the
// same CallerReference and settings returns the first check; with other
// settings it is HealthCheckAlreadyExists.
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_CreateHealthCheck.html
func (b *Backend) CreateHealthCheck(ctx context.Context, in *r53.CreateHealthCheckInput) (*r53.CreateHealthCheckOutput, error) {
	ref := aws.ToString(in.CallerReference)
	if ref == "" || len(ref) > 64 {
		return nil, errInvalidInput("CallerReference must have 1 to 64 characters.")
	}
	if in.HealthCheckConfig == nil || in.HealthCheckConfig.Type == "" {
		return nil, errInvalidInput("The health check needs a HealthCheckConfig with a Type.")
	}
	cfg := *in.HealthCheckConfig
	if !slices.Contains(types.HealthCheckType("").Values(), cfg.Type) {
		return nil, errInvalidInput("The health check type %s is not valid.", cfg.Type)
	}
	if cfg.RequestInterval == nil {
		cfg.RequestInterval = aws.Int32(30)
	}
	if cfg.FailureThreshold == nil && cfg.Type != types.HealthCheckTypeCalculated && cfg.Type != types.HealthCheckTypeCloudwatchMetric {
		cfg.FailureThreshold = aws.Int32(3)
	}
	for _, f := range []**bool{&cfg.Inverted, &cfg.Disabled, &cfg.MeasureLatency} {
		if *f == nil {
			*f = aws.Bool(false)
		}
	}
	s := scopeOf(ctx)
	h := &healthCheck{ID: backend.NewUUID(b.env.IDs), CallerReference: ref, Config: cfg, Version: 1}
	err := b.update(ctx, func(tx *sqlite.Tx) error {
		prior, err := sqlite.ListAll[healthCheck](tx, sqlite.Query{Account: s.Account, Region: s.Region, Kind: kindHealthCheck, Name: ref})
		if err != nil {
			return err
		}
		if len(prior) > 0 {
			if sameConfig(prior[0].Config, cfg) {
				h = &prior[0]
				return nil
			}
			return awsproto.Modeled(&types.HealthCheckAlreadyExists{}, "A health check with the caller reference %s already exists.", ref)
		}
		return tx.Put(s.Row(kindHealthCheck, h.ID, "", ref), h)
	})
	if err != nil {
		return nil, err
	}
	return &r53.CreateHealthCheckOutput{HealthCheck: h.api(), Location: aws.String("https://route53.amazonaws.com/2013-04-01/healthcheck/" + h.ID)}, nil
}

// GetHealthCheck describes a health check.
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetHealthCheck.html
func (b *Backend) GetHealthCheck(ctx context.Context, in *r53.GetHealthCheckInput) (*r53.GetHealthCheckOutput, error) {
	var h *healthCheck
	err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		h, err = loadHealthCheck(tx, scopeOf(ctx), aws.ToString(in.HealthCheckId))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &r53.GetHealthCheckOutput{HealthCheck: h.api()}, nil
}

// ListHealthChecks lists the account's health checks in creation order.
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListHealthChecks.html
func (b *Backend) ListHealthChecks(ctx context.Context, in *r53.ListHealthChecksInput) (*r53.ListHealthChecksOutput, error) {
	limit, err := pageSize(in.MaxItems, defaultHealthCheckPage)
	if err != nil {
		return nil, err
	}
	s := scopeOf(ctx)
	var all []healthCheck
	err = b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		all, err = sqlite.ListAll[healthCheck](tx, s.Query(kindHealthCheck, ""))
		return err
	})
	if err != nil {
		return nil, err
	}
	start := 0
	if m := aws.ToString(in.Marker); m != "" {
		if start = slices.IndexFunc(all, func(h healthCheck) bool { return h.ID == m }); start < 0 {
			return nil, errInvalidInput("The marker %s does not name a health check.", m)
		}
	}
	end := min(start+limit, len(all))
	out := &r53.ListHealthChecksOutput{Marker: in.Marker, MaxItems: aws.Int32(int32(limit)), HealthChecks: []types.HealthCheck{}}
	for _, h := range all[start:end] {
		out.HealthChecks = append(out.HealthChecks, *h.api())
	}
	if end < len(all) {
		out.IsTruncated, out.NextMarker = true, aws.String(all[end].ID)
	}
	return out, nil
}

// DeleteHealthCheck deletes a health check.
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_DeleteHealthCheck.html
func (b *Backend) DeleteHealthCheck(ctx context.Context, in *r53.DeleteHealthCheckInput) (*r53.DeleteHealthCheckOutput, error) {
	s := scopeOf(ctx)
	err := b.update(ctx, func(tx *sqlite.Tx) error {
		h, err := loadHealthCheck(tx, s, aws.ToString(in.HealthCheckId))
		if err != nil {
			return err
		}
		return tx.Delete(s.Key(kindHealthCheck, h.ID))
	})
	if err != nil {
		return nil, err
	}
	return &r53.DeleteHealthCheckOutput{}, nil
}

// GetHealthCheckStatus reports a health check healthy: berth does not
// probe endpoints.
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetHealthCheckStatus.html
func (b *Backend) GetHealthCheckStatus(ctx context.Context, in *r53.GetHealthCheckStatusInput) (*r53.GetHealthCheckStatusOutput, error) {
	if _, err := b.GetHealthCheck(ctx, &r53.GetHealthCheckInput{HealthCheckId: in.HealthCheckId}); err != nil {
		return nil, err
	}
	now := b.env.Clock()
	return &r53.GetHealthCheckStatusOutput{HealthCheckObservations: []types.HealthCheckObservation{{
		Region: types.HealthCheckRegionUsEast1, IPAddress: aws.String("15.177.2.1"),
		StatusReport: &types.StatusReport{Status: aws.String("Success: HTTP Status Code 200, OK"), CheckedTime: aws.Time(now)},
	}}}, nil
}

// sameConfig reports whether two health check settings are the same, as
// stored.
func sameConfig(a, b types.HealthCheckConfig) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}
