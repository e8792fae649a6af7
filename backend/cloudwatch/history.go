package cloudwatch

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"berth/backend"
	"berth/sqlite"
)

// Alarm history
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html):
// configuration changes, state changes and action runs, kept when the
// alarm is deleted, for 30 days ("CloudWatch preserves alarm history for
// 30 days", https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html).

// kindHistory is one alarm history item, parented by its alarm's name,
// named by its type; its id orders the items by time.
const kindHistory = "cloudwatch/alarm-history"

// historyRetention is how long alarm history is kept.
const historyRetention = 30 * 24 * time.Hour

// maxHistory is DescribeAlarmHistory's largest (and default) page.
const maxHistory = 100

// historyTime is the timestamp format of HistoryData and StateReasonData.
const historyTime = "2006-01-02T15:04:05.000-0700"

// historyRow is a stored history item with its id.
type historyRow struct {
	ID   string
	Item types.AlarmHistoryItem
}

// record stores a history item in scope s.
func (b *Backend) record(tx *sqlite.Tx, s backend.Scope, item types.AlarmHistoryItem) error {
	// The sequence keeps the order of items of one millisecond.
	id := fmt.Sprintf("%016d-%012d-%s", item.Timestamp.UnixMilli(), b.historySeq.Add(1), b.env.IDs.Hex(8))
	return tx.Put(s.Row(kindHistory, id, aws.ToString(item.AlarmName), string(item.HistoryItemType)), historyRow{id, item})
}

// historyItem is an item of alarm a's history at now.
func historyItem(a types.MetricAlarm, typ types.HistoryItemType, summary string, data any, now time.Time) types.AlarmHistoryItem {
	raw, _ := json.Marshal(data)
	return types.AlarmHistoryItem{AlarmName: a.AlarmName, AlarmType: types.AlarmTypeMetricAlarm, HistoryItemType: typ,
		HistorySummary: aws.String(summary), HistoryData: aws.String(string(raw)), Timestamp: aws.Time(now)}
}

// configurationItem is the ConfigurationUpdate item of PutMetricAlarm
// (or of Enable/DisableAlarmActions): the alarm created, or updated with
// the earlier values of the fields that changed.
func configurationItem(a, old types.MetricAlarm, created bool, now time.Time) types.AlarmHistoryItem {
	name := aws.ToString(a.AlarmName)
	if created {
		return historyItem(a, types.HistoryItemTypeConfigurationUpdate, fmt.Sprintf("Alarm %q created", name), struct {
			Version      string        `json:"version"`
			Type         string        `json:"type"`
			CreatedAlarm alarmSnapshot `json:"createdAlarm"`
		}{"1.0", "Create", snapshotOf(a)}, now)
	}
	var was, is map[string]json.RawMessage
	json.Unmarshal([]byte(mustJSON(snapshotOf(old))), &was)
	json.Unmarshal([]byte(mustJSON(snapshotOf(a))), &is)
	changed := map[string]json.RawMessage{}
	for k, v := range was {
		if k != "alarmConfigurationUpdatedTimestamp" && string(v) != string(is[k]) {
			changed[k] = v
		}
	}
	return historyItem(a, types.HistoryItemTypeConfigurationUpdate, fmt.Sprintf("Alarm %q updated", name), struct {
		Version               string                     `json:"version"`
		Type                  string                     `json:"type"`
		UpdatedAlarm          alarmSnapshot              `json:"updatedAlarm"`
		OriginalUpdatedFields map[string]json.RawMessage `json:"originalUpdatedFields"`
	}{"1.0", "Update", snapshotOf(a), changed}, now)
}

// deletionItem is the ConfigurationUpdate item of DeleteAlarms.
func deletionItem(a types.MetricAlarm, now time.Time) types.AlarmHistoryItem {
	return historyItem(a, types.HistoryItemTypeConfigurationUpdate, fmt.Sprintf("Alarm %q deleted", aws.ToString(a.AlarmName)), struct {
		Version      string        `json:"version"`
		Type         string        `json:"type"`
		DeletedAlarm alarmSnapshot `json:"deletedAlarm"`
	}{"1.0", "Delete", snapshotOf(a)}, now)
}

// stateItem is the StateUpdate item of a move from old to a's state, its
// HistoryData as the aws CLI's describe-alarm-history example shows it:
// {"version":"1.0","oldState":{...},"newState":{...,"stateReasonData":{...}}}.
func stateItem(a types.MetricAlarm, old types.StateValue, oldReason string, now time.Time) types.AlarmHistoryItem {
	type state struct {
		StateValue      types.StateValue `json:"stateValue"`
		StateReason     string           `json:"stateReason"`
		StateReasonData json.RawMessage  `json:"stateReasonData,omitempty"`
	}
	newState := state{StateValue: a.StateValue, StateReason: aws.ToString(a.StateReason)}
	if d := aws.ToString(a.StateReasonData); d != "" && json.Valid([]byte(d)) {
		newState.StateReasonData = json.RawMessage(d)
	}
	data := struct {
		Version  string `json:"version"`
		OldState state  `json:"oldState"`
		NewState state  `json:"newState"`
	}{"1.0", state{StateValue: old, StateReason: oldReason}, newState}
	return historyItem(a, types.HistoryItemTypeStateUpdate, fmt.Sprintf("Alarm updated from %s to %s", old, a.StateValue), data, now)
}

// actionItem is the Action item of one run of action arn: its success,
// or its failure err, in AWS's words ("Successfully executed action
// arn:...", "Failed to execute action arn:... Received error: \"...\"",
// https://github.com/aws/aws-cdk/issues/11121,
// https://github.com/ASFHyP3/hyp3/issues/762) and with its HistoryData
// fields (https://github.com/aws/aws-sdk-java/issues/1723).
func actionItem(a types.MetricAlarm, arn string, err error, now time.Time) types.AlarmHistoryItem {
	data := struct {
		Error                *string `json:"error"`
		ActionState          string  `json:"actionState"`
		NotificationResource string  `json:"notificationResource"`
		StateUpdateTimestamp int64   `json:"stateUpdateTimestamp"`
	}{ActionState: "Succeeded", NotificationResource: arn, StateUpdateTimestamp: aws.ToTime(a.StateUpdatedTimestamp).UnixMilli()}
	summary := "Successfully executed action " + arn
	if err != nil {
		data.Error, data.ActionState = aws.String(err.Error()), "Failed"
		summary = fmt.Sprintf("Failed to execute action %s. Received error: \"%s\"", arn, err.Error())
	}
	return historyItem(a, types.HistoryItemTypeAction, summary, data, now)
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// alarmSnapshot is an alarm as ConfigurationUpdate items show it: the
// API's fields in camel case, in the order of a created alarm's
// HistoryData as describe-alarm-history output quoted in a public README
// shows it ({"alarmName":...,"threshold":1.0,...,"okactions":[]}).
type alarmSnapshot struct {
	AlarmName                          string                  `json:"alarmName"`
	AlarmDescription                   *string                 `json:"alarmDescription,omitempty"`
	AlarmArn                           string                  `json:"alarmArn"`
	AlarmConfigurationUpdatedTimestamp string                  `json:"alarmConfigurationUpdatedTimestamp"`
	Namespace                          *string                 `json:"namespace,omitempty"`
	MetricName                         *string                 `json:"metricName,omitempty"`
	Statistic                          types.Statistic         `json:"statistic,omitempty"`
	ExtendedStatistic                  *string                 `json:"extendedStatistic,omitempty"`
	Period                             *int32                  `json:"period,omitempty"`
	Dimensions                         []dimensionSnapshot     `json:"dimensions,omitempty"`
	Metrics                            []types.MetricDataQuery `json:"metrics,omitempty"`
	Unit                               types.StandardUnit      `json:"unit,omitempty"`
	Threshold                          javaNumber              `json:"threshold"`
	ComparisonOperator                 string                  `json:"comparisonOperator"`
	EvaluationPeriods                  int32                   `json:"evaluationPeriods"`
	DatapointsToAlarm                  *int32                  `json:"datapointsToAlarm,omitempty"`
	TreatMissingData                   string                  `json:"treatMissingData,omitempty"`
	StateValue                         types.StateValue        `json:"stateValue"`
	StateUpdatedTimestamp              string                  `json:"stateUpdatedTimestamp"`
	ActionsEnabled                     bool                    `json:"actionsEnabled"`
	AlarmActions                       []string                `json:"alarmActions"`
	InsufficientDataActions            []string                `json:"insufficientDataActions"`
	OKActions                          []string                `json:"okactions"`
}

type dimensionSnapshot struct {
	Value string `json:"value"`
	Name  string `json:"name"`
}

func snapshotOf(a types.MetricAlarm) alarmSnapshot {
	s := alarmSnapshot{
		AlarmName: aws.ToString(a.AlarmName), AlarmDescription: a.AlarmDescription, AlarmArn: aws.ToString(a.AlarmArn),
		AlarmConfigurationUpdatedTimestamp: aws.ToTime(a.AlarmConfigurationUpdatedTimestamp).UTC().Format(historyTime),
		Namespace:                          a.Namespace, MetricName: a.MetricName, Statistic: a.Statistic, ExtendedStatistic: a.ExtendedStatistic, Period: a.Period,
		Metrics: a.Metrics, Unit: a.Unit, Threshold: javaNumber(aws.ToFloat64(a.Threshold)), ComparisonOperator: string(a.ComparisonOperator),
		EvaluationPeriods: aws.ToInt32(a.EvaluationPeriods), DatapointsToAlarm: a.DatapointsToAlarm, StateValue: a.StateValue,
		StateUpdatedTimestamp: aws.ToTime(a.StateUpdatedTimestamp).UTC().Format(historyTime), ActionsEnabled: aws.ToBool(a.ActionsEnabled),
		AlarmActions: backend.OrEmpty(a.AlarmActions), InsufficientDataActions: backend.OrEmpty(a.InsufficientDataActions), OKActions: backend.OrEmpty(a.OKActions),
	}
	if t := aws.ToString(a.TreatMissingData); t != "missing" {
		s.TreatMissingData = t
	}
	for _, d := range a.Dimensions {
		s.Dimensions = append(s.Dimensions, dimensionSnapshot{aws.ToString(d.Value), aws.ToString(d.Name)})
	}
	return s
}

// DescribeAlarmHistory lists history items, newest first unless ScanBy
// says otherwise, of one alarm or all, by type and date range.
func (b *Backend) DescribeAlarmHistory(ctx context.Context, in *cw.DescribeAlarmHistoryInput) (*cw.DescribeAlarmHistoryOutput, error) {
	switch {
	case in.MaxRecords != nil && (*in.MaxRecords < 1 || *in.MaxRecords > maxHistory):
		return nil, errInvalid("The parameter MaxRecords must be between 1 and %d.", maxHistory)
	case in.StartDate != nil && in.EndDate != nil && in.StartDate.After(*in.EndDate):
		return nil, errInvalid("The parameter StartDate must be before the parameter EndDate.")
	}
	out := &cw.DescribeAlarmHistoryOutput{AlarmHistoryItems: []types.AlarmHistoryItem{}}
	if len(in.AlarmTypes) > 0 && !slices.Contains(in.AlarmTypes, types.AlarmTypeMetricAlarm) {
		return out, nil
	}
	s := backend.ScopeFrom(ctx)
	var all []historyRow
	q := s.Query(kindHistory, aws.ToString(in.AlarmName))
	q.Name = string(in.HistoryItemType)
	err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		all, err = sqlite.ListAll[historyRow](tx, q)
		return err
	})
	if err != nil {
		return nil, err
	}
	descending := in.ScanBy != types.ScanByTimestampAscending
	slices.SortFunc(all, func(x, y historyRow) int {
		if descending {
			return strings.Compare(y.ID, x.ID)
		}
		return strings.Compare(x.ID, y.ID)
	})
	start := 0
	if in.NextToken != nil {
		raw, err := base64.RawURLEncoding.DecodeString(*in.NextToken)
		if err != nil || len(raw) == 0 {
			return nil, errNextToken()
		}
		after := string(raw)
		start = slices.IndexFunc(all, func(k historyRow) bool { return descending && k.ID < after || !descending && k.ID > after })
		if start < 0 {
			start = len(all)
		}
	}
	limit := maxHistory
	if in.MaxRecords != nil {
		limit = int(*in.MaxRecords)
	}
	last := ""
	for _, h := range all[start:] {
		at := aws.ToTime(h.Item.Timestamp)
		if in.StartDate != nil && at.Before(*in.StartDate) || in.EndDate != nil && at.After(*in.EndDate) {
			continue
		}
		if len(out.AlarmHistoryItems) == limit {
			out.NextToken = aws.String(base64.RawURLEncoding.EncodeToString([]byte(last)))
			break
		}
		out.AlarmHistoryItems = append(out.AlarmHistoryItems, h.Item)
		last = h.ID
	}
	return out, nil
}
