package sqlite

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
)

// Tx is one transaction; its methods are the only queries berth runs.
type Tx struct {
	ctx context.Context
	tx  *sql.Tx
}

// Key names one resource: its account and region scope, its kind (a short
// stable word such as "cluster") and its id within the kind (usually its ARN).
type Key struct {
	Account, Region, Kind, ID string
}

// Row is a resource as stored.
type Row struct {
	Key
	// Parent is the resource this one belongs to (a cluster's ARN for a
	// service, a listener's ARN for a rule); "" for none.
	Parent string
	// Name is the resource's name, indexed for lookups by name.
	Name string
}

// Get decodes the resource at k into v, or returns ErrNotFound.
func (t *Tx) Get(k Key, v any) error {
	var body []byte
	err := t.tx.QueryRowContext(t.ctx,
		`SELECT body FROM resources WHERE account=? AND region=? AND kind=? AND id=?`,
		k.Account, k.Region, k.Kind, k.ID).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	return json.Unmarshal(body, v)
}

// Exists reports whether a resource has the key k.
func (t *Tx) Exists(k Key) (bool, error) {
	var n int
	err := t.tx.QueryRowContext(t.ctx,
		`SELECT count(*) FROM resources WHERE account=? AND region=? AND kind=? AND id=?`,
		k.Account, k.Region, k.Kind, k.ID).Scan(&n)
	return n > 0, err
}

// Put stores v at r's key, inserting it or replacing the stored one. A
// replaced resource keeps its place in list order.
func (t *Tx) Put(r Row, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = t.tx.ExecContext(t.ctx, `
		INSERT INTO resources (account, region, kind, id, parent, name, seq, body)
		VALUES (?, ?, ?, ?, ?, ?, (SELECT next FROM sequence), ?)
		ON CONFLICT (account, region, kind, id) DO UPDATE SET parent=excluded.parent, name=excluded.name, body=excluded.body`,
		r.Account, r.Region, r.Kind, r.ID, r.Parent, r.Name, body)
	if err != nil {
		return err
	}
	_, err = t.tx.ExecContext(t.ctx, `UPDATE sequence SET next = next + 1`)
	return err
}

// Delete removes the resource at k; deleting a missing one is not an error.
func (t *Tx) Delete(k Key) error {
	_, err := t.tx.ExecContext(t.ctx,
		`DELETE FROM resources WHERE account=? AND region=? AND kind=? AND id=?`,
		k.Account, k.Region, k.Kind, k.ID)
	return err
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

// ErrBadToken is returned by List for a token it did not issue.
var ErrBadToken = errors.New("sqlite: invalid pagination token")

// List calls fn with each matching resource's raw JSON in creation order and
// returns the token of the next page ("" when there is none). fn reports
// whether the resource belongs on the page: rows it rejects (a filter the
// index cannot answer) do not count toward q.Limit.
func (t *Tx) List(q Query, fn func(id string, body []byte) (bool, error)) (next string, err error) {
	var after int64
	if q.Token != "" {
		raw, err := base64.RawURLEncoding.DecodeString(q.Token)
		if err != nil {
			return "", ErrBadToken
		}
		kind, seq, ok := strings.Cut(string(raw), ":")
		if after, err = strconv.ParseInt(seq, 10, 64); !ok || err != nil || kind != q.Kind {
			return "", ErrBadToken
		}
	}
	sqlText := `SELECT id, seq, body FROM resources WHERE account=? AND region=? AND kind=? AND seq > ?`
	args := []any{q.Account, q.Region, q.Kind, after}
	if q.Parent != "" {
		sqlText += ` AND parent=?`
		args = append(args, q.Parent)
	}
	if q.Name != "" {
		sqlText += ` AND name=?`
		args = append(args, q.Name)
	}
	sqlText += ` ORDER BY seq`
	rows, err := t.tx.QueryContext(t.ctx, sqlText, args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	n := 0
	var last int64
	for rows.Next() {
		var id string
		var body []byte
		var seq int64
		if err := rows.Scan(&id, &seq, &body); err != nil {
			return "", err
		}
		keep, err := fn(id, body)
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
	sqlText := `SELECT count(*) FROM resources WHERE account=? AND region=? AND kind=?`
	args := []any{q.Account, q.Region, q.Kind}
	if q.Parent != "" {
		sqlText += ` AND parent=?`
		args = append(args, q.Parent)
	}
	if q.Name != "" {
		sqlText += ` AND name=?`
		args = append(args, q.Name)
	}
	var n int
	err := t.tx.QueryRowContext(t.ctx, sqlText, args...).Scan(&n)
	return n, err
}

// ListAll decodes every resource matching q into a slice of T.
func ListAll[T any](t *Tx, q Query) ([]T, error) {
	q.Token, q.Limit = "", 0
	out, _, err := ListPage[T](t, q, nil)
	return out, err
}

// ListPage decodes one page of resources matching q, and keep where it is
// not nil, into a slice of T.
func ListPage[T any](t *Tx, q Query, keep func(T) bool) ([]T, string, error) {
	var out []T
	next, err := t.List(q, func(_ string, body []byte) (bool, error) {
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
