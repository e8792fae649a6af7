package integration

import (
	"os"
	"path/filepath"
	"testing"
)

// TestDataDirPrivate starts berth over a data directory made world-
// readable (0755, as the harness and older berths make it) and checks
// that berth keeps its state to its own user: the directory and the
// registry's directories 0700, the database with its WAL and shared
// memory 0600. The database holds the CA's private key and the key that
// signs registry tokens.
func TestDataDirPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	startT(t, dir, "--runtime", "none", "--lb-network", "none", "--task-endpoint", "none")
	want := map[string]os.FileMode{
		dir:                                               0o700,
		filepath.Join(dir, "berth.db"):                    0o600,
		filepath.Join(dir, "berth.db-wal"):                0o600,
		filepath.Join(dir, "berth.db-shm"):                0o600,
		filepath.Join(dir, "registry"):                    0o700,
		filepath.Join(dir, "registry", "blobs", "sha256"): 0o700,
		filepath.Join(dir, "registry", "uploads"):         0o700,
	}
	for path, mode := range want {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != mode {
			t.Errorf("%s has mode %v, want %v", path, st.Mode().Perm(), mode)
		}
	}
}
