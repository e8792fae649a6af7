package logs

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	logsapi "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

func loadStream(tx *sqlite.Tx, s backend.Scope, groupName, name string) (types.LogStream, error) {
	if _, err := loadGroup(tx, s, groupName); err != nil {
		return types.LogStream{}, err
	}
	var st types.LogStream
	err := tx.Get(s.Key(kindStream, streamID(groupName, name)), &st)
	if isNotFound(err) {
		return st, errNotFound("log stream")
	}
	return st, err
}

func putStream(tx *sqlite.Tx, s backend.Scope, groupName string, st types.LogStream) error {
	return tx.Put(s.Row(kindStream, streamID(groupName, *st.LogStreamName), groupName, *st.LogStreamName), st)
}

func deleteStream(tx *sqlite.Tx, s backend.Scope, groupName, name string) error {
	if _, err := tx.DeleteLogEvents(eventsOf(s, groupName, name), math.MaxInt64); err != nil {
		return err
	}
	return tx.Delete(s.Key(kindStream, streamID(groupName, name)))
}

// eventsOf names a stream's events in the store.
func eventsOf(s backend.Scope, groupName, name string) sqlite.LogStream {
	return sqlite.LogStream{Account: s.Account, Region: s.Region, Group: groupName, Stream: name}
}

// CreateLogStream creates a log stream in a group.
func (b *Backend) CreateLogStream(ctx context.Context, in *logsapi.CreateLogStreamInput) (*logsapi.CreateLogStreamOutput, error) {
	s := backend.ScopeFrom(ctx)
	group, name := aws.ToString(in.LogGroupName), aws.ToString(in.LogStreamName)
	if !streamName.MatchString(name) {
		return nil, errInvalid("1 validation error detected: Value '%s' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*", name)
	}
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		g, err := loadGroup(tx, s, group)
		if err != nil {
			return err
		}
		if ok, err := tx.Exists(s.Key(kindStream, streamID(group, name))); err != nil || ok {
			if err != nil {
				return err
			}
			return awsproto.Modeled(&types.ResourceAlreadyExistsException{}, "The specified log stream already exists")
		}
		return putStream(tx, s, group, types.LogStream{
			LogStreamName: aws.String(name), CreationTime: aws.Int64(b.millis()), StoredBytes: aws.Int64(0),
			Arn: aws.String(strings.TrimSuffix(*g.Group.Arn, "*") + "log-stream:" + name),
		})
	})
	if err != nil {
		return nil, err
	}
	return &logsapi.CreateLogStreamOutput{}, nil
}

// DeleteLogStream deletes a log stream and its events.
func (b *Backend) DeleteLogStream(ctx context.Context, in *logsapi.DeleteLogStreamInput) (*logsapi.DeleteLogStreamOutput, error) {
	s := backend.ScopeFrom(ctx)
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		if _, err := loadStream(tx, s, aws.ToString(in.LogGroupName), aws.ToString(in.LogStreamName)); err != nil {
			return err
		}
		return deleteStream(tx, s, aws.ToString(in.LogGroupName), aws.ToString(in.LogStreamName))
	})
	if err != nil {
		return nil, err
	}
	return &logsapi.DeleteLogStreamOutput{}, nil
}

// DescribeLogStreams lists a group's streams by name or by their last
// event.
func (b *Backend) DescribeLogStreams(ctx context.Context, in *logsapi.DescribeLogStreamsInput) (*logsapi.DescribeLogStreamsOutput, error) {
	s := backend.ScopeFrom(ctx)
	group := groupNamed(in.LogGroupName, in.LogGroupIdentifier)
	if in.OrderBy == types.OrderByLastEventTime && in.LogStreamNamePrefix != nil {
		return nil, errInvalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
	}
	var all []types.LogStream
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		if _, err := loadGroup(tx, s, group); err != nil {
			return err
		}
		var err error
		all, err = sqlite.ListAll[types.LogStream](tx, s.Query(kindStream, group))
		return err
	})
	if err != nil {
		return nil, err
	}
	all = slices.DeleteFunc(all, func(st types.LogStream) bool {
		return !strings.HasPrefix(*st.LogStreamName, aws.ToString(in.LogStreamNamePrefix))
	})
	key := func(st types.LogStream) string { return *st.LogStreamName }
	if in.OrderBy == types.OrderByLastEventTime {
		key = func(st types.LogStream) string {
			return fmt.Sprintf("%020d %s", aws.ToInt64(st.LastEventTimestamp), *st.LogStreamName)
		}
	}
	slices.SortFunc(all, func(a, b types.LogStream) int { return strings.Compare(key(a), key(b)) })
	if aws.ToBool(in.Descending) {
		slices.Reverse(all)
		desc := key
		key = func(st types.LogStream) string { return invert(desc(st)) }
	}
	streams, next, err := page(all, key, in.NextToken, in.Limit, 50)
	if err != nil {
		return nil, err
	}
	return &logsapi.DescribeLogStreamsOutput{LogStreams: backend.OrEmpty(streams), NextToken: next}, nil
}

// invert maps a key so that descending order sorts ascending.
func invert(s string) string {
	b := []byte(s)
	for i := range b {
		b[i] = 255 - b[i]
	}
	return string(b)
}

// PutLogEvents appends events to a stream. They need not be in order: they
// are stored sorted by timestamp. Events CloudWatch Logs would not take
// are left out and reported in rejectedLogEventsInfo (see admit).
// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html
func (b *Backend) PutLogEvents(ctx context.Context, in *logsapi.PutLogEventsInput) (*logsapi.PutLogEventsOutput, error) {
	if len(in.LogEvents) == 0 || len(in.LogEvents) > 10000 {
		return nil, errInvalid("1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length between 1 and 10000")
	}
	n, rejected, err := b.appendEvents(ctx, backend.ScopeFrom(ctx), aws.ToString(in.LogGroupName), aws.ToString(in.LogStreamName), in.LogEvents)
	if err != nil {
		return nil, err
	}
	return &logsapi.PutLogEventsOutput{NextSequenceToken: sequenceToken(n), RejectedLogEventsInfo: rejected}, nil
}

// Append stores events in a stream of scope s and returns how many
// batches the stream has taken. It is PutLogEvents for berth's own writers
// (the awslogs driver of tasks), and leaves out the same events.
func (b *Backend) Append(ctx context.Context, s backend.Scope, groupName, name string, events []types.InputLogEvent) (int, error) {
	n, _, err := b.appendEvents(ctx, s, groupName, name, events)
	return n, err
}

// How far from now PutLogEvents takes an event's timestamp: at most two
// hours ahead, at most 14 days back (API_PutLogEvents).
const (
	maxFuture = 2 * time.Hour
	maxPast   = 14 * 24 * time.Hour
)

// admit sorts a batch into the events stored and those CloudWatch Logs
// rejects, by their timestamps against now (milliseconds): more than two
// hours in the future (too new), more than 14 days in the past (too old),
// or older than the group's retention of retentionDays (expired). The
// rejected info gives, as the API does, the index of the first event too
// new (inclusive) and the index after the last event too old or expired
// (exclusive; https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_RejectedLogEventsInfo.html);
// it is nil when every event is stored.
func admit(events []types.InputLogEvent, now int64, retentionDays int32) ([]types.InputLogEvent, *types.RejectedLogEventsInfo) {
	newest, oldest := now+maxFuture.Milliseconds(), now-maxPast.Milliseconds()
	retained := int64(math.MinInt64)
	if retentionDays > 0 {
		retained = now - int64(retentionDays)*24*time.Hour.Milliseconds()
	}
	var info types.RejectedLogEventsInfo
	rejected := false
	kept := make([]types.InputLogEvent, 0, len(events))
	for i, e := range events {
		t := aws.ToInt64(e.Timestamp)
		switch {
		case t > newest:
			if info.TooNewLogEventStartIndex == nil {
				info.TooNewLogEventStartIndex = aws.Int32(int32(i))
			}
		case t < oldest:
			info.TooOldLogEventEndIndex = aws.Int32(int32(i + 1))
		case t < retained:
			info.ExpiredLogEventEndIndex = aws.Int32(int32(i + 1))
		default:
			kept = append(kept, e)
			continue
		}
		rejected = true
	}
	if !rejected {
		return kept, nil
	}
	return kept, &info
}

// appendEvents stores the events of a batch the group takes (see admit)
// and returns how many batches the stream has taken and what it rejected.
func (b *Backend) appendEvents(ctx context.Context, s backend.Scope, groupName, name string, events []types.InputLogEvent) (int, *types.RejectedLogEventsInfo, error) {
	now := b.millis()
	var count int
	var rejected *types.RejectedLogEventsInfo
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		g, err := loadGroup(tx, s, groupName)
		if err != nil {
			return err
		}
		st, err := loadStream(tx, s, groupName, name)
		if err != nil {
			return err
		}
		var kept []types.InputLogEvent
		kept, rejected = admit(events, now, aws.ToInt32(g.Group.RetentionInDays))
		stored := make([]sqlite.LogEvent, 0, len(kept))
		bytes := int64(0)
		first, last := int64(math.MaxInt64), int64(math.MinInt64)
		for _, e := range kept {
			t := aws.ToInt64(e.Timestamp)
			stored = append(stored, sqlite.LogEvent{Position: sqlite.Position{Timestamp: t}, Ingested: now, Message: aws.ToString(e.Message)})
			bytes += int64(len(aws.ToString(e.Message)) + 26)
			first, last = min(first, t), max(last, t)
		}
		if len(stored) > 0 {
			if err := tx.AppendLogEvents(eventsOf(s, groupName, name), stored); err != nil {
				return err
			}
			if st.FirstEventTimestamp == nil || first < *st.FirstEventTimestamp {
				st.FirstEventTimestamp = aws.Int64(first)
			}
			if st.LastEventTimestamp == nil || last > *st.LastEventTimestamp {
				st.LastEventTimestamp = aws.Int64(last)
			}
			st.LastIngestionTime, st.StoredBytes = aws.Int64(now), aws.Int64(aws.ToInt64(st.StoredBytes)+bytes)
		}
		count, _ = strconv.Atoi(aws.ToString(st.UploadSequenceToken))
		count++
		st.UploadSequenceToken = sequenceToken(count)
		return putStream(tx, s, groupName, st)
	})
	return count, rejected, err
}

// output converts stored events to the API's.
func output(events []sqlite.LogEvent) []types.OutputLogEvent {
	out := make([]types.OutputLogEvent, len(events))
	for i, e := range events {
		out[i] = types.OutputLogEvent{Timestamp: aws.Int64(e.Timestamp), Message: aws.String(e.Message), IngestionTime: aws.Int64(e.Ingested)}
	}
	return out
}

// timeRange is the range of positions of events in [start, end).
func timeRange(start, end *int64) sqlite.LogRange {
	r := sqlite.LogRange{After: sqlite.FirstPosition, Before: sqlite.LastPosition}
	if start != nil {
		r.After = sqlite.TimeBound(*start)
	}
	if end != nil {
		r.Before = sqlite.TimeBound(*end)
	}
	return r
}

// eventToken is a GetLogEvents token: "f/<time>/<id>" reads on after the
// position, "b/<time>/<id>" reads back before it.
func eventToken(forward bool, p sqlite.Position) *string {
	dir := "b"
	if forward {
		dir = "f"
	}
	return aws.String(fmt.Sprintf("%s/%d/%d", dir, p.Timestamp, p.ID))
}

func parseEventToken(t string) (forward bool, p sqlite.Position, ok bool) {
	parts := strings.Split(t, "/")
	if len(parts) != 3 || (parts[0] != "f" && parts[0] != "b") {
		return false, p, false
	}
	var err1, err2 error
	p.Timestamp, err1 = strconv.ParseInt(parts[1], 10, 64)
	p.ID, err2 = strconv.ParseInt(parts[2], 10, 64)
	return parts[0] == "f", p, err1 == nil && err2 == nil
}

// before reports whether position a comes before b.
func before(a, b sqlite.Position) bool {
	return a.Timestamp < b.Timestamp || a.Timestamp == b.Timestamp && a.ID < b.ID
}

// GetLogEvents returns a page of a stream's events, the latest ones unless
// startFromHead; the forward token reads on from the last one returned,
// the backward token back from the first. It reads only the page: events
// are indexed by stream, time and arrival.
// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html
func (b *Backend) GetLogEvents(ctx context.Context, in *logsapi.GetLogEventsInput) (*logsapi.GetLogEventsOutput, error) {
	s := backend.ScopeFrom(ctx)
	limit := int32(10000)
	if in.Limit != nil {
		if *in.Limit < 1 || *in.Limit > 10000 {
			return nil, errInvalid("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and 10000", *in.Limit)
		}
		limit = *in.Limit
	}
	r := timeRange(in.StartTime, in.EndTime)
	r.Limit, r.Backward = int(limit), !aws.ToBool(in.StartFromHead)
	if t := aws.ToString(in.NextToken); t != "" {
		forward, p, ok := parseEventToken(t)
		if !ok {
			return nil, errInvalid("The specified nextToken is invalid.")
		}
		r.Backward = !forward
		if forward && before(r.After, p) {
			r.After = p
		} else if !forward && before(p, r.Before) {
			r.Before = p
		}
	}
	var page []sqlite.LogEvent
	// The group by its name or, as logGroupIdentifier, its name or ARN.
	// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html
	group, stream := groupNamed(in.LogGroupName, in.LogGroupIdentifier), aws.ToString(in.LogStreamName)
	err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		if _, err := loadStream(tx, s, group, stream); err != nil {
			return err
		}
		page, err = tx.LogEvents(eventsOf(s, group, stream), r)
		return err
	})
	if err != nil {
		return nil, err
	}
	// With no event, the tokens stay where the reading stood: a forward
	// token read again returns the events that arrived since.
	forward, backward := r.After, r.Before
	if len(page) > 0 {
		forward, backward = page[len(page)-1].Position, page[0].Position
	}
	return &logsapi.GetLogEventsOutput{
		Events:            output(page),
		NextForwardToken:  eventToken(true, forward),
		NextBackwardToken: eventToken(false, backward),
	}, nil
}

// FilterLogEvents returns the events of a group's streams, interleaved by
// time, whose message holds every term of the filter pattern (a quoted
// phrase is one term).
func (b *Backend) FilterLogEvents(ctx context.Context, in *logsapi.FilterLogEventsInput) (*logsapi.FilterLogEventsOutput, error) {
	s := backend.ScopeFrom(ctx)
	group := groupNamed(in.LogGroupName, in.LogGroupIdentifier)
	if len(in.LogStreamNames) > 0 && in.LogStreamNamePrefix != nil {
		return nil, errInvalid("logStreamNames and logStreamNamePrefix are mutually exclusive")
	}
	terms := patternTerms(aws.ToString(in.FilterPattern))
	var all []types.FilteredLogEvent
	var searched []types.SearchedLogStream
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		if _, err := loadGroup(tx, s, group); err != nil {
			return err
		}
		streams, err := sqlite.ListAll[types.LogStream](tx, s.Query(kindStream, group))
		if err != nil {
			return err
		}
		for _, st := range streams {
			name := *st.LogStreamName
			if !strings.HasPrefix(name, aws.ToString(in.LogStreamNamePrefix)) || (len(in.LogStreamNames) > 0 && !slices.Contains(in.LogStreamNames, name)) {
				continue
			}
			searched = append(searched, types.SearchedLogStream{LogStreamName: aws.String(name), SearchedCompletely: aws.Bool(true)})
			evs, err := tx.LogEvents(eventsOf(s, group, name), timeRange(in.StartTime, in.EndTime))
			if err != nil {
				return err
			}
			for _, e := range evs {
				if matches(e.Message, terms) {
					all = append(all, types.FilteredLogEvent{
						LogStreamName: aws.String(name), Timestamp: aws.Int64(e.Timestamp), Message: aws.String(e.Message), IngestionTime: aws.Int64(e.Ingested),
						EventId: aws.String(fmt.Sprintf("%020d%020d", e.Timestamp, e.ID)),
					})
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(all, func(a, b types.FilteredLogEvent) int { return strings.Compare(*a.EventId, *b.EventId) })
	events, next, err := page(all, func(e types.FilteredLogEvent) string { return *e.EventId }, in.NextToken, in.Limit, 10000)
	if err != nil {
		return nil, err
	}
	return &logsapi.FilterLogEventsOutput{Events: backend.OrEmpty(events), NextToken: next, SearchedLogStreams: backend.OrEmpty(searched)}, nil
}

// patternTerms splits a filter pattern into its terms: words, or quoted
// phrases.
func patternTerms(pattern string) []string {
	var terms []string
	for i, part := range strings.Split(pattern, `"`) {
		if i%2 == 1 {
			terms = append(terms, part)
			continue
		}
		terms = append(terms, strings.Fields(part)...)
	}
	return terms
}

func matches(msg string, terms []string) bool {
	for _, t := range terms {
		if !strings.Contains(msg, t) {
			return false
		}
	}
	return true
}

// OpenStream makes sure a stream of scope s exists for a writer of berth's
// own (the awslogs driver of tasks), creating the group too when
// createGroup is set, as the driver's awslogs-create-group option does. It
// returns the timestamp of the stream's last event, 0 if it has none, so
// that a writer that resumes does not write an event twice.
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html
func (b *Backend) OpenStream(ctx context.Context, s backend.Scope, groupName, name string, createGroup bool) (int64, error) {
	ctx = backend.WithScope(ctx, s)
	if createGroup {
		_, err := b.CreateLogGroup(ctx, &logsapi.CreateLogGroupInput{LogGroupName: aws.String(groupName)})
		if err != nil && !awsproto.HasCode(err, &types.ResourceAlreadyExistsException{}) {
			return 0, err
		}
	}
	_, err := b.CreateLogStream(ctx, &logsapi.CreateLogStreamInput{LogGroupName: aws.String(groupName), LogStreamName: aws.String(name)})
	if err == nil || !awsproto.HasCode(err, &types.ResourceAlreadyExistsException{}) {
		return 0, err
	}
	var st types.LogStream
	err = b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		st, err = loadStream(tx, s, groupName, name)
		return err
	})
	return aws.ToInt64(st.LastEventTimestamp), err
}
