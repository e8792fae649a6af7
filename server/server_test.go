package server

import (
	"os"
	"regexp"
	"testing"

	"github.com/rs/zerolog"

	"berth/backend"
	"berth/backend/ecs"
	"berth/backend/elbv2"
)

// TestREADMEListsEveryOperation keeps the README's list of supported
// operations in step with what the server serves.
func TestREADMEListsEveryOperation(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{}, Backends{ECS: &ecs.Backend{}, ELBv2: &elbv2.Backend{}}, backend.RandomIDs{}, zerolog.Nop())
	for service, tbl := range map[string]table{"ECS": s.ecs, "ELBv2": s.elbv2} {
		if len(tbl.ops) < 20 {
			t.Errorf("%s serves only %d operations", service, len(tbl.ops))
		}
		for name := range tbl.ops {
			if !regexp.MustCompile(`\b` + name + `\b`).Match(readme) {
				t.Errorf("README does not list the %s operation %s", service, name)
			}
		}
	}
}
