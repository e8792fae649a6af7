package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestBoto3Suite runs the pytest suite in boto3/, written as suites for
// moto's server mode are (a reset before every test), against a berth of
// its own: the resets would wipe the shared one.
func TestBoto3Suite(t *testing.T) {
	t.Parallel()
	python := pythonWith(t, "boto3", "pytest")
	b := startT(t, filepath.Join(t.TempDir(), "data"))
	cmd := exec.Command(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "boto3")
	cmd.Env = append(os.Environ(), "BERTH_ENDPOINT="+b.url, "BERTH_TEST_IMAGE="+testImage, "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pytest: %v\n%s", err, out)
	}
	t.Logf("pytest:\n%s", out)
}

// pythonWith is a Python 3 that imports modules: the one on PATH, or
// Debian's, where `make deps` installs them.
func pythonWith(t *testing.T, modules ...string) string {
	t.Helper()
	imports := "import " + modules[0]
	for _, m := range modules[1:] {
		imports += ", " + m
	}
	for _, python := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(python, "-c", imports).Run() == nil {
			return python
		}
	}
	t.Fatalf("no python3 can %q: run `make deps`", imports)
	return ""
}
