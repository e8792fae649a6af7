package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// A store an older berth wrote, with each datapoint naming its metric's
// scope and key, has its datapoints moved to numbered series on open,
// each metric's in time order, and read back as before; a metric's window
// is read through its series' index.
func TestMetricPointsMigrated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "berth.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	n := len(migrations) - 1
	for _, m := range migrations[:n] {
		if _, err := db.Exec(m); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []struct {
		metric string
		ts     int64
		sum    float64
	}{{"cpu", 60000, 1}, {"mem", 60000, 5}, {"cpu", 120000, 2}} {
		if _, err := db.Exec(`INSERT INTO metric_points (account, region, metric, ts, hires, count, sum, min, max, unit, raw) VALUES ('a', 'r', ?, ?, 0, 1, ?, ?, ?, 'Percent', 1)`,
			p.metric, p.ts, p.sum, p.sum, p.sum); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, n)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	err = s.View(ctx, func(tx *Tx) error {
		cpu, err := tx.MetricPoints("a", "r", "cpu", 0, 1<<40)
		if err != nil {
			return err
		}
		if len(cpu) != 2 || cpu[0].Sum != 1 || cpu[1].Sum != 2 || cpu[1].Unit != "Percent" || !cpu[0].Raw {
			t.Errorf("migrated cpu = %+v", cpu)
		}
		if other, _ := tx.MetricPoints("b", "r", "cpu", 0, 1<<40); len(other) != 0 {
			t.Errorf("another account reads %+v", other)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := s.reader.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+metricRangeSQL, "a", "r", "cpu", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		rows.Scan(&id, &parent, &unused, &detail)
		plan = append(plan, detail)
	}
	if text := strings.Join(plan, "; "); !strings.Contains(text, "USING INDEX metric_data_by_series (series=? AND ts>? AND ts<?)") {
		t.Errorf("plan: %s", text)
	}
}
