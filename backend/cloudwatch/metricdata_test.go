package cloudwatch

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// TestScalarExpressionPages: a constant expression over a long range at a
// one-second period answers one page of at most 100,800 datapoints, the
// most a call returns
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html,
// MaxDatapoints), newest first, with a token for the rest; a token far
// into the range answers the page there without building the pages before
// it (the hostile review's 150-byte request for 6 million datapoints).
func TestScalarExpressionPages(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	b, ctx := testBackend(t, &now)
	in := &cw.GetMetricDataInput{
		MetricDataQueries: []types.MetricDataQuery{{Id: aws.String("a"), Expression: aws.String("1"), Period: aws.Int32(1)}},
		StartTime:         aws.Time(now.Add(-70 * 24 * time.Hour)), EndTime: aws.Time(now), MaxDatapoints: aws.Int32(1<<31 - 1),
	}
	out, err := b.GetMetricData(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	r := out.MetricDataResults[0]
	if len(r.Values) != 100800 || out.NextToken == nil || r.StatusCode != types.StatusCodePartialData {
		t.Fatalf("first page: %d datapoints, token %v, %s", len(r.Values), out.NextToken, r.StatusCode)
	}
	if !r.Timestamps[0].Equal(now.Add(-time.Second)) || !r.Timestamps[1].Equal(now.Add(-2*time.Second)) {
		t.Errorf("newest first: %v, %v", r.Timestamps[0], r.Timestamps[1])
	}
	in.NextToken = aws.String(base64.RawURLEncoding.EncodeToString([]byte("6000000")))
	out, err = b.GetMetricData(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	r = out.MetricDataResults[0]
	if len(r.Values) != 48000 || out.NextToken != nil || !r.Timestamps[0].Equal(now.Add(-6000001*time.Second)) {
		t.Fatalf("last page: %d datapoints from %v, token %v", len(r.Values), r.Timestamps[0], out.NextToken)
	}
}

// TestRangesBeyondDurations: a range longer than a time.Duration holds
// (292 years) is counted in periods still: GetMetricStatistics refuses
// it for asking more than 1,440 datapoints
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html),
// instead of answering none (hostile review).
func TestRangesBeyondDurations(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	b, ctx := testBackend(t, &now)
	_, err := b.GetMetricStatistics(ctx, &cw.GetMetricStatisticsInput{Namespace: aws.String("N"), MetricName: aws.String("m"),
		StartTime: aws.Time(time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)), EndTime: aws.Time(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)),
		Period: aws.Int32(60), Statistics: []types.Statistic{types.StatisticSum}})
	if code(err) != "InvalidParameterCombination" {
		t.Errorf("1970 to 9999 by minutes: %v", err)
	}
}
