// Package sqlite is berth's store: every resource is a row scoped by account
// and region, holding the resource as the JSON of its SDK type. One writer
// connection serialises mutations, so no request ever meets SQLITE_BUSY;
// readers use a separate pool and, in WAL mode, never wait for the writer.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

// ErrNotFound is returned by Get when no row has the key.
var ErrNotFound = errors.New("sqlite: not found")

// Store is the SQLite database behind berth.
type Store struct {
	writer *pool
	reader *pool
	cache  *cache
	lock   *os.File // held while the store is open
}

// pool is a connection pool with every query berth runs prepared on it
// once, at Open: no query is parsed twice, and no transaction (which holds
// the writer's only connection) ever waits to prepare one.
type pool struct {
	db    *sql.DB
	stmts map[string]*sql.Stmt // by SQL text; read-only after Open
}

func newPool(db *sql.DB) (*pool, error) {
	p := &pool{db: db, stmts: map[string]*sql.Stmt{}}
	for _, q := range queries() {
		st, err := db.Prepare(q)
		if err != nil {
			return nil, fmt.Errorf("prepare %q: %w", q, err)
		}
		p.stmts[q] = st
	}
	return p, nil
}

func (p *pool) stmt(query string) (*sql.Stmt, error) {
	st, ok := p.stmts[query]
	if !ok {
		return nil, fmt.Errorf("sqlite: query not prepared: %s", query)
	}
	return st, nil
}

// Open opens (creating if needed) the database at path and migrates it. The
// path ":memory:" is not supported: tests use a file in t.TempDir().
//
// The database holds secrets (the CA's private key, the registry's token
// key), so only berth's user may read it: its directory is made 0700 and
// the database 0600, tightening an existing install too. SQLite creates
// the WAL and shared-memory files with the database's mode; those that
// exist are tightened as well.
func Open(path string) (*Store, error) {
	if err := Private(filepath.Dir(path)); err != nil {
		return nil, err
	}
	lock, err := lockFile(path + ".lock")
	if err != nil {
		return nil, err
	}
	store, err := openLocked(path)
	if err != nil {
		lock.Close()
		return nil, err
	}
	store.lock = lock
	return store, nil
}

// ErrInUse is the error of opening a database another store has open:
// its cache assumes it is the only writer.
var ErrInUse = errors.New("the database is in use by another berth")

// openLocked opens the database at path, which the caller has locked.
func openLocked(path string) (*Store, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	dsn := func(readOnly bool) string {
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Add("_pragma", "mmap_size(268435456)")
		q.Add("_pragma", "cache_size(-16384)")
		if readOnly {
			q.Add("_pragma", "query_only(1)")
		}
		return "file:" + path + "?" + q.Encode()
	}
	writer, err := sql.Open("sqlite", dsn(false))
	if err != nil {
		return nil, err
	}
	writer.SetMaxOpenConns(1)
	if err := migrate(writer); err != nil {
		writer.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	reader, err := sql.Open("sqlite", dsn(true))
	if err != nil {
		writer.Close()
		return nil, err
	}
	reader.SetMaxOpenConns(8)
	reader.SetMaxIdleConns(8)
	w, err := newPool(writer)
	if err != nil {
		writer.Close()
		reader.Close()
		return nil, err
	}
	r, err := newPool(reader)
	if err != nil {
		writer.Close()
		reader.Close()
		return nil, err
	}
	return &Store{writer: w, reader: r, cache: newCache()}, nil
}

// Private makes dir, creating it if needed, a directory only its owner
// may enter (0700).
func Private(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.Chmod(dir, 0o700)
}

// CacheStats returns how many resource bodies the store's cache holds and
// how many writes it keeps on record; both are bounded.
func (s *Store) CacheStats() (bodies, writes int) { return s.cache.stats() }

// Close closes both connection pools.
func (s *Store) Close() error {
	return errors.Join(s.reader.db.Close(), s.writer.db.Close(), s.lock.Close())
}

// Update runs fn in one write transaction: everything fn does commits
// together, or nothing does if fn returns an error.
func (s *Store) Update(ctx context.Context, fn func(*Tx) error) error {
	t := &Tx{ctx: ctx, pool: s.writer}
	if err := t.finish(fn(t)); err != nil {
		return err
	}
	s.cache.written(t.written)
	return nil
}

// Wipe deletes every resource whose kind is not one of keep, every log
// event and every metric datapoint.
func (s *Store) Wipe(ctx context.Context, keep ...string) error {
	query := "DELETE FROM resources"
	args := make([]any, len(keep))
	if len(keep) > 0 {
		query += " WHERE kind NOT IN (?" + strings.Repeat(", ?", len(keep)-1) + ")"
		for i, k := range keep {
			args[i] = k
		}
	}
	if _, err := s.writer.db.ExecContext(ctx, query, args...); err != nil {
		return err
	}
	if _, err := s.writer.db.ExecContext(ctx, "DELETE FROM log_events"); err != nil {
		return err
	}
	if _, err := s.writer.db.ExecContext(ctx, "DELETE FROM metric_data; DELETE FROM metric_series"); err != nil {
		return err
	}
	s.cache.wipe()
	return nil
}

// View runs fn in a read transaction that sees one consistent snapshot
// (the resources it reads by key may come from the cache of committed
// bodies, which is never older than the transaction's start).
func (s *Store) View(ctx context.Context, fn func(*Tx) error) error {
	t := &Tx{ctx: ctx, pool: s.reader, cache: s.cache, gen: s.cache.gen.Load()}
	return t.finish(fn(t))
}

// migrations are applied in order; PRAGMA user_version records how many ran.
// Append only: never edit a migration that has shipped.
var migrations = []string{
	`CREATE TABLE resources (
		account TEXT NOT NULL,
		region  TEXT NOT NULL,
		kind    TEXT NOT NULL,
		id      TEXT NOT NULL,
		parent  TEXT NOT NULL DEFAULT '',
		name    TEXT NOT NULL DEFAULT '',
		seq     INTEGER NOT NULL,
		body    BLOB NOT NULL,
		PRIMARY KEY (account, region, kind, id)
	) WITHOUT ROWID;
	CREATE INDEX resources_by_parent ON resources (account, region, kind, parent, seq);
	CREATE INDEX resources_by_name ON resources (account, region, kind, name);
	CREATE INDEX resources_by_seq ON resources (account, region, kind, seq);
	CREATE TABLE sequence (next INTEGER NOT NULL);
	INSERT INTO sequence VALUES (1);`,
	// Lookups by name and by parent and name, in list order.
	`DROP INDEX resources_by_name;
	CREATE INDEX resources_by_name ON resources (account, region, kind, name, seq);
	CREATE INDEX resources_by_parent_name ON resources (account, region, kind, parent, name, seq);`,
	// Scans of one kind and name across every scope (the reconcilers').
	`CREATE INDEX resources_by_kind_name ON resources (kind, name, seq);`,
	// Log events, one row each (see logevents.go), moved out of the
	// batches that were stored as resources of kind logs/events under
	// their stream (id "<group>:<stream>").
	`CREATE TABLE log_events (
		id       INTEGER PRIMARY KEY,
		account  TEXT NOT NULL,
		region   TEXT NOT NULL,
		grp      TEXT NOT NULL,
		stream   TEXT NOT NULL,
		ts       INTEGER NOT NULL,
		ingested INTEGER NOT NULL,
		message  TEXT NOT NULL
	);
	CREATE INDEX log_events_by_stream ON log_events (account, region, grp, stream, ts, id);
	INSERT INTO log_events (account, region, grp, stream, ts, ingested, message)
		SELECT r.account, r.region,
			substr(r.parent, 1, instr(r.parent, ':') - 1), substr(r.parent, instr(r.parent, ':') + 1),
			coalesce(json_extract(e.value, '$.Timestamp'), 0), coalesce(json_extract(e.value, '$.IngestionTime'), 0),
			coalesce(json_extract(e.value, '$.Message'), '')
		FROM resources r, json_each(r.body, '$.Events') e
		WHERE r.kind = 'logs/events'
		ORDER BY r.seq, e.key;
	DELETE FROM resources WHERE kind = 'logs/events';`,
	// CloudWatch metric datapoints, one row each (see metrics.go).
	`CREATE TABLE metric_points (
		id      INTEGER PRIMARY KEY,
		account TEXT NOT NULL,
		region  TEXT NOT NULL,
		metric  TEXT NOT NULL,
		ts      INTEGER NOT NULL,
		hires   INTEGER NOT NULL,
		count   REAL NOT NULL,
		sum     REAL NOT NULL,
		min     REAL NOT NULL,
		max     REAL NOT NULL,
		unit    TEXT NOT NULL,
		raw     INTEGER NOT NULL
	);
	CREATE INDEX metric_points_by_metric ON metric_points (account, region, metric, ts);
	CREATE INDEX metric_points_by_time ON metric_points (ts);`,
	// Datapoints name their metric by a number: each metric's scope and
	// key are stored once, in metric_series, not on every datapoint
	// (433 bytes a datapoint on disk before, a day of 100 services'
	// metrics 535 MB).
	`CREATE TABLE metric_series (
		id      INTEGER PRIMARY KEY,
		account TEXT NOT NULL,
		region  TEXT NOT NULL,
		metric  TEXT NOT NULL,
		UNIQUE (account, region, metric)
	);
	CREATE TABLE metric_data (
		id     INTEGER PRIMARY KEY,
		series INTEGER NOT NULL,
		ts     INTEGER NOT NULL,
		hires  INTEGER NOT NULL,
		count  REAL NOT NULL,
		sum    REAL NOT NULL,
		min    REAL NOT NULL,
		max    REAL NOT NULL,
		unit   TEXT NOT NULL,
		raw    INTEGER NOT NULL
	);
	CREATE INDEX metric_data_by_series ON metric_data (series, ts);
	CREATE INDEX metric_data_by_time ON metric_data (ts);
	INSERT INTO metric_series (account, region, metric) SELECT DISTINCT account, region, metric FROM metric_points;
	INSERT INTO metric_data (series, ts, hires, count, sum, min, max, unit, raw)
		SELECT s.id, p.ts, p.hires, p.count, p.sum, p.min, p.max, p.unit, p.raw
		FROM metric_points p JOIN metric_series s ON s.account = p.account AND s.region = p.region AND s.metric = p.metric
		ORDER BY p.id;
	DROP TABLE metric_points;`,
}

func migrate(db *sql.DB) error {
	var version int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil {
		return err
	}
	for i := version; i < len(migrations); i++ {
		tx, err := db.Begin()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, i+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}
