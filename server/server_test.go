package server

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"berth/backend"
	"berth/backend/acm"
	"berth/backend/appautoscaling"
	"berth/backend/autoscaling"
	"berth/backend/cloudwatch"
	"berth/backend/ec2"
	"berth/backend/ecr"
	"berth/backend/ecs"
	"berth/backend/elbv2"
	"berth/backend/iam"
	"berth/backend/logs"
	"berth/backend/pki"
	"berth/backend/route53"
	"berth/backend/secretsmanager"
	"berth/backend/servicediscovery"
	"berth/backend/ssm"
	"berth/backend/sts"
	"berth/sqlite"
)

// newTestServer is a server over a fresh store in a temporary directory,
// with deterministic ids.
func newTestServer(tb testing.TB) *Server {
	return newTestServerWith(tb, Config{DefaultAccount: "000000000000", DefaultRegion: "us-east-1"}, nil)
}

// newTestServerWith is newTestServer with the configuration cfg and the
// reset function reset.
func newTestServerWith(tb testing.TB, cfg Config, reset func(context.Context) error) *Server {
	store, err := sqlite.Open(tb.TempDir() + "/berth.db")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	env := backend.Env{Clock: time.Now, IDs: &backend.SequentialIDs{}}
	ca, err := pki.Load(context.Background(), store, env.Clock())
	if err != nil {
		tb.Fatal(err)
	}
	registry, err := ecr.New(store, env, tb.TempDir(), []byte("secret"))
	if err != nil {
		tb.Fatal(err)
	}
	ec2Backend, ecsBackend, cwBackend := ec2.New(store, env), ecs.New(store, env), cloudwatch.New(store, env)
	return New(cfg,
		Backends{
			AutoScaling:    autoscaling.New(store, env, ec2Backend, nil),
			AppAutoScaling: appautoscaling.New(store, env, ecsBackend, cwBackend, zerolog.Nop()),
			ECS:            ecsBackend, ELBv2: elbv2.New(store, env, ca), ACM: acm.New(store, env, ca),
			EC2: ec2Backend, IAM: iam.New(store, env, sts.New(store, env)), Logs: logs.New(store, env), CloudWatch: cwBackend, STS: sts.New(store, env), CA: ca.PEM(),
			SSM: ssm.New(store, env), SecretsManager: secretsmanager.New(store, env),
			ServiceDiscovery: servicediscovery.New(store, env, ec2Backend),
			Route53:          route53.New(store, env, ec2Backend, 0),
			ECR:              registry, Reset: reset,
		},
		env.IDs, zerolog.Nop())
}

// TestREADMEListsEveryOperation keeps the README's list of supported
// operations in step with what the server serves.
func TestREADMEListsEveryOperation(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{}, Backends{ECS: &ecs.Backend{}, ELBv2: &elbv2.Backend{}, ACM: &acm.Backend{}, ECR: &ecr.Backend{}, IAM: &iam.Backend{}, Logs: &logs.Backend{}, CloudWatch: &cloudwatch.Backend{}, STS: &sts.Backend{}, AutoScaling: &autoscaling.Backend{}, SSM: &ssm.Backend{}, SecretsManager: &secretsmanager.Backend{}}, backend.RandomIDs{}, zerolog.Nop())
	tables := map[string]table{"ELBv2": s.query["elasticloadbalancing"].table, "IAM": s.query["iam"].table, "STS": s.query["sts"].table,
		"AutoScaling": s.query["autoscaling"].table}
	for _, svc := range s.json {
		tables[strings.ToUpper(svc.name)] = svc.table
	}
	for _, svc := range s.rest {
		tables[strings.ToUpper(svc.name)] = svc.table
	}
	least := map[string]int{"ROUTE53": 20, "ECS": 20, "ELBv2": 20, "ACM": 9, "ECR": 20, "IAM": 25, "STS": 3, "LOGS": 14, "AutoScaling": 20, "MONITORING": 4, "APPLICATION-AUTOSCALING": 13, "SERVICEDISCOVERY": 30}
	for service, tbl := range tables {
		if len(tbl.ops) < least[service] {
			t.Errorf("%s serves only %d operations", service, len(tbl.ops))
		}
		for name := range tbl.ops {
			if !regexp.MustCompile(`\b` + name + `\b`).Match(readme) {
				t.Errorf("README does not list the %s operation %s", service, name)
			}
		}
	}
}
