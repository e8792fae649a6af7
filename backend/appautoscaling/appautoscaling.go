// Package appautoscaling is Application Auto Scaling for ECS services: the
// scalable targets (ecs:service:DesiredCount), their target-tracking and
// step scaling policies, scheduled actions and the scaling activities
// they cause. Scaling changes a service's desired count through the ECS
// backend's UpdateService, as AWS's service-linked role does, and target
// tracking owns its CloudWatch alarms as in AWS.
// https://docs.aws.amazon.com/autoscaling/application/APIReference/Welcome.html
//
// Every exported method with an SDK input is one operation with the SDK
// client's signature minus its options. RunAlarmAction is what a
// CloudWatch alarm calls when its action is one of this service's
// policies; Run runs the scheduled actions.
package appautoscaling

import (
	"context"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/rs/zerolog"

	"berth/backend"
	"berth/sqlite"
)

// Services is the part of the ECS API that scaling uses: a service's
// desired count is read with DescribeServices and changed with
// UpdateService, so deployments, draining and target registration follow
// as for any UpdateService.
type Services interface {
	DescribeServices(context.Context, *ecs.DescribeServicesInput) (*ecs.DescribeServicesOutput, error)
	UpdateService(context.Context, *ecs.UpdateServiceInput) (*ecs.UpdateServiceOutput, error)
}

// Alarms is the part of the CloudWatch API that target tracking uses to
// create, update and delete the alarms it owns, and that finds the
// alarms whose action is a step policy.
type Alarms interface {
	PutMetricAlarm(context.Context, *cloudwatch.PutMetricAlarmInput) (*cloudwatch.PutMetricAlarmOutput, error)
	DeleteAlarms(context.Context, *cloudwatch.DeleteAlarmsInput) (*cloudwatch.DeleteAlarmsOutput, error)
	DescribeAlarms(context.Context, *cloudwatch.DescribeAlarmsInput) (*cloudwatch.DescribeAlarmsOutput, error)
}

// Store kinds.
const (
	kindTarget    = "appautoscaling/target"
	kindPolicy    = "appautoscaling/policy"
	kindScheduled = "appautoscaling/scheduled"
	kindActivity  = "appautoscaling/activity"
)

// Backend serves Application Auto Scaling from the store.
type Backend struct {
	store    *sqlite.Store
	env      backend.Env
	services Services
	alarms   Alarms // nil: target tracking policies are refused
	log      zerolog.Logger

	// scaling serialises the read-compute-update of a desired count, so
	// that two alarms firing together do not both scale from one count.
	scaling sync.Mutex
}

// New returns an Application Auto Scaling backend that scales services
// and keeps target tracking's alarms in alarms (nil when no CloudWatch
// alarms are served: target tracking policies are then refused).
func New(store *sqlite.Store, env backend.Env, services Services, alarms Alarms, log zerolog.Logger) *Backend {
	return &Backend{store: store, env: env, services: services, alarms: alarms, log: log}
}

// targetKey is the store id of a scalable target: AWS names one by its
// namespace, resource id and dimension.
func targetKey(namespace, resourceID, dimension string) string {
	return namespace + "|" + resourceID + "|" + dimension
}

// childKey is the store id of a policy or scheduled action of a target.
func childKey(target, name string) string { return target + "|" + name }

// ecsService splits an ECS resource id, service/<cluster>/<service>.
func ecsService(resourceID string) (cluster, service string, ok bool) {
	rest, found := strings.CutPrefix(resourceID, "service/")
	if !found {
		return "", "", false
	}
	cluster, service, ok = strings.Cut(rest, "/")
	if !ok || cluster == "" || service == "" || strings.Contains(service, "/") {
		return "", "", false
	}
	return cluster, service, true
}

// ecsARNPart is how a resource id appears in a policy's or scheduled
// action's ARN: resource/ecs/service/<cluster>/<service>.
func ecsARNPart(resourceID string) string { return "resource/ecs/" + resourceID }
