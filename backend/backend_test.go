package backend

import (
	"errors"
	"slices"
	"testing"
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
