// Package servicediscovery is AWS Cloud Map: namespaces (HTTP, private
// and public DNS), their services and the service instances registered
// in them, discovered by DiscoverInstances and, for DNS namespaces, by the
// records Records describes for berth's DNS server. Operations that AWS
// runs asynchronously (namespace changes, instance registration) complete
// at once: GetOperation answers SUCCESS for them.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_Operations.html
//
// Every exported method with an SDK input is one Cloud Map operation with
// the SDK client's signature minus its options.
package servicediscovery

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"berth/backend"
	"berth/sqlite"
)

// VPCs is what Cloud Map asks EC2: whether a private DNS namespace's VPC
// exists.
type VPCs interface {
	DescribeVpcs(context.Context, *ec2.DescribeVpcsInput) (*ec2.DescribeVpcsOutput, error)
}

// Backend serves the Cloud Map API from the store.
type Backend struct {
	store *sqlite.Store
	env   backend.Env
	vpcs  VPCs
	// wake tells the DNS publisher that the records may have changed.
	wake chan struct{}
}

// New returns a Cloud Map backend over store that checks VPCs with vpcs
// (nil: any VPC id is taken).
func New(store *sqlite.Store, env backend.Env, vpcs VPCs) *Backend {
	return &Backend{store: store, env: env, vpcs: vpcs, wake: make(chan struct{}, 1)}
}

// The store kinds of Cloud Map's resources. A namespace and a service are
// stored under their ids, a service with its namespace as parent; an
// instance under "<service id>/<instance id>" with its service as parent;
// an operation under its id.
const (
	kindNamespace = "servicediscovery/namespace"
	kindService   = "servicediscovery/service"
	kindInstance  = "servicediscovery/instance"
	kindOperation = "servicediscovery/operation"
)

// defaultPage is how many items a List operation answers when MaxResults
// is unset: "up to 100", as each List operation's reference says
// (https://docs.aws.amazon.com/cloud-map/latest/api/API_ListNamespaces.html).
const defaultPage = 100

// now is the backend's clock in UTC, to the millisecond as the API
// answers dates.
func (b *Backend) now() time.Time { return b.env.Clock().UTC().Truncate(time.Millisecond) }

// id is a Cloud Map resource id: prefix and 16 lowercase characters, as
// ns-e4anhexample0004 and srv-e4anhexample0004 in the API reference's
// examples (https://docs.aws.amazon.com/cloud-map/latest/api/API_GetNamespace.html).
func (b *Backend) id(prefix string) string { return prefix + b.env.IDs.Hex(16) }

// operationID is an operation's id: 32 and 8 lowercase characters, as
// gv4g5meo7ndmeh4fqskygvk23d2fijwa-k9302yzd in the API reference's
// examples (https://docs.aws.amazon.com/cloud-map/latest/api/API_GetOperation.html).
func (b *Backend) operationID() string { return b.env.IDs.Hex(32) + "-" + b.env.IDs.Hex(8) }

// hostedZoneID is the id of the Route 53 hosted zone of a DNS namespace:
// Z and upper-case letters and digits, as Route 53 gives them
// (Z1D633PJN98FT9).
func (b *Backend) hostedZoneID() string { return "Z" + strings.ToUpper(b.env.IDs.Hex(20)) }

// arn is the ARN of a Cloud Map resource (namespace/<id>, service/<id>).
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudmap.html#awscloudmap-resources-for-iam-policies
func arn(s backend.Scope, resource string) string {
	return "arn:aws:servicediscovery:" + s.Region + ":" + s.Account + ":" + resource
}

// update runs fn in a write transaction in the request's scope.
func (b *Backend) update(ctx context.Context, fn func(tx *sqlite.Tx, s backend.Scope) error) error {
	s := backend.ScopeFrom(ctx)
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error { return fn(tx, s) })
	if err == nil {
		backend.Signal(b.wake)
	}
	return err
}

// view runs fn in a read transaction in the request's scope.
func (b *Backend) view(ctx context.Context, fn func(tx *sqlite.Tx, s backend.Scope) error) error {
	s := backend.ScopeFrom(ctx)
	return b.store.View(ctx, func(tx *sqlite.Tx) error { return fn(tx, s) })
}

// notFound is replacement when err is the store's not-found, else err.
func notFound(err, replacement error) error {
	if errors.Is(err, sqlite.ErrNotFound) {
		return replacement
	}
	return err
}

// page is one page of items sorted by key, as a List operation answers
// it; a token berth did not issue is InvalidInput.
func page[T any](all []T, key func(T) string, token *string, max *int32) ([]T, *string, error) {
	out, next, err := backend.PageOf(all, key, token, max, defaultPage)
	if errors.Is(err, backend.ErrBadToken) {
		return nil, nil, errInvalid("The NextToken value is not valid.")
	}
	return out, next, err
}

func cmpStrings(a, b string) int { return strings.Compare(a, b) }
