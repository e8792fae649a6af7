package appautoscaling

import (
	"testing"
	"time"
)

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// The cron examples of the EventBridge guide, whose six-field syntax
// scheduled actions use, each with what the guide says it means:
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html#eb-cron-expressions
// The dates are calendar facts: 2026-11-30 is a Monday.
func TestCronNext(t *testing.T) {
	utc := time.UTC
	mon := time.Date(2026, 11, 30, 9, 7, 30, 0, utc) // Monday 09:07:30
	fri := time.Date(2026, 12, 4, 18, 30, 0, 0, utc) // Friday 18:30
	for _, c := range []struct {
		expr  string
		after time.Time
		want  time.Time
	}{
		// "10:00 AM (UTC+0) every day"
		{"cron(0 10 * * ? *)", mon, time.Date(2026, 11, 30, 10, 0, 0, 0, utc)},
		// "12:15 PM (UTC+0) every day"
		{"cron(15 12 * * ? *)", time.Date(2026, 11, 30, 12, 15, 0, 0, utc), time.Date(2026, 12, 1, 12, 15, 0, 0, utc)},
		// "6:00 PM Monday through Friday"
		{"cron(0 18 ? * MON-FRI *)", fri, time.Date(2026, 12, 7, 18, 0, 0, 0, utc)},
		// "8:00 AM on the first day of the month"
		{"cron(0 8 1 * ? *)", mon, time.Date(2026, 12, 1, 8, 0, 0, 0, utc)},
		// "Every 10 min on weekdays"
		{"cron(0/10 * ? * MON-FRI *)", mon, time.Date(2026, 11, 30, 9, 10, 0, 0, utc)},
		{"cron(0/10 * ? * MON-FRI *)", time.Date(2026, 12, 4, 23, 55, 0, 0, utc), time.Date(2026, 12, 7, 0, 0, 0, 0, utc)},
		// "Every 5 minutes between 8:00 AM and 5:55 PM weekdays"
		{"cron(0/5 8-17 ? * MON-FRI *)", time.Date(2026, 11, 30, 17, 55, 0, 0, utc), time.Date(2026, 12, 1, 8, 0, 0, 0, utc)},
		// "The L wildcard in the Day-of-month ... specifies the last day of the month"
		{"cron(0 0 L * ? *)", mon, time.Date(2026, 11, 30, 0, 0, 0, 0, utc).AddDate(0, 0, 31)}, // 31 December
		{"cron(0 0 L 2 ? *)", mon, time.Date(2027, 2, 28, 0, 0, 0, 0, utc)},
		// "3#2 ... the second Tuesday of the month" (1 is Sunday)
		{"cron(0 12 ? * 3#2 *)", mon, time.Date(2026, 12, 8, 12, 0, 0, 0, utc)},
		// 6L: the last Friday of the month
		{"cron(0 12 ? * 6L *)", mon, time.Date(2026, 12, 25, 12, 0, 0, 0, utc)},
		// Years and lists.
		{"cron(30 6 1,15 JAN ? 2028)", mon, time.Date(2028, 1, 1, 6, 30, 0, 0, utc)},
	} {
		s, err := parseSchedule(c.expr, utc)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		got, ok := s.next(c.after, c.after)
		if !ok || !got.Equal(c.want) {
			t.Errorf("%s after %s: %s (%v), want %s", c.expr, c.after, got, ok, c.want)
		}
	}
}

// A cron in a time zone runs at the zone's wall-clock time across
// daylight saving changes ("Timezone: The time zone used when setting a
// scheduled action by using an at or cron expression. If a time zone is
// not provided, UTC is used by default",
// https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScheduledAction.html).
// US daylight saving time began on 10 March 2024 (a calendar fact).
func TestCronTimezone(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	s, err := parseSchedule("cron(0 9 * * ? *)", ny)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.next(time.Date(2024, 3, 9, 15, 0, 0, 0, time.UTC), time.Time{})
	if want := time.Date(2024, 3, 10, 13, 0, 0, 0, time.UTC); !got.Equal(want) { // 09:00 EDT
		t.Errorf("after DST: %s, want %s", got.UTC(), want)
	}
	got, _ = s.next(time.Date(2024, 3, 8, 15, 0, 0, 0, time.UTC), time.Time{})
	if want := time.Date(2024, 3, 9, 14, 0, 0, 0, time.UTC); !got.Equal(want) { // 09:00 EST
		t.Errorf("before DST: %s, want %s", got.UTC(), want)
	}
	// 02:30 does not exist on 10 March 2024 in New York: that day is skipped.
	s, _ = parseSchedule("cron(30 2 * * ? *)", ny)
	got, _ = s.next(time.Date(2024, 3, 9, 12, 0, 0, 0, time.UTC), time.Time{})
	if want := time.Date(2024, 3, 11, 6, 30, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("DST gap: %s, want %s", got.UTC(), want)
	}
}

// at(yyyy-mm-ddThh:mm:ss) in the action's time zone, once; rate(value
// unit) every interval.
// https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScheduledAction.html
func TestAtAndRate(t *testing.T) {
	tahiti := mustLoad(t, "Pacific/Tahiti") // UTC-10, no daylight saving time
	s, err := parseSchedule("at(2026-12-01T08:00:00)", tahiti)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 12, 1, 18, 0, 0, 0, time.UTC)
	if got, ok := s.next(want.Add(-time.Hour), time.Time{}); !ok || !got.Equal(want) {
		t.Errorf("at: %s %v, want %s", got, ok, want)
	}
	if _, ok := s.next(want, time.Time{}); ok {
		t.Error("at fires again after its time")
	}
	s, err = parseSchedule("rate(5 minutes)", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	anchor := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	if got, _ := s.next(anchor.Add(12*time.Minute), anchor); !got.Equal(anchor.Add(15 * time.Minute)) {
		t.Errorf("rate: %s", got)
	}
	if got, _ := s.next(anchor.Add(-time.Hour), anchor); !got.Equal(anchor.Add(5 * time.Minute)) {
		t.Errorf("rate before its start: %s", got)
	}
	for _, bad := range []string{"rate(0 minutes)", "rate(5 weeks)", "at(2026-12-01 08:00)", "cron(0 10 * * * *)", "cron(0 10 ? * ? *)",
		"cron(0 10 * *)", "cron(61 10 * * ? *)", "cron(0 10 15W * ? *)", "every(5)", "cron(0 10 ? * 9#2 *)", "cron(5-1 * * * ? *)"} {
		if _, err := parseSchedule(bad, time.UTC); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

// A rate's value is a positive number ("rate(value unit)", "value: A
// positive number",
// https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScheduledAction.html)
// written in digits, whose interval must fit; cron values and steps stay
// within their field (minutes 0-59, year 1970-2199,
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html#eb-cron-expressions).
// Out of range, they are refused rather than wrapped or crashing.
func TestScheduleOverflow(t *testing.T) {
	for _, bad := range []string{
		"rate(6868900950696907 minutes)", // n × 1 minute wraps a Duration
		"rate(9223372036854775808 minutes)",
		"rate(+1 minute)",
		"rate(-1 minute)",
		"cron(1/9223372036854775807 * * * ? *)",
		"cron(0 0 * * ? 1971/9223372036854775807)",
		"cron(0/60 * * * ? *)",
		"cron(+5 * * * ? *)",
		"cron(0 12 ? * 3#+2 *)",
	} {
		if _, err := parseSchedule(bad, time.UTC); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
	// The longest rate that fits still fires after its interval, not
	// sooner.
	s, err := parseSchedule("rate(106751 days)", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	anchor := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	if got, _ := s.next(anchor.Add(time.Hour), anchor); !got.Equal(anchor.AddDate(0, 0, 106751)) {
		t.Errorf("rate(106751 days): %s", got)
	}
	if _, err := parseSchedule("cron(0/59 * * * ? 1970/2199)", time.UTC); err != nil {
		t.Errorf("steps within range: %v", err)
	}
}
