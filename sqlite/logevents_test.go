package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// A page of a stream's events is read from the index, in its order, from
// where the page starts: the query plan searches log_events_by_stream
// from the page's first millisecond (no scan of the stream, no sort; the
// row-value bound filters within that millisecond), so reading
// a page costs the rows it returns however long the stream is.
func TestLogEventsReadOnlyThePage(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	stream := LogStream{Account: "a", Region: "r", Group: "g", Stream: "s"}
	var events []LogEvent
	for i := range 20_000 {
		events = append(events, LogEvent{Position: Position{Timestamp: int64(i % 5000)}, Message: "m"})
	}
	if err := s.Update(ctx, func(tx *Tx) error { return tx.AppendLogEvents(stream, events) }); err != nil {
		t.Fatal(err)
	}
	for _, query := range []string{logForwardSQL, logBackwardSQL} {
		rows, err := s.reader.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, "a", "r", "g", "s", 100, 0, 200, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			rows.Scan(&id, &parent, &unused, &detail)
			plan = append(plan, detail)
		}
		rows.Close()
		text := strings.Join(plan, "; ")
		if !strings.Contains(text, "SEARCH log_events USING INDEX log_events_by_stream (account=? AND region=? AND grp=? AND stream=? AND ts>? AND ts<?)") ||
			strings.Contains(text, "TEMP B-TREE") {
			t.Errorf("plan of %q:\n%s", query, text)
		}
	}
	err := s.View(ctx, func(tx *Tx) error {
		page, err := tx.LogEvents(stream, LogRange{After: TimeBound(100), Before: TimeBound(200), Limit: 10, Backward: true})
		if err != nil {
			return err
		}
		// Four events a millisecond: 197 twice, 198 and 199 four times, in
		// order of time then arrival.
		if len(page) != 10 || page[0].Timestamp != 197 || page[2].Timestamp != 198 || page[9].Timestamp != 199 || page[8].ID >= page[9].ID {
			t.Errorf("the last 10 events before 200 = %+v", page)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Wipe(ctx); err != nil {
		t.Fatal(err)
	}
	s.View(ctx, func(tx *Tx) error {
		if n, _, _ := tx.LogStreamSize(stream); n != 0 {
			t.Errorf("%d events outlived a wipe", n)
		}
		return nil
	})
}

// A store an older berth wrote, with events in batches stored as
// resources, has them moved to the log table on open, in the same order.
func TestLogEventsMigrated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "berth.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range migrations[:3] {
		if _, err := db.Exec(m); err != nil {
			t.Fatal(err)
		}
	}
	batch := func(seq int, events string) {
		_, err := db.Exec(`INSERT INTO resources (account, region, kind, id, parent, name, seq, body) VALUES ('a', 'r', 'logs/events', ?, 'g:s', '', ?, ?)`,
			fmt.Sprintf("g:s#%012d", seq), seq, `{"Stream":"s","Events":[`+events+`]}`)
		if err != nil {
			t.Fatal(err)
		}
	}
	batch(1, `{"Timestamp":20,"Message":"second","IngestionTime":5},{"Timestamp":30,"Message":"third","IngestionTime":5}`)
	batch(2, `{"Timestamp":10,"Message":"first","IngestionTime":6}`)
	if _, err := db.Exec(`PRAGMA user_version = 3`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.View(context.Background(), func(tx *Tx) error {
		page, err := tx.LogEvents(LogStream{Account: "a", Region: "r", Group: "g", Stream: "s"}, LogRange{After: FirstPosition, Before: LastPosition})
		var got []string
		for _, e := range page {
			got = append(got, fmt.Sprint(e.Timestamp, e.Message, e.Ingested))
		}
		if strings.Join(got, ",") != "10first6,20second5,30third5" {
			t.Errorf("migrated events = %v", got)
		}
		n, err := tx.Count(Query{Account: "a", Region: "r", Kind: "logs/events"})
		if n != 0 {
			t.Errorf("%d batches left as resources", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
