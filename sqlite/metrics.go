package sqlite

// CloudWatch metric datapoints live in a table of their own, one row per
// published value or statistic set, indexed by metric (a series number,
// its scope and key stored once in metric_series) and time, so that a
// query reads only its metric's window and retention is one range delete.

// MetricPoint is one stored datapoint of a metric: a value published
// Count times (Sum = value × Count, Min = Max = value, Raw set), or a
// statistic set (Raw unset). Timestamp is ms since the epoch.
type MetricPoint struct {
	Timestamp            int64
	HighResolution       bool
	Count, Sum, Min, Max float64
	Unit                 string
	Raw                  bool
}

const (
	// metricSeriesSQL returns a metric's series number, numbering it on
	// first use.
	metricSeriesSQL = `INSERT INTO metric_series (account, region, metric) VALUES (?, ?, ?)
		ON CONFLICT (account, region, metric) DO UPDATE SET metric = excluded.metric RETURNING id`
	metricAppendSQL = `INSERT INTO metric_data (series, ts, hires, count, sum, min, max, unit, raw)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	metricRangeSQL = `SELECT d.ts, d.hires, d.count, d.sum, d.min, d.max, d.unit, d.raw
		FROM metric_series s JOIN metric_data d ON d.series = s.id
		WHERE s.account=? AND s.region=? AND s.metric=? AND d.ts >= ? AND d.ts < ? ORDER BY d.ts, d.id`
	metricDeleteSQL      = `DELETE FROM metric_data WHERE ts < ?`
	metricDeleteHiresSQL = `DELETE FROM metric_data WHERE hires=1 AND ts < ?`
	metricForgetSQL      = `DELETE FROM metric_series WHERE NOT EXISTS (SELECT 1 FROM metric_data WHERE series = metric_series.id)`
	// High-resolution points past their retention become one statistic
	// set per metric, minute and unit.
	metricRollupSQL = `INSERT INTO metric_data (series, ts, hires, count, sum, min, max, unit, raw)
		SELECT series, (ts / 60000) * 60000, 0, sum(count), sum(sum), min(min), max(max), unit, 0
		FROM metric_data WHERE hires=1 AND ts < ? GROUP BY series, ts / 60000, unit`
)

func metricQueries() []string {
	return []string{metricSeriesSQL, metricAppendSQL, metricRangeSQL, metricDeleteSQL, metricDeleteHiresSQL, metricRollupSQL, metricForgetSQL}
}

// AppendMetricPoints stores points of the metric (its canonical key) in
// the scope.
func (t *Tx) AppendMetricPoints(account, region, metric string, points []MetricPoint) error {
	series, err := t.stmt(metricSeriesSQL)
	if err != nil {
		return err
	}
	var id int64
	if err := series.QueryRowContext(t.ctx, account, region, metric).Scan(&id); err != nil {
		return err
	}
	st, err := t.stmt(metricAppendSQL)
	if err != nil {
		return err
	}
	for _, p := range points {
		if _, err := st.ExecContext(t.ctx, id, p.Timestamp, p.HighResolution, p.Count, p.Sum, p.Min, p.Max, p.Unit, p.Raw); err != nil {
			return err
		}
	}
	return nil
}

// MetricPoints returns the metric's points from from (inclusive) to to
// (exclusive), ms since the epoch, in time order.
func (t *Tx) MetricPoints(account, region, metric string, from, to int64) ([]MetricPoint, error) {
	st, err := t.stmt(metricRangeSQL)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(t.ctx, account, region, metric, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []MetricPoint
	for rows.Next() {
		var p MetricPoint
		if err := rows.Scan(&p.Timestamp, &p.HighResolution, &p.Count, &p.Sum, &p.Min, &p.Max, &p.Unit, &p.Raw); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// DeleteMetricPoints deletes, in every scope, the points older than
// before, and rolls the high-resolution points older than hiresBefore (ms
// since the epoch) up into one-minute statistic sets (which lose their
// percentiles). It returns how many rows went.
func (t *Tx) DeleteMetricPoints(before, hiresBefore int64) (int64, error) {
	var n int64
	for _, q := range []struct {
		sql string
		at  int64
	}{{metricDeleteSQL, before}, {metricRollupSQL, hiresBefore}, {metricDeleteHiresSQL, hiresBefore}} {
		st, err := t.stmt(q.sql)
		if err != nil {
			return n, err
		}
		res, err := st.ExecContext(t.ctx, q.at)
		if err != nil {
			return n, err
		}
		k, err := res.RowsAffected()
		if err != nil {
			return n, err
		}
		if q.sql == metricRollupSQL {
			k = -k
		}
		n += k
	}
	// A metric with no datapoint left keeps no series.
	st, err := t.stmt(metricForgetSQL)
	if err != nil {
		return n, err
	}
	_, err = st.ExecContext(t.ctx)
	return n, err
}
