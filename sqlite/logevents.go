package sqlite

import (
	"database/sql"
	"math"
)

// Log events live in a table of their own, one row per event, indexed by
// stream, time and arrival, so that reading a page of a stream reads only
// that page, and events older than a time go in one range delete. (As
// resources, each batch of events was a row that every read decoded
// whole.)

// LogStream names a stream of log events: its scope, group and name.
type LogStream struct {
	Account, Region, Group, Stream string
}

// LogEvent is one stored event. Events of a stream are ordered by time,
// then by arrival: Position.
type LogEvent struct {
	Position
	Ingested int64 // ms since the epoch
	Message  string
}

// Position is where an event is in its stream's order: its timestamp (ms
// since the epoch) and its arrival number, unique in the store.
type Position struct {
	Timestamp, ID int64
}

// Ends of a stream's order, for LogRange bounds.
var (
	FirstPosition = Position{Timestamp: math.MinInt64}
	LastPosition  = Position{Timestamp: math.MaxInt64, ID: math.MaxInt64}
)

// TimeBound is the position just before every event at ms or later: as a
// lower bound, events from ms on; as an upper, those before ms.
func TimeBound(ms int64) Position { return Position{Timestamp: ms} }

// LogRange selects events of a stream strictly between two positions, at
// most Limit of them (0 for all), from After up or, if Backward, from
// Before down.
type LogRange struct {
	After, Before Position
	Limit         int
	Backward      bool
}

const (
	logStreamWhere    = ` WHERE account=? AND region=? AND grp=? AND stream=?`
	logRangeWhere     = logStreamWhere + ` AND (ts, id) > (?, ?) AND (ts, id) < (?, ?)`
	logSelect         = `SELECT id, ts, ingested, message FROM log_events`
	logForwardSQL     = logSelect + logRangeWhere + ` ORDER BY ts, id LIMIT ?`
	logBackwardSQL    = logSelect + logRangeWhere + ` ORDER BY ts DESC, id DESC LIMIT ?`
	logAppendSQL      = `INSERT INTO log_events (account, region, grp, stream, ts, ingested, message) VALUES (?, ?, ?, ?, ?, ?, ?)`
	logDeleteSQL      = `DELETE FROM log_events` + logStreamWhere + ` AND ts < ?`
	logStreamBytesSQL = `SELECT count(*), coalesce(sum(length(CAST(message AS BLOB)) + 26), 0) FROM log_events` + logStreamWhere
)

func logQueries() []string {
	return []string{logForwardSQL, logBackwardSQL, logAppendSQL, logDeleteSQL, logStreamBytesSQL}
}

func (s LogStream) args() []any { return []any{s.Account, s.Region, s.Group, s.Stream} }

// AppendLogEvents stores events at the end of the stream's arrival order.
func (t *Tx) AppendLogEvents(s LogStream, events []LogEvent) error {
	st, err := t.stmt(logAppendSQL)
	if err != nil {
		return err
	}
	for _, e := range events {
		if _, err := st.ExecContext(t.ctx, s.Account, s.Region, s.Group, s.Stream, e.Timestamp, e.Ingested, e.Message); err != nil {
			return err
		}
	}
	return nil
}

// LogEvents returns the events of the stream in r, in stream order (also
// when read backward). It reads from the index only the rows it returns.
func (t *Tx) LogEvents(s LogStream, r LogRange) ([]LogEvent, error) {
	query := logForwardSQL
	if r.Backward {
		query = logBackwardSQL
	}
	limit := int64(r.Limit)
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	st, err := t.stmt(query)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(t.ctx, append(s.args(), r.After.Timestamp, r.After.ID, r.Before.Timestamp, r.Before.ID, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []LogEvent
	for rows.Next() {
		var e LogEvent
		if err := rows.Scan(&e.ID, &e.Timestamp, &e.Ingested, &e.Message); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if r.Backward {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, rows.Err()
}

// DeleteLogEvents deletes the stream's events older than before (ms since
// the epoch; math.MaxInt64 for all of them) and returns how many went.
func (t *Tx) DeleteLogEvents(s LogStream, before int64) (int64, error) {
	st, err := t.stmt(logDeleteSQL)
	if err != nil {
		return 0, err
	}
	res, err := st.ExecContext(t.ctx, append(s.args(), before)...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// LogStreamSize returns how many events the stream holds and their size
// as CloudWatch Logs counts it (the message's bytes and 26).
func (t *Tx) LogStreamSize(s LogStream) (events, bytes int64, err error) {
	err = t.scanOne(logStreamBytesSQL, s.args(), &events, &bytes)
	if err == sql.ErrNoRows {
		err = nil
	}
	return events, bytes, err
}
