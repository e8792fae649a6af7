package cloudwatch

import (
	"strings"
	"testing"
	"time"

	"berth/sqlite"
)

func value(ts int64, v float64) sqlite.MetricPoint {
	return sqlite.MetricPoint{Timestamp: ts, Count: 1, Sum: v, Min: v, Max: v, Unit: "None", Raw: true}
}

// Statistics as defined in
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html.
func TestAggregate(t *testing.T) {
	start := time.UnixMilli(600_000)
	points := []sqlite.MetricPoint{value(600_000, 1), value(610_000, 3), value(659_999, 2), value(660_000, 10),
		{Timestamp: 780_000, Count: 4, Sum: 10, Min: 1, Max: 4, Unit: "Count"}, value(599_999, 99), value(840_000, 99)}
	got := aggregate(points, start, time.Minute, 4)
	if len(got) != 3 {
		t.Fatalf("periods = %+v", got)
	}
	for i, want := range []struct {
		start                                  int64
		count, sum, avg, minimum, maximum, p50 float64
	}{{600_000, 3, 6, 2, 1, 3, 2}, {660_000, 1, 10, 10, 10, 10, 10}, {780_000, 4, 10, 2.5, 1, 4, 0}} {
		p := got[i]
		avg, _ := p.Value("Average")
		p50, ok := p.Value("p50")
		if p.Start.UnixMilli() != want.start || p.Count != want.count || p.Sum != want.sum || avg != want.avg || p.Min != want.minimum || p.Max != want.maximum || p50 != want.p50 {
			t.Errorf("period %d = %+v avg %v p50 %v", i, p, avg, p50)
		}
		if i == 2 && (ok || p.Unit != "Count") {
			t.Errorf("a statistic set has no percentile: %v, unit %s", ok, p.Unit)
		}
	}
}

func TestPercentileWeighted(t *testing.T) {
	if _, ok := percentile([]weighted{{1, 1}, {-1, 1}}, 50); ok {
		t.Error("a percentile of negative values")
	}
	vs := []weighted{{5, 1}, {1, 8}, {100, 1}}
	for pct, want := range map[float64]float64{50: 1, 80: 1, 90: 5, 99: 100, 100: 100} {
		if got, _ := percentile(vs, pct); got != want {
			t.Errorf("p%v = %v, want %v", pct, got, want)
		}
	}
}

// Periods: 1, 5, 10, 30 or a multiple of 60
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html).
func TestCheckPeriod(t *testing.T) {
	for p, ok := range map[int32]bool{1: true, 5: true, 10: true, 30: true, 60: true, 300: true, 86400: true, 0: false, -60: false, 2: false, 45: false, 90: false, 61: false} {
		if err := checkPeriod(&p, "Period"); (err == nil) != ok {
			t.Errorf("period %d: %v", p, err)
		}
	}
}

func TestValidStat(t *testing.T) {
	for s, ok := range map[string]bool{"Sum": true, "SampleCount": true, "p99": true, "p99.9": true, "p100": true, "p0": true, "p101": false, "sum": false, "p99.999": false, "tm99": false} {
		if validStat(s) != ok {
			t.Errorf("%s: %v", s, !ok)
		}
	}
}

func TestExpressions(t *testing.T) {
	series := func(vs map[int64]float64) mathValue { return mathValue{series: vs, isSeries: true} }
	env := map[string]mathValue{
		"a": series(map[int64]float64{1: 10, 2: 20, 3: 30}),
		"b": series(map[int64]float64{1: 2, 2: 0}),
	}
	lookup := func(id string) (mathValue, bool) { v, ok := env[id]; return v, ok }
	for expr, want := range map[string]map[int64]float64{
		"a / b":           {1: 5},         // common timestamps; division by zero has no value
		"a + 2 * b":       {1: 14, 2: 20}, // precedence
		"(a + 2) * -1":    {1: -12, 2: -22, 3: -32},
		"SUM([a, b])":     {1: 12, 2: 20, 3: 30},
		"MAX([a, b]) - 1": {1: 9, 2: 19, 3: 29},
		"a - AVG(a)":      {1: -10, 2: 0, 3: 10}, // AVG of one series is a scalar
	} {
		n, err := parseExpr(expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		got, err := n.eval(lookup)
		if err != nil || !got.isSeries || len(got.series) != len(want) {
			t.Fatalf("%s = %+v %v, want %v", expr, got, err, want)
		}
		for ts, v := range want {
			if got.series[ts] != v {
				t.Errorf("%s at %d = %v, want %v", expr, ts, got.series[ts], v)
			}
		}
	}
	for _, bad := range []string{"a +", "(a", "FOO(a)", "SUM(a, b)", "a $ b", ""} {
		if _, err := parseExpr(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if n, _ := parseExpr("c * 2"); n != nil {
		if _, err := n.eval(lookup); err == nil {
			t.Error("an unknown id evaluated")
		}
	}
}

// TestPercentilesOverSets: a period whose data include a statistic set of
// several values has no percentile, while sets of one value (SampleCount
// 1, Minimum = Maximum = Sum) count as values, as CloudWatch computes
// them (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Percentiles;
// the new-user review read a p99 below the period's Maximum).
func TestPercentilesOverSets(t *testing.T) {
	start := time.Date(2026, 11, 30, 6, 22, 0, 0, time.UTC)
	at := start.UnixMilli()
	single := []sqlite.MetricPoint{
		{Timestamp: at, Count: 1, Sum: 0.002, Min: 0.002, Max: 0.002},
		{Timestamp: at + 1, Count: 1, Sum: 0.004, Min: 0.004, Max: 0.004, Raw: true},
	}
	p := aggregate(single, start, time.Minute, 1)[0]
	if v, ok := p.Value("p99"); !ok || v != 0.004 {
		t.Errorf("p99 over single values = %v %v, want 0.004", v, ok)
	}
	mixed := append(single, sqlite.MetricPoint{Timestamp: at + 2, Count: 101, Sum: 0.5, Min: 0.001, Max: 0.0164})
	p = aggregate(mixed, start, time.Minute, 1)[0]
	if v, ok := p.Value("p99"); ok {
		t.Errorf("p99 over a set of 101 values = %v, want none", v)
	}
	if v, _ := p.Value("Maximum"); v != 0.0164 {
		t.Errorf("Maximum = %v", v)
	}
}

// TestExpressionBounds: a deeply nested or overlong expression is refused
// when parsed, instead of recursing until the stack runs out (the hostile
// review ended berth with 1,700,000 opening parentheses).
func TestExpressionBounds(t *testing.T) {
	for _, e := range []string{
		strings.Repeat("(", 1_700_000),
		strings.Repeat("(", 51) + "1" + strings.Repeat(")", 51),
		strings.Repeat("-", 60) + "1",
		"1" + strings.Repeat("+1", 1100),
	} {
		if _, err := parseExpr(e); err == nil {
			t.Errorf("parsed %.20q… (%d characters)", e, len(e))
		}
	}
	if _, err := parseExpr(strings.Repeat("(", 20) + "m1*2" + strings.Repeat(")", 20)); err != nil {
		t.Errorf("20 levels: %v", err)
	}
}
