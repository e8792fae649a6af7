package integration

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// cloudWatch is an aws-sdk-go-v2 CloudWatch client of the shared berth in
// region; this SDK speaks Smithy RPC v2 CBOR to CloudWatch.
func cloudWatch(region string) *cloudwatch.Client { return shared.clients(region).cloudwatch }

// TestCloudWatchMetricsSDK publishes values, value sets and statistic sets
// with aws-sdk-go-v2 and reads them back with GetMetricStatistics,
// GetMetricData (statistics and metric math) and ListMetrics.
func TestCloudWatchMetricsSDK(t *testing.T) {
	ctx, c := setup(t)
	cw := cloudWatch(c.region)
	base := time.Now().UTC().Truncate(time.Minute).Add(-10 * time.Minute)
	web := []types.Dimension{{Name: aws.String("ServiceName"), Value: aws.String("web")}, {Name: aws.String("ClusterName"), Value: aws.String("prod")}}
	// Minute 0: 10, 20, 30 as values; minute 1: 5 three times; minute 2: a
	// statistic set.
	try(cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("App"), MetricData: []types.MetricDatum{
		{MetricName: aws.String("Latency"), Dimensions: web, Timestamp: aws.Time(base), Value: aws.Float64(10), Unit: types.StandardUnitMilliseconds},
		{MetricName: aws.String("Latency"), Dimensions: web, Timestamp: aws.Time(base.Add(20 * time.Second)), Values: []float64{20, 30}, Unit: types.StandardUnitMilliseconds},
		{MetricName: aws.String("Latency"), Dimensions: web, Timestamp: aws.Time(base.Add(time.Minute)), Values: []float64{5}, Counts: []float64{3}, Unit: types.StandardUnitMilliseconds},
		{MetricName: aws.String("Latency"), Dimensions: web, Timestamp: aws.Time(base.Add(2 * time.Minute)), Unit: types.StandardUnitMilliseconds,
			StatisticValues: &types.StatisticSet{SampleCount: aws.Float64(4), Sum: aws.Float64(100), Minimum: aws.Float64(1), Maximum: aws.Float64(70)}},
		{MetricName: aws.String("Requests"), Dimensions: web[:1], Timestamp: aws.Time(base), Value: aws.Float64(7), Unit: types.StandardUnitCount},
		{MetricName: aws.String("Requests"), Dimensions: web[:1], Timestamp: aws.Time(base.Add(time.Minute)), Value: aws.Float64(3), Unit: types.StandardUnitCount},
	}})).must(t)

	// Dimensions in another order name the same metric.
	reversed := []types.Dimension{web[1], web[0]}
	stats := try(cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("App"), MetricName: aws.String("Latency"), Dimensions: reversed,
		StartTime: aws.Time(base), EndTime: aws.Time(base.Add(5 * time.Minute)), Period: aws.Int32(60),
		Statistics: []types.Statistic{types.StatisticSampleCount, types.StatisticSum, types.StatisticAverage, types.StatisticMinimum, types.StatisticMaximum}})).must(t)
	if len(stats.Datapoints) != 3 {
		t.Fatalf("GetMetricStatistics = %+v", stats.Datapoints)
	}
	byMinute := map[time.Time]types.Datapoint{}
	for _, dp := range stats.Datapoints {
		byMinute[dp.Timestamp.UTC()] = dp
	}
	for i, want := range [][5]float64{{3, 60, 20, 10, 30}, {3, 15, 5, 5, 5}, {4, 100, 25, 1, 70}} {
		dp := byMinute[base.Add(time.Duration(i)*time.Minute)]
		got := [5]float64{aws.ToFloat64(dp.SampleCount), aws.ToFloat64(dp.Sum), aws.ToFloat64(dp.Average), aws.ToFloat64(dp.Minimum), aws.ToFloat64(dp.Maximum)}
		if got != want || dp.Unit != types.StandardUnitMilliseconds {
			t.Errorf("minute %d: %v %s, want %v Milliseconds", i, got, dp.Unit, want)
		}
	}
	p := try(cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("App"), MetricName: aws.String("Latency"), Dimensions: web,
		StartTime: aws.Time(base), EndTime: aws.Time(base.Add(time.Minute)), Period: aws.Int32(60), ExtendedStatistics: []string{"p50", "p99"}})).must(t)
	if len(p.Datapoints) != 1 || p.Datapoints[0].ExtendedStatistics["p50"] != 20 || p.Datapoints[0].ExtendedStatistics["p99"] != 30 {
		t.Fatalf("percentiles = %+v", p.Datapoints)
	}

	stat := func(id, name string, dims []types.Dimension, s string) types.MetricDataQuery {
		return types.MetricDataQuery{Id: aws.String(id), ReturnData: aws.Bool(false), MetricStat: &types.MetricStat{
			Metric: &types.Metric{Namespace: aws.String("App"), MetricName: aws.String(name), Dimensions: dims}, Period: aws.Int32(60), Stat: aws.String(s)}}
	}
	latency, requests := stat("latency", "Latency", web, "Sum"), stat("requests", "Requests", web[:1], "Sum")
	latency.ReturnData = nil
	data := try(cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(base), EndTime: aws.Time(base.Add(5 * time.Minute)), ScanBy: types.ScanByTimestampAscending,
		MetricDataQueries: []types.MetricDataQuery{latency, requests,
			{Id: aws.String("perRequest"), Expression: aws.String("latency / requests"), Label: aws.String("ms per request")},
			{Id: aws.String("total"), Expression: aws.String("SUM(requests) * 2")},
		}})).must(t)
	results := map[string]types.MetricDataResult{}
	for _, r := range data.MetricDataResults {
		results[aws.ToString(r.Id)] = r
	}
	if len(data.MetricDataResults) != 3 || results["requests"].Id != nil {
		t.Fatalf("GetMetricData returned %+v", data.MetricDataResults)
	}
	if r := results["latency"]; !equalFloats(r.Values, []float64{60, 15, 100}) || !r.Timestamps[0].Equal(base) || aws.ToString(r.Label) != "Latency" || r.StatusCode != types.StatusCodeComplete {
		t.Errorf("latency = %+v", r)
	}
	if r := results["perRequest"]; !equalFloats(r.Values, []float64{60.0 / 7, 5}) || aws.ToString(r.Label) != "ms per request" {
		t.Errorf("perRequest = %+v", r)
	}
	if r := results["total"]; len(r.Values) != 5 || r.Values[0] != 20 {
		t.Errorf("total = %+v", r)
	}
	// Newest first by default, and paged by MaxDatapoints.
	page1 := try(cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(base), EndTime: aws.Time(base.Add(5 * time.Minute)), MaxDatapoints: aws.Int32(2),
		MetricDataQueries: []types.MetricDataQuery{{Id: aws.String("l"), MetricStat: latency.MetricStat}}})).must(t)
	if r := page1.MetricDataResults[0]; !equalFloats(r.Values, []float64{100, 15}) || r.StatusCode != types.StatusCodePartialData || page1.NextToken == nil {
		t.Fatalf("first page = %+v %v", r, page1.NextToken)
	}
	page2 := try(cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(base), EndTime: aws.Time(base.Add(5 * time.Minute)), MaxDatapoints: aws.Int32(2), NextToken: page1.NextToken,
		MetricDataQueries: []types.MetricDataQuery{{Id: aws.String("l"), MetricStat: latency.MetricStat}}})).must(t)
	if r := page2.MetricDataResults[0]; !equalFloats(r.Values, []float64{60}) || page2.NextToken != nil {
		t.Fatalf("second page = %+v %v", r, page2.NextToken)
	}

	list := try(cw.ListMetrics(ctx, &cloudwatch.ListMetricsInput{Namespace: aws.String("App"), Dimensions: []types.DimensionFilter{{Name: aws.String("ClusterName")}}})).must(t)
	if len(list.Metrics) != 1 || aws.ToString(list.Metrics[0].MetricName) != "Latency" || len(list.Metrics[0].Dimensions) != 2 {
		t.Fatalf("ListMetrics by dimension = %+v", list.Metrics)
	}
	all := try(cw.ListMetrics(ctx, &cloudwatch.ListMetricsInput{RecentlyActive: types.RecentlyActivePt3h})).must(t)
	if len(all.Metrics) != 2 {
		t.Fatalf("ListMetrics = %+v", all.Metrics)
	}
	if other := try(cloudWatch(newRegion()).ListMetrics(ctx, &cloudwatch.ListMetricsInput{})).must(t); len(other.Metrics) != 0 {
		t.Fatalf("another region lists %+v", other.Metrics)
	}
}

// TestCloudWatchErrorsSDK checks the documented errors reach
// aws-sdk-go-v2 as its modeled exception types with CloudWatch's query
// error codes.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html
func TestCloudWatchErrorsSDK(t *testing.T) {
	ctx, c := setup(t)
	cw := cloudWatch(c.region)
	put := func(d types.MetricDatum) error {
		_, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("App"), MetricData: []types.MetricDatum{d}})
		return err
	}
	e1 := wantErr[*types.InvalidParameterCombinationException](t, put(types.MetricDatum{MetricName: aws.String("m"), Value: aws.Float64(1), Values: []float64{2}}))
	if e1.ErrorCode() != "InvalidParameterCombination" {
		t.Errorf("code = %s", e1.ErrorCode())
	}
	wantErr[*types.InvalidParameterValueException](t, put(types.MetricDatum{MetricName: aws.String("m"), Value: aws.Float64(1), StorageResolution: aws.Int32(30)}))
	wantErr[*types.InvalidParameterValueException](t, put(types.MetricDatum{MetricName: aws.String("m"), Value: aws.Float64(1), Timestamp: aws.Time(time.Now().Add(-15 * 24 * time.Hour))}))
	wantErr[*types.InvalidParameterCombinationException](t, put(types.MetricDatum{MetricName: aws.String("m"), Values: []float64{1, 2}, Counts: []float64{1}}))
	var dims []types.Dimension
	for i := range 31 {
		dims = append(dims, types.Dimension{Name: aws.String(strings.Repeat("d", i+1)), Value: aws.String("v")})
	}
	wantErr[*types.InvalidParameterValueException](t, put(types.MetricDatum{MetricName: aws.String("m"), Value: aws.Float64(1), Dimensions: dims}))
	_, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("AWS/ECS"), MetricData: []types.MetricDatum{{MetricName: aws.String("m"), Value: aws.Float64(1)}}})
	wantErr[*types.InvalidParameterValueException](t, err)

	now := time.Now()
	get := func(period int32, from time.Time, stats ...types.Statistic) error {
		_, err := cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("App"), MetricName: aws.String("m"),
			StartTime: aws.Time(from), EndTime: aws.Time(now), Period: aws.Int32(period), Statistics: stats})
		return err
	}
	wantErr[*types.InvalidParameterValueException](t, get(90, now.Add(-time.Hour), types.StatisticSum))
	e2 := wantErr[*types.InvalidParameterCombinationException](t, get(60, now.Add(-48*time.Hour), types.StatisticSum))
	if !strings.Contains(e2.ErrorMessage(), "exceeds the limit of 1,440") {
		t.Errorf("message = %s", e2.ErrorMessage())
	}
	wantErr[*types.MissingRequiredParameterException](t, get(60, now.Add(-time.Hour)))
	_, err = cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now),
		MetricDataQueries: []types.MetricDataQuery{{Id: aws.String("e"), Expression: aws.String("m1 +")}}})
	wantErr[*types.InvalidParameterValueException](t, err)
	_, err = cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now),
		MetricDataQueries: []types.MetricDataQuery{{Id: aws.String("m"), MetricStat: &types.MetricStat{Metric: &types.Metric{Namespace: aws.String("App"), MetricName: aws.String("m")}, Period: aws.Int32(60), Stat: aws.String("Median")}}}})
	wantCode(t, err, "ValidationError")
	err = put(types.MetricDatum{MetricName: aws.String("m"), Value: aws.Float64(1), Unit: "Parsecs"})
	if e := wantErr[*types.InvalidParameterValueException](t, err); !strings.HasPrefix(e.ErrorMessage(), "The parameter MetricData.member.1.Unit must be a value in the set [ Seconds,") {
		t.Errorf("message = %s", e.ErrorMessage())
	}
	_, err = cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now), NextToken: aws.String("!!"),
		MetricDataQueries: []types.MetricDataQuery{{Id: aws.String("e"), Expression: aws.String("1")}}})
	wantErr[*types.InvalidNextToken](t, err)
}

// TestCloudWatchHighResolution publishes 1-second points and reads them
// at 1- and 10-second periods.
func TestCloudWatchHighResolution(t *testing.T) {
	ctx, c := setup(t)
	cw := cloudWatch(c.region)
	base := time.Now().UTC().Truncate(time.Minute).Add(-5 * time.Minute)
	var data []types.MetricDatum
	for i := range 20 {
		data = append(data, types.MetricDatum{MetricName: aws.String("Hits"), Timestamp: aws.Time(base.Add(time.Duration(i) * time.Second)), Value: aws.Float64(float64(i)), StorageResolution: aws.Int32(1)})
	}
	try(cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("Fast"), MetricData: data})).must(t)
	for _, tc := range []struct {
		period int32
		sums   []float64
	}{{1, []float64{0, 1, 2}}, {10, []float64{45, 145}}} {
		out := try(cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(base), EndTime: aws.Time(base.Add(time.Minute)), ScanBy: types.ScanByTimestampAscending,
			MetricDataQueries: []types.MetricDataQuery{{Id: aws.String("h"), MetricStat: &types.MetricStat{Metric: &types.Metric{Namespace: aws.String("Fast"), MetricName: aws.String("Hits")}, Period: aws.Int32(tc.period), Stat: aws.String("Sum")}}}})).must(t)
		got := out.MetricDataResults[0].Values
		if len(got) < len(tc.sums) || !equalFloats(got[:len(tc.sums)], tc.sums) {
			t.Errorf("period %d: sums %v, want %v first", tc.period, got, tc.sums)
		}
	}
}

// TestCloudWatchQueryProtocol speaks the query protocol, as older SDKs
// and the Terraform provider's embedded aws-sdk-go-v2 do
// (Action=PutMetricData&Version=2010-08-01, XML answers).
func TestCloudWatchQueryProtocol(t *testing.T) {
	t.Parallel()
	ns := "Query" + newRegion()
	at := time.Now().UTC().Truncate(time.Minute).Add(-3 * time.Minute)
	post := func(form url.Values) (int, string) {
		resp, err := http.Post(shared.url, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	status, body := post(url.Values{"Action": {"PutMetricData"}, "Version": {"2010-08-01"}, "Namespace": {ns},
		"MetricData.member.1.MetricName": {"Jobs"}, "MetricData.member.1.Value": {"4"}, "MetricData.member.1.Timestamp": {at.Format(time.RFC3339)},
		"MetricData.member.1.Dimensions.member.1.Name": {"Queue"}, "MetricData.member.1.Dimensions.member.1.Value": {"q1"}})
	if status != 200 || !strings.Contains(body, "<PutMetricDataResponse") {
		t.Fatalf("PutMetricData = %d %s", status, body)
	}
	status, body = post(url.Values{"Action": {"GetMetricStatistics"}, "Version": {"2010-08-01"}, "Namespace": {ns}, "MetricName": {"Jobs"},
		"Dimensions.member.1.Name": {"Queue"}, "Dimensions.member.1.Value": {"q1"}, "Period": {"60"}, "Statistics.member.1": {"Sum"},
		"StartTime": {at.Format(time.RFC3339)}, "EndTime": {at.Add(time.Minute).Format(time.RFC3339)}})
	if status != 200 || !strings.Contains(body, "<Sum>4") {
		t.Fatalf("GetMetricStatistics = %d %s", status, body)
	}
	status, body = post(url.Values{"Action": {"PutMetricData"}, "Version": {"2010-08-01"}, "Namespace": {ns},
		"MetricData.member.1.MetricName": {"Jobs"}, "MetricData.member.1.Value": {"4"}, "MetricData.member.1.StorageResolution": {"5"}})
	if status != 400 || !strings.Contains(body, "<Code>InvalidParameterValue</Code>") {
		t.Fatalf("bad StorageResolution = %d %s", status, body)
	}
}

// TestCloudWatchCLI drives the metrics API with the aws CLI, which sends
// CloudWatch as AWS JSON 1.0 (X-Amz-Target GraniteServiceVersion20100801.*).
func TestCloudWatchCLI(t *testing.T) {
	t.Parallel()
	aws := cli{t: t, url: shared.url, region: newRegion()}
	at := time.Now().UTC().Truncate(time.Minute).Add(-2 * time.Minute).Format(time.RFC3339)
	end := time.Now().UTC().Format(time.RFC3339)
	aws.run(nil, "cloudwatch", "put-metric-data", "--namespace", "Shop", "--metric-name", "Orders", "--dimensions", "Store=north",
		"--value", "3", "--unit", "Count", "--timestamp", at)
	aws.run(nil, "cloudwatch", "put-metric-data", "--namespace", "Shop", "--metric-name", "Orders", "--dimensions", "Store=north",
		"--statistic-values", "SampleCount=2,Sum=9,Minimum=4,Maximum=5", "--unit", "Count", "--timestamp", at)
	var stats struct {
		Label      string
		Datapoints []struct {
			Sum, SampleCount, Maximum float64
			Unit                      string
		}
	}
	aws.run(&stats, "cloudwatch", "get-metric-statistics", "--namespace", "Shop", "--metric-name", "Orders", "--dimensions", "Name=Store,Value=north",
		"--start-time", at, "--end-time", end, "--period", "60", "--statistics", "Sum", "SampleCount", "Maximum")
	if len(stats.Datapoints) != 1 || stats.Datapoints[0].Sum != 12 || stats.Datapoints[0].SampleCount != 3 || stats.Datapoints[0].Maximum != 5 || stats.Datapoints[0].Unit != "Count" || stats.Label != "Orders" {
		t.Fatalf("get-metric-statistics = %+v", stats)
	}
	var data struct {
		MetricDataResults []struct {
			Id     string
			Values []float64
		}
	}
	aws.run(&data, "cloudwatch", "get-metric-data", "--start-time", at, "--end-time", end, "--metric-data-queries",
		`[{"Id":"o","MetricStat":{"Metric":{"Namespace":"Shop","MetricName":"Orders","Dimensions":[{"Name":"Store","Value":"north"}]},"Period":60,"Stat":"Average"},"ReturnData":false},{"Id":"double","Expression":"o * 2"}]`)
	if len(data.MetricDataResults) != 1 || !equalFloats(data.MetricDataResults[0].Values, []float64{8}) {
		t.Fatalf("get-metric-data = %+v", data)
	}
	var list struct{ Metrics []struct{ MetricName string } }
	aws.run(&list, "cloudwatch", "list-metrics", "--namespace", "Shop", "--recently-active", "PT3H")
	if len(list.Metrics) != 1 || list.Metrics[0].MetricName != "Orders" {
		t.Fatalf("list-metrics = %+v", list)
	}
	aws.fails("InvalidParameterValue", "cloudwatch", "get-metric-statistics", "--namespace", "Shop", "--metric-name", "Orders",
		"--start-time", at, "--end-time", end, "--period", "61", "--statistics", "Sum")
	aws.fails("InvalidParameterValue", "cloudwatch", "put-metric-data", "--namespace", "Shop", "--metric-name", "Orders", "--value", "1", "--unit", "Parsecs")
	aws.fails("InvalidParameterCombination", "cloudwatch", "put-metric-data", "--namespace", "Shop", "--metric-data",
		`[{"MetricName":"Orders","Values":[1,2],"Counts":[1]}]`)
	aws.fails("MissingParameter", "cloudwatch", "get-metric-statistics", "--namespace", "Shop", "--metric-name", "Orders",
		"--start-time", at, "--end-time", end, "--period", "60")
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
