package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"berth/backend"
	"berth/backend/ecs"
	"berth/backend/elbv2"
	"berth/sqlite"
)

// BenchmarkServe measures the server alone (no HTTP client, no network)
// on the calls the control-plane benchmark makes, for profiling.
func BenchmarkServe(b *testing.B) {
	store, err := sqlite.Open(b.TempDir() + "/berth.db")
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	env := backend.Env{Clock: time.Now, IDs: &backend.SequentialIDs{}}
	s := New(Config{DefaultAccount: "000000000000", DefaultRegion: "us-east-1"}, Backends{ECS: ecs.New(store, env), ELBv2: elbv2.New(store, env)}, env.IDs, zerolog.Nop())
	call := func(op, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", ecsTargetPrefix+op)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("%s: %d %s", op, w.Code, w.Body)
		}
		return w
	}
	call("CreateCluster", `{"clusterName":"c"}`)
	call("RegisterTaskDefinition", `{"family":"web","containerDefinitions":[{"name":"app","image":"i","memory":64,"portMappings":[{"containerPort":8080,"hostPort":0}]}]}`)
	var names []string
	for i := range 1000 {
		call("CreateService", fmt.Sprintf(`{"cluster":"c","serviceName":"s%d","taskDefinition":"web","desiredCount":1}`, i))
		if i < 10 {
			names = append(names, fmt.Sprintf(`"s%d"`, i))
		}
	}
	for range 100 {
		call("RunTask", `{"cluster":"c","taskDefinition":"web","count":10}`)
	}
	for _, c := range []struct{ name, op, body string }{
		{"DescribeServices", "DescribeServices", `{"cluster":"c","services":[` + strings.Join(names, ",") + `]}`},
		{"ListServices", "ListServices", `{"cluster":"c"}`},
		{"ListTasks", "ListTasks", `{"cluster":"c"}`},
		{"DescribeTaskDefinition", "DescribeTaskDefinition", `{"taskDefinition":"web:1"}`},
		{"RegisterTaskDefinition", "RegisterTaskDefinition", `{"family":"web","containerDefinitions":[{"name":"app","image":"i","memory":64}]}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				call(c.op, c.body)
			}
		})
	}
}
