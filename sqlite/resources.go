package sqlite

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"

	"github.com/goccy/go-json" // encoding/json's API, several times faster on the SDK's large structs
)

// Tx is one transaction; its methods are the only queries berth runs.
type Tx struct {
	ctx  context.Context
	pool *pool
	tx   *sql.Tx // begun on first use

	cache   *cache // read transactions only
	gen     uint64 // the cache generation when the transaction started
	written []Key  // keys a write transaction changed
}

// finish commits the transaction, or rolls it back if err is not nil. The
// SQLite transaction begins with the first query, so a transaction that
// needed none costs nothing.
func (t *Tx) finish(err error) error {
	if t.tx == nil {
		return err
	}
	if err != nil {
		t.tx.Rollback()
		return err
	}
	return t.tx.Commit()
}

// stmt returns the prepared statement for query within the transaction.
func (t *Tx) stmt(query string) (*sql.Stmt, error) {
	if t.tx == nil {
		tx, err := t.pool.db.BeginTx(t.ctx, nil)
		if err != nil {
			return nil, err
		}
		t.tx = tx
	}
	st, err := t.pool.stmt(query)
	if err != nil {
		return nil, err
	}
	return t.tx.StmtContext(t.ctx, st), nil
}

// scanOne runs a query that returns at most one row into dest.
func (t *Tx) scanOne(query string, args []any, dest ...any) error {
	st, err := t.stmt(query)
	if err != nil {
		return err
	}
	return st.QueryRowContext(t.ctx, args...).Scan(dest...)
}

func (t *Tx) exec(query string, args ...any) error {
	st, err := t.stmt(query)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(t.ctx, args...)
	return err
}

// Key names one resource: its account and region scope, its kind (a short
// stable word such as "ecs/cluster") and its id within the kind (usually
// its ARN).
type Key struct {
	Account, Region, Kind, ID string
}

func (k Key) args() []any { return []any{k.Account, k.Region, k.Kind, k.ID} }

// Row is a resource as stored.
type Row struct {
	Key
	// Parent is the resource this one belongs to (a cluster's ARN for a
	// service, a listener's ARN for a rule); "" for none.
	Parent string
	// Name is indexed for lookups (a resource's name, a task's status).
	Name string
}

const (
	keyWhere  = ` WHERE account=? AND region=? AND kind=? AND id=?`
	getSQL    = `SELECT body FROM resources` + keyWhere
	existsSQL = `SELECT count(*) FROM resources` + keyWhere
	deleteSQL = `DELETE FROM resources` + keyWhere
	putSQL    = `INSERT INTO resources (account, region, kind, id, parent, name, seq, body)
		VALUES (?, ?, ?, ?, ?, ?, (SELECT next FROM sequence), ?)
		ON CONFLICT (account, region, kind, id) DO UPDATE SET parent=excluded.parent, name=excluded.name, body=excluded.body`
	nextSeqSQL = `UPDATE sequence SET next = next + 1`
	listSQL    = `SELECT seq, body FROM resources`
	listIDsSQL = `SELECT seq, id FROM resources`
	countSQL   = `SELECT count(*) FROM resources`
	scanSQL    = `SELECT account, region, id, body FROM resources WHERE kind=? AND name=? ORDER BY seq`
	scanAnySQL = `SELECT account, region, id, body FROM resources WHERE kind=? ORDER BY seq`
)

// queries lists every statement the store runs, for preparing at Open.
func queries() []string {
	out := append([]string{getSQL, existsSQL, deleteSQL, putSQL, nextSeqSQL, scanSQL, scanAnySQL}, append(logQueries(), metricQueries()...)...)
	for _, q := range []Query{{}, {Parent: "p"}, {Name: "n"}, {Parent: "p", Name: "n"}} {
		where, _ := q.where(0)
		out = append(out, listSQL+where+listOrder, listIDsSQL+where+listOrder, countSQL+where)
	}
	return out
}

const listOrder = ` ORDER BY seq`

// Get decodes the resource at k into v, or returns ErrNotFound.
func (t *Tx) Get(k Key, v any) error {
	if t.cache != nil {
		if body, ok := t.cache.get(k); ok {
			return json.Unmarshal(body, v)
		}
	}
	var body []byte
	err := t.scanOne(getSQL, k.args(), &body)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	if t.cache != nil {
		t.cache.add(k, body, t.gen)
	}
	return json.Unmarshal(body, v)
}

// Exists reports whether a resource has the key k.
func (t *Tx) Exists(k Key) (bool, error) {
	var n int
	err := t.scanOne(existsSQL, k.args(), &n)
	return n > 0, err
}

// Put stores v at r's key, inserting it or replacing the stored one. A
// replaced resource keeps its place in list order.
func (t *Tx) Put(r Row, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := t.exec(putSQL, r.Account, r.Region, r.Kind, r.ID, r.Parent, r.Name, body); err != nil {
		return err
	}
	t.written = append(t.written, r.Key)
	return t.exec(nextSeqSQL)
}

// Delete removes the resource at k; deleting a missing one is not an error.
func (t *Tx) Delete(k Key) error {
	t.written = append(t.written, k)
	return t.exec(deleteSQL, k.args()...)
}

// DeleteScanned removes every resource of kind, in every scope, for which
// drop is true, given its key and raw JSON: the sweeps that expire what
// has aged.
func (t *Tx) DeleteScanned(kind string, drop func(k Key, body []byte) bool) error {
	var dropped []Key
	if err := t.Scan(kind, "", func(k Key, body []byte) error {
		if drop(k, body) {
			dropped = append(dropped, k)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, k := range dropped {
		if err := t.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// DeleteAll removes every resource matching q, such as the children of
// one parent (q's Token and Limit are ignored).
func (t *Tx) DeleteAll(q Query) error {
	q.Token, q.Limit = "", 0
	ids, _, err := t.ListIDs(q)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := t.Delete(Key{Account: q.Account, Region: q.Region, Kind: q.Kind, ID: id}); err != nil {
			return err
		}
	}
	return nil
}

// Query selects resources of one kind in one scope, in creation order.
type Query struct {
	Account, Region, Kind string
	Parent                string // "" for any parent
	Name                  string // "" for any name
	// Token continues a previous page ("" for the first page); Limit is the
	// page size (0 for no limit).
	Token string
	Limit int
}

// where returns the filter of q and its arguments.
func (q Query) where(after int64) (string, []any) {
	text := ` WHERE account=? AND region=? AND kind=?`
	args := []any{q.Account, q.Region, q.Kind}
	if q.Parent != "" {
		text += ` AND parent=?`
		args = append(args, q.Parent)
	}
	if q.Name != "" {
		text += ` AND name=?`
		args = append(args, q.Name)
	}
	return text + ` AND seq > ?`, append(args, after)
}

// ErrBadToken is returned by List for a token it did not issue.
var ErrBadToken = errors.New("sqlite: invalid pagination token")

func (q Query) after() (int64, error) {
	if q.Token == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(q.Token)
	if err != nil {
		return 0, ErrBadToken
	}
	kind, seq, ok := strings.Cut(string(raw), ":")
	after, err := strconv.ParseInt(seq, 10, 64)
	if !ok || err != nil || kind != q.Kind {
		return 0, ErrBadToken
	}
	return after, nil
}

// List calls fn with each matching resource's raw JSON in creation order and
// returns the token of the next page ("" when there is none). fn reports
// whether the resource belongs on the page: rows it rejects (a filter the
// index cannot answer) do not count toward q.Limit.
func (t *Tx) List(q Query, fn func(body []byte) (bool, error)) (next string, err error) {
	return t.list(listSQL, q, fn)
}

// ListIDs returns one page of the ids of the resources matching q, without
// reading their bodies: the indexes cover it.
func (t *Tx) ListIDs(q Query) (ids []string, next string, err error) {
	next, err = t.list(listIDsSQL, q, func(id []byte) (bool, error) {
		if q.Limit == 0 || len(ids) < q.Limit {
			ids = append(ids, string(id))
		}
		return true, nil
	})
	return ids, next, err
}

func (t *Tx) list(selectSQL string, q Query, fn func(column []byte) (bool, error)) (next string, err error) {
	after, err := q.after()
	if err != nil {
		return "", err
	}
	where, args := q.where(after)
	st, err := t.stmt(selectSQL + where + listOrder)
	if err != nil {
		return "", err
	}
	rows, err := st.QueryContext(t.ctx, args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	n := 0
	var last int64
	for rows.Next() {
		var body []byte
		var seq int64
		if err := rows.Scan(&seq, &body); err != nil {
			return "", err
		}
		keep, err := fn(body)
		if err != nil {
			return "", err
		}
		if !keep {
			continue
		}
		if q.Limit > 0 && n == q.Limit { // a further match: there is a next page
			next = base64.RawURLEncoding.EncodeToString([]byte(q.Kind + ":" + strconv.FormatInt(last, 10)))
			break
		}
		last = seq
		n++
	}
	return next, rows.Err()
}

// Count returns how many resources match q (its Token and Limit are ignored).
func (t *Tx) Count(q Query) (int, error) {
	where, args := q.where(0)
	var n int
	err := t.scanOne(countSQL+where, args, &n)
	return n, err
}

// ListAll decodes every resource matching q into a slice of T.
func ListAll[T any](t *Tx, q Query) ([]T, error) {
	q.Token, q.Limit = "", 0
	out, _, err := ListPage[T](t, q, nil)
	return out, err
}

// ListPage decodes one page of resources matching q, and keep where it is
// not nil, into a slice of T. T may be a subset of the stored type: a
// struct with only the fields a filter needs decodes faster.
func ListPage[T any](t *Tx, q Query, keep func(T) bool) ([]T, string, error) {
	var out []T
	next, err := t.List(q, func(body []byte) (bool, error) {
		var v T
		if err := json.Unmarshal(body, &v); err != nil {
			return false, err
		}
		if keep != nil && !keep(v) {
			return false, nil
		}
		if q.Limit == 0 || len(out) < q.Limit {
			out = append(out, v)
		}
		return true, nil
	})
	return out, next, err
}

// Scan calls fn with the key and raw JSON of every resource of kind with
// the given name ("" for any name), across all scopes, in creation order.
// It serves the reconcilers, which act for every account and region at
// once.
func (t *Tx) Scan(kind, name string, fn func(k Key, body []byte) error) error {
	query, args := scanSQL, []any{kind, name}
	if name == "" {
		query, args = scanAnySQL, []any{kind}
	}
	st, err := t.stmt(query)
	if err != nil {
		return err
	}
	rows, err := st.QueryContext(t.ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		k := Key{Kind: kind}
		var body []byte
		if err := rows.Scan(&k.Account, &k.Region, &k.ID, &body); err != nil {
			return err
		}
		if err := fn(k, body); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ScanAll decodes every resource of kind with the given name ("" for any
// name), across all scopes, into a slice of T with their keys.
func ScanAll[T any](t *Tx, kind, name string) ([]Keyed[T], error) {
	var out []Keyed[T]
	err := t.Scan(kind, name, func(k Key, body []byte) error {
		var v T
		if err := json.Unmarshal(body, &v); err != nil {
			return err
		}
		out = append(out, Keyed[T]{Key: k, Value: v})
		return nil
	})
	return out, err
}

// Keyed is a decoded resource with its key.
type Keyed[T any] struct {
	Key   Key
	Value T
}
