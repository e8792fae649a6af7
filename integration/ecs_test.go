package integration

import (
	"time"

	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

func webContainer(name string) types.ContainerDefinition {
	return types.ContainerDefinition{
		Name: aws.String(name), Image: aws.String(testImage), Memory: aws.Int32(64),
		PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(8080), HostPort: aws.Int32(0)}},
	}
}

func TestClusters(t *testing.T) {
	ctx, c := setup(t)
	out := try(c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{
		ClusterName: aws.String("web"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}},
	})).must(t)
	want := "arn:aws:ecs:" + c.region + ":000000000000:cluster/web"
	if aws.ToString(out.Cluster.ClusterArn) != want || aws.ToString(out.Cluster.Status) != "ACTIVE" {
		t.Fatalf("CreateCluster = %+v", out.Cluster)
	}
	// Creating an existing cluster returns it (ECS is idempotent here).
	again := try(c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("web")})).must(t)
	if aws.ToString(again.Cluster.ClusterArn) != want {
		t.Fatalf("second CreateCluster = %v", again.Cluster.ClusterArn)
	}
	try(c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("batch")})).must(t)

	d := try(c.ecs.DescribeClusters(ctx, &ecs.DescribeClustersInput{
		Clusters: []string{"web", want, "missing"}, Include: []types.ClusterField{types.ClusterFieldTags, types.ClusterFieldSettings},
	})).must(t)
	if len(d.Clusters) != 2 || len(d.Failures) != 1 || aws.ToString(d.Failures[0].Reason) != "MISSING" {
		t.Fatalf("DescribeClusters = %+v", d)
	}
	if len(d.Clusters[0].Tags) != 1 || len(d.Clusters[0].Settings) != 1 {
		t.Fatalf("include TAGS, SETTINGS: %+v", d.Clusters[0])
	}
	plain := try(c.ecs.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"web"}})).must(t)
	if plain.Clusters[0].Tags != nil || plain.Clusters[0].Settings != nil {
		t.Fatalf("without include, tags and settings are left out: %+v", plain.Clusters[0])
	}

	// Paging with maxResults 1 walks both clusters in creation order.
	var arns []string
	var token *string
	for {
		l := try(c.ecs.ListClusters(ctx, &ecs.ListClustersInput{MaxResults: aws.Int32(1), NextToken: token})).must(t)
		arns = append(arns, l.ClusterArns...)
		if token = l.NextToken; token == nil {
			break
		}
	}
	if len(arns) != 2 || arns[0] != want {
		t.Fatalf("ListClusters pages = %v", arns)
	}
	_, err := c.ecs.ListClusters(ctx, &ecs.ListClustersInput{NextToken: aws.String("garbage!")})
	wantErr[*types.InvalidParameterException](t, err)

	u := try(c.ecs.UpdateClusterSettings(ctx, &ecs.UpdateClusterSettingsInput{
		Cluster:  aws.String("web"),
		Settings: []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String("enabled")}},
	})).must(t)
	if aws.ToString(u.Cluster.Settings[0].Value) != "enabled" {
		t.Fatalf("UpdateClusterSettings = %+v", u.Cluster.Settings)
	}
	try(c.ecs.UpdateCluster(ctx, &ecs.UpdateClusterInput{
		Cluster: aws.String("web"), Configuration: &types.ClusterConfiguration{ExecuteCommandConfiguration: &types.ExecuteCommandConfiguration{Logging: types.ExecuteCommandLoggingDefault}},
	})).must(t)
	_, err = c.ecs.UpdateClusterSettings(ctx, &ecs.UpdateClusterSettingsInput{
		Cluster: aws.String("web"), Settings: []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String("sometimes")}},
	})
	wantErr[*types.InvalidParameterException](t, err)
	_, err = c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("bad name!")})
	wantErr[*types.InvalidParameterException](t, err)

	p := try(c.ecs.PutClusterCapacityProviders(ctx, &ecs.PutClusterCapacityProvidersInput{
		Cluster: aws.String("web"), CapacityProviders: []string{"FARGATE"},
		DefaultCapacityProviderStrategy: []types.CapacityProviderStrategyItem{{CapacityProvider: aws.String("FARGATE"), Weight: 1}},
	})).must(t)
	if !slices.Equal(p.Cluster.CapacityProviders, []string{"FARGATE"}) {
		t.Fatalf("PutClusterCapacityProviders = %+v", p.Cluster)
	}
	_, err = c.ecs.PutClusterCapacityProviders(ctx, &ecs.PutClusterCapacityProvidersInput{
		Cluster: aws.String("web"), CapacityProviders: []string{"nope"}, DefaultCapacityProviderStrategy: []types.CapacityProviderStrategyItem{},
	})
	wantErr[*types.InvalidParameterException](t, err)

	del := try(c.ecs.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("batch")})).must(t)
	if aws.ToString(del.Cluster.Status) != "INACTIVE" {
		t.Fatalf("DeleteCluster status = %v", del.Cluster.Status)
	}
	_, err = c.ecs.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("batch")})
	wantErr[*types.ClusterNotFoundException](t, err)
	_, err = c.ecs.UpdateCluster(ctx, &ecs.UpdateClusterInput{Cluster: aws.String("nope")})
	wantErr[*types.ClusterNotFoundException](t, err)
	l := try(c.ecs.ListClusters(ctx, &ecs.ListClustersInput{})).must(t)
	if len(l.ClusterArns) != 1 {
		t.Fatalf("deleted clusters are not listed: %v", l.ClusterArns)
	}
}

func TestTaskDefinitions(t *testing.T) {
	ctx, c := setup(t)
	reg := func(family string, cds ...types.ContainerDefinition) (*ecs.RegisterTaskDefinitionOutput, error) {
		return c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(family), ContainerDefinitions: cds})
	}
	first := try(reg("web", webContainer("app"))).must(t)
	td := first.TaskDefinition
	if td.Revision != 1 || td.Status != types.TaskDefinitionStatusActive || !slices.Contains(td.Compatibilities, types.CompatibilityEc2) {
		t.Fatalf("RegisterTaskDefinition = %+v", td)
	}
	cd := td.ContainerDefinitions[0]
	if !aws.ToBool(cd.Essential) || cd.PortMappings[0].Protocol != types.TransportProtocolTcp || aws.ToInt32(cd.PortMappings[0].HostPort) != 0 {
		t.Fatalf("container defaults = %+v", cd)
	}
	second := try(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("web"), ContainerDefinitions: []types.ContainerDefinition{webContainer("app")},
		Tags: []types.Tag{{Key: aws.String("v"), Value: aws.String("2")}},
	})).must(t)
	if second.TaskDefinition.Revision != 2 {
		t.Fatalf("second revision = %d", second.TaskDefinition.Revision)
	}
	try(reg("worker", webContainer("w"))).must(t)

	latest := try(c.ecs.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: aws.String("web"), Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags},
	})).must(t)
	if latest.TaskDefinition.Revision != 2 || len(latest.Tags) != 1 {
		t.Fatalf("DescribeTaskDefinition(web) = rev %d tags %v", latest.TaskDefinition.Revision, latest.Tags)
	}
	byArn := try(c.ecs.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: td.TaskDefinitionArn})).must(t)
	if byArn.TaskDefinition.Revision != 1 {
		t.Fatalf("DescribeTaskDefinition(arn) = %d", byArn.TaskDefinition.Revision)
	}
	_, err := c.ecs.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web:9")})
	wantErr[*types.ClientException](t, err)

	list := try(c.ecs.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("web"), Sort: types.SortOrderDesc})).must(t)
	if len(list.TaskDefinitionArns) != 2 || list.TaskDefinitionArns[0] != aws.ToString(second.TaskDefinition.TaskDefinitionArn) {
		t.Fatalf("ListTaskDefinitions = %v", list.TaskDefinitionArns)
	}
	fams := try(c.ecs.ListTaskDefinitionFamilies(ctx, &ecs.ListTaskDefinitionFamiliesInput{})).must(t)
	if !slices.Equal(fams.Families, []string{"web", "worker"}) {
		t.Fatalf("ListTaskDefinitionFamilies = %v", fams.Families)
	}

	// Delete needs an INACTIVE revision.
	del := try(c.ecs.DeleteTaskDefinitions(ctx, &ecs.DeleteTaskDefinitionsInput{TaskDefinitions: []string{"worker:1"}})).must(t)
	if len(del.Failures) != 1 || len(del.TaskDefinitions) != 0 {
		t.Fatalf("deleting an ACTIVE revision: %+v", del)
	}
	dereg := try(c.ecs.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("worker:1")})).must(t)
	if dereg.TaskDefinition.Status != types.TaskDefinitionStatusInactive {
		t.Fatalf("DeregisterTaskDefinition = %v", dereg.TaskDefinition.Status)
	}
	inactive := try(c.ecs.ListTaskDefinitionFamilies(ctx, &ecs.ListTaskDefinitionFamiliesInput{Status: types.TaskDefinitionFamilyStatusInactive})).must(t)
	if !slices.Equal(inactive.Families, []string{"worker"}) {
		t.Fatalf("inactive families = %v", inactive.Families)
	}
	del = try(c.ecs.DeleteTaskDefinitions(ctx, &ecs.DeleteTaskDefinitionsInput{TaskDefinitions: []string{"worker:1"}})).must(t)
	if len(del.TaskDefinitions) != 1 || del.TaskDefinitions[0].Status != types.TaskDefinitionStatusDeleteInProgress {
		t.Fatalf("DeleteTaskDefinitions = %+v", del)
	}
	_, err = c.ecs.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("worker")})
	wantErr[*types.ClientException](t, err)

	// Validation as ECS does it.
	for name, in := range map[string]*ecs.RegisterTaskDefinitionInput{
		"no containers": {Family: aws.String("x"), ContainerDefinitions: []types.ContainerDefinition{}},
		"no image":      {Family: aws.String("x"), ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("a"), Memory: aws.Int32(64)}}},
		"no memory":     {Family: aws.String("x"), ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("a"), Image: aws.String("i")}}},
		"bad family":    {Family: aws.String("a b"), ContainerDefinitions: []types.ContainerDefinition{webContainer("a")}},
		"duplicate":     {Family: aws.String("x"), ContainerDefinitions: []types.ContainerDefinition{webContainer("a"), webContainer("a")}},
		"awsvpc ports": {Family: aws.String("x"), NetworkMode: types.NetworkModeAwsvpc, ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("a"), Image: aws.String("i"), Memory: aws.Int32(64),
			PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(80), HostPort: aws.Int32(81)}},
		}}},
		"fargate bridge": {Family: aws.String("x"), RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
			Cpu: aws.String("256"), Memory: aws.String("512"), ContainerDefinitions: []types.ContainerDefinition{webContainer("a")}},
		"fargate size": {Family: aws.String("x"), RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate}, NetworkMode: types.NetworkModeAwsvpc,
			Cpu: aws.String("256"), Memory: aws.String("4096"), ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("a"), Image: aws.String("i")}}},
	} {
		if _, err := c.ecs.RegisterTaskDefinition(ctx, in); err == nil {
			t.Errorf("%s: registered, want ClientException", name)
		} else {
			wantErr[*types.ClientException](t, err)
		}
	}
	fargate := try(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("fg"), RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate}, NetworkMode: types.NetworkModeAwsvpc,
		Cpu: aws.String(".25 vCPU"), Memory: aws.String("0.5 GB"), ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("a"), Image: aws.String("i"), PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(80)}},
		}},
	})).must(t)
	if f := fargate.TaskDefinition; aws.ToString(f.Cpu) != "256" || aws.ToString(f.Memory) != "512" ||
		!slices.Contains(f.Compatibilities, types.CompatibilityFargate) || aws.ToInt32(f.ContainerDefinitions[0].PortMappings[0].HostPort) != 80 {
		t.Fatalf("fargate task definition = %+v", f)
	}
}

// registerWeb registers the "web" family in a fresh cluster "c".
func registerWeb(t *testing.T, ctx context.Context, c clients) *types.TaskDefinition {
	t.Helper()
	try(c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("c")})).must(t)
	return try(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("web"), ContainerDefinitions: []types.ContainerDefinition{webContainer("app")},
	})).must(t).TaskDefinition
}

func TestServices(t *testing.T) {
	ctx, c := setup(t)
	td := registerWeb(t, ctx, c)
	f := newFront(t, ctx, c, shared, "api", 0)
	svc := try(c.ecs.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String("c"), ServiceName: aws.String("api"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(2),
		LoadBalancers: []types.LoadBalancer{{TargetGroupArn: aws.String(f.tg), ContainerName: aws.String("app"), ContainerPort: aws.Int32(8080)}},
		Tags:          []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}},
	})).must(t).Service
	if svc.NetworkConfiguration != nil {
		t.Fatal("a bridge service has no networkConfiguration at all")
	}
	dc := svc.DeploymentConfiguration
	if aws.ToInt32(dc.MaximumPercent) != 200 || aws.ToInt32(dc.MinimumHealthyPercent) != 100 || dc.DeploymentCircuitBreaker == nil {
		t.Fatalf("deploymentConfiguration defaults = %+v", dc)
	}
	if len(svc.Deployments) != 1 || aws.ToString(svc.Deployments[0].Status) != "PRIMARY" || svc.Deployments[0].RolloutState != types.DeploymentRolloutStateInProgress {
		t.Fatalf("deployments = %+v", svc.Deployments)
	}
	if svc.AvailabilityZoneRebalancing != types.AvailabilityZoneRebalancingEnabled || aws.ToString(svc.RoleArn) == "" || svc.LaunchType != types.LaunchTypeEc2 {
		t.Fatalf("service defaults = %+v", svc)
	}
	_, err := c.ecs.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String("c"), ServiceName: aws.String("api"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(1),
	})
	wantErr[*types.InvalidParameterException](t, err)
	for name, in := range map[string]*ecs.CreateServiceInput{
		"bad container port": {LoadBalancers: []types.LoadBalancer{{TargetGroupArn: aws.String("arn:tg"), ContainerName: aws.String("app"), ContainerPort: aws.Int32(9)}}},
		"unknown container":  {LoadBalancers: []types.LoadBalancer{{TargetGroupArn: aws.String("arn:tg"), ContainerName: aws.String("nope"), ContainerPort: aws.Int32(8080)}}},
		"network on bridge":  {NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: subnets(t, ctx, c)[:1]}}},
		"both launch kinds":  {LaunchType: types.LaunchTypeEc2, CapacityProviderStrategy: []types.CapacityProviderStrategyItem{{CapacityProvider: aws.String("FARGATE")}}},
		"fargate on bridge":  {LaunchType: types.LaunchTypeFargate},
	} {
		in.Cluster, in.ServiceName, in.TaskDefinition, in.DesiredCount = aws.String("c"), aws.String("s2"), aws.String("web"), aws.Int32(1)
		_, err := c.ecs.CreateService(ctx, in)
		if err == nil {
			t.Errorf("%s: created", name)
			continue
		}
		wantErr[*types.InvalidParameterException](t, err)
	}
	_, err = c.ecs.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("nope"), ServiceName: aws.String("x"), TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(1)})
	wantErr[*types.ClusterNotFoundException](t, err)

	d := try(c.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{
		Cluster: aws.String("c"), Services: []string{"api", "ghost"}, Include: []types.ServiceField{types.ServiceFieldTags},
	})).must(t)
	if len(d.Services) != 1 || len(d.Failures) != 1 || len(d.Services[0].Tags) != 1 {
		t.Fatalf("DescribeServices = %+v", d)
	}
	l := try(c.ecs.ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String("c")})).must(t)
	if len(l.ServiceArns) != 1 {
		t.Fatalf("ListServices = %v", l.ServiceArns)
	}
	_, err = c.ecs.ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String("c"), MaxResults: aws.Int32(101)})
	wantErr[*types.InvalidParameterException](t, err)

	// desiredCount does not roll a deployment; a new task definition does.
	u := try(c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("api"), DesiredCount: aws.Int32(3)})).must(t).Service
	if len(u.Deployments) != 1 || u.DesiredCount != 3 || u.Deployments[0].DesiredCount != 3 {
		t.Fatalf("scaled service = %+v", u.Deployments)
	}
	td2 := try(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"), ContainerDefinitions: td.ContainerDefinitions})).must(t).TaskDefinition
	u = try(c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("api"), TaskDefinition: td2.TaskDefinitionArn})).must(t).Service
	if aws.ToString(u.TaskDefinition) != aws.ToString(td2.TaskDefinitionArn) || aws.ToString(u.Deployments[0].TaskDefinition) != aws.ToString(td2.TaskDefinitionArn) {
		t.Fatalf("rolled service = %+v", u)
	}
	forced := try(c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("api"), ForceNewDeployment: true})).must(t).Service
	if aws.ToString(forced.Deployments[0].Id) == aws.ToString(u.Deployments[0].Id) {
		t.Fatal("forceNewDeployment did not start a new deployment")
	}
	_, err = c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("ghost")})
	wantErr[*types.ServiceNotFoundException](t, err)

	_, err = c.ecs.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("c")})
	wantErr[*types.ClusterContainsServicesException](t, err)
	_, err = c.ecs.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String("c"), Service: aws.String("api")})
	wantErr[*types.InvalidParameterException](t, err)
	// A deleted service with tasks drains them, then is INACTIVE.
	gone := try(c.ecs.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String("c"), Service: aws.String("api"), Force: aws.Bool(true)})).must(t).Service
	if s := aws.ToString(gone.Status); s != "DRAINING" && s != "INACTIVE" {
		t.Fatalf("deleted service status = %v", s)
	}
	inactive := ecs.NewServicesInactiveWaiter(c.ecs, func(o *ecs.ServicesInactiveWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	})
	if err := inactive.Wait(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("c"), Services: []string{"api"}}, time.Minute); err != nil {
		t.Fatal(err)
	}
	_, err = c.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("c"), Service: aws.String("api"), DesiredCount: aws.Int32(1)})
	wantErr[*types.ServiceNotActiveException](t, err)
	_, err = c.ecs.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String("c"), Service: aws.String("api")})
	wantErr[*types.ServiceNotActiveException](t, err)
	try(c.ecs.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("c")})).must(t)

	_, err = c.ecs.ListServicesByNamespace(ctx, &ecs.ListServicesByNamespaceInput{Namespace: aws.String("ns")})
	wantErr[*types.NamespaceNotFoundException](t, err)
	try(c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("sc"), ServiceConnectDefaults: &types.ClusterServiceConnectDefaultsRequest{Namespace: aws.String("ns")}})).must(t)
	ns := try(c.ecs.ListServicesByNamespace(ctx, &ecs.ListServicesByNamespaceInput{Namespace: aws.String("ns")})).must(t)
	if len(ns.ServiceArns) != 0 {
		t.Fatalf("ListServicesByNamespace = %v", ns.ServiceArns)
	}
}

func TestAwsvpcService(t *testing.T) {
	ctx, c := setup(t)
	try(c.ecs.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("fg"), NetworkMode: types.NetworkModeAwsvpc, RequiresCompatibilities: []types.Compatibility{types.CompatibilityFargate},
		Cpu: aws.String("256"), Memory: aws.String("512"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("i"), PortMappings: []types.PortMapping{{ContainerPort: aws.Int32(80)}}}},
	})).must(t)
	_, err := c.ecs.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("fg"), LaunchType: types.LaunchTypeFargate, PlatformVersion: aws.String("9.9.9"),
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: subnets(t, ctx, c)[:1]}}})
	wantErr[*types.PlatformUnknownException](t, err)
	in := &ecs.CreateServiceInput{ServiceName: aws.String("fg"), TaskDefinition: aws.String("fg"), DesiredCount: aws.Int32(1), LaunchType: types.LaunchTypeFargate}
	_, err = c.ecs.CreateService(ctx, in)
	wantErr[*types.InvalidParameterException](t, err)
	in.NetworkConfiguration = &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{Subnets: subnets(t, ctx, c)[:1]}}
	svc := try(c.ecs.CreateService(ctx, in)).must(t).Service
	// The service keeps LATEST as asked (none named); its deployment runs
	// the version LATEST resolves to, so Terraform's platform_version =
	// "LATEST" plans no change.
	// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Service.html
	// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/platform-linux-fargate.html
	if aws.ToString(svc.PlatformVersion) != "LATEST" || aws.ToString(svc.Deployments[0].PlatformVersion) != "1.4.0" ||
		svc.NetworkConfiguration == nil || svc.RoleArn != nil {
		t.Fatalf("fargate service = %+v", svc)
	}
	// No cluster named: the default cluster was created on first use.
	d := try(c.ecs.DescribeClusters(ctx, &ecs.DescribeClustersInput{})).must(t)
	if len(d.Clusters) != 1 || aws.ToString(d.Clusters[0].ClusterName) != "default" || d.Clusters[0].ActiveServicesCount != 1 {
		t.Fatalf("default cluster = %+v", d)
	}
}

func TestTasks(t *testing.T) {
	ctx, c := setup(t)
	registerWeb(t, ctx, c)
	run := try(c.ecs.RunTask(ctx, &ecs.RunTaskInput{
		Cluster: aws.String("c"), TaskDefinition: aws.String("web"), Count: aws.Int32(3), StartedBy: aws.String("ci"),
		Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}},
	})).must(t)
	if len(run.Tasks) != 3 || aws.ToString(run.Tasks[0].LastStatus) != "PROVISIONING" || aws.ToString(run.Tasks[0].Group) != "family:web" {
		t.Fatalf("RunTask = %+v", run.Tasks)
	}
	if len(run.Tasks[0].Containers) != 1 || aws.ToString(run.Tasks[0].Containers[0].Name) != "app" {
		t.Fatalf("task containers = %+v", run.Tasks[0].Containers)
	}
	_, err := c.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("nope")})
	wantErr[*types.InvalidParameterException](t, err)
	_, err = c.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("web"), Count: aws.Int32(11)})
	wantErr[*types.InvalidParameterException](t, err)
	_, err = c.ecs.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("gone"), TaskDefinition: aws.String("web")})
	wantErr[*types.ClusterNotFoundException](t, err)

	page1 := try(c.ecs.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("c"), MaxResults: aws.Int32(2)})).must(t)
	page2 := try(c.ecs.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("c"), MaxResults: aws.Int32(2), NextToken: page1.NextToken})).must(t)
	if len(page1.TaskArns) != 2 || len(page2.TaskArns) != 1 || page2.NextToken != nil {
		t.Fatalf("ListTasks pages = %v / %v", page1.TaskArns, page2.TaskArns)
	}
	for name, in := range map[string]*ecs.ListTasksInput{
		"family": {Family: aws.String("web")}, "startedBy": {StartedBy: aws.String("ci")}, "launchType": {LaunchType: types.LaunchTypeEc2},
	} {
		in.Cluster = aws.String("c")
		if l := try(c.ecs.ListTasks(ctx, in)).must(t); len(l.TaskArns) != 3 {
			t.Errorf("ListTasks by %s = %d tasks", name, len(l.TaskArns))
		}
	}
	if l := try(c.ecs.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("c"), Family: aws.String("other")})).must(t); len(l.TaskArns) != 0 {
		t.Errorf("ListTasks(family other) = %v", l.TaskArns)
	}

	stopped := try(c.ecs.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("c"), Task: run.Tasks[0].TaskArn, Reason: aws.String("done")})).must(t).Task
	if aws.ToString(stopped.DesiredStatus) != "STOPPED" || aws.ToString(stopped.StoppedReason) != "done" || stopped.StopCode != types.TaskStopCodeUserInitiated {
		t.Fatalf("StopTask = %+v", stopped)
	}
	if l := try(c.ecs.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("c"), DesiredStatus: types.DesiredStatusStopped})).must(t); len(l.TaskArns) != 1 {
		t.Fatalf("stopped tasks = %v", l.TaskArns)
	}
	_, err = c.ecs.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("c"), Task: aws.String("0123")})
	wantErr[*types.InvalidParameterException](t, err)

	d := try(c.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{
		Cluster: aws.String("c"), Tasks: []string{aws.ToString(run.Tasks[1].TaskArn), "ffff"}, Include: []types.TaskField{types.TaskFieldTags},
	})).must(t)
	if len(d.Tasks) != 1 || len(d.Failures) != 1 || len(d.Tasks[0].Tags) != 1 {
		t.Fatalf("DescribeTasks = %+v", d)
	}
	_, err = c.ecs.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("c")})
	wantErr[*types.ClusterContainsTasksException](t, err)
}

func TestContainerInstances(t *testing.T) {
	ctx, c := setup(t)
	registerWeb(t, ctx, c)
	ci := try(c.ecs.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{
		Cluster:                  aws.String("c"),
		InstanceIdentityDocument: aws.String(`{"instanceId":"i-0123456789abcdef0","availabilityZone":"us-east-1a"}`),
		TotalResources:           []types.Resource{{Name: aws.String("CPU"), Type: aws.String("INTEGER"), IntegerValue: 2048}},
	})).must(t).ContainerInstance
	if aws.ToString(ci.Ec2InstanceId) != "i-0123456789abcdef0" || aws.ToString(ci.Status) != "ACTIVE" {
		t.Fatalf("RegisterContainerInstance = %+v", ci)
	}
	start := try(c.ecs.StartTask(ctx, &ecs.StartTaskInput{Cluster: aws.String("c"), TaskDefinition: aws.String("web"), ContainerInstances: []string{aws.ToString(ci.ContainerInstanceArn)}})).must(t)
	if len(start.Tasks) != 1 || aws.ToString(start.Tasks[0].ContainerInstanceArn) != aws.ToString(ci.ContainerInstanceArn) {
		t.Fatalf("StartTask = %+v", start.Tasks)
	}
	on := try(c.ecs.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("c"), ContainerInstance: ci.ContainerInstanceArn})).must(t)
	if len(on.TaskArns) != 1 {
		t.Fatalf("ListTasks(containerInstance) = %v", on.TaskArns)
	}
	d := try(c.ecs.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("c"), ContainerInstances: []string{aws.ToString(ci.ContainerInstanceArn), "nope"}})).must(t)
	if len(d.ContainerInstances) != 1 || d.ContainerInstances[0].PendingTasksCount+d.ContainerInstances[0].RunningTasksCount != 1 || len(d.Failures) != 1 {
		t.Fatalf("DescribeContainerInstances = %+v", d)
	}
	up := try(c.ecs.UpdateContainerInstancesState(ctx, &ecs.UpdateContainerInstancesStateInput{
		Cluster: aws.String("c"), ContainerInstances: []string{aws.ToString(ci.ContainerInstanceArn)}, Status: types.ContainerInstanceStatusDraining,
	})).must(t)
	if aws.ToString(up.ContainerInstances[0].Status) != "DRAINING" {
		t.Fatalf("UpdateContainerInstancesState = %+v", up)
	}
	if l := try(c.ecs.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String("c"), Status: types.ContainerInstanceStatusDraining})).must(t); len(l.ContainerInstanceArns) != 1 {
		t.Fatalf("ListContainerInstances(DRAINING) = %v", l.ContainerInstanceArns)
	}
	_, err := c.ecs.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("c")})
	if err == nil {
		t.Fatal("deleted a cluster with tasks and instances")
	}
	dereg := try(c.ecs.DeregisterContainerInstance(ctx, &ecs.DeregisterContainerInstanceInput{Cluster: aws.String("c"), ContainerInstance: ci.ContainerInstanceArn, Force: aws.Bool(true)})).must(t)
	if aws.ToString(dereg.ContainerInstance.Status) != "INACTIVE" {
		t.Fatalf("DeregisterContainerInstance = %+v", dereg.ContainerInstance)
	}
	try(c.ecs.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String("c"), Task: start.Tasks[0].TaskArn})).must(t)
	stopped(t, ctx, c, *start.Tasks[0].TaskArn)
	try(c.ecs.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("c")})).must(t)
}

func TestClusterContainsInstances(t *testing.T) {
	ctx, c := setup(t)
	try(c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("c")})).must(t)
	try(c.ecs.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{Cluster: aws.String("c")})).must(t)
	_, err := c.ecs.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("c")})
	wantErr[*types.ClusterContainsContainerInstancesException](t, err)
}

func TestCapacityProvidersAndTags(t *testing.T) {
	ctx, c := setup(t)
	group := autoScalingGroup(t, ctx, c, "hosts-a") // a capacity provider's group must exist
	cp := try(c.ecs.CreateCapacityProvider(ctx, &ecs.CreateCapacityProviderInput{
		Name:                     aws.String("asg"),
		AutoScalingGroupProvider: &types.AutoScalingGroupProvider{AutoScalingGroupArn: group.AutoScalingGroupARN},
	})).must(t).CapacityProvider
	if cp.AutoScalingGroupProvider.ManagedScaling == nil || aws.ToInt32(cp.AutoScalingGroupProvider.ManagedScaling.TargetCapacity) != 100 {
		t.Fatalf("CreateCapacityProvider defaults = %+v", cp.AutoScalingGroupProvider)
	}
	_, err := c.ecs.CreateCapacityProvider(ctx, &ecs.CreateCapacityProviderInput{Name: aws.String("asg"), AutoScalingGroupProvider: cp.AutoScalingGroupProvider})
	wantErr[*types.ClientException](t, err)
	_, err = c.ecs.CreateCapacityProvider(ctx, &ecs.CreateCapacityProviderInput{Name: aws.String("fargate-x"), AutoScalingGroupProvider: cp.AutoScalingGroupProvider})
	wantErr[*types.InvalidParameterException](t, err)
	all := try(c.ecs.DescribeCapacityProviders(ctx, &ecs.DescribeCapacityProvidersInput{})).must(t)
	if len(all.CapacityProviders) != 3 {
		t.Fatalf("DescribeCapacityProviders = %d", len(all.CapacityProviders))
	}
	try(c.ecs.UpdateCapacityProvider(ctx, &ecs.UpdateCapacityProviderInput{Name: aws.String("asg"), AutoScalingGroupProvider: &types.AutoScalingGroupProviderUpdate{ManagedDraining: types.ManagedDrainingDisabled}})).must(t)
	try(c.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("c"), CapacityProviders: []string{"asg"}})).must(t)
	_, err = c.ecs.DeleteCapacityProvider(ctx, &ecs.DeleteCapacityProviderInput{CapacityProvider: aws.String("asg")})
	wantErr[*types.ResourceInUseException](t, err)

	arn := aws.String("arn:aws:ecs:" + c.region + ":000000000000:cluster/c")
	try(c.ecs.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: arn, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")}}})).must(t)
	try(c.ecs.UntagResource(ctx, &ecs.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"a"}})).must(t)
	tags := try(c.ecs.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: arn})).must(t)
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "b" {
		t.Fatalf("tags = %+v", tags.Tags)
	}
	_, err = c.ecs.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String("arn:aws:ecs:" + c.region + ":000000000000:cluster/none"), Tags: tags.Tags})
	wantErr[*types.ClusterNotFoundException](t, err)
	_, err = c.ecs.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:ecs:" + c.region + ":000000000000:service/c/none")})
	wantErr[*types.ResourceNotFoundException](t, err)
	_, err = c.ecs.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: arn, Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("1")}}})
	wantErr[*types.InvalidParameterException](t, err)
}
