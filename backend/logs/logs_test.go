package logs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	logsapi "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"berth/backend"
	"berth/sqlite"
)

var scope = backend.Scope{Account: "000000000000", Region: "us-east-1"}

// clock is a settable time.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func newBackend(tb testing.TB) (*Backend, *sqlite.Store, *clock, context.Context) {
	store, err := sqlite.Open(filepath.Join(tb.TempDir(), "berth.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	c := &clock{now: time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)}
	b := New(store, backend.Env{Clock: c.Now, IDs: &backend.SequentialIDs{}})
	ctx := backend.WithScope(context.Background(), scope)
	if _, err := b.OpenStream(ctx, scope, "/ecs/web", "web/app/1", true); err != nil {
		tb.Fatal(err)
	}
	return b, store, c, ctx
}

func events(from, n int, every time.Duration, start time.Time) []types.InputLogEvent {
	var out []types.InputLogEvent
	for i := from; i < from+n; i++ {
		out = append(out, types.InputLogEvent{Timestamp: aws.Int64(start.Add(time.Duration(i) * every).UnixMilli()), Message: aws.String("event " + strconv.Itoa(i))})
	}
	return out
}

func messages(out *logsapi.GetLogEventsOutput) string {
	var m []string
	for _, e := range out.Events {
		m = append(m, strings.TrimPrefix(*e.Message, "event "))
	}
	return strings.Join(m, ",")
}

// GetLogEvents pages as the API reference has it: without startFromHead
// the latest events; nextForwardToken reads on, nextBackwardToken back; at
// the end the forward token comes back unchanged, and reading it again
// after new events returns them. Events are in timestamp order even when
// they arrived out of it.
// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html
func TestGetLogEventsPages(t *testing.T) {
	b, _, c, ctx := newBackend(t)
	start := c.Now().Add(-time.Hour)
	in := events(0, 10, time.Second, start)
	in[3], in[7] = in[7], in[3]
	if _, err := b.Append(ctx, scope, "/ecs/web", "web/app/1", in); err != nil {
		t.Fatal(err)
	}
	get := func(in logsapi.GetLogEventsInput) *logsapi.GetLogEventsOutput {
		t.Helper()
		in.LogGroupName, in.LogStreamName = aws.String("/ecs/web"), aws.String("web/app/1")
		out, err := b.GetLogEvents(ctx, &in)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	latest := get(logsapi.GetLogEventsInput{Limit: aws.Int32(3)})
	if got := messages(latest); got != "7,8,9" {
		t.Fatalf("latest = %s", got)
	}
	back := get(logsapi.GetLogEventsInput{Limit: aws.Int32(3), NextToken: latest.NextBackwardToken})
	if got := messages(back); got != "4,5,6" {
		t.Fatalf("back from the latest = %s", got)
	}
	head := get(logsapi.GetLogEventsInput{Limit: aws.Int32(4), StartFromHead: aws.Bool(true)})
	if got := messages(head); got != "0,1,2,3" {
		t.Fatalf("from the head = %s", got)
	}
	on := get(logsapi.GetLogEventsInput{Limit: aws.Int32(4), NextToken: head.NextForwardToken})
	if got := messages(on); got != "4,5,6,7" {
		t.Fatalf("forward = %s", got)
	}
	end := get(logsapi.GetLogEventsInput{NextToken: get(logsapi.GetLogEventsInput{NextToken: on.NextForwardToken}).NextForwardToken})
	if len(end.Events) != 0 {
		t.Fatalf("past the end = %s", messages(end))
	}
	again := get(logsapi.GetLogEventsInput{NextToken: end.NextForwardToken})
	if *again.NextForwardToken != *end.NextForwardToken {
		t.Fatalf("the forward token at the end moved: %s → %s", *end.NextForwardToken, *again.NextForwardToken)
	}
	if _, err := b.Append(ctx, scope, "/ecs/web", "web/app/1", events(10, 2, time.Second, start)); err != nil {
		t.Fatal(err)
	}
	if got := messages(get(logsapi.GetLogEventsInput{NextToken: end.NextForwardToken})); got != "10,11" {
		t.Fatalf("new events after the end = %s", got)
	}
	window := get(logsapi.GetLogEventsInput{StartFromHead: aws.Bool(true), StartTime: aws.Int64(start.Add(2 * time.Second).UnixMilli()), EndTime: aws.Int64(start.Add(5 * time.Second).UnixMilli())})
	if got := messages(window); got != "2,3,4" { // startTime inclusive, endTime exclusive
		t.Fatalf("window = %s", got)
	}
	if _, err := b.GetLogEvents(ctx, &logsapi.GetLogEventsInput{LogGroupName: aws.String("/ecs/web"), LogStreamName: aws.String("web/app/1"), NextToken: aws.String("f/12")}); err == nil {
		t.Fatal("a token berth did not issue was taken")
	}
}

// Events older than the group's retention are deleted, as CloudWatch Logs
// does: "CloudWatch Logs doesn't immediately delete log events when they
// reach their retention setting" but deletes them after. Groups without a
// retention keep everything.
// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
func TestRetentionDeletesOldEvents(t *testing.T) {
	b, _, c, ctx := newBackend(t)
	if _, err := b.OpenStream(ctx, scope, "/ecs/forever", "s", true); err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	old := c.Now().Add(-10 * day)
	for _, g := range []struct{ group, stream string }{{"/ecs/web", "web/app/1"}, {"/ecs/forever", "s"}} {
		if _, err := b.Append(ctx, scope, g.group, g.stream, events(0, 10, day, old)); err != nil { // one a day, from 10 days ago
			t.Fatal(err)
		}
	}
	if _, err := b.PutRetentionPolicy(ctx, &logsapi.PutRetentionPolicyInput{LogGroupName: aws.String("/ecs/web"), RetentionInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	n, err := b.ApplyRetention(ctx)
	if err != nil || n != 3 {
		t.Fatalf("ApplyRetention = %d, %v; want the 3 events older than 7 days", n, err)
	}
	head := func(group, stream string) *logsapi.GetLogEventsOutput {
		out, err := b.GetLogEvents(ctx, &logsapi.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := messages(head("/ecs/web", "web/app/1")); got != "3,4,5,6,7,8,9" {
		t.Fatalf("after retention the stream holds %s", got)
	}
	if got := messages(head("/ecs/forever", "s")); got != "0,1,2,3,4,5,6,7,8,9" {
		t.Fatalf("a group without retention holds %s", got)
	}
	streams, _ := b.DescribeLogStreams(ctx, &logsapi.DescribeLogStreamsInput{LogGroupName: aws.String("/ecs/web")})
	if got := aws.ToInt64(streams.LogStreams[0].StoredBytes); got != 7*(7+26) {
		t.Errorf("storedBytes after retention = %d, want %d", got, 7*(7+26))
	}
	c.set(c.Now().Add(3 * day))
	if n, _ := b.ApplyRetention(ctx); n != 3 {
		t.Fatalf("three days later ApplyRetention = %d, want 3", n)
	}
}

// BenchmarkGetLogEvents reads the latest 100 events of a stream of 10^3,
// 10^4 and 10^5 events (1000 batches of 1, 10, 100): the time per read
// stays flat as the stream grows, as it reads only the page.
func BenchmarkGetLogEvents(b *testing.B) {
	for _, perBatch := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("events=%d", 1000*perBatch), func(bb *testing.B) {
			be, _, c, ctx := newBackend(bb)
			start := c.Now().Add(-time.Hour)
			for i := range 1000 {
				if _, err := be.Append(ctx, scope, "/ecs/web", "web/app/1", events(i*perBatch, perBatch, time.Millisecond, start)); err != nil {
					bb.Fatal(err)
				}
			}
			in := &logsapi.GetLogEventsInput{LogGroupName: aws.String("/ecs/web"), LogStreamName: aws.String("web/app/1"), Limit: aws.Int32(100)}
			bb.ResetTimer()
			for range bb.N {
				out, err := be.GetLogEvents(ctx, in)
				if err != nil || len(out.Events) != 100 {
					bb.Fatal(len(out.Events), err)
				}
			}
		})
	}
}

// BenchmarkLogShipping appends b.N batches (of one 100-byte event, as a
// chatty container's awslogs driver sends) to one stream and reports the
// store cache's size and the process's resident memory after them: both
// stay bounded however many batches were shipped.
func BenchmarkLogShipping(b *testing.B) {
	be, store, c, ctx := newBackend(b)
	msg := strings.Repeat("x", 100)
	b.ResetTimer()
	for i := range b.N {
		ev := []types.InputLogEvent{{Timestamp: aws.Int64(c.Now().UnixMilli() + int64(i)), Message: aws.String(msg)}}
		if _, err := be.Append(ctx, scope, "/ecs/web", "web/app/1", ev); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	bodies, writes := store.CacheStats()
	b.ReportMetric(float64(bodies), "cached-bodies")
	b.ReportMetric(float64(writes), "cached-writes")
	b.ReportMetric(float64(rssKiB())/1024, "RSS-MiB")
}

// rssKiB returns the process's resident set size, from /proc (0 where
// there is none).
func rssKiB() int {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return 0
}

// TestPutLogEventsRejects: events more than two hours ahead, more than 14
// days back, or older than the group's retention are not stored, and
// rejectedLogEventsInfo tells which: the first too new (inclusive), the
// end of the too old and of the expired (exclusive)
// (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html,
// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_RejectedLogEventsInfo.html).
func TestPutLogEventsRejects(t *testing.T) {
	b, _, c, ctx := newBackend(t)
	day := 24 * time.Hour
	at := func(d time.Duration, msg string) types.InputLogEvent {
		return types.InputLogEvent{Timestamp: aws.Int64(c.Now().Add(d).UnixMilli()), Message: aws.String(msg)}
	}
	put := func(evs ...types.InputLogEvent) *logsapi.PutLogEventsOutput {
		t.Helper()
		out, err := b.PutLogEvents(ctx, &logsapi.PutLogEventsInput{LogGroupName: aws.String("/ecs/web"), LogStreamName: aws.String("web/app/1"), LogEvents: evs})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	// No retention: 14 days back and 2 hours ahead are the bounds.
	out := put(at(-15*day, "old"), at(-14*day+time.Minute, "a"), at(0, "b"), at(2*time.Hour-time.Minute, "c"), at(2*time.Hour+time.Minute, "new"), at(3*time.Hour, "newer"))
	r := out.RejectedLogEventsInfo
	if r == nil || aws.ToInt32(r.TooOldLogEventEndIndex) != 1 || aws.ToInt32(r.TooNewLogEventStartIndex) != 4 || r.ExpiredLogEventEndIndex != nil {
		t.Fatalf("rejected = %+v, want too old before 1, too new from 4", r)
	}
	// All within bounds: nothing rejected.
	if out := put(at(-time.Hour, "d")); out.RejectedLogEventsInfo != nil {
		t.Errorf("rejected = %+v", out.RejectedLogEventsInfo)
	}
	// A retention of 3 days: older events are expired.
	if _, err := b.PutRetentionPolicy(ctx, &logsapi.PutRetentionPolicyInput{LogGroupName: aws.String("/ecs/web"), RetentionInDays: aws.Int32(3)}); err != nil {
		t.Fatal(err)
	}
	out = put(at(-20*day, "ancient"), at(-5*day, "expired"), at(-4*day, "expired too"), at(-2*day, "e"))
	r = out.RejectedLogEventsInfo
	if r == nil || aws.ToInt32(r.TooOldLogEventEndIndex) != 1 || aws.ToInt32(r.ExpiredLogEventEndIndex) != 3 || r.TooNewLogEventStartIndex != nil {
		t.Fatalf("rejected = %+v, want too old before 1, expired before 3", r)
	}
	head, err := b.GetLogEvents(ctx, &logsapi.GetLogEventsInput{LogGroupName: aws.String("/ecs/web"), LogStreamName: aws.String("web/app/1"), StartFromHead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if got := messages(head); got != "a,e,d,b,c" {
		t.Errorf("stored %s, want a,e,d,b,c", got)
	}
	// A batch wholly rejected stores nothing and still takes a token.
	if out := put(at(-30*day, "x")); out.RejectedLogEventsInfo == nil || out.NextSequenceToken == nil {
		t.Errorf("out = %+v", out)
	}
}
