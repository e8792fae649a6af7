package elbv2

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2api "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/rs/zerolog"

	"berth/backend"
	"berth/lb"
	"berth/lb/balance"
	"berth/lb/health"
	"berth/sqlite"
)

// testBackend is a backend on a fresh store whose clock the test moves,
// with an ALB whose HTTP listener forwards to target group "web"
// (instance targets, port 80) with a 30 s deregistration delay.
func testBackend(t *testing.T) (*Backend, context.Context, *time.Time, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "berth.db")
	store, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	b := New(store, backend.Env{Clock: func() time.Time { return now }, IDs: &backend.SequentialIDs{}}, nil)
	ctx := backend.WithScope(context.Background(), backend.Scope{Account: "123456789012", Region: "us-east-1"})
	l := must(b.CreateLoadBalancer(ctx, &elbv2api.CreateLoadBalancerInput{Name: aws.String("front"), Subnets: []string{"subnet-1", "subnet-2"}})).LoadBalancers[0]
	tg := must(b.CreateTargetGroup(ctx, &elbv2api.CreateTargetGroupInput{
		Name: aws.String("web"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: l.VpcId,
	})).TargetGroups[0]
	must(b.CreateListener(ctx, &elbv2api.CreateListenerInput{
		LoadBalancerArn: l.LoadBalancerArn, Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: tg.TargetGroupArn}},
	}))
	return b, ctx, &now, *tg.TargetGroupArn
}

// capture is a data plane that hands over the first snapshot it is given.
type capture struct{ applied chan lb.Config }

func (c *capture) Apply(cfg lb.Config) map[string]error {
	select {
	case c.applied <- cfg:
	default:
	}
	return nil
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func instance(i int) types.TargetDescription {
	return types.TargetDescription{Id: aws.String(fmt.Sprintf("i-%017x", i)), Port: aws.Int32(32768)}
}

// states is DescribeTargetHealth's state of each target, by id.
func states(t *testing.T, b *Backend, ctx context.Context, tg string) map[string]types.TargetHealthStateEnum {
	t.Helper()
	out := must(b.DescribeTargetHealth(ctx, &elbv2api.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)}))
	m := map[string]types.TargetHealthStateEnum{}
	for _, d := range out.TargetHealthDescriptions {
		m[*d.Target.Id] = d.TargetHealth.State
	}
	return m
}

// rows counts the stored target rows of a group.
func rows(t *testing.T, b *Backend, tg string) int {
	t.Helper()
	var n int
	err := b.store.View(context.Background(), func(tx *sqlite.Tx) (err error) {
		s := scope{backend.Scope{Account: "123456789012", Region: "us-east-1"}}
		n, err = tx.Count(s.Query(kindTarget, tg))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestTargetHealthSurvivesRestart: the health the data plane reported is
// what DescribeTargetHealth serves, and what the next snapshot seeds the
// data plane with, from a backend opened afresh on the same store.
func TestTargetHealthSurvivesRestart(t *testing.T) {
	b, ctx, _, tg := testBackend(t)
	must(b.RegisterTargets(ctx, &elbv2api.RegisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: []types.TargetDescription{instance(1), instance(2)}}))
	b.Report(lb.HealthReport{TargetGroupARN: tg, ID: "i-00000000000000001", Port: 32768, Status: health.Status{Health: balance.Healthy}})
	failed := health.Status{Health: balance.Unhealthy, Reason: health.Timeout, Description: "Request timed out"}
	b.Report(lb.HealthReport{TargetGroupARN: tg, ID: "i-00000000000000002", Port: 32768, Status: failed})

	restarted := New(b.store, b.env, nil)
	got := states(t, restarted, ctx, tg)
	if got["i-00000000000000001"] != types.TargetHealthStateEnumHealthy || got["i-00000000000000002"] != types.TargetHealthStateEnumUnhealthy {
		t.Fatalf("after a restart: %v", got)
	}
	dp := &capture{applied: make(chan lb.Config, 1)}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go restarted.Publish(pctx, dp, Placement{Network: netip.MustParsePrefix("127.77.0.0/16")}, zerolog.Nop())
	cfg := <-dp.applied
	seeded := map[string]health.Status{}
	for _, lt := range cfg.TargetGroups[tg].Targets {
		seeded[lt.ID] = lt.Health
	}
	if seeded["i-00000000000000001"].Health != balance.Healthy || seeded["i-00000000000000002"] != failed {
		t.Fatalf("the data plane is seeded with %+v", seeded)
	}
}

// TestTargetHealthBounded: reported health lives with the registration.
// After many targets came, were reported on and went (deregistered and
// drained, or their group deleted), and late reports about them arrived,
// nothing of them is kept.
func TestTargetHealthBounded(t *testing.T) {
	b, ctx, now, tg := testBackend(t)
	healthy := health.Status{Health: balance.Healthy}
	for round := range 20 {
		var batch []types.TargetDescription
		for i := range 10 {
			batch = append(batch, instance(round*10+i))
		}
		must(b.RegisterTargets(ctx, &elbv2api.RegisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: batch}))
		for _, d := range batch {
			b.Report(lb.HealthReport{TargetGroupARN: tg, ID: *d.Id, Port: 32768, Status: healthy})
		}
		must(b.DeregisterTargets(ctx, &elbv2api.DeregisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: batch}))
		for _, d := range batch { // reports racing the deregistration
			b.Report(lb.HealthReport{TargetGroupARN: tg, ID: *d.Id, Port: 32768, Status: health.Status{Health: balance.Unhealthy}})
		}
		*now = now.Add(301 * time.Second) // past the default 300 s deregistration delay
	}
	must(b.RegisterTargets(ctx, &elbv2api.RegisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: []types.TargetDescription{instance(9999)}}))
	if n := rows(t, b, tg); n != 1 {
		t.Fatalf("%d target rows kept for 1 registered target", n)
	}

	// A group that is deleted takes its targets' health with it.
	other := must(b.CreateTargetGroup(ctx, &elbv2api.CreateTargetGroupInput{
		Name: aws.String("other"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String(scopeOf(ctx).defaultVPC()),
	})).TargetGroups[0].TargetGroupArn
	must(b.RegisterTargets(ctx, &elbv2api.RegisterTargetsInput{TargetGroupArn: other, Targets: []types.TargetDescription{instance(1)}}))
	b.Report(lb.HealthReport{TargetGroupARN: *other, ID: "i-00000000000000001", Port: 32768, Status: healthy})
	must(b.DeleteTargetGroup(ctx, &elbv2api.DeleteTargetGroupInput{TargetGroupArn: other}))
	b.Report(lb.HealthReport{TargetGroupARN: *other, ID: "i-00000000000000001", Port: 32768, Status: healthy})
	if n := rows(t, b, *other); n != 0 {
		t.Fatalf("%d target rows kept for a deleted group", n)
	}
}
