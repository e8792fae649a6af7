package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkServe measures the server alone (no HTTP client, no network)
// on the calls the control-plane benchmark makes, for profiling.
func BenchmarkServe(b *testing.B) {
	s := newTestServer(b)
	call := func(op, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113."+op)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("%s: %d %s", op, w.Code, w.Body)
		}
		return w
	}
	call("CreateCluster", `{"clusterName":"c"}`)
	// One container instance with room for every task, as an agent
	// registers it: EC2 tasks are placed on the cluster's instances.
	call("RegisterContainerInstance", `{"cluster":"c","totalResources":[{"name":"CPU","type":"INTEGER","integerValue":1048576},{"name":"MEMORY","type":"INTEGER","integerValue":16777216}]}`)
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
