package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// TestValidationModelMaps: through the SDKs, a map's keys and values are
// checked against the model (a Logs tag key of 129 characters or with a
// newline is refused and the group not created: TagKey 1 to 128,
// API_CreateLogGroup), every violation is listed, CloudWatch refuses an
// empty metric name and a namespace starting with ':' (API_PutMetricData)
// under ValidationError as it does an empty alarm name (aws-sdk-js-v3's
// end-to-end test, cited in server/validate.go), IAM refuses tag keys
// given twice, and PutLogEvents stores no event AWS would reject.
func TestValidationModelMaps(t *testing.T) {
	ctx, c := setup(t)
	for _, key := range []string{strings.Repeat("k", 129), "a\nb", ""} {
		_, err := c.logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/tags/bad"), Tags: map[string]string{key: "v"}})
		if e := wantErr[*logstypes.InvalidParameterException](t, err); !strings.Contains(e.ErrorMessage(), "at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 128") {
			t.Errorf("tag key %q: %s", key, e.ErrorMessage())
		}
	}
	_, err := c.logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/tags/bad"), Tags: map[string]string{"k": "v\u0001"}})
	if e := wantErr[*logstypes.InvalidParameterException](t, err); !strings.Contains(e.ErrorMessage(), "Map value must satisfy constraint: [Member must have length less than or equal to 256") {
		t.Errorf("tag value: %s", e.ErrorMessage())
	}
	groups := try(c.logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/tags/")})).must(t).LogGroups
	if len(groups) != 0 {
		t.Errorf("refused groups were created: %+v", groups)
	}

	// Every violation, not the first.
	_, err = c.logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(strings.Repeat("g", 513)), Tags: map[string]string{"": "v"}})
	if e := wantErr[*logstypes.InvalidParameterException](t, err); !strings.HasPrefix(e.ErrorMessage(), "2 validation errors detected: ") {
		t.Errorf("two violations: %s", e.ErrorMessage())
	}

	cw := cloudWatch(c.region)
	_, err = cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String(":App"), MetricData: []cwtypes.MetricDatum{{MetricName: aws.String(""), Value: aws.Float64(1)}}})
	wantCode(t, err, "ValidationError")
	if err == nil || !strings.Contains(err.Error(), "2 validation errors detected: Value ':App' at 'namespace' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:].*; "+
		"Value '' at 'metricData.1.member.metricName' failed to satisfy constraint: Member must have length greater than or equal to 1") {
		t.Errorf("PutMetricData with an empty metric name in the namespace ':App': %v", err)
	}

	_, err = c.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("dup-tags"), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`),
		Tags: []iamtypes.Tag{{Key: aws.String("Env"), Value: aws.String("a")}, {Key: aws.String("env"), Value: aws.String("b")}}})
	if e := wantErr[*iamtypes.InvalidInputException](t, err); e.ErrorMessage() != "Duplicate tag keys found. Please note that Tag keys are case insensitive." {
		t.Errorf("CreateRole with duplicate tag keys: %s", e.ErrorMessage())
	}

	try(c.logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/rejects")})).must(t)
	try(c.logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("/rejects"), LogStreamName: aws.String("s")})).must(t)
	now := time.Now()
	at := func(d time.Duration, msg string) logstypes.InputLogEvent {
		return logstypes.InputLogEvent{Timestamp: aws.Int64(now.Add(d).UnixMilli()), Message: aws.String(msg)}
	}
	out := try(c.logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("/rejects"), LogStreamName: aws.String("s"),
		LogEvents: []logstypes.InputLogEvent{at(-15*24*time.Hour, "old"), at(0, "now"), at(3*time.Hour, "future")}})).must(t)
	r := out.RejectedLogEventsInfo
	if r == nil || aws.ToInt32(r.TooOldLogEventEndIndex) != 1 || aws.ToInt32(r.TooNewLogEventStartIndex) != 2 {
		t.Errorf("rejectedLogEventsInfo = %+v", r)
	}
	events := try(c.logs.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("/rejects"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true)})).must(t).Events
	if len(events) != 1 || aws.ToString(events[0].Message) != "now" {
		t.Errorf("stored events = %+v", events)
	}
}
