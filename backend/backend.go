// Package backend is berth's domain: one sub-package per AWS service (ecs,
// elbv2) holding its resources, validation and errors. This package holds
// what they share: the account and region scope of a request, and the
// injected sources of time and identifiers that keep tests deterministic.
package backend

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"slices"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/rs/zerolog"

	"berth/sqlite"
)

// Scope is the account and region a request acts in, taken from its SigV4
// credential. Every stored resource belongs to exactly one scope.
type Scope struct {
	Account string
	Region  string
}

// Key is the store key of the resource of kind with id in this scope.
func (s Scope) Key(kind, id string) sqlite.Key {
	return sqlite.Key{Account: s.Account, Region: s.Region, Kind: kind, ID: id}
}

// Row is the stored row of a resource in this scope.
func (s Scope) Row(kind, id, parent, name string) sqlite.Row {
	return sqlite.Row{Key: s.Key(kind, id), Parent: parent, Name: name}
}

// Query selects the resources of kind in this scope, of one parent ("" for
// any).
func (s Scope) Query(kind, parent string) sqlite.Query {
	return sqlite.Query{Account: s.Account, Region: s.Region, Kind: kind, Parent: parent}
}

type scopeKey struct{}

// WithScope returns ctx carrying s.
func WithScope(ctx context.Context, s Scope) context.Context {
	return context.WithValue(ctx, scopeKey{}, s)
}

// ScopeFrom returns the scope in ctx, or the zero Scope.
func ScopeFrom(ctx context.Context) Scope {
	s, _ := ctx.Value(scopeKey{}).(Scope)
	return s
}

type callerKey struct{}

// WithCaller returns ctx carrying the access key id that signed the
// request.
func WithCaller(ctx context.Context, accessKey string) context.Context {
	return context.WithValue(ctx, callerKey{}, accessKey)
}

// CallerFrom returns the access key id in ctx, or "" for an unsigned
// request.
func CallerFrom(ctx context.Context) string {
	k, _ := ctx.Value(callerKey{}).(string)
	return k
}

// ErrBadToken is a page token that Page did not issue.
var ErrBadToken = errors.New("invalid page token")

// Page pages items held in memory, ordered by a unique key: it returns at
// most limit of the items after the one token names ("" for the first
// page) and the token of the next page ("" after the last). Items removed
// between pages do not upset it: a page starts at the first key after the
// token's.
func Page[T any](all []T, key func(T) string, token string, limit int) ([]T, string, error) {
	start := 0
	if token != "" {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil {
			return nil, "", ErrBadToken
		}
		if start = slices.IndexFunc(all, func(v T) bool { return key(v) > string(raw) }); start < 0 {
			start = len(all)
		}
	}
	end := min(start+limit, len(all))
	if end < len(all) {
		return all[start:end], base64.RawURLEncoding.EncodeToString([]byte(key(all[end-1]))), nil
	}
	return all[start:end], "", nil
}

// PageOf is Page with the SDK's optional token and page size: at most max
// items (def when max is unset or not positive), and a nil token after
// the last page.
func PageOf[T any](all []T, key func(T) string, token *string, max *int32, def int) ([]T, *string, error) {
	limit := def
	if max != nil && *max > 0 {
		limit = int(*max)
	}
	out, next, err := Page(all, key, aws.ToString(token), limit)
	if err != nil || next == "" {
		return out, nil, err
	}
	return out, &next, nil
}

// OrEmpty returns s, or an empty slice for nil: AWS answers [] where a
// list has no members.
func OrEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Clock tells the time. Production uses time.Now; tests a fixed clock.
type Clock func() time.Time

// IDs makes random-looking identifiers: ECS task ids, ELBv2 ARN suffixes,
// request ids.
type IDs interface {
	// Hex returns n lowercase hexadecimal digits.
	Hex(n int) string
}

// UUID formats 32 hexadecimal digits as a UUID (8-4-4-4-12).
func UUID(hex string) string {
	return hex[:8] + "-" + hex[8:12] + "-" + hex[12:16] + "-" + hex[16:20] + "-" + hex[20:32]
}

// NewUUID is a UUID of ids' digits.
func NewUUID(ids IDs) string { return UUID(ids.Hex(32)) }

// RandomIDs draws identifiers from crypto/rand.
type RandomIDs struct{}

// Hex implements IDs.
func (RandomIDs) Hex(n int) string {
	b := make([]byte, (n+1)/2)
	rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// SequentialIDs yields 0…01, 0…02, …: deterministic identifiers for tests.
type SequentialIDs struct{ n atomic.Uint64 }

// Hex implements IDs.
func (s *SequentialIDs) Hex(n int) string {
	const digits = "0123456789abcdef"
	v := s.n.Add(1)
	b := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		b[i] = digits[v%16]
		v /= 16
	}
	return string(b)
}

// Env is what every service backend is built from.
type Env struct {
	Clock Clock
	IDs   IDs
}

// KindInstance holds the berth instance id and its secret key: berth's
// own, kept by a reset.
const KindInstance = "berth/instance"

// Instance returns the id of the berth instance that owns store: drawn once
// and kept, so that it is the same after a restart on the same data. The
// runtime labels everything berth creates with it.
func Instance(ctx context.Context, store *sqlite.Store, ids IDs) (string, error) {
	key := sqlite.Key{Kind: KindInstance, ID: "self"}
	var id string
	err := store.Update(ctx, func(tx *sqlite.Tx) error {
		err := tx.Get(key, &id)
		if errors.Is(err, sqlite.ErrNotFound) {
			id = ids.Hex(16)
			return tx.Put(sqlite.Row{Key: key}, id)
		}
		return err
	})
	return id, err
}

// Secret returns the secret key of the berth instance that owns store: 32
// random bytes drawn once and kept like the instance id, for what berth
// signs and later checks (registry tokens). Unlike the instance id, which
// /_berth/health tells anyone, it never leaves berth.
func Secret(ctx context.Context, store *sqlite.Store, ids IDs) ([]byte, error) {
	key := sqlite.Key{Kind: KindInstance, ID: "secret"}
	var secret string
	err := store.Update(ctx, func(tx *sqlite.Tx) error {
		err := tx.Get(key, &secret)
		if errors.Is(err, sqlite.ErrNotFound) {
			secret = ids.Hex(64)
			return tx.Put(sqlite.Row{Key: key}, secret)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return hex.DecodeString(secret)
}

// Every runs fn every interval until ctx ends: the background collectors
// (abandoned uploads, unreferenced blobs, expired log events) run on it.
func Every(ctx context.Context, interval time.Duration, fn func(context.Context)) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			fn(ctx)
		}
	}
}

// Republish calls publish now, again after every signal on wake, and at
// the time publish last returned (the next drain to end, say; zero for
// none) by clock, until ctx ends; after a failure it tries again a second
// later. It is how a backend keeps what serves outside the store (a load
// balancer's snapshot, a DNS table) up to date.
func Republish(ctx context.Context, wake <-chan struct{}, clock func() time.Time, publish func(context.Context) (next time.Time, err error), log zerolog.Logger) {
	for {
		next, err := publish(ctx)
		if err != nil && ctx.Err() == nil {
			log.Error().Err(err).Msg("publishing")
			next = clock().Add(time.Second)
		}
		var timer <-chan time.Time
		if !next.IsZero() {
			timer = time.After(max(next.Sub(clock()), 0))
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-timer:
		}
	}
}

// Signal wakes a Republish loop without blocking: one pending wake is
// enough.
func Signal(wake chan<- struct{}) {
	select {
	case wake <- struct{}{}:
	default:
	}
}
