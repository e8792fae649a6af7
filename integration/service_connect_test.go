package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	sdtypes "github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/aws/smithy-go/middleware"
)

// TestServiceConnect: a client-only Service Connect service (frontend)
// calls http://backend:8080, the client alias of a Service Connect
// service (backend) in the same Cloud Map namespace, and reaches every
// backend task; a rolling deployment of backend under load fails no
// call, and a backend task killed costs at most the calls in flight.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect.html
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-concepts.html
func TestServiceConnect(t *testing.T) {
	ctx, c := setup(t)
	cm := cloudMap(c.region)
	op := try(cm.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("shop")})).must(t)
	nsID := namespaceOf(t, ctx, cm, op.OperationId)
	try(c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("c")})).must(t)
	// backend's container has a health check: a new task joins the proxy,
	// and counts for the deployment, once it passes, so that no call goes
	// to an app not listening yet (Service Connect itself checks nothing).
	check := &types.HealthCheck{Command: []string{"CMD", "/app", "check"}, Interval: aws.Int32(5), Timeout: aws.Int32(2), Retries: aws.Int32(1)}
	for _, name := range []string{"backend", "frontend"} {
		var hc *types.HealthCheck
		if name == "backend" {
			hc = check
		}
		try(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(name), NetworkMode: types.NetworkModeAwsvpc,
			RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate}, Cpu: aws.String("256"), Memory: aws.String("512"),
			ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(testImage), Essential: aws.Bool(true), HealthCheck: hc,
				Environment:  []types.KeyValuePair{{Name: aws.String("APP_NAME"), Value: aws.String(name)}},
				PortMappings: []types.PortMapping{{Name: aws.String("api"), ContainerPort: aws.Int32(8080), AppProtocol: types.ApplicationProtocolHttp}}}}})).must(t)
	}
	network := &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: subnets(t, ctx, c)[:1]}}
	create := func(name string, count int32, sc *types.ServiceConnectConfiguration) (*ecs.CreateServiceOutput, error) {
		return c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String(name), TaskDefinition: aws.String(name),
			DesiredCount: aws.Int32(count), LaunchType: types.LaunchTypeFargate, NetworkConfiguration: network, ServiceConnectConfiguration: sc})
	}
	backendSC := func(namespace, port string) *types.ServiceConnectConfiguration {
		return &types.ServiceConnectConfiguration{Enabled: true, Namespace: aws.String(namespace), Services: []types.ServiceConnectService{{
			PortName: aws.String(port), DiscoveryName: aws.String("backend"),
			ClientAliases: []types.ServiceConnectClientAlias{{Port: aws.Int32(8080), DnsName: aws.String("backend")}}}}}
	}

	// A namespace Cloud Map does not have, and a portName the task
	// definition does not name, are refused (API_ServiceConnectService:
	// portName must match a portMappings name; the namespace's error as
	// field reports quote it).
	_, err := create("backend", 2, backendSC("nowhere", "api"))
	wantErr[*types.NamespaceNotFoundException](t, err)
	_, err = create("backend", 2, backendSC("shop", "nope"))
	wantErr[*types.InvalidParameterException](t, err)

	backend := try(create("backend", 2, backendSC("shop", "api"))).must(t).Service
	res := backend.Deployments[0].ServiceConnectResources
	if len(res) != 1 || aws.ToString(res[0].DiscoveryName) != "backend" || aws.ToString(res[0].DiscoveryArn) == "" {
		t.Fatalf("serviceConnectResources = %+v", res)
	}
	// ECS created the Cloud Map service of the discovery name.
	cmServices := try(cm.ListServices(ctx, &sd.ListServicesInput{})).must(t).Services
	if !slices.ContainsFunc(cmServices, func(s sdtypes.ServiceSummary) bool {
		return aws.ToString(s.Arn) == aws.ToString(res[0].DiscoveryArn) && aws.ToString(s.Name) == "backend"
	}) {
		t.Fatalf("Cloud Map services = %+v, want %s", cmServices, aws.ToString(res[0].DiscoveryArn))
	}
	// A discovery name is one service's in its namespace
	// (API_ServiceConnectService: unique within the Cloud Map namespace).
	_, err = c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("copy"), TaskDefinition: aws.String("backend"),
		DesiredCount: aws.Int32(0), LaunchType: types.LaunchTypeFargate, NetworkConfiguration: network, ServiceConnectConfiguration: backendSC("shop", "api")})
	wantErr[*types.InvalidParameterException](t, err)
	frontend := try(create("frontend", 1, &types.ServiceConnectConfiguration{Enabled: true, Namespace: aws.String("shop")})).must(t).Service
	described := try(c.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("c"), Services: []string{"backend"}})).must(t).Services[0]
	if got := described.Deployments[0].ServiceConnectResources; len(got) != 1 || aws.ToString(got[0].DiscoveryArn) != aws.ToString(res[0].DiscoveryArn) {
		t.Fatalf("DescribeServices serviceConnectResources = %+v", got)
	}
	if sc := described.Deployments[0].ServiceConnectConfiguration; sc == nil || !sc.Enabled || len(sc.Services) != 1 {
		t.Fatalf("DescribeServices serviceConnectConfiguration = %+v", sc)
	}
	// The namespace by name or by ARN (API_ListServicesByNamespace).
	nsArn := aws.ToString(try(cm.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(nsID)})).must(t).Namespace.Arn)
	for _, ref := range []string{"shop", nsArn} {
		listed := try(c.ecs.ListServicesByNamespace(ctx, &ecs.ListServicesByNamespaceInput{Namespace: aws.String(ref)})).must(t).ServiceArns
		slices.Sort(listed)
		if want := []string{*backend.ServiceArn, *frontend.ServiceArn}; !slices.Equal(listed, want) {
			t.Fatalf("ListServicesByNamespace(%s) = %v, want %v", ref, listed, want)
		}
	}
	_, err = c.ecs.ListServicesByNamespace(ctx, &ecs.ListServicesByNamespaceInput{Namespace: aws.String("nowhere")})
	wantErr[*types.NamespaceNotFoundException](t, err)

	// The tasks' addresses, by service.
	running := func(service string) map[string]string {
		out := map[string]string{}
		arns := serviceTasks(t, ctx, c, "c", service)
		if len(arns) == 0 {
			return out
		}
		for _, task := range try(c.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("c"), Tasks: arns})).must(t).Tasks {
			if aws.ToString(task.LastStatus) == "RUNNING" && len(task.Containers) > 0 && len(task.Containers[0].NetworkInterfaces) > 0 {
				out[*task.TaskArn] = aws.ToString(task.Containers[0].NetworkInterfaces[0].PrivateIpv4Address)
			}
		}
		return out
	}
	var front string
	eventually(t, "frontend and both backend tasks running", func() bool {
		f := running("frontend")
		for _, ip := range f {
			front = ip
		}
		return len(f) == 1 && len(running("backend")) == 2
	})
	client := &http.Client{Timeout: 20 * time.Second}
	// call asks frontend to call backend through Service Connect and
	// returns the backend task's hostname.
	call := func() (string, error) {
		resp, err := client.Get("http://" + front + ":8080/call?url=http://backend:8080/")
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("%s: %s", resp.Status, body)
		}
		var who struct{ Hostname, App string }
		if err := json.Unmarshal(body, &who); err != nil || who.App != "backend" {
			return "", fmt.Errorf("answer %q: %v", body, err)
		}
		return who.Hostname, nil
	}
	hosts := map[string]bool{}
	eventually(t, "frontend's calls reach both backend tasks", func() bool {
		if h, err := call(); err == nil {
			hosts[h] = true
		}
		return len(hosts) == 2
	})

	// load calls backend through frontend from a few clients until stop
	// is called, which returns the calls made and those that failed.
	load := func() (stop func() (int64, []error)) {
		var calls atomic.Int64
		var mu sync.Mutex
		var failed []error
		done := make(chan struct{})
		start := time.Now()
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for {
					select {
					case <-done:
						return
					default:
					}
					calls.Add(1)
					began := time.Now()
					if _, err := call(); err != nil {
						mu.Lock()
						failed = append(failed, fmt.Errorf("call begun %v into the load, ended after %v: %w",
							began.Sub(start).Round(time.Millisecond), time.Since(began).Round(time.Millisecond), err))
						mu.Unlock()
					}
				}
			})
		}
		return func() (int64, []error) { close(done); wg.Wait(); return calls.Load(), failed }
	}

	// A rolling deployment of backend under load: its old tasks leave the
	// proxy and drain before they stop, so no call fails.
	before := running("backend")
	stop := load()
	try(c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("backend"), ForceNewDeployment: true})).must(t)
	eventually(t, "the deployment replaced both backend tasks", func() bool {
		now := running("backend")
		for arn := range before {
			if _, ok := now[arn]; ok {
				return false
			}
		}
		svc := try(c.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("c"), Services: []string{"backend"}})).must(t).Services[0]
		return len(now) == 2 && len(svc.Deployments) == 1 && svc.Deployments[0].RolloutState == types.DeploymentRolloutStateCompleted &&
			len(serviceTasks(t, ctx, c, "c", "backend")) == 2
	})
	calls, failed := stop()
	t.Logf("rolling deployment: %d calls, %d failed", calls, len(failed))
	if len(failed) > 0 || calls == 0 {
		t.Fatalf("rolling deployment: %d calls, failed: %v", calls, failed)
	}

	// One backend task killed under load costs at most the calls in
	// flight to it: one per client.
	victims := running("backend")
	var victim string
	for arn := range victims {
		victim = arn
		break
	}
	ids := dockerLines("ps", "-q", "--filter", "label=berth.task-arn="+victim)
	if len(ids) == 0 {
		t.Fatalf("no container of task %s", victim)
	}
	stop = load()
	time.Sleep(200 * time.Millisecond) // calls in flight when it dies
	if out, err := exec.Command("docker", append([]string{"kill"}, ids...)...).CombinedOutput(); err != nil {
		t.Fatalf("docker kill: %v: %s", err, out)
	}
	eventually(t, "the killed task replaced", func() bool {
		now := running("backend")
		_, still := now[victim]
		return !still && len(now) == 2
	})
	calls, failed = stop()
	// Calls in flight to the killed task may fail (their connections
	// reset); a call begun after the kill is retried on the other task
	// (Envoy retries a request whose connection failed on another
	// endpoint), so no other call fails, nor waits for frontend's client
	// timeout.
	t.Logf("task killed: %d calls, %d failed: %v", calls, len(failed), failed)
	if len(failed) > 4 || calls == 0 {
		t.Fatalf("task killed: %d calls, %d failed (more than the 4 in flight): %v", calls, len(failed), failed)
	}
}

// TestServiceConnectRestart: berth killed and started again over its data
// directory serves Service Connect again from what it stored, to the
// tasks that kept running: the proxy's configuration is rebuilt from the
// store on start. backend runs in bridge mode (the proxy reaches it at the
// instance address and its dynamic host port). Its own proxy address
// (--service-connect-address) and an alias port unlike the container's
// keep it apart from TestServiceConnect.
func TestServiceConnectRestart(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	flags := []string{"--service-connect-address", "169.254.181.1/24"}
	b := startT(t, dir, flags...)
	ctx, c := context.Background(), b.clients("us-east-1")
	cm := sd.New(sd.Options{Region: "us-east-1", BaseEndpoint: aws.String(b.url), Retryer: connectionRetryer(),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""), APIOptions: []func(*middleware.Stack) error{noHostPrefix}})
	// The cluster's default namespace, which ECS creates in Cloud Map.
	try(c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("c"),
		ServiceConnectDefaults: &types.ClusterServiceConnectDefaultsRequest{Namespace: aws.String("restart")}})).must(t)
	if ns := try(cm.ListNamespaces(ctx, &sd.ListNamespacesInput{})).must(t).Namespaces; len(ns) != 1 || aws.ToString(ns[0].Name) != "restart" {
		t.Fatalf("Cloud Map namespaces = %+v", ns)
	}
	// backend runs in bridge mode on a dynamic host port (the proxy
	// reaches it at the instance's address), frontend in awsvpc mode.
	check := &types.HealthCheck{Command: []string{"CMD", "/app", "check"}, Interval: aws.Int32(5), Timeout: aws.Int32(2), Retries: aws.Int32(1)}
	for _, name := range []string{"backend", "frontend"} {
		in := &ecs.RegisterTaskDefinitionInput{Family: aws.String(name), NetworkMode: types.NetworkModeAwsvpc,
			RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate}, Cpu: aws.String("256"), Memory: aws.String("512"),
			ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(testImage), Essential: aws.Bool(true), HealthCheck: check,
				Environment:  []types.KeyValuePair{{Name: aws.String("APP_NAME"), Value: aws.String(name)}},
				PortMappings: []types.PortMapping{{Name: aws.String("api"), ContainerPort: aws.Int32(8080), AppProtocol: types.ApplicationProtocolHttp}}}}}
		if name == "backend" {
			in.NetworkMode, in.RequiresCompatibilities = types.NetworkModeBridge, nil
			in.ContainerDefinitions[0].PortMappings[0].HostPort = aws.Int32(0)
		}
		try(c.ecs.RegisterTaskDefinition(ctx, in)).must(t)
	}
	network := &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: subnets(t, ctx, c)[:1]}}
	try(c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("backend"), TaskDefinition: aws.String("backend"),
		DesiredCount: aws.Int32(1),
		ServiceConnectConfiguration: &types.ServiceConnectConfiguration{Enabled: true, Services: []types.ServiceConnectService{{PortName: aws.String("api"),
			ClientAliases: []types.ServiceConnectClientAlias{{Port: aws.Int32(9090), DnsName: aws.String("api.internal")}}}}}})).must(t)
	try(c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("frontend"), TaskDefinition: aws.String("frontend"),
		DesiredCount: aws.Int32(1), LaunchType: types.LaunchTypeFargate, NetworkConfiguration: network,
		ServiceConnectConfiguration: &types.ServiceConnectConfiguration{Enabled: true}})).must(t)
	var front string
	eventually(t, "the frontend task running", func() bool {
		for _, task := range describeAll(t, ctx, c, "frontend") {
			if aws.ToString(task.LastStatus) == "RUNNING" && len(task.Containers[0].NetworkInterfaces) > 0 {
				front = aws.ToString(task.Containers[0].NetworkInterfaces[0].PrivateIpv4Address)
			}
		}
		return front != ""
	})
	client := &http.Client{Timeout: 5 * time.Second}
	reaches := func() bool {
		resp, err := client.Get("http://" + front + ":8080/call?url=http://api.internal:9090/")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var who struct{ App string }
		return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&who) == nil && who.App == "backend"
	}
	eventually(t, "frontend reaches backend at api.internal:9090", reaches)
	b.kill()
	if reaches() {
		t.Fatal("the proxy answers with berth down")
	}
	b = startT(t, dir, flags...)
	eventually(t, "frontend reaches backend again after the restart", reaches)
}

// describeAll describes the tasks of a service of cluster c.
func describeAll(t *testing.T, ctx context.Context, c clients, service string) []types.Task {
	t.Helper()
	arns := serviceTasks(t, ctx, c, "c", service)
	if len(arns) == 0 {
		return nil
	}
	return try(c.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("c"), Tasks: arns})).must(t).Tasks
}
