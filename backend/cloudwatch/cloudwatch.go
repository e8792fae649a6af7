// Package cloudwatch is Amazon CloudWatch's metrics and metric alarms:
// metrics published with PutMetricData (or by berth itself, Publish), read
// with GetMetricStatistics and GetMetricData (metric statistics and metric
// math), and listed with ListMetrics; alarms on them (PutMetricAlarm and
// the rest), evaluated once a minute by RunAlarms, whose Auto Scaling
// actions another service runs (AlarmActions).
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/Welcome.html
//
// Datapoints are kept as CloudWatch retains them
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#metrics-retention):
// high-resolution (1-second) points for 3 hours, the others for 15 days,
// and aggregated when read; alarms read them as the API does
// (Backend.Periods).
//
// Every exported method with an SDK signature is one CloudWatch operation
// with the SDK client's signature minus its options.
package cloudwatch

import (
	"encoding/json"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// Backend serves the CloudWatch metrics API from the store.
type Backend struct {
	store *sqlite.Store
	env   backend.Env
	// actions runs the alarm actions of other services (SetAlarmActions).
	actions atomic.Pointer[actionsHolder]
	// historySeq orders the alarm history items of one millisecond.
	historySeq atomic.Uint64
}

// New returns a CloudWatch backend over store.
func New(store *sqlite.Store, env backend.Env) *Backend {
	return &Backend{store: store, env: env}
}

// kindMetric is a metric that has had data: by its identity (metricKey),
// named by its namespace. Datapoints are not resources: the store keeps
// them in its metric table (sqlite.MetricPoint).
const kindMetric = "cloudwatch/metric"

// metric is a stored metric: its identity and when data last came.
type metric struct {
	Metric  types.Metric
	LastPut int64 // ms since the epoch
}

// Identity is a metric's namespace, name and dimensions: CloudWatch's
// unique key for a metric, dimensions in any order.
type Identity struct {
	Namespace, Name string
	Dimensions      []types.Dimension
}

// key is the identity as a store id: the same for any order of the
// dimensions.
func (m Identity) key() string {
	dims := make([][2]string, len(m.Dimensions))
	for i, d := range m.Dimensions {
		dims[i] = [2]string{aws.ToString(d.Name), aws.ToString(d.Value)}
	}
	slices.SortFunc(dims, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	b, _ := json.Marshal([]any{m.Namespace, m.Name, dims})
	return string(b)
}

func identityOf(m *types.Metric) Identity {
	if m == nil {
		return Identity{}
	}
	return Identity{Namespace: aws.ToString(m.Namespace), Name: aws.ToString(m.MetricName), Dimensions: m.Dimensions}
}

// The errors of the CloudWatch API
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CommonErrors.html).
// Their code is the query protocol's; the JSON and CBOR protocols carry
// the SDK's shape name (server maps them).
func errInvalid(format string, args ...any) error {
	return awsproto.ClientError("InvalidParameterValue", format, args...)
}

func errMissing(param string) error {
	return awsproto.ClientError("MissingParameter", "The parameter %s is required.", param)
}

func errCombination(format string, args ...any) error {
	return awsproto.ClientError("InvalidParameterCombination", format, args...)
}

func errNextToken() error {
	return awsproto.ClientError("InvalidNextToken", "The service couldn't process your request because the NextToken is invalid.")
}

func errFormat(format string, args ...any) error {
	return awsproto.ClientError("InvalidFormat", format, args...)
}
