package integration

import (
	"context"
	"fmt"
	"maps"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	mdns "github.com/miekg/dns"
)

// TestTerraformDNS applies one configuration of Route 53, Cloud Map and
// an ECS service registered in Cloud Map with the Terraform AWS provider,
// plans no changes, and destroys it all: no zone, namespace, cluster or
// container of it is left. One apply rather than one a service: the
// provider waits 15 s after every Route 53 change and 30 s twice for the
// ALB, and those waits now overlap the Cloud Map and ECS work.
//
//   - Route 53: public and private zones with A, CNAME and alias records
//     (the alias to an internal ALB, by the canonical hosted zone id ELBv2
//     reports).
//   - Cloud Map: namespaces, services and an instance (the provider waits
//     on GetOperation for each namespace), a namespace read back by its
//     data source.
//   - ECS service_registries: a service of bridge tasks with dynamic host
//     ports registered in a service of SRV records by container name and
//     port. Each running task is an instance there, under its task id, at
//     its host's address and the host port of that container port, where
//     the task answers.
//     https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceRegistry.html
//     ("If the task definition that your service task specifies uses the
//     bridge or host network mode, you must specify a containerName and
//     containerPort combination from the task definition.")
//   - ECS Service Connect: a client-only service calls another by its
//     client alias; destroying the services deletes the Cloud Map
//     services ECS created, so that the namespace can go too.
func TestTerraformDNS(t *testing.T) {
	t.Parallel()
	tf := newTerraform(t, "dns", "ap-northeast-1", "-var", "image="+testImage)
	ctx, r, cm, c := context.Background(), route53Client(), cloudMap(tf.region), shared.clients(tf.region)
	tf.lifecycle(func(out map[string]string) {
		t.Run("Route53", func(t *testing.T) {
			if n := strings.Split(out["name_servers"], ","); len(n) != 4 || out["alias_fqdn"] != "web.berth-tf.example.com" {
				t.Errorf("outputs = %v", out)
			}
			list := try(r.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(out["public_zone_id"])})).must(t)
			var seen []string
			for _, s := range list.ResourceRecordSets {
				seen = append(seen, aws.ToString(s.Name)+" "+string(s.Type))
				if aws.ToString(s.Name) == "web.berth-tf.example.com." && (s.AliasTarget == nil || aws.ToString(s.AliasTarget.HostedZoneId) != out["lb_zone_id"]) {
					t.Errorf("alias = %+v", s.AliasTarget)
				}
			}
			want := []string{"berth-tf.example.com. NS", "berth-tf.example.com. SOA", "api.berth-tf.example.com. A", "web.berth-tf.example.com. A",
				out["validation_fqdn"] + ". CNAME", "www.berth-tf.example.com. CNAME"}
			slices.Sort(want[4:])
			if !strings.HasPrefix(out["validation_fqdn"], "_") || !strings.HasSuffix(out["validation_fqdn"], ".web.berth-tf.example.com") || !slices.Equal(seen, want) {
				t.Errorf("record sets = %q, want %q", seen, want)
			}
		})
		t.Run("DNS", func(t *testing.T) {
			// berth's DNS answers the zone: the ALB behind its alias, and
			// ACM's validation record as the certificate asked for it.
			// https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html
			dnsAddress := sharedDNS(t)
			lb := try(c.elbv2.DescribeLoadBalancers(ctx, &elasticloadbalancingv2.DescribeLoadBalancersInput{Names: []string{"web-dns"}})).must(t).LoadBalancers[0]
			ask := func(name string, qtype uint16) []mdns.RR {
				m := new(mdns.Msg)
				m.SetQuestion(mdns.Fqdn(name), qtype)
				r, _, err := new(mdns.Client).Exchange(m, dnsAddress)
				if err != nil {
					t.Fatal(err)
				}
				return r.Answer
			}
			if a := ask("web.berth-tf.example.com", mdns.TypeA); len(a) != 1 || a[0].(*mdns.A).A.String() != hostAddress(t, shared, *lb.DNSName) {
				t.Errorf("web.berth-tf.example.com A = %v, want the ALB's address", a)
			}
			if a := ask(out["validation_fqdn"], mdns.TypeCNAME); len(a) != 1 || a[0].(*mdns.CNAME).Target != mdns.Fqdn(out["validation_target"]) {
				t.Errorf("%s CNAME = %v, want %s", out["validation_fqdn"], a, out["validation_target"])
			}

		})
		t.Run("CloudMap", func(t *testing.T) {
			if !regexp.MustCompile(`^Z[0-9A-Z]{13,21}$`).MatchString(out["hosted_zone"]) || out["looked_up"] != "true" || out["http_name"] != "jobs" ||
				!strings.HasPrefix(out["orders_arn"], "arn:aws:servicediscovery:"+tf.region+":000000000000:service/srv-") {
				t.Errorf("outputs = %v", out)
			}
			found := try(cm.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("internal.example"), ServiceName: aws.String("orders"),
				QueryParameters: map[string]string{"stage": "prod"}})).must(t).Instances
			if len(found) != 1 || found[0].Attributes["AWS_INSTANCE_IPV4"] != "10.0.7.1" {
				t.Errorf("DiscoverInstances = %+v", found)
			}
		})
		t.Run("ServiceRegistries", func(t *testing.T) {
			// The service is steady (wait_for_steady_state): its two tasks
			// run, each registered at the host port of container port 8080.
			want := map[string]string{}
			arns := serviceTasks(t, ctx, c, "shop", "api")
			if len(arns) != 2 {
				t.Fatalf("tasks of the service = %v", arns)
			}
			for _, task := range try(c.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("shop"), Tasks: arns})).must(t).Tasks {
				for _, nb := range task.Containers[0].NetworkBindings {
					if aws.ToInt32(nb.ContainerPort) == 8080 {
						want[(*task.TaskArn)[strings.LastIndex(*task.TaskArn, "/")+1:]] = strconv.Itoa(int(aws.ToInt32(nb.HostPort)))
					}
				}
			}
			got := map[string]string{}
			for _, i := range try(cm.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("internal.example"), ServiceName: aws.String("api")})).must(t).Instances {
				got[aws.ToString(i.InstanceId)] = i.Attributes["AWS_INSTANCE_PORT"]
				url := "http://" + net.JoinHostPort(i.Attributes["AWS_INSTANCE_IPV4"], i.Attributes["AWS_INSTANCE_PORT"]) + "/"
				if code, body := fetch(url, ""); code != 200 || !strings.Contains(body, `"app":"api"`) {
					t.Errorf("GET %s (instance %s) = %d %q", url, aws.ToString(i.InstanceId), code, body)
				}
			}
			if len(want) != 2 || !maps.Equal(got, want) {
				t.Errorf("instances of the api service (task id: port) = %v, want the tasks' host ports %v", got, want)
			}
		})
		t.Run("ServiceConnect", func(t *testing.T) {
			// frontend, a client-only service of the namespace, reaches
			// backend's tasks by backend's client alias.
			// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-concepts.html
			svc := try(c.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("shop"), Services: []string{"backend"}})).must(t).Services[0]
			if res := svc.Deployments[0].ServiceConnectResources; len(res) != 1 || aws.ToString(res[0].DiscoveryName) != "backend" {
				t.Errorf("backend's serviceConnectResources = %+v", res)
			}
			arns := serviceTasks(t, ctx, c, "shop", "frontend")
			if len(arns) != 1 {
				t.Fatalf("tasks of frontend = %v", arns)
			}
			task := try(c.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("shop"), Tasks: arns})).must(t).Tasks[0]
			nb := task.Containers[0].NetworkBindings[0]
			url := fmt.Sprintf("http://127.0.0.1:%d/call?url=http://backend.shop:8080/", aws.ToInt32(nb.HostPort))
			if code, body := fetch(url, ""); code != 200 || !strings.Contains(body, `"app":"backend"`) {
				t.Errorf("GET %s = %d %q", url, code, body)
			}
		})
	})
	zones := try(r.ListHostedZones(ctx, &route53.ListHostedZonesInput{})).must(t).HostedZones
	if i := slices.IndexFunc(zones, func(z r53types.HostedZone) bool { return strings.HasPrefix(aws.ToString(z.Name), "berth-tf.") }); i >= 0 {
		t.Errorf("terraform destroy left %+v", zones[i])
	}
	if left := try(cm.ListNamespaces(ctx, &sd.ListNamespacesInput{})).must(t).Namespaces; len(left) > 0 {
		t.Errorf("namespaces left after destroy: %+v", left)
	}
	if left := leftBehind(t, tf.region); len(left) > 0 {
		t.Errorf("terraform destroy left %v", left)
	}
}
