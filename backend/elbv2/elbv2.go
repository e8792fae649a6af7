// Package elbv2 is the Elastic Load Balancing v2 control plane: load
// balancers, target groups, listeners, rules, targets, their attributes and
// tags, stored as the SDK's own types and validated as the ELBv2 API
// Reference says.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/Welcome.html
//
// Every exported method is one ELBv2 action with the SDK client's
// signature minus its options; the server derives its action table from
// them.
package elbv2

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"berth/backend"
	"berth/backend/pki"
	"berth/sqlite"
)

// Backend serves the ELBv2 API from the store.
type Backend struct {
	store *sqlite.Store
	env   backend.Env
	// ca issues the certificate of a listener that has no usable one.
	ca *pki.Authority
	// wake tells the publisher that the configuration may have changed.
	wake chan struct{}
	// keyPairs are the listener certificates the publisher parsed.
	keyPairs *keyPairs

	mu     sync.Mutex
	failed map[string]string // by load balancer ARN: a listener that could not bind

	// Network, when set, is EC2: subnets, security groups, target
	// groups' VPCs and instance targets must exist there, and a load
	// balancer takes its subnets' zones and VPC. Set it before serving.
	Network Network

	// ContainerInstances, when set, is ECS: instance targets it knows as
	// container instances exist too. Set it before serving.
	ContainerInstances ContainerInstances
}

// Network is the part of the EC2 API that places load balancers; the EC2
// backend satisfies it.
type Network interface {
	DescribeSubnets(ctx context.Context, in *ec2.DescribeSubnetsInput) (*ec2.DescribeSubnetsOutput, error)
	DescribeSecurityGroups(ctx context.Context, in *ec2.DescribeSecurityGroupsInput) (*ec2.DescribeSecurityGroupsOutput, error)
	DescribeVpcs(ctx context.Context, in *ec2.DescribeVpcsInput) (*ec2.DescribeVpcsOutput, error)
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput) (*ec2.DescribeInstancesOutput, error)
}

// New returns an ELBv2 backend over store whose listeners without a
// usable certificate get one that ca issues.
func New(store *sqlite.Store, env backend.Env, ca *pki.Authority) *Backend {
	return &Backend{store: store, env: env, ca: ca, wake: make(chan struct{}, 1), keyPairs: newKeyPairs()}
}

// Stored resource kinds.
const (
	kindLoadBalancer        = "elbv2/load-balancer"
	kindTargetGroup         = "elbv2/target-group"
	kindListener            = "elbv2/listener"
	kindRule                = "elbv2/rule"
	kindTarget              = "elbv2/target"
	kindAttributes          = "elbv2/attributes"
	kindListenerCertificate = "elbv2/listener-certificate"
	kindTrustStore          = "elbv2/trust-store"
	kindCapacityReservation = "elbv2/capacity-reservation"
	kindTags                = "elbv2/tags"
)

type scope struct{ backend.Scope }

func scopeOf(ctx context.Context) scope { return scope{backend.ScopeFrom(ctx)} }

// arn builds an ELBv2 ARN, e.g. resource "targetgroup/web/0123456789abcdef".
func (s scope) arn(resource string) string {
	return "arn:aws:elasticloadbalancing:" + s.Region + ":" + s.Account + ":" + resource
}

// hash derives a stable identifier from parts, for ids that must be the
// same every time (the default VPC and its security group).
func hash(n int, parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "/")))
	return hex.EncodeToString(sum[:])[:n]
}

// defaultVPC is the id berth gives the account's default VPC in a region.
func (s scope) defaultVPC() string { return "vpc-" + hash(17, s.Account, s.Region, "vpc") }

func (b *Backend) now() *time.Time {
	t := b.env.Clock().UTC().Truncate(time.Millisecond)
	return &t
}

func isNotFound(err error) bool { return errors.Is(err, sqlite.ErrNotFound) }

// page is ELBv2's Marker/PageSize paging over the store.
func page(q sqlite.Query, marker *string, pageSize *int32, max int) (sqlite.Query, error) {
	if pageSize != nil && (*pageSize < 1 || int(*pageSize) > max) {
		return q, errValidation("PageSize must be between 1 and %d.", max)
	}
	q.Token = aws.ToString(marker)
	q.Limit = max
	if pageSize != nil {
		q.Limit = int(*pageSize)
	}
	return q, nil
}

func marker(next string, err error) (*string, error) {
	if errors.Is(err, sqlite.ErrBadToken) {
		return nil, errValidation("Invalid Marker.")
	}
	if next == "" {
		return nil, err
	}
	return aws.String(next), err
}

// pageStrings pages an in-memory ordered list of unique keys with an
// opaque marker.
func pageStrings(all []string, m *string, pageSize *int32, max int) ([]string, *string, error) {
	if pageSize != nil && (*pageSize < 1 || int(*pageSize) > max) {
		return nil, nil, errValidation("PageSize must be between 1 and %d.", max)
	}
	limit := max
	if pageSize != nil {
		limit = int(*pageSize)
	}
	start := 0
	if aws.ToString(m) != "" {
		raw, err := base64.RawURLEncoding.DecodeString(*m)
		if err != nil {
			return nil, nil, errValidation("Invalid Marker.")
		}
		start = len(all)
		for i, s := range all {
			if s == string(raw) {
				start = i + 1
			}
		}
	}
	end := min(start+limit, len(all))
	if end < len(all) {
		return all[start:end], aws.String(base64.RawURLEncoding.EncodeToString([]byte(all[end-1]))), nil
	}
	return all[start:end], nil, nil
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }
