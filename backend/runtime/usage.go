package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/moby/moby/client"
)

// Usage is one reading of a running container's resource usage.
type Usage struct {
	ContainerID string
	Labels      map[string]string
	// Read is when the Engine took the reading.
	Read time.Time
	// CPUNanos is the CPU time the container has used since it started,
	// in nanoseconds; its rate between two readings is the CPU it uses.
	CPUNanos uint64
	// MemoryBytes is the memory the container uses less its inactive
	// page cache, as docker stats shows it.
	MemoryBytes uint64
}

// usageCalls bounds the stats calls that Usages makes at once, so that a
// host with many containers queues them in berth, not in the Engine. A
// call costs the Engine little CPU but may wait: Engines of API 1.41
// (Docker 20.10) answer a one-shot call with the reading of their stats
// collector's next round, up to a second later.
const usageCalls = 8

// statsDoc is the part of the Engine's stats document that Usage reads.
// https://docs.docker.com/reference/api/engine/version/v1.47/#tag/Container/operation/ContainerStats
type statsDoc struct {
	Read     time.Time `json:"read"`
	CPUStats struct {
		CPUUsage struct {
			TotalUsage uint64 `json:"total_usage"`
		} `json:"cpu_usage"`
	} `json:"cpu_stats"`
	MemoryStats memoryStats `json:"memory_stats"`
}

// memoryStats is a container's memory use as the Engine reports it: the
// cgroup's usage, and the cgroup's memory.stat counters.
type memoryStats struct {
	Usage uint64            `json:"usage"`
	Stats map[string]uint64 `json:"stats"`
}

// used is the memory in use less the inactive page cache, as the docker
// CLI computes it: "the cache usage is defined as the value of
// total_inactive_file field in the memory.stat file on cgroup v1 hosts
// [...] On cgroup v2 hosts, the cache usage is defined as the value of
// inactive_file field."
// https://docs.docker.com/reference/cli/docker/container/stats/
func (m memoryStats) used() uint64 {
	cache, v1 := m.Stats["total_inactive_file"]
	if !v1 {
		cache = m.Stats["inactive_file"]
	}
	if cache > m.Usage {
		return m.Usage
	}
	return m.Usage - cache
}

// Usages reads the resource usage of every running container that has
// all labels: one list, then one one-shot stats call for each container,
// a few at a time. A container that stops in between is left out.
func (d *Docker) Usages(ctx context.Context, labels map[string]string) ([]Usage, error) {
	if len(labels) == 0 {
		return nil, errors.New("reading usage needs a label")
	}
	list, err := func() ([]Usage, error) {
		ctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		res, err := d.c.ContainerList(ctx, client.ContainerListOptions{Filters: labelFilter(labels).Add("status", "running")})
		out := make([]Usage, len(res.Items))
		for i, c := range res.Items {
			out[i] = Usage{ContainerID: c.ID, Labels: c.Labels}
		}
		return out, err
	}()
	if err != nil {
		return nil, err
	}
	errs := make([]error, len(list))
	ok := make([]bool, len(list))
	slots := make(chan struct{}, usageCalls)
	var wg sync.WaitGroup
	for i := range list {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			errs[i] = d.usage(ctx, &list[i])
			// A container that stopped since the list reads as zeros.
			ok[i] = errs[i] == nil && !list[i].Read.IsZero()
			if IsNotFound(errs[i]) {
				errs[i] = nil
			}
		})
	}
	wg.Wait()
	out := list[:0]
	for i, u := range list {
		if ok[i] {
			out = append(out, u)
		}
	}
	return out, errors.Join(errs...)
}

// usage fills u with one reading of its container: a one-shot stats call,
// which the Engine answers at once, without waiting a second for a
// previous sample.
func (d *Docker) usage(ctx context.Context, u *Usage) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	res, err := d.c.ContainerStats(ctx, u.ContainerID, client.ContainerStatsOptions{})
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var doc statsDoc
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		return err
	}
	u.Read, u.CPUNanos, u.MemoryBytes = doc.Read, doc.CPUStats.CPUUsage.TotalUsage, doc.MemoryStats.used()
	return nil
}
