package elbv2

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	acmapi "github.com/aws/aws-sdk-go-v2/service/acm"
	elbv2api "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/rs/zerolog"

	"berth/backend"
	"berth/backend/acm"
	"berth/backend/pki"
	"berth/lb"
	"berth/sqlite"
)

// publishing is an ELBv2 backend with its store, and load balancers with
// HTTPS listeners serving ACM certificates.
type publishing struct {
	b     *Backend
	store *sqlite.Store
	ctx   context.Context
	lbs   []string
}

func newPublishing(tb testing.TB, loadBalancers int) *publishing {
	store, err := sqlite.Open(filepath.Join(tb.TempDir(), "berth.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	env := backend.Env{Clock: time.Now, IDs: backend.RandomIDs{}}
	ca, err := pki.Load(context.Background(), store, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	p := &publishing{b: New(store, env, ca), store: store,
		ctx: backend.WithScope(context.Background(), backend.Scope{Account: "000000000000", Region: "us-east-1"})}
	certs := acm.New(store, env, ca)
	for i := range loadBalancers {
		cert, err := certs.RequestCertificate(p.ctx, &acmapi.RequestCertificateInput{DomainName: aws.String(fmt.Sprintf("app%d.example.test", i))})
		if err != nil {
			tb.Fatal(err)
		}
		l, err := p.b.CreateLoadBalancer(p.ctx, &elbv2api.CreateLoadBalancerInput{Name: aws.String(fmt.Sprint("web", i)), Subnets: []string{"subnet-a", "subnet-b"}})
		if err != nil {
			tb.Fatal(err)
		}
		arn := *l.LoadBalancers[0].LoadBalancerArn
		_, err = p.b.CreateListener(p.ctx, &elbv2api.CreateListenerInput{LoadBalancerArn: aws.String(arn), Protocol: types.ProtocolEnumHttps, Port: aws.Int32(443),
			Certificates:   []types.Certificate{{CertificateArn: cert.CertificateArn}},
			DefaultActions: []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("200")}}}})
		if err != nil {
			tb.Fatal(err)
		}
		p.lbs = append(p.lbs, arn)
	}
	return p
}

var placement = Placement{Network: netip.MustParsePrefix("127.10.0.0/16")}

// recorder is a data plane that keeps what it was last given.
type recorder struct {
	mu      sync.Mutex
	applied int
	last    lb.Config
}

func (r *recorder) Apply(cfg lb.Config) map[string]error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.applied++
	r.last = cfg
	return nil
}

// A snapshot is built without the store's writer: while an API write
// holds it, the publisher still compiles and applies the configuration
// (on the old code it waited for the write to end).
func TestPublishDoesNotNeedTheWriter(t *testing.T) {
	p := newPublishing(t, 3)
	dp := &recorder{}
	if _, err := p.b.publish(p.ctx, dp, placement); err != nil { // allocates addresses, issues nothing: every listener has its certificate
		t.Fatal(err)
	}
	held, release := make(chan struct{}), make(chan struct{})
	writeDone := make(chan error, 1)
	go func() {
		writeDone <- p.store.Update(p.ctx, func(tx *sqlite.Tx) error {
			if err := tx.Put(sqlite.Row{Key: sqlite.Key{Kind: "test/held", ID: "x"}}, 1); err != nil {
				return err
			}
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	published := make(chan error, 1)
	go func() { _, err := p.b.publish(p.ctx, dp, placement); published <- err }()
	select {
	case err := <-published:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		close(release)
		t.Fatal("publishing waited for an API write to end")
	}
	close(release)
	if err := <-writeDone; err != nil {
		t.Fatal(err)
	}
	if dp.applied != 2 || len(dp.last.LoadBalancers) != 3 || len(dp.last.LoadBalancers[0].Listeners[0].Certificates) != 1 {
		t.Fatalf("applied %d snapshots, the last %+v", dp.applied, dp.last.LoadBalancers)
	}
}

// Certificates are parsed once, then taken from the publisher's cache
// while they stay the same; the cache holds only what the last snapshot
// served.
func TestPublishCachesCertificates(t *testing.T) {
	p := newPublishing(t, 3)
	dp := &recorder{}
	if _, err := p.b.publish(p.ctx, dp, placement); err != nil {
		t.Fatal(err)
	}
	first := dp.last.LoadBalancers[0].Listeners[0].Certificates[0]
	if _, err := p.b.publish(p.ctx, dp, placement); err != nil {
		t.Fatal(err)
	}
	again := dp.last.LoadBalancers[0].Listeners[0].Certificates[0]
	if first.PrivateKey != again.PrivateKey || first.Leaf != again.Leaf {
		t.Error("the second snapshot parsed the certificate again")
	}
	if n := p.b.keyPairs.size(); n != 3 {
		t.Errorf("%d key pairs cached, want 3", n)
	}
	if _, err := p.b.DeleteLoadBalancer(p.ctx, &elbv2api.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(p.lbs[0])}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.b.publish(p.ctx, dp, placement); err != nil {
		t.Fatal(err)
	}
	if n := p.b.keyPairs.size(); n != 2 {
		t.Errorf("%d key pairs cached after a load balancer went, want 2", n)
	}
}

// BenchmarkCreateTagsWhilePublishing measures an API write (AddTags, the
// CreateTags of Terraform's aws_lb) with 50 HTTPS load balancers: each
// write wakes the publisher, which compiles them all.
func BenchmarkCreateTagsWhilePublishing(b *testing.B) {
	p := newPublishing(b, 50)
	ctx, stop := context.WithCancel(p.ctx)
	done := make(chan struct{})
	go func() { defer close(done); p.b.Publish(ctx, &recorder{}, placement, zerolog.Nop()) }()
	defer func() { stop(); <-done }()
	b.ResetTimer()
	for i := range b.N {
		_, err := p.b.AddTags(p.ctx, &elbv2api.AddTagsInput{ResourceArns: []string{p.lbs[i%len(p.lbs)]},
			Tags: []types.Tag{{Key: aws.String("n"), Value: aws.String(fmt.Sprint(i))}}})
		if err != nil {
			b.Fatal(err)
		}
	}
}
