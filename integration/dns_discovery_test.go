package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	sdtypes "github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	mdns "github.com/miekg/dns"
)

// TestDNSDiscovery: code in a task resolves its Cloud Map namespace
// through berth's DNS server, its resolver: backend.internal.local is
// the A records of the awsvpc tasks of a service with that registry,
// _backend._tcp.internal.local the SRV records (host address and dynamic
// host port) of a bridge service's tasks, and both follow the tasks as
// they start and stop. A Route 53 alias to a load balancer resolves to
// the load balancer's address, in the task and on the host. Private
// zones (the namespace, a private Route 53 zone) answer the tasks of
// their VPCs only; the host sees every zone.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-discovery.html
// https://docs.aws.amazon.com/cloud-map/latest/api/API_DnsRecord.html
// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/routing-to-elb-load-balancer.html
func TestDNSDiscovery(t *testing.T) {
	t.Parallel()
	// A task endpoint address of its own: the resolver of this berth's
	// tasks is at port 53 there, which another berth may hold at the
	// default address.
	b := startT(t, filepath.Join(t.TempDir(), "data"), "--task-endpoint", "169.254.172.2/24")
	var health struct{ DNS string }
	if err := json.Unmarshal([]byte(get(t, b.url+"/_berth/health")), &health); err != nil || health.DNS == "" {
		t.Fatalf("no DNS server: %+v %v", health, err)
	}
	ctx, c := context.Background(), b.clients("us-east-1")
	cm := cloudMapAt(b.url, "us-east-1")
	op := try(cm.CreatePrivateDnsNamespace(ctx, &sd.CreatePrivateDnsNamespaceInput{Name: aws.String("internal.local"), Vpc: aws.String(defaultVpc(t, ctx, c))})).must(t)
	ns := namespaceOf(t, ctx, cm, op.OperationId)
	ttl := aws.Int64(5)
	byAddress := try(cm.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("backend"), NamespaceId: aws.String(ns),
		DnsConfig: &sdtypes.DnsConfig{DnsRecords: []sdtypes.DnsRecord{{Type: sdtypes.RecordTypeA, TTL: ttl}}}})).must(t).Service
	byPort := try(cm.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("_backend._tcp"), NamespaceId: aws.String(ns),
		DnsConfig: &sdtypes.DnsConfig{DnsRecords: []sdtypes.DnsRecord{{Type: sdtypes.RecordTypeSrv, TTL: ttl}}}})).must(t).Service

	try(c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("c")})).must(t)
	container := types.ContainerDefinition{Name: aws.String("app"), Image: aws.String(testImage), Essential: aws.Bool(true), Memory: aws.Int32(64),
		PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080)}}}
	try(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("vpc"), NetworkMode: types.NetworkModeAwsvpc,
		ContainerDefinitions: []types.ContainerDefinition{container}})).must(t)
	bridge := container
	bridge.PortMappings = []types.PortMapping{{ContainerPort: aws.Int32(8080), HostPort: aws.Int32(0)}}
	try(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("bridge"), NetworkMode: types.NetworkModeBridge,
		ContainerDefinitions: []types.ContainerDefinition{bridge}})).must(t)
	// Registries ECS refuses, in its words (field reports cited in
	// backend/ecs/service_registries.go).
	subnet := &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: subnets(t, ctx, c)[:1]}}
	for _, bad := range []struct {
		family   string
		registry types.ServiceRegistry
		client   bool
		message  string
	}{
		{"bridge", types.ServiceRegistry{RegistryArn: byPort.Arn}, false, "When specifying 'host' or 'bridge' for networkMode, values for 'containerName' and 'containerPort' must be specified from the task definition."},
		{"vpc", types.ServiceRegistry{RegistryArn: byAddress.Arn, ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}, false, "The values specified for serviceRegistries do not require a value for 'containerPort'. Remove the value and retry."},
		{"vpc", types.ServiceRegistry{RegistryArn: byPort.Arn, Port: aws.Int32(8080), ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}, false, "Specify a value for either 'port' or the 'containerName' and 'containerPort' combination, but not both. Remove one and retry."},
		{"vpc", types.ServiceRegistry{RegistryArn: aws.String(strings.Replace(*byAddress.Arn, ":service/srv-", ":namespace/ns-", 1))}, false, "The format of the supplied service registry ARN is invalid"},
		{"vpc", types.ServiceRegistry{RegistryArn: byPort.Arn}, false, "A service registry with SRV records needs either 'port' or the 'containerName' and 'containerPort' combination."},
		{"vpc", types.ServiceRegistry{RegistryArn: aws.String((*byAddress.Arn)[:strings.LastIndex(*byAddress.Arn, "/")] + "/srv-0000000000000000")}, true, `The service registry could not be validated. Route 53 error: "ServiceNotFound."`},
	} {
		in := &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("refused"), TaskDefinition: aws.String(bad.family), DesiredCount: aws.Int32(1),
			ServiceRegistries: []types.ServiceRegistry{bad.registry}}
		if bad.family == "vpc" {
			in.NetworkConfiguration = subnet
		}
		_, err := c.ecs.CreateService(ctx, in)
		var message string
		if bad.client {
			message = aws.ToString(wantErr[*types.ClientException](t, err).Message)
		} else {
			message = aws.ToString(wantErr[*types.InvalidParameterException](t, err).Message)
		}
		if !strings.HasPrefix(message, bad.message) {
			t.Errorf("%+v: %q, want %q", bad.registry, message, bad.message)
		}
	}
	// "Each service may be associated with one service registry."
	// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceRegistry.html
	_, err := c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("refused"), TaskDefinition: aws.String("vpc"), DesiredCount: aws.Int32(1),
		NetworkConfiguration: subnet, ServiceRegistries: []types.ServiceRegistry{{RegistryArn: byAddress.Arn}, {RegistryArn: byAddress.Arn}}})
	wantErr[*types.InvalidParameterException](t, err)
	try(c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("by-address"), TaskDefinition: aws.String("vpc"),
		DesiredCount: aws.Int32(2), NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: subnets(t, ctx, c)[:1]}},
		ServiceRegistries: []types.ServiceRegistry{{RegistryArn: byAddress.Arn}}})).must(t)
	try(c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("by-port"), TaskDefinition: aws.String("bridge"),
		DesiredCount: aws.Int32(2), ServiceRegistries: []types.ServiceRegistry{{RegistryArn: byPort.Arn, ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}}})).must(t)
	try(c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String("client"), TaskDefinition: aws.String("bridge"),
		DesiredCount: aws.Int32(1)})).must(t)

	// What the tasks of a service are: awsvpc tasks' addresses, bridge
	// tasks' SRV targets and host ports, as the records should give them.
	running := func(service string) (tasks []types.Task) {
		arns := serviceTasks(t, ctx, c, "c", service)
		if len(arns) == 0 {
			return nil
		}
		for _, task := range try(c.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("c"), Tasks: arns})).must(t).Tasks {
			if aws.ToString(task.LastStatus) == "RUNNING" {
				tasks = append(tasks, task)
			}
		}
		return tasks
	}
	addresses := func() []string {
		var out []string
		for _, task := range running("by-address") {
			out = append(out, aws.ToString(task.Containers[0].NetworkInterfaces[0].PrivateIpv4Address))
		}
		slices.Sort(out)
		return out
	}
	targets := func() []string {
		var out []string
		for _, task := range running("by-port") {
			id := (*task.TaskArn)[strings.LastIndex(*task.TaskArn, "/")+1:]
			out = append(out, fmt.Sprintf("%s._backend._tcp.internal.local.:%d", id, aws.ToInt32(task.Containers[0].NetworkBindings[0].HostPort)))
		}
		slices.Sort(out)
		return out
	}
	// The client task answers /lookup with what its resolver says.
	var client string
	eventually(t, "the client task running", func() bool {
		tasks := running("client")
		if len(tasks) == 1 && len(tasks[0].Containers[0].NetworkBindings) == 1 {
			client = fmt.Sprintf("http://127.0.0.1:%d", aws.ToInt32(tasks[0].Containers[0].NetworkBindings[0].HostPort))
			return true
		}
		return false
	})
	lookup := func(name, typ string) string {
		res, err := http.Get(client + "/lookup?name=" + url.QueryEscape(name) + "&type=" + typ)
		if err != nil {
			return "error: " + err.Error()
		}
		defer res.Body.Close()
		var body strings.Builder
		fmt.Fprint(&body, res.Status, " ")
		buf := make([]byte, 4096)
		n, _ := res.Body.Read(buf)
		body.Write(buf[:n])
		if res.StatusCode != http.StatusOK {
			return body.String()
		}
		return string(buf[:n])
	}
	follow := func(what string, want func() []string, name, typ string, n int) {
		t.Helper()
		var got string
		eventually(t, what, func() bool {
			w := want()
			got = lookup(name, typ)
			return len(w) == n && got == strings.Join(w, "\n")
		})
	}
	follow("backend.internal.local: both awsvpc tasks' addresses", addresses, "backend.internal.local", "A", 2)
	follow("_backend._tcp.internal.local: both bridge tasks' host ports", targets, "_backend._tcp.internal.local", "SRV", 2)
	try(c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("by-address"), DesiredCount: aws.Int32(3)})).must(t)
	try(c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("by-port"), DesiredCount: aws.Int32(1)})).must(t)
	follow("a third awsvpc task in the A records", addresses, "backend.internal.local", "A", 3)
	follow("the stopped bridge task gone from the SRV records", targets, "_backend._tcp.internal.local", "SRV", 1)
	// The SRV record leads a task to the bridge task: its target resolves
	// to an address where tasks reach the host port.
	if code, body := fetch(client+"/call?url="+url.QueryEscape("http://"+targets()[0]+"/"), ""); code != 200 || !strings.Contains(body, "hostname") {
		t.Errorf("a call by the SRV record from a task: %d %q", code, body)
	}
	// An awsvpc task resolves through Docker's embedded resolver, which
	// forwards to berth's.
	fromTask := client
	client = "http://" + addresses()[0] + ":8080"
	follow("the bridge task's SRV record from an awsvpc task", targets, "_backend._tcp.internal.local", "SRV", 1)
	client = fromTask
	if got := lookup("nothing.internal.local", "A"); !strings.HasPrefix(got, "404") {
		t.Errorf("a name the namespace does not have: %q, want not found", got)
	}

	// A Route 53 zone's alias to a load balancer.
	lb := try(c.elbv2.CreateLoadBalancer(ctx, &elasticloadbalancingv2.CreateLoadBalancerInput{Name: aws.String("api"), Subnets: subnets(t, ctx, c)[:2]})).must(t).LoadBalancers[0]
	r53 := route53.New(route53.Options{Region: "us-east-1", BaseEndpoint: aws.String(b.url), Retryer: connectionRetryer(),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
	zone := try(r53.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("example.test"), CallerReference: aws.String("dns")})).must(t).HostedZone
	try(r53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: zone.Id, ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{
		Action: r53types.ChangeActionCreate, ResourceRecordSet: &r53types.ResourceRecordSet{Name: aws.String("api.example.test"), Type: r53types.RRTypeA,
			AliasTarget: &r53types.AliasTarget{DNSName: lb.DNSName, HostedZoneId: lb.CanonicalHostedZoneId, EvaluateTargetHealth: false}},
	}}}})).must(t)
	address := hostAddress(t, b, *lb.DNSName)
	follow("the alias in the task", func() []string { return []string{address} }, "api.example.test", "A", 1)
	m := new(mdns.Msg)
	m.SetQuestion("api.example.test.", mdns.TypeA)
	if r, _, err := new(mdns.Client).Exchange(m, health.DNS); err != nil || len(r.Answer) != 1 || r.Answer[0].(*mdns.A).A.String() != address {
		t.Errorf("the alias on the host: %v, %v; want %s", r, err, address)
	}

	// An endpoint under localhost. keeps resolving when the SDK prefixes
	// its host: DiscoverInstances goes to data-berth.localhost, which
	// berth's DNS answers, with no setting that turns the prefix off.
	resolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return new(net.Dialer).DialContext(ctx, network, health.DNS)
	}}
	var hosts []string
	dialer := &net.Dialer{Resolver: resolver}
	prefixed := sd.New(sd.Options{Region: "us-east-1", BaseEndpoint: aws.String(strings.Replace(b.url, "127.0.0.1", "berth.localhost", 1)),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		HTTPClient: &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, address string) (net.Conn, error) {
			hosts = append(hosts, address)
			return dialer.DialContext(ctx, network, address)
		}}}})
	found := try(prefixed.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("internal.local"), ServiceName: aws.String("backend")})).must(t)
	if len(found.Instances) != 3 || len(hosts) == 0 || !strings.HasPrefix(hosts[0], "data-berth.localhost:") {
		t.Errorf("DiscoverInstances through %v found %d instances, want 3 through data-berth.localhost", hosts, len(found.Instances))
	}

	// Private zones answer in their VPCs only. In a VPC of its own, an
	// awsvpc task and a private Route 53 zone of the namespace's name:
	// the task resolves that zone's name, not the namespace's (the
	// default VPC's), and gets NXDOMAIN for a name the namespace has but
	// its zone lacks; it resolves the public zone's alias. The awsvpc
	// tasks of the default VPC still resolve the namespace alone; the
	// host, in no VPC, sees both zones.
	// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/hosted-zones-private.html
	// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/hosted-zone-private-considerations.html
	// ("If there's a matching private hosted zone but there's no record
	// that matches the domain name and type in the request, Resolver
	// doesn't forward the request to a public DNS resolver. Instead, it
	// returns NXDOMAIN")
	other := try(c.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.20.0.0/16")})).must(t).Vpc.VpcId
	otherSubnet := try(c.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: other, CidrBlock: aws.String("10.20.1.0/24"), AvailabilityZone: aws.String("us-east-1a")})).must(t).Subnet.SubnetId
	private := try(r53.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("internal.local"), CallerReference: aws.String("other-vpc"),
		HostedZoneConfig: &r53types.HostedZoneConfig{PrivateZone: true}, VPC: &r53types.VPC{VPCId: other, VPCRegion: r53types.VPCRegionUsEast1}})).must(t).HostedZone
	try(r53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: private.Id, ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{
		Action: r53types.ChangeActionCreate, ResourceRecordSet: &r53types.ResourceRecordSet{Name: aws.String("backend.internal.local"), Type: r53types.RRTypeA,
			TTL: aws.Int64(5), ResourceRecords: []r53types.ResourceRecord{{Value: aws.String("192.0.2.77")}}},
	}}}})).must(t)
	outsider := try(c.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("vpc"),
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: []string{*otherSubnet}}}})).must(t).Tasks[0]
	eventually(t, "the task in the other VPC running", func() bool {
		task := try(c.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("c"), Tasks: []string{*outsider.TaskArn}})).must(t).Tasks[0]
		if aws.ToString(task.LastStatus) != "RUNNING" || len(task.Containers[0].NetworkInterfaces) == 0 {
			return false
		}
		client = "http://" + aws.ToString(task.Containers[0].NetworkInterfaces[0].PrivateIpv4Address) + ":8080"
		return true
	})
	follow("the private zone of its VPC, in the other VPC's task", func() []string { return []string{"192.0.2.77"} }, "backend.internal.local", "A", 1)
	if got := lookup("_backend._tcp.internal.local", "SRV"); !strings.HasPrefix(got, "404") {
		t.Errorf("the namespace's SRV name, from the other VPC: %q, want not found", got)
	}
	follow("the public zone's alias, in the other VPC's task", func() []string { return []string{address} }, "api.example.test", "A", 1)
	client = "http://" + addresses()[0] + ":8080"
	follow("the namespace, in the default VPC's task", addresses, "backend.internal.local", "A", 3)
	// A bridge task asks from its own address, which no VPC has: berth's
	// hosts are in none, and it sees both zones, as the host does.
	client = fromTask
	both := func() []string { out := append(addresses(), "192.0.2.77"); slices.Sort(out); return out }
	follow("both zones in the bridge task", both, "backend.internal.local", "A", 4)
	m.SetQuestion("backend.internal.local.", mdns.TypeA)
	if r, _, err := new(mdns.Client).Exchange(m, health.DNS); err != nil || len(r.Answer) != 4 {
		t.Errorf("both zones on the host: %v, %v; want 4 addresses", r, err)
	}
}
