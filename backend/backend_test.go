package backend

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"berth/sqlite"
)

func TestPage(t *testing.T) {
	all := []string{"a", "b", "c", "d", "e"}
	id := func(s string) string { return s }
	first, next, err := Page(all, id, "", 2)
	if err != nil || !slices.Equal(first, []string{"a", "b"}) || next == "" {
		t.Fatalf("first page %v %q %v", first, next, err)
	}
	// "c" went away between pages: the next page starts after "b" all the same.
	second, next, err := Page([]string{"a", "b", "d", "e"}, id, next, 2)
	if err != nil || !slices.Equal(second, []string{"d", "e"}) || next != "" {
		t.Fatalf("second page %v %q %v", second, next, err)
	}
	if _, _, err := Page(all, id, "not base64!", 2); !errors.Is(err, ErrBadToken) {
		t.Fatalf("a bad token: %v", err)
	}
}

// The instance secret (what signs ECR tokens and keys task credentials
// ids) is random, drawn once per store and kept.
func TestSecret(t *testing.T) {
	open := func(path string) *sqlite.Store {
		s, err := sqlite.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	dir := t.TempDir()
	one, two := open(filepath.Join(dir, "one.db")), open(filepath.Join(dir, "two.db"))
	k1, err := Secret(t.Context(), one, RandomIDs{})
	if err != nil || len(k1) != 32 {
		t.Fatalf("Secret = %x, %v", k1, err)
	}
	again, _ := Secret(t.Context(), one, RandomIDs{})
	other, _ := Secret(t.Context(), two, RandomIDs{})
	if string(again) != string(k1) || string(other) == string(k1) {
		t.Fatalf("secrets %x, again %x, another store's %x", k1, again, other)
	}
}
