package server

import (
	"errors"
	"maps"
	"math"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
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
		"ecs": &ecs.Client{}, "elbv2": &elbv2.Client{}, "autoscaling": &autoscaling.Client{}, "iam": &iam.Client{}, "cloudwatch": &cloudwatch.Client{},
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

// TestMapConstraints: the keys and values of a map are checked against
// the model's key and value shapes (Logs' TagKey, length 1 to 128, and
// TagValue, at most 256, each with its pattern:
// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html),
// and refused at the map, once for the keys and once for the values, keys
// first, with every constraint of the shape, as AWS words it ("Map keys
// must satisfy constraint: [Member must have length less than or equal to
// 256, ...]" in a user's EventBridge refusal, and "Map value must satisfy
// constraint: [...]" in
// https://github.com/hashicorp/terraform-provider-aws/issues/41023).
func TestMapConstraints(t *testing.T) {
	val := validator{coralFault("InvalidParameterException"), modelConstraints["logs"]}
	const keys = `Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$]`
	const values = `Map value must satisfy constraint: [Member must have length less than or equal to 256, Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$]`
	for _, tc := range []struct {
		tags map[string]string
		want string // "" for valid
	}{
		{map[string]string{"": "v"}, "InvalidParameterException: 1 validation error detected: Value '{=v}' at 'tags' failed to satisfy constraint: " + keys},
		{map[string]string{"a\nb": "v"}, "at 'tags' failed to satisfy constraint: " + keys},
		{map[string]string{strings.Repeat("k", 129): "v"}, "at 'tags' failed to satisfy constraint: " + keys},
		{map[string]string{strings.Repeat("k", 128): "v"}, ""},
		{map[string]string{"k": strings.Repeat("v", 257)}, "at 'tags' failed to satisfy constraint: " + values},
		{map[string]string{"k": strings.Repeat("v", 256)}, ""},
		{map[string]string{"k": "v\u0001"}, "1 validation error detected: Value '{k=v\u0001}' at 'tags' failed to satisfy constraint: " + values},
		{map[string]string{"env": "prod", "team": "a b/c=d+e-f@g:h_i.j", "empty": ""}, ""},
		{map[string]string{"": "v\u0001", "ok": "v"}, "InvalidParameterException: 2 validation errors detected: Value '{=v\u0001, ok=v}' at 'tags' failed to satisfy constraint: " + keys +
			"; Value '{=v\u0001, ok=v}' at 'tags' failed to satisfy constraint: " + values},
	} {
		err := val.check(reflect.ValueOf(&cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("g"), Tags: tc.tags}))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v", tc.tags, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: err = %v, want %q", tc.tags, err, tc.want)
		}
	}
	// Every service's maps: ECR's tags are a list, Logs' TagResource a map.
	err := val.check(reflect.ValueOf(&cloudwatchlogs.TagResourceInput{ResourceArn: aws.String("arn"), Tags: map[string]string{"": "v"}}))
	if err == nil || !strings.Contains(err.Error(), "at 'tags' failed to satisfy constraint: "+keys) {
		t.Errorf("TagResource: %v", err)
	}
}

// TestAllViolations: every violation is listed, not only the first, "; "
// between them, in the model's member order, at most ten, each constraint a
// member fails its own violation (pattern before length), as AWS's common
// validation lists them (recorded from AWS by
// https://github.com/mhart/kinesalite/blob/master/test/createStream.js:
// "3 validation errors detected: Value '0' at 'shardCount' ...; Value ”
// at 'streamName' failed to satisfy constraint: Member must satisfy
// regular expression pattern: [a-zA-Z0-9_.-]+; Value ” at 'streamName'
// failed to satisfy constraint: Member must have length greater than or
// equal to 1", and test/putRecords.js: ten of 501).
func TestAllViolations(t *testing.T) {
	elb := validator{coralFault("ValidationError"), modelConstraints["elasticloadbalancing"]}
	err := elb.check(reflect.ValueOf(&elbv2.CreateTargetGroupInput{HealthCheckIntervalSeconds: aws.Int32(301), HealthCheckTimeoutSeconds: aws.Int32(1)}))
	want := "ValidationError: 2 validation errors detected: Value '301' at 'healthCheckIntervalSeconds' failed to satisfy constraint: Member must have value less than or equal to 300; " +
		"Value '1' at 'healthCheckTimeoutSeconds' failed to satisfy constraint: Member must have value greater than or equal to 2"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}

	iamVal := validator{coralFault("ValidationError"), modelConstraints["iam"]}
	err = iamVal.check(reflect.ValueOf(&iam.CreateRoleInput{RoleName: aws.String("")}))
	want = "ValidationError: 2 validation errors detected: Value '' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+; " +
		"Value '' at 'roleName' failed to satisfy constraint: Member must have length greater than or equal to 1"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}

	// In the model's member order (IAM's CreateRole: Path, RoleName, ...,
	// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html),
	// not the SDK's (required members first).
	err = iamVal.check(reflect.ValueOf(&iam.CreateRoleInput{RoleName: aws.String("a b"), Path: aws.String("x"), AssumeRolePolicyDocument: aws.String("{}")}))
	if err == nil || !strings.HasPrefix(err.Error(), "ValidationError: 2 validation errors detected: Value 'x' at 'path' failed") || !strings.Contains(err.Error(), "; Value 'a b' at 'roleName' failed") {
		t.Errorf("err = %v, want path before roleName", err)
	}

	// Twelve tags with empty keys: ten are listed.
	ecsVal := validator{coralFault("InvalidParameterException"), modelConstraints["ecs"]}
	err = ecsVal.check(reflect.ValueOf(&ecs.TagResourceInput{ResourceArn: aws.String("arn"), Tags: slices.Repeat([]ecstypes.Tag{{Key: aws.String(""), Value: aws.String("v")}}, 12)}))
	if err == nil || !strings.Contains(err.Error(), "10 validation errors detected: Value '' at 'tags.1.member.key' failed") ||
		!strings.Contains(err.Error(), "at 'tags.10.member.key'") || strings.Contains(err.Error(), "tags.11.member") {
		t.Errorf("err = %v", err)
	}

	// An integer is echoed as one, never in float notation.
	logsVal := validator{coralFault("InvalidParameterException"), modelConstraints["logs"]}
	err = logsVal.check(reflect.ValueOf(&cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("g"), StartTime: aws.Int64(math.MinInt64)}))
	want = "InvalidParameterException: 1 validation error detected: Value '-9223372036854775808' at 'startTime' failed to satisfy constraint: Member must have value greater than or equal to 0"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}
	// A length bound in the millions is written out, never 2.097152e+06
	// (ACM's certificate chain: at most 2097152 characters,
	// https://docs.aws.amazon.com/acm/latest/APIReference/API_ImportCertificate.html).
	acmVal := validator{coralFault("ValidationException"), modelConstraints["acm"]}
	err = acmVal.check(reflect.ValueOf(&acm.ImportCertificateInput{CertificateChain: make([]byte, 2097153)}))
	if err == nil || !strings.Contains(err.Error(), "Value at 'certificateChain' failed to satisfy constraint: Member must have length less than or equal to 2097152") {
		t.Errorf("err = %v", err)
	}
}

// TestListItemEnums: an enum-typed list item outside its set is refused at
// the list, with the list's value and the items' constraint, as AWS
// answers it:
//
//	Value '[CAPABILITY_IAM, CAPABILITY_NAMED_IAM, CAPABILITY_AUTO_EXPAND ]' at
//	'capabilities' failed to satisfy constraint: Member must satisfy
//	constraint: [Member must satisfy enum value set: [CAPABILITY_AUTO_EXPAND,
//	CAPABILITY_NAMED_IAM, CAPABILITY_IAM]]
//
// (https://github.com/CodeGenieApp/serverless-express/issues/59).
func TestListItemEnums(t *testing.T) {
	val := validator{coralFault("InvalidParameterException"), modelConstraints["ecs"]}
	err := val.check(reflect.ValueOf(&ecs.DescribeClustersInput{Include: []ecstypes.ClusterField{ecstypes.ClusterFieldTags, "BOGUS"}}))
	all := make([]string, 0)
	for _, v := range ecstypes.ClusterField("").Values() {
		all = append(all, string(v))
	}
	want := "InvalidParameterException: 1 validation error detected: Value '[TAGS, BOGUS]' at 'include' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [" + strings.Join(all, ", ") + "]]"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}
	if err := val.check(reflect.ValueOf(&ecs.DescribeClustersInput{Include: []ecstypes.ClusterField{ecstypes.ClusterFieldTags}})); err != nil {
		t.Error(err)
	}
}

// TestCloudWatchConstraints: CloudWatch checks its model's constraints in
// the common validation's words under ValidationError, in every protocol,
// as the SDK's end-to-end test against CloudWatch has it
// (https://github.com/aws/aws-sdk-js-v3/blob/main/clients/client-cloudwatch/test/e2e/query-compatibility.e2e.spec.ts),
// and a value outside an enumeration in its own words (see queryFault).
func TestCloudWatchConstraints(t *testing.T) {
	val := validator{queryFault("InvalidParameterValue"), modelConstraints["monitoring"]}
	for _, tc := range []struct {
		in   any
		want string
	}{
		{&cloudwatch.PutMetricAlarmInput{AlarmName: aws.String(""), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, EvaluationPeriods: aws.Int32(5),
			MetricName: aws.String("CPUUtilization"), Namespace: aws.String("AWS/EC2"), Period: aws.Int32(60), Statistic: cwtypes.StatisticAverage, Threshold: aws.Float64(50)},
			"ValidationError: 1 validation error detected: Value '' at 'alarmName' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		// Namespace: 1 to 255 characters, pattern [^:].*
		// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html).
		{&cloudwatch.PutMetricDataInput{Namespace: aws.String(":App")},
			"ValidationError: 1 validation error detected: Value ':App' at 'namespace' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:].*"},
		{&cloudwatch.PutMetricDataInput{Namespace: aws.String("App"), MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("m"), Dimensions: []cwtypes.Dimension{{Name: aws.String(""), Value: aws.String("v")}}}}},
			"Value '' at 'metricData.1.member.dimensions.1.member.name' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{&cloudwatch.PutMetricDataInput{Namespace: aws.String("App"), MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("m"), Unit: "Parsecs"}}},
			"InvalidParameterValue: The parameter MetricData.member.1.Unit must be a value in the set [ Seconds,"},
		{&cloudwatch.PutMetricDataInput{Namespace: aws.String("App"), MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("m"), Value: aws.Float64(1), Unit: cwtypes.StandardUnitCount}}}, ""},
		// A list's item outside its set is named by its query path
		// (https://github.com/arabold/aws-to-slack/issues/74).
		{&cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("App"), MetricName: aws.String("m"), Period: aws.Int32(60), Statistics: []cwtypes.Statistic{cwtypes.StatisticSum, "Median"}},
			"InvalidParameterValue: The parameter Statistics.member.2 must be a value in the set [ SampleCount, Average, Sum, Minimum, Maximum ]."},
		// A list over its maximum (30 dimensions, API_MetricDatum) in
		// CloudWatch's words (https://github.com/aws/aws-sdk-java-v2/issues/3080).
		{&cloudwatch.PutMetricDataInput{Namespace: aws.String("App"), MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("m"), Dimensions: make([]cwtypes.Dimension, 31)}}},
			"InvalidParameterValue: The collection MetricData.member.1.Dimensions must not have a size greater than 30."},
	} {
		err := val.check(reflect.ValueOf(tc.in))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%T: %v", tc.in, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%T: err = %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestJavaDouble(t *testing.T) {
	for in, want := range map[float64]string{1: "1.0", 0.5: "0.5", -2.25: "-2.25", 1e10: "1.0E10", 1.5e-5: "1.5E-5", 0: "0.0", 9999999: "9999999.0"} {
		if got := javaDouble(in); got != want {
			t.Errorf("javaDouble(%v) = %s, want %s", in, got, want)
		}
	}
}
