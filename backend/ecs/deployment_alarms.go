package ecs

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"berth/backend"
	"berth/sqlite"
)

// Deployment alarms: while a rolling deployment is in progress ECS watches
// the CloudWatch alarms its deploymentConfiguration.alarms names; one that
// goes into ALARM fails the deployment and, with rollback, returns the
// service to the revision it ran before, as the circuit breaker does. An
// alarm already in ALARM when the deployment began is ignored. The
// deployment completes only after a bake time, which ECS derives from the
// alarms' configuration: berth takes the longest alarm's evaluation
// window (period × evaluation periods).
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentAlarms.html

// Alarms reads CloudWatch alarms: the CloudWatch backend satisfies it.
type Alarms interface {
	DescribeAlarms(context.Context, *cloudwatch.DescribeAlarmsInput) (*cloudwatch.DescribeAlarmsOutput, error)
}

// watchedAlarms returns the alarms a service's deployment watches, as
// CloudWatch has them now; none when alarms are off or unknown.
func (b *Backend) watchedAlarms(ctx context.Context, s scope, dc *types.DeploymentConfiguration) []cwtypes.MetricAlarm {
	if b.Alarms == nil || dc == nil || dc.Alarms == nil || !dc.Alarms.Enable || len(dc.Alarms.AlarmNames) == 0 {
		return nil
	}
	out, err := b.Alarms.DescribeAlarms(backend.WithScope(ctx, s.Scope), &cloudwatch.DescribeAlarmsInput{AlarmNames: dc.Alarms.AlarmNames})
	if err != nil {
		return nil // a CloudWatch that cannot answer fails no deployment
	}
	return out.MetricAlarms
}

// bakeTime is how long a deployment watched by alarms stays in progress
// after it began: the longest of the alarms' evaluation windows, in
// CloudWatch minutes of length minute.
func bakeTime(alarms []cwtypes.MetricAlarm, minute time.Duration) time.Duration {
	var seconds int64
	for _, a := range alarms {
		seconds = max(seconds, int64(aws.ToInt32(a.Period))*int64(aws.ToInt32(a.EvaluationPeriods)))
	}
	if minute <= 0 {
		minute = time.Minute
	}
	return time.Duration(seconds) * minute / 60
}

// firing returns the names of the alarms that went into ALARM after the
// deployment began.
func firing(alarms []cwtypes.MetricAlarm, began time.Time) []string {
	var names []string
	for _, a := range alarms {
		if a.StateValue == cwtypes.StateValueAlarm && aws.ToTime(a.StateUpdatedTimestamp).After(began) {
			names = append(names, aws.ToString(a.AlarmName))
		}
	}
	slices.Sort(names)
	return names
}

// checkAlarms fails the PRIMARY deployment in progress when one of its
// alarms fired and, with rollback, rolls the service back.
func (b *Backend) checkAlarms(tx *sqlite.Tx, s scope, svc *types.Service, alarms []cwtypes.MetricAlarm, now *time.Time) error {
	dc := svc.DeploymentConfiguration
	if len(alarms) == 0 || len(svc.Deployments) == 0 || svc.Deployments[0].RolloutState != types.DeploymentRolloutStateInProgress {
		return nil
	}
	names := firing(alarms, aws.ToTime(svc.Deployments[0].CreatedAt))
	if len(names) == 0 {
		return nil
	}
	// The texts are berth's: ECS documents the behaviour, not its words.
	list := strings.Join(names, ", ")
	return b.failDeployment(tx, s, svc, now, deploymentFailure{
		reason:   "ECS deployment alarms detected: " + list + " in ALARM.",
		event:    "deployment failed: alarm(s) detected (" + list + ").",
		rollback: dc.Alarms.Rollback,
		cause:    "ECS deployment alarms",
		monitor: func(sd *types.ServiceDeployment) {
			if sd.Alarms != nil {
				sd.Alarms.Status, sd.Alarms.TriggeredAlarmNames = types.ServiceDeploymentRollbackMonitorsStatusTriggered, names
			}
		},
	})
}

// holdsForBake reports whether the deployment may not complete yet: its
// alarms' bake time has not passed since it began.
func (b *Backend) holdsForBake(svc *types.Service, alarms []cwtypes.MetricAlarm, now time.Time) bool {
	if len(alarms) == 0 || len(svc.Deployments) == 0 {
		return false
	}
	return now.Before(aws.ToTime(svc.Deployments[0].CreatedAt).Add(bakeTime(alarms, b.AlarmMinute)))
}

// deploymentFailure is why a deployment failed, for failDeployment.
type deploymentFailure struct {
	reason, event string // the rollout state reason and the event's tail
	rollback      bool
	cause         string // who rolls back, in the rollback's reason
	monitor       func(*types.ServiceDeployment)
}
