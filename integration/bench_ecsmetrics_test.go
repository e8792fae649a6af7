package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"berth/backend/runtime"
)

// BenchmarkECSMetricsSample measures what one sample of the AWS/ECS
// metrics costs: Usages over ten running containers of the test image,
// one list and ten one-shot stats calls. It reports the CPU time berth
// spends per container (its own process) and the CPU time the Engine
// spends (dockerd, containerd and the shims, read from /proc, less what
// they use over as long a time right after without calls: other work on
// the machine still blurs it), and the wall time of a sample.
func BenchmarkECSMetricsSample(b *testing.B) {
	const containers = 10
	instance := fmt.Sprintf("bench-metrics-%d", os.Getpid())
	b.Cleanup(func() {
		if ids := dockerLines("ps", "-aq", "--filter", "label=berth.instance="+instance); len(ids) > 0 {
			exec.Command("docker", append([]string{"rm", "-f"}, ids...)...).Run()
		}
	})
	for i := range containers {
		out, err := exec.Command("docker", "run", "-d", "--label", runtime.LabelInstance+"="+instance,
			"--label", runtime.LabelTask+"=task-"+strconv.Itoa(i), testImage).CombinedOutput()
		if err != nil {
			b.Fatalf("docker run: %v: %s", err, out)
		}
	}
	d, err := runtime.NewDocker(instance)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	ctx, labels := context.Background(), map[string]string{runtime.LabelInstance: instance}
	if u, err := d.Usages(ctx, labels); err != nil || len(u) != containers {
		b.Fatalf("Usages = %d readings, %v", len(u), err)
	}
	// Each sample is followed by as long a time without calls, whose
	// Engine CPU (other work on the machine) is subtracted from the
	// sample's.
	var self, busy, wall time.Duration
	b.ResetTimer()
	for range b.N {
		engine, cpu, start := engineCPU(), processCPU(), time.Now()
		if _, err := d.Usages(ctx, labels); err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		self, wall = self+processCPU()-cpu, wall+took
		during := engineCPU() - engine
		engine = engineCPU()
		time.Sleep(took)
		busy += during - (engineCPU() - engine)
	}
	b.StopTimer()
	per := float64(b.N * containers)
	b.ReportMetric(float64(self.Microseconds())/per, "berth-cpu-µs/container")
	b.ReportMetric(float64(busy.Microseconds())/per, "engine-cpu-µs/container")
	b.ReportMetric(float64(wall.Milliseconds())/float64(b.N), "wall-ms/sample")
}

// processCPU is the CPU time (user and system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// engineCPU is the CPU time the Docker Engine's processes (dockerd,
// containerd, containerd-shim) have used, from /proc.
func engineCPU() time.Duration {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var total time.Duration
	for _, p := range stats {
		switch name, cpu := procCPU(p); name {
		case "dockerd", "containerd", "containerd-shim":
			total += cpu
		}
	}
	return total
}

// pidCPU is the CPU time (user and system) process pid has used.
func pidCPU(pid int) time.Duration {
	_, cpu := procCPU(fmt.Sprintf("/proc/%d/stat", pid))
	return cpu
}

// procCPU reads a process's name and the CPU time (user and system) it has
// used from its /proc/<pid>/stat file; "" and 0 when it cannot.
func procCPU(path string) (string, time.Duration) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", 0
	}
	s := string(data)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return "", 0
	}
	// After the name: state, then 10 fields to utime (14th) and stime (15th).
	f := strings.Fields(s[end+1:])
	if len(f) < 13 {
		return "", 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return s[open+1 : end], time.Duration(u+st) * time.Second / 100 // USER_HZ
}
