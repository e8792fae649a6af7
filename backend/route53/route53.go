// Package route53 is Amazon Route 53's DNS API: hosted zones (public, and
// private to VPCs), their resource record sets and changes, health checks
// and tags.
// https://docs.aws.amazon.com/Route53/latest/APIReference/API_Operations_Amazon_Route_53.html
//
// Route 53 is a global service: its resources belong to an account, not a
// region, whatever region a request is signed for.
//
// Every exported method with an SDK input is one Route 53 operation with
// the SDK client's signature minus its options.
package route53

import (
	"context"
	"time"

	ec2api "github.com/aws/aws-sdk-go-v2/service/ec2"

	"berth/backend"
	"berth/sqlite"
)

// VPCs is what Route 53 asks of EC2: whether a VPC exists, in the scope
// (account and region) of the context.
type VPCs interface {
	DescribeVpcs(context.Context, *ec2api.DescribeVpcsInput) (*ec2api.DescribeVpcsOutput, error)
}

// Backend serves the Route 53 API from the store.
type Backend struct {
	store *sqlite.Store
	env   backend.Env
	vpcs  VPCs
	// insync is how long after its submission a change is INSYNC.
	insync time.Duration
	// wake tells the DNS publisher that the records may have changed.
	wake chan struct{}
}

// update runs fn in a write transaction and, when it commits, wakes the
// DNS publisher.
func (b *Backend) update(ctx context.Context, fn func(*sqlite.Tx) error) error {
	err := b.store.Update(ctx, fn)
	if err == nil {
		backend.Signal(b.wake)
	}
	return err
}

// New returns a Route 53 backend over store that checks VPCs with vpcs.
// A change reports INSYNC once insync has passed on env's clock (0 for at
// once).
func New(store *sqlite.Store, env backend.Env, vpcs VPCs, insync time.Duration) *Backend {
	return &Backend{store: store, env: env, vpcs: vpcs, insync: insync, wake: make(chan struct{}, 1)}
}

// globalRegion is the region Route 53's resources are stored under: none,
// as the service is global.
const globalRegion = ""

// scopeOf is the account-wide scope of a request.
func scopeOf(ctx context.Context) backend.Scope {
	s := backend.ScopeFrom(ctx)
	s.Region = globalRegion
	return s
}
