package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

func open(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "berth.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

type item struct{ N int }

func key(id string) Key { return Key{Account: "a", Region: "r", Kind: "item", ID: id} }

func put(t *testing.T, s *Store, id, parent, name string, n int) {
	t.Helper()
	err := s.Update(context.Background(), func(tx *Tx) error {
		return tx.Put(Row{Key: key(id), Parent: parent, Name: name}, item{n})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestResources(t *testing.T) {
	s, path := open(t)
	ctx := context.Background()
	for i := range 5 {
		put(t, s, fmt.Sprint("id", i), "p", map[bool]string{true: "even", false: "odd"}[i%2 == 0], i)
	}
	put(t, s, "id0", "p", "even", 100) // a replaced resource keeps its place
	other := Key{Account: "b", Region: "r2", Kind: "item", ID: "elsewhere"}
	if err := s.Update(ctx, func(tx *Tx) error { return tx.Put(Row{Key: other, Name: "even"}, item{7}) }); err != nil {
		t.Fatal(err)
	}
	q := Query{Account: "a", Region: "r", Kind: "item", Parent: "p"}
	err := s.View(ctx, func(tx *Tx) error {
		var v item
		if err := tx.Get(key("nope"), &v); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(missing) = %v", err)
		}
		if err := tx.Get(key("id0"), &v); err != nil || v.N != 100 {
			t.Errorf("Get(id0) = %v %v", v, err)
		}
		pq := q
		pq.Limit = 2
		var all []int
		for {
			page, next, err := ListPage[item](tx, pq, nil)
			if err != nil {
				return err
			}
			for _, it := range page {
				all = append(all, it.N)
			}
			if next == "" {
				break
			}
			pq.Token = next
		}
		if fmt.Sprint(all) != "[100 1 2 3 4]" {
			t.Errorf("paged list = %v", all)
		}
		even := q
		even.Name = "even"
		if n, _ := tx.Count(even); n != 3 {
			t.Errorf("Count(even) = %d", n)
		}
		ids, _, err := tx.ListIDs(even)
		if fmt.Sprint(ids) != "[id0 id2 id4]" || err != nil {
			t.Errorf("ListIDs(even) = %v %v", ids, err)
		}
		across, err := ScanAll[item](tx, "item", "even")
		if err != nil || len(across) != 4 || across[3].Key != other || across[3].Value.N != 7 {
			t.Errorf("ScanAll(even) = %+v %v", across, err)
		}
		bad := q
		bad.Token = "bm90LWEtdG9rZW4"
		if _, _, err := ListPage[item](tx, bad, nil); !errors.Is(err, ErrBadToken) {
			t.Errorf("bad token = %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A failed update changes nothing.
	boom := errors.New("boom")
	if err := s.Update(ctx, func(tx *Tx) error {
		tx.Delete(key("id1"))
		return boom
	}); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	// DeleteAll takes exactly what its query names: here the even ones
	// under p, and not the even one of another scope.
	if err := s.Update(ctx, func(tx *Tx) error {
		even := q
		even.Name, even.Limit = "even", 1
		if err := tx.DeleteAll(even); err != nil {
			return err
		}
		if n, _ := tx.Count(q); n != 2 {
			t.Errorf("after DeleteAll(even): %d resources, want the 2 odd ones", n)
		}
		return tx.DeleteAll(Query{}) // matching nothing: nothing to do
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.View(ctx, func(tx *Tx) error { return tx.Get(other, &item{}) }); err != nil {
		t.Fatalf("another scope's resource after DeleteAll: %v", err)
	}
	for i := range 5 {
		put(t, s, fmt.Sprint("id", i), "p", map[bool]string{true: "even", false: "odd"}[i%2 == 0], i)
	}
	// State survives reopening.
	s.Close()
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	s2.View(ctx, func(tx *Tx) error {
		if n, _ := tx.Count(q); n != 5 {
			t.Errorf("after reopen: %d resources", n)
		}
		return nil
	})
}

// TestCacheNeverStale: a reader that starts after a write has returned
// always sees that write or a later one, while writers and readers race.
func TestCacheNeverStale(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	put(t, s, "counter", "", "", 0)
	var committed atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; i <= 500; i++ {
			err := s.Update(ctx, func(tx *Tx) error { return tx.Put(Row{Key: key("counter")}, item{i}) })
			if err != nil {
				t.Error(err)
				return
			}
			committed.Store(int64(i))
		}
	}()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for committed.Load() < 500 {
				floor := committed.Load()
				var v item
				if err := s.View(ctx, func(tx *Tx) error { return tx.Get(key("counter"), &v) }); err != nil {
					t.Error(err)
					return
				}
				if int64(v.N) < floor {
					t.Errorf("read %d after %d was committed", v.N, floor)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestWipe: every resource but the kinds kept is gone, cached ones too.
func TestWipe(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	put(t, s, "a", "", "", 1)
	kept := Key{Account: "a", Region: "r", Kind: "keep", ID: "k"}
	if err := s.Update(ctx, func(tx *Tx) error { return tx.Put(Row{Key: kept}, item{2}) }); err != nil {
		t.Fatal(err)
	}
	var v item
	if err := s.View(ctx, func(tx *Tx) error { return tx.Get(key("a"), &v) }); err != nil { // now cached
		t.Fatal(err)
	}
	if err := s.Wipe(ctx, "keep"); err != nil {
		t.Fatal(err)
	}
	err := s.View(ctx, func(tx *Tx) error { return tx.Get(key("a"), &v) })
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("a wiped resource: %v", err)
	}
	if err := s.View(ctx, func(tx *Tx) error { return tx.Get(kept, &v) }); err != nil || v.N != 2 {
		t.Fatalf("the kept resource: %v %+v", err, v)
	}
}

// TestCacheBounded writes 100k distinct keys, one a transaction as a log
// shipper writes batches, each read back by a reader that started after
// it: the cache keeps neither every body nor a record of every write.
func TestCacheBounded(t *testing.T) {
	c := newCache()
	body := []byte(`{"N":1}`)
	for i := range 100_000 {
		k := key(fmt.Sprint("batch", i))
		c.written([]Key{k})
		c.add(k, body, c.gen.Load())
	}
	bodies, writes := c.stats()
	if bodies > maxCacheKeys || writes > maxTrackedWrites {
		t.Errorf("after 100000 keys the cache holds %d bodies and %d writes; caps %d and %d", bodies, writes, maxCacheKeys, maxTrackedWrites)
	}
}

// TestCacheStaysFreshPastForgetting has a reader start, then a write of
// its key, then enough writes that the record of that write is forgotten:
// the body the reader read from its older snapshot must not be cached.
func TestCacheStaysFreshPastForgetting(t *testing.T) {
	c := newCache()
	reader := c.gen.Load()
	c.written([]Key{key("x")})
	for i := range maxTrackedWrites + 10 {
		c.written([]Key{key(fmt.Sprint("other", i))})
	}
	c.add(key("x"), []byte(`{"N":1}`), reader)
	if _, ok := c.get(key("x")); ok {
		t.Fatal("a reader older than a forgotten write cached its body")
	}
	c.add(key("x"), []byte(`{"N":2}`), c.gen.Load())
	if _, ok := c.get(key("x")); !ok {
		t.Fatal("a reader newer than every write could not cache")
	}
}

// TestFilesPrivate opens a store in a world-readable directory holding a
// world-readable database, as an older berth left them, and checks that
// the directory is 0700 and the database, WAL and shared memory 0600.
func TestFilesPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "berth.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	put(t, s, "x", "", "", 1)
	s.Close()
	os.Chmod(dir, 0o755)
	os.Chmod(path, 0o644)
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	put(t, s, "y", "", "", 1)
	want := map[string]os.FileMode{dir: 0o700, path: 0o600, path + "-wal": 0o600, path + "-shm": 0o600}
	for p, mode := range want {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != mode {
			t.Errorf("%s has mode %v, want %v", p, st.Mode().Perm(), mode)
		}
	}
}

// A database one store has open cannot be opened by another (a second
// berth on the same data directory): the first store's cache assumes it
// is the only writer. Once it is closed, the database opens again.
func TestOpenLocked(t *testing.T) {
	s, path := open(t)
	if _, err := Open(path); !errors.Is(err, ErrInUse) {
		t.Fatalf("second Open = %v, want ErrInUse", err)
	}
	s.Close()
	again, err := Open(path)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	again.Close()
}

// TestMetricPoints: points read back by metric and time range, in time
// order; retention deletes by age; a wipe deletes them all.
func TestMetricPoints(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := func(ts int64, v float64, hires bool) MetricPoint {
		return MetricPoint{Timestamp: ts, HighResolution: hires, Count: 1, Sum: v, Min: v, Max: v, Unit: "None", Raw: true}
	}
	err = s.Update(ctx, func(tx *Tx) error {
		if err := tx.AppendMetricPoints("a", "r", "m", []MetricPoint{p(120_000, 3, false), p(60_000, 1, true), p(61_000, 2, true)}); err != nil {
			return err
		}
		return tx.AppendMetricPoints("a", "r", "other", []MetricPoint{p(60_000, 9, false)})
	})
	if err != nil {
		t.Fatal(err)
	}
	read := func(from, to int64) (out []MetricPoint) {
		t.Helper()
		if err := s.View(ctx, func(tx *Tx) (err error) { out, err = tx.MetricPoints("a", "r", "m", from, to); return err }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := read(0, 120_000); len(got) != 2 || got[0].Sum != 1 || got[1].Sum != 2 || !got[0].HighResolution {
		t.Fatalf("points = %+v", got)
	}
	// The two high-resolution points become one statistic set of their
	// minute.
	err = s.Update(ctx, func(tx *Tx) error { _, err := tx.DeleteMetricPoints(0, 100_000); return err })
	if err != nil {
		t.Fatal(err)
	}
	if got := read(0, 200_000); len(got) != 2 || got[0].Timestamp != 60_000 || got[0].Count != 2 || got[0].Sum != 3 || got[0].Min != 1 || got[0].Max != 2 || got[0].Raw || got[0].HighResolution {
		t.Fatalf("after the roll-up = %+v", got)
	}
	if err := s.Wipe(ctx); err != nil {
		t.Fatal(err)
	}
	if got := read(0, 200_000); len(got) != 0 {
		t.Fatalf("after a wipe = %+v", got)
	}
}
