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

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

// ErrNotFound is returned by Get when no row has the key.
var ErrNotFound = errors.New("sqlite: not found")

// Store is the SQLite database behind berth.
type Store struct {
	writer *sql.DB
	reader *sql.DB
}

// Open opens (creating if needed) the database at path and migrates it. The
// path ":memory:" is not supported: tests use a file in t.TempDir().
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	dsn := func(readOnly bool) string {
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
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
	return &Store{writer: writer, reader: reader}, nil
}

// Close closes both connection pools.
func (s *Store) Close() error {
	return errors.Join(s.reader.Close(), s.writer.Close())
}

// Update runs fn in one write transaction: everything fn does commits
// together, or nothing does if fn returns an error.
func (s *Store) Update(ctx context.Context, fn func(*Tx) error) error {
	return run(ctx, s.writer, fn)
}

// View runs fn in a read transaction that sees one consistent snapshot.
func (s *Store) View(ctx context.Context, fn func(*Tx) error) error {
	return run(ctx, s.reader, fn)
}

func run(ctx context.Context, db *sql.DB, fn func(*Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(&Tx{ctx: ctx, tx: tx}); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
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
