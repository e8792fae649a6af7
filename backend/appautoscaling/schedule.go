package appautoscaling

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// schedule is a parsed Schedule of a scheduled action: at(...) once,
// rate(...) every interval, or cron(...) in a time zone.
// https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScheduledAction.html
//
//	at(yyyy-mm-ddThh:mm:ss)
//	rate(value unit)              unit: minute(s), hour(s), day(s)
//	cron(Minutes Hours Day-of-month Month Day-of-week Year)
//
// at and cron are read in the action's Timezone (UTC by default).
type schedule struct {
	at    time.Time     // at(): the one time
	every time.Duration // rate()
	cron  *cronExpr
	loc   *time.Location
}

// parseSchedule reads a Schedule in the time zone loc.
func parseSchedule(expr string, loc *time.Location) (schedule, error) {
	kind, rest, ok := strings.Cut(strings.TrimSpace(expr), "(")
	body, closed := strings.CutSuffix(rest, ")")
	if !ok || !closed {
		return schedule{}, fmt.Errorf("%q is not at(...), rate(...) or cron(...)", expr)
	}
	switch kind {
	case "at":
		t, err := time.ParseInLocation("2006-01-02T15:04:05", strings.TrimSpace(body), loc)
		if err != nil {
			return schedule{}, fmt.Errorf("at(%s): the time is yyyy-mm-ddThh:mm:ss", body)
		}
		return schedule{at: t, loc: loc}, nil
	case "rate":
		f := strings.Fields(body)
		if len(f) != 2 {
			return schedule{}, fmt.Errorf("rate(%s): a rate is rate(value unit)", body)
		}
		unit := map[string]time.Duration{"minute": time.Minute, "minutes": time.Minute, "hour": time.Hour, "hours": time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour}[f[1]]
		if unit == 0 {
			return schedule{}, fmt.Errorf("rate(%s): the unit is minute(s), hour(s) or day(s)", body)
		}
		n, ok := digits(f[0])
		if !ok || n < 1 || n > math.MaxInt64/int(unit) {
			return schedule{}, fmt.Errorf("rate(%s): the value is a positive whole number of at most %d %s", body, math.MaxInt64/int(unit), f[1])
		}
		return schedule{every: time.Duration(n) * unit, loc: loc}, nil
	case "cron":
		c, err := parseCron(body)
		if err != nil {
			return schedule{}, fmt.Errorf("cron(%s): %v", body, err)
		}
		return schedule{cron: c, loc: loc}, nil
	}
	return schedule{}, fmt.Errorf("%q is not at(...), rate(...) or cron(...)", expr)
}

// next is the first time the schedule fires after after; anchor is when
// a rate counts from (the action's StartTime, or its creation). ok is
// false when it never fires again.
func (s schedule) next(after, anchor time.Time) (time.Time, bool) {
	switch {
	case s.cron != nil:
		return s.cron.next(after.In(s.loc))
	case s.every > 0:
		if after.Before(anchor) {
			return anchor.Add(s.every), true
		}
		// Two steps: (k-1) × every is at most after - anchor, and
		// adding every once more to a time cannot overflow a Duration.
		k := after.Sub(anchor) / s.every
		return anchor.Add(k * s.every).Add(s.every), true
	}
	return s.at, s.at.After(after)
}

// cronExpr is a parsed cron expression of six fields, as EventBridge and
// Application Auto Scaling write them: minutes, hours, day of month,
// month (1-12 or JAN-DEC), day of week (1-7 or SUN-SAT, 1 is Sunday) and
// year, with the wildcards , - * / and ? (one of the two day fields), L
// (last day of the month; nL the last weekday n of the month) and n#k
// (the k-th weekday n of the month).
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html#eb-cron-expressions
type cronExpr struct {
	minutes, hours, months, dom, dow [64]bool
	years                            []bool // by year; nil: any
	anyDOM, anyDOW                   bool   // the field is ? or *
	lastDOM                          bool   // L in day of month
	lastDOW                          int    // nL: weekday n (1-7) last of month; 0 none
	nthDOW, nth                      int    // n#k: weekday n, k-th; 0 none
}

var (
	monthNames = []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}
	dayNames   = []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}
)

func parseCron(body string) (*cronExpr, error) {
	f := strings.Fields(body)
	if len(f) != 6 {
		return nil, fmt.Errorf("a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), not %d", len(f))
	}
	c := &cronExpr{}
	var err error
	if err = parseField(f[0], 0, 59, nil, c.minutes[:]); err != nil {
		return nil, fmt.Errorf("minutes: %v", err)
	}
	if err = parseField(f[1], 0, 23, nil, c.hours[:]); err != nil {
		return nil, fmt.Errorf("hours: %v", err)
	}
	if err = parseField(f[3], 1, 12, monthNames, c.months[:]); err != nil {
		return nil, fmt.Errorf("month: %v", err)
	}
	dom, dow := f[2], f[4]
	if (dom == "?") == (dow == "?") {
		return nil, fmt.Errorf("one of day-of-month and day-of-week must be ?, and only one")
	}
	switch {
	case dom == "?" || dom == "*":
		c.anyDOM = true
	case dom == "L":
		c.lastDOM = true
	default:
		if strings.ContainsAny(dom, "LW") {
			return nil, fmt.Errorf("day-of-month: berth supports L alone, not W or offsets from L")
		}
		if err = parseField(dom, 1, 31, nil, c.dom[:]); err != nil {
			return nil, fmt.Errorf("day-of-month: %v", err)
		}
	}
	switch {
	case dow == "?" || dow == "*":
		c.anyDOW = true
	case strings.HasSuffix(dow, "L"):
		n, err := dayNumber(strings.TrimSuffix(dow, "L"))
		if err != nil {
			return nil, fmt.Errorf("day-of-week: %v", err)
		}
		c.lastDOW = n
	case strings.Contains(dow, "#"):
		d, k, _ := strings.Cut(dow, "#")
		n, err := dayNumber(d)
		kk, kok := digits(k)
		if err != nil || !kok || kk < 1 || kk > 5 {
			return nil, fmt.Errorf("day-of-week: %q is not weekday#1-5", dow)
		}
		c.nthDOW, c.nth = n, kk
	default:
		if err = parseField(dow, 1, 7, dayNames, c.dow[:]); err != nil {
			return nil, fmt.Errorf("day-of-week: %v", err)
		}
	}
	if f[5] != "*" {
		c.years = make([]bool, 2200)
		if err = parseField(f[5], 1970, 2199, nil, c.years); err != nil {
			return nil, fmt.Errorf("year: %v", err)
		}
	}
	return c, nil
}

// dayNumber reads a weekday, 1-7 or SUN-SAT.
func dayNumber(s string) (int, error) {
	n, err := value(s, 1, 7, dayNames)
	if err != nil {
		return 0, err
	}
	return n, nil
}

// value reads one value of a field: a number in [lo, hi] or a name.
func value(s string, lo, hi int, names []string) (int, error) {
	for i, n := range names {
		if strings.EqualFold(s, n) {
			return lo + i, nil
		}
	}
	n, ok := digits(s)
	if !ok || n < lo || n > hi {
		return 0, fmt.Errorf("%q is not a value from %d to %d", s, lo, hi)
	}
	return n, nil
}

// digits reads a whole number written in decimal digits only (no sign),
// that fits an int.
func digits(s string) (int, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// parseField checks a field of comma-separated items (*, v, a-b, with
// /step) and, if set is not nil, marks its values in set.
func parseField(field string, lo, hi int, names []string, set []bool) error {
	for item := range strings.SplitSeq(field, ",") {
		rng, stepText, stepped := strings.Cut(item, "/")
		step := 1
		if stepped {
			// A step is at most the field's highest value, so that
			// stepping past it cannot overflow.
			var ok bool
			if step, ok = digits(stepText); !ok || step < 1 || step > hi {
				return fmt.Errorf("%q: the step is a whole number from 1 to %d", item, hi)
			}
		}
		from, to := lo, hi
		switch {
		case rng == "*":
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			var err error
			if from, err = value(a, lo, hi, names); err != nil {
				return err
			}
			if to, err = value(b, lo, hi, names); err != nil {
				return err
			}
			if from > to {
				return fmt.Errorf("%q: a range runs from low to high", item)
			}
		default:
			v, err := value(rng, lo, hi, names)
			if err != nil {
				return err
			}
			from = v
			if !stepped {
				to = v
			}
		}
		for v := from; v <= to; v += step {
			if set != nil {
				set[v] = true
			}
		}
	}
	return nil
}

// cronHorizon bounds the search for the next time (a cron of a year
// long past, or of 31 February, never fires).
const cronHorizon = 5 * 366

// next is the first minute after after that the expression holds, in
// after's location.
func (c *cronExpr) next(after time.Time) (time.Time, bool) {
	loc := after.Location()
	day := time.Date(after.Year(), after.Month(), after.Day(), 0, 0, 0, 0, loc)
	for range cronHorizon {
		if c.dayMatches(day) {
			for h := range 24 {
				if !c.hours[h] {
					continue
				}
				for m := range 60 {
					if !c.minutes[m] {
						continue
					}
					t := time.Date(day.Year(), day.Month(), day.Day(), h, m, 0, 0, loc)
					if t.After(after) && t.Hour() == h { // a time a DST gap skips does not exist that day
						return t, true
					}
				}
			}
		}
		day = time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc)
	}
	return time.Time{}, false
}

func (c *cronExpr) dayMatches(d time.Time) bool {
	if c.years != nil && (d.Year() >= len(c.years) || !c.years[d.Year()]) || !c.months[int(d.Month())] {
		return false
	}
	last := time.Date(d.Year(), d.Month()+1, 0, 0, 0, 0, 0, d.Location()).Day()
	weekday := int(d.Weekday()) + 1 // 1 is Sunday
	switch {
	case c.lastDOM:
		return d.Day() == last
	case !c.anyDOM:
		return c.dom[d.Day()]
	case c.lastDOW != 0:
		return weekday == c.lastDOW && d.Day()+7 > last
	case c.nthDOW != 0:
		return weekday == c.nthDOW && (d.Day()-1)/7+1 == c.nth
	case !c.anyDOW:
		return c.dow[weekday]
	}
	return true
}
