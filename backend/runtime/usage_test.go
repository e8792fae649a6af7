package runtime

import (
	"encoding/json"
	"testing"
)

// The memory in use is the cgroup's usage less its inactive page cache:
// total_inactive_file on cgroup v1, inactive_file on cgroup v2, as
// https://docs.docker.com/reference/cli/docker/container/stats/ defines
// the docker CLI's MEM USAGE.
func TestMemoryUsedLessInactiveCache(t *testing.T) {
	t.Parallel()
	const mib = 1 << 20
	for _, c := range []struct {
		name string
		doc  string
		want uint64
	}{
		{"cgroup v1", `{"usage":104857600,"stats":{"total_inactive_file":31457280,"inactive_file":1048576,"cache":52428800}}`, 70 * mib},
		{"cgroup v2", `{"usage":104857600,"stats":{"inactive_file":31457280,"file":52428800}}`, 70 * mib},
		{"no counters", `{"usage":104857600}`, 100 * mib},
		{"cache above usage", `{"usage":1048576,"stats":{"inactive_file":2097152}}`, mib},
	} {
		var m memoryStats
		if err := json.Unmarshal([]byte(c.doc), &m); err != nil {
			t.Fatal(err)
		}
		if got := m.used(); got != c.want {
			t.Errorf("%s: used = %d, want %d", c.name, got, c.want)
		}
	}
}
