package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	sdtypes "github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
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
	t.Logf("task killed: %d calls, %d failed: %v", calls, len(failed), failed)
	if len(failed) > 4 || calls == 0 {
		t.Fatalf("task killed: %d calls, failed %d (more than the 4 in flight): %v", calls, len(failed), failed)
	}
}
