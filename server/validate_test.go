package server

import (
	"errors"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"berth/awsproto"
)

// TestCheckEnums: one enum-typed member of each service, nested in
// structs and lists, refused with the value, its path and the SDK's
// value set; values in the set and unset members pass. The message form
// is AWS's common input validation error (see coralFault).
func TestCheckEnums(t *testing.T) {
	ecsFault := coralFault("InvalidParameterException")
	for _, tc := range []struct {
		in    any
		fault inputFault
		want  string // "" for valid
	}{
		{&ecs.CreateServiceInput{LaunchType: "SOMETHING"}, ecsFault,
			"InvalidParameterException: 1 validation error detected: Value 'SOMETHING' at 'launchType' failed to satisfy constraint: Member must satisfy enum value set: [EC2, FARGATE, EXTERNAL, MANAGED_INSTANCES]"},
		{&ecs.RunTaskInput{LaunchType: "Fargate"}, ecsFault, "Value 'Fargate' at 'launchType'"},
		{&ecs.RunTaskInput{LaunchType: ecstypes.LaunchTypeFargate}, ecsFault, ""},
		{&ecs.RegisterTaskDefinitionInput{ContainerDefinitions: []ecstypes.ContainerDefinition{{}, {LogConfiguration: &ecstypes.LogConfiguration{LogDriver: "stdout"}}}}, ecsFault,
			"Value 'stdout' at 'containerDefinitions.2.member.logConfiguration.logDriver'"},
		{&ecs.CreateServiceInput{NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{AssignPublicIp: "YES"}}}, ecsFault,
			"at 'networkConfiguration.awsvpcConfiguration.assignPublicIp'"},
		{&elbv2.CreateTargetGroupInput{Protocol: "http"}, coralFault("ValidationError"), "ValidationError: 1 validation error detected: Value 'http' at 'protocol'"},
		{&elbv2.CreateLoadBalancerInput{Type: elbtypes.LoadBalancerTypeEnumNetwork}, coralFault("ValidationError"), ""},
		{&ssm.PutParameterInput{Type: "Secure"}, except(coralFault("ValidationException"), "type"), ""},
		{&ssm.PutParameterInput{Tier: "Premium"}, except(coralFault("ValidationException"), "type"), "Value 'Premium' at 'tier'"},
		{&ssm.PutParameterInput{Type: ssmtypes.ParameterTypeSecureString}, coralFault("ValidationException"), ""},
		{&secretsmanager.ListSecretsInput{Filters: []smtypes.Filter{{Key: "colour"}}}, coralFault("InvalidParameterException"), "at 'filters.1.member.key'"},
		{&cloudwatchlogs.DescribeLogStreamsInput{OrderBy: "Size"}, coralFault("InvalidParameterException"), "at 'orderBy'"},
		{&autoscaling.DescribeScalingActivitiesInput{}, coralFault("ValidationError"), ""},
	} {
		err := validator{fault: tc.fault}.check(reflect.ValueOf(tc.in))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%T: %v", tc.in, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%T: err = %v, want %q", tc.in, err, tc.want)
		}
		var ae *awsproto.Error
		if err != nil && (!errors.As(err, &ae) || ae.Status != 400) {
			t.Errorf("%T: %v is not a 400", tc.in, err)
		}
	}
}

// TestEnumMembersCounted prints how many enum-typed members the inputs of
// each service's operations have (every one of them is checked when berth
// serves the operation), per service; EC2 checks its own.
func TestEnumMembersCounted(t *testing.T) {
	counts := map[string]int{}
	for name, client := range map[string]any{
		"ecs": &ecs.Client{}, "elbv2": &elbv2.Client{}, "autoscaling": &autoscaling.Client{}, "iam": &iam.Client{},
		"sts": &sts.Client{}, "logs": &cloudwatchlogs.Client{}, "acm": &acm.Client{}, "ecr": &ecr.Client{}, "ssm": &ssm.Client{}, "secretsmanager": &secretsmanager.Client{},
	} {
		tab := newTable(client, &struct{}{}, validator{})
		ct := reflect.TypeOf(client)
		for op := range tab.known {
			m, _ := ct.MethodByName(op)
			counts[name] += enumMembers(m.Type.In(2).Elem(), map[reflect.Type]bool{})
		}
	}
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if counts[n] == 0 && n != "sts" {
			t.Errorf("%s: no enum-typed member found", n)
		}
		t.Logf("%-15s %5d enum-typed input members checked", n, counts[n])
	}
	for _, n := range slices.Sorted(maps.Keys(modelConstraints)) {
		t.Logf("%-20s %5d members with a length, range or pattern constraint checked", n, len(modelConstraints[n]))
	}
}

// enumMembers counts the enum-typed members reachable from type t.
func enumMembers(t reflect.Type, seen map[reflect.Type]bool) int {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map:
		return enumMembers(t.Elem(), seen)
	case reflect.String:
		if _, ok := t.MethodByName("Values"); ok {
			return 1
		}
	case reflect.Struct:
		if seen[t] || awsproto.IsTime(t) {
			return 0
		}
		seen[t] = true
		n := 0
		for _, f := range awsproto.Fields(t) {
			n += enumMembers(f.Type, seen)
		}
		return n
	}
	return 0
}

// TestModelConstraints: a constrained member of every service the model
// table covers, refused in AWS's common validation words with the
// model's bound; values within it pass. The bounds are the published
// models' (botocore), cited by the generated table.
func TestModelConstraints(t *testing.T) {
	v := func(service, code string) validator {
		return validator{fault: coralFault(code), constraints: modelConstraints[service]}
	}
	long := strings.Repeat("x", 513)
	for _, tc := range []struct {
		in   any
		val  validator
		want string // "" for valid
	}{
		{&elbv2.CreateTargetGroupInput{HealthCheckIntervalSeconds: aws.Int32(301)}, v("elasticloadbalancing", "ValidationError"),
			"ValidationError: 1 validation error detected: Value '301' at 'healthCheckIntervalSeconds' failed to satisfy constraint: Member must have value less than or equal to 300"},
		{&elbv2.CreateTargetGroupInput{HealthCheckIntervalSeconds: aws.Int32(300)}, v("elasticloadbalancing", "ValidationError"), ""},
		{&iam.CreateRoleInput{RoleName: aws.String("bad name")}, v("iam", "ValidationError"), "at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+"},
		{&cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(long)}, v("logs", "InvalidParameterException"), "Member must have length less than or equal to 512"},
		{&ssm.GetParametersInput{Names: make([]string, 11)}, v("ssm", "ValidationException"), "at 'names' failed to satisfy constraint: Member must have length less than or equal to 10"},
		{&secretsmanager.CreateSecretInput{Name: aws.String(long)}, v("secretsmanager", "ValidationException"), "at 'name'"},
		{&ecr.CreateRepositoryInput{RepositoryName: aws.String("Upper")}, v("ecr", "InvalidParameterException"), "at 'repositoryName' failed to satisfy constraint: Member must satisfy regular expression pattern"},
		{&acm.RequestCertificateInput{DomainName: aws.String(long)}, v("acm", "ValidationException"), "at 'domainName'"},
		{&autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("")}, v("autoscaling", "ValidationError"), "Member must have length greater than or equal to 1"},
		// Two operations sharing one input shape in the model
		// (ScalingProcessQuery) each get its constraints
		// (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_ResumeProcesses.html:
		// AutoScalingGroupName, length 1 to 255).
		{&autoscaling.ResumeProcessesInput{AutoScalingGroupName: aws.String("")}, v("autoscaling", "ValidationError"), "at 'autoScalingGroupName' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{&autoscaling.SuspendProcessesInput{AutoScalingGroupName: aws.String("")}, v("autoscaling", "ValidationError"), "at 'autoScalingGroupName' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		// Auto Scaling's XML-safe names: Java reads \uD800\uDC00-\uDBFF\uDFFF
		// as U+10000 to U+10FFFF, so an emoji passes and a control
		// character does not; the message shows the model's pattern
		// (https://github.com/zalando-incubator/kube-ingress-aws-controller/issues/248).
		{&autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("web-\U0001F600")}, v("autoscaling", "ValidationError"), ""},
		{&autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("web\x01")}, v("autoscaling", "ValidationError"),
			"at 'autoScalingGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\r\\n\\t]*"},
		{&sts.AssumeRoleInput{RoleSessionName: aws.String("a")}, v("sts", "ValidationError"), "at 'roleSessionName'"},
		{&ecs.CreateCapacityProviderInput{AutoScalingGroupProvider: &ecstypes.AutoScalingGroupProvider{ManagedScaling: &ecstypes.ManagedScaling{TargetCapacity: aws.Int32(-1)}}},
			v("ecs", "InvalidParameterException"), "at 'autoScalingGroupProvider.managedScaling.targetCapacity' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		// An item of a list is refused with the list, in every constraint
		// of its items (a field report:
		// https://github.com/zalando-incubator/kube-ingress-aws-controller/issues/248).
		{&ecs.UntagResourceInput{TagKeys: []string{"ok", ""}}, v("ecs", "InvalidParameterException"),
			"InvalidParameterException: 1 validation error detected: Value '[ok, ]' at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: ([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)]"},
		{&autoscaling.AttachLoadBalancerTargetGroupsInput{TargetGroupARNs: []string{""}}, v("autoscaling", "ValidationError"),
			"Value '[]' at 'targetGroupARNs' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 511, Member must have length greater than or equal to 1"},
		// A list of structures prints their members, never Go pointers
		// (ECS takes at most 50 tags:
		// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TagResource.html).
		{&ecs.TagResourceInput{Tags: slices.Repeat([]ecstypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}, 51)}, v("ecs", "InvalidParameterException"),
			"Value '[{key=k, value=v}, {key=k, value=v}, "},
		// An ARN's pattern is the service's to check: a log group's name,
		// and so its ARN, may hold '#' (Terraform tags one by its ARN).
		{&cloudwatchlogs.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/fn#1")}, v("logs", "InvalidParameterException"), ""},
		// A sensitive member's value is never echoed.
		{&secretsmanager.CreateSecretInput{SecretString: aws.String(strings.Repeat("s", 65537))}, v("secretsmanager", "ValidationException"), "Value at 'secretString'"},
	} {
		err := tc.val.check(reflect.ValueOf(tc.in))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%T: %v", tc.in, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%T: err = %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestQueryPath(t *testing.T) {
	for in, want := range map[string]string{
		"metricData.1.member.unit":                   "MetricData.member.1.Unit",
		"statistics.2.member":                        "Statistics.member.2",
		"metricDataQueries.1.member.metricStat.unit": "MetricDataQueries.member.1.MetricStat.Unit",
		"scanBy": "ScanBy",
	} {
		if got := queryPath(in); got != want {
			t.Errorf("queryPath(%s) = %s, want %s", in, got, want)
		}
	}
}
