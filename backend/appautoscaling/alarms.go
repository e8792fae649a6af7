package appautoscaling

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// The alarms target tracking makes, as AWS makes them: a field report
// (a terraformer import, published on GitHub, of a real account's alarms
// "TargetTracking-service/api_backend/backend_main-AlarmHigh-..." of an
// ECS CPU policy with target 70) shows AlarmHigh GreaterThanThreshold the target over 3 periods of 60 s,
// AlarmLow LessThanThreshold 90 % of it (63) over 15, statistic Average,
// unit Percent, TreatMissingData missing, the policy as the only action,
// and the description "DO NOT EDIT OR DELETE. For TargetTrackingScaling
// policy <arn>."; the User Guide says the same of the datapoints: "3
// data points in 3 minutes" to scale out, "15 data points in 15
// minutes" to scale in
// (https://docs.aws.amazon.com/autoscaling/application/userguide/target-tracking-scaling-policy-overview.html).
const (
	alarmPeriod       = 60
	highDatapoints    = 3
	lowDatapoints     = 15
	lowThresholdRatio = 0.9
)

// trackedMetric is the metric a target tracking policy follows, as an
// alarm names it: one metric and statistic, or metric math queries.
type trackedMetric struct {
	namespace, name string
	dimensions      []cwtypes.Dimension
	statistic       cwtypes.Statistic
	unit            cwtypes.StandardUnit
	queries         []cwtypes.MetricDataQuery
}

// metricOf is the metric of a target tracking configuration on the ECS
// service of resourceID. The predefined metrics are those the ECS and ELB
// documentation name: AWS/ECS CPUUtilization and MemoryUtilization by
// ClusterName and ServiceName (Average, Percent), AWS/ApplicationELB
// RequestCountPerTarget by TargetGroup (Sum).
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-auto-scaling.html
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
func metricOf(resourceID string, c *types.TargetTrackingScalingPolicyConfiguration) trackedMetric {
	cluster, service, _ := ecsService(resourceID)
	ecsDims := []cwtypes.Dimension{{Name: aws.String("ClusterName"), Value: aws.String(cluster)}, {Name: aws.String("ServiceName"), Value: aws.String(service)}}
	if pre := c.PredefinedMetricSpecification; pre != nil {
		switch pre.PredefinedMetricType {
		case types.MetricTypeECSServiceAverageCPUUtilization:
			return trackedMetric{namespace: "AWS/ECS", name: "CPUUtilization", dimensions: ecsDims, statistic: cwtypes.StatisticAverage, unit: cwtypes.StandardUnitPercent}
		case types.MetricTypeECSServiceAverageMemoryUtilization:
			return trackedMetric{namespace: "AWS/ECS", name: "MemoryUtilization", dimensions: ecsDims, statistic: cwtypes.StatisticAverage, unit: cwtypes.StandardUnitPercent}
		default: // ALBRequestCountPerTarget, its label checked
			m := albLabel.FindStringSubmatch(aws.ToString(pre.ResourceLabel))
			return trackedMetric{namespace: "AWS/ApplicationELB", name: "RequestCountPerTarget",
				dimensions: []cwtypes.Dimension{{Name: aws.String("TargetGroup"), Value: aws.String(m[1])}}, statistic: cwtypes.StatisticSum}
		}
	}
	cus := c.CustomizedMetricSpecification
	if len(cus.Metrics) > 0 {
		var qs []cwtypes.MetricDataQuery
		for _, q := range cus.Metrics {
			cq := cwtypes.MetricDataQuery{Id: q.Id, Expression: q.Expression, Label: q.Label, ReturnData: aws.Bool(q.ReturnData == nil || *q.ReturnData)}
			if st := q.MetricStat; st != nil && st.Metric != nil {
				var dims []cwtypes.Dimension
				for _, d := range st.Metric.Dimensions {
					dims = append(dims, cwtypes.Dimension{Name: d.Name, Value: d.Value})
				}
				cq.MetricStat = &cwtypes.MetricStat{
					Metric: &cwtypes.Metric{Namespace: st.Metric.Namespace, MetricName: st.Metric.MetricName, Dimensions: dims},
					Period: aws.Int32(alarmPeriod), Stat: st.Stat, Unit: cwtypes.StandardUnit(aws.ToString(st.Unit)),
				}
			}
			qs = append(qs, cq)
		}
		return trackedMetric{queries: qs}
	}
	var dims []cwtypes.Dimension
	for _, d := range cus.Dimensions {
		dims = append(dims, cwtypes.Dimension{Name: d.Name, Value: d.Value})
	}
	return trackedMetric{namespace: aws.ToString(cus.Namespace), name: aws.ToString(cus.MetricName), dimensions: dims,
		statistic: cwtypes.Statistic(cus.Statistic), unit: cwtypes.StandardUnit(aws.ToString(cus.Unit))}
}

// trackingAlarms are the alarms a target tracking policy owns, named as
// p names them.
func trackingAlarms(p policy) []*cloudwatch.PutMetricAlarmInput {
	c := p.TargetTrackingScalingPolicyConfiguration
	m := metricOf(aws.ToString(p.ResourceId), c)
	target := aws.ToFloat64(c.TargetValue)
	alarm := func(name string, op cwtypes.ComparisonOperator, threshold float64, datapoints int32) *cloudwatch.PutMetricAlarmInput {
		in := &cloudwatch.PutMetricAlarmInput{
			AlarmName:          aws.String(name),
			AlarmDescription:   aws.String("DO NOT EDIT OR DELETE. For TargetTrackingScaling policy " + aws.ToString(p.PolicyARN) + "."),
			ActionsEnabled:     aws.Bool(true),
			AlarmActions:       []string{aws.ToString(p.PolicyARN)},
			ComparisonOperator: op,
			Threshold:          aws.Float64(threshold),
			EvaluationPeriods:  aws.Int32(datapoints),
			DatapointsToAlarm:  aws.Int32(datapoints),
			TreatMissingData:   aws.String("missing"),
		}
		if len(m.queries) > 0 {
			in.Metrics = m.queries
			return in
		}
		in.Namespace, in.MetricName, in.Dimensions = aws.String(m.namespace), aws.String(m.name), m.dimensions
		in.Statistic, in.Period, in.Unit = m.statistic, aws.Int32(alarmPeriod), m.unit
		return in
	}
	out := []*cloudwatch.PutMetricAlarmInput{alarm(p.HighAlarm, cwtypes.ComparisonOperatorGreaterThanThreshold, target, highDatapoints)}
	if p.LowAlarm != "" {
		out = append(out, alarm(p.LowAlarm, cwtypes.ComparisonOperatorLessThanThreshold, target*lowThresholdRatio, lowDatapoints))
	}
	return out
}

// isHigh reports whether an alarm of a target tracking policy is its
// AlarmHigh: by name, or for an alarm berth did not name, by its -AlarmHigh-.
func (p policy) isHigh(alarmName string) bool {
	switch alarmName {
	case p.HighAlarm:
		return true
	case p.LowAlarm:
		return false
	}
	return strings.Contains(alarmName, "-AlarmHigh-")
}
