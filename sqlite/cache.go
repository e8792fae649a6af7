package sqlite

import (
	"sync"
	"sync/atomic"
)

// cache keeps the stored bodies of resources that read transactions have
// fetched, so that point lookups skip SQLite. Bodies are immutable byte
// slices: every Get still decodes its own copy.
//
// Staleness is ruled out with write generations. A read transaction notes
// the generation when it starts; a committed write bumps the generation and
// records it as the last write of every key it touched, then drops those
// keys. A reader may cache a body only if no write to its key committed
// after the reader started: otherwise its snapshot may predate that write.
//
// Both maps are bounded: bodies by maxCacheBytes and maxCacheKeys, the
// record of last writes by maxTrackedWrites. When that record is full it is
// forgotten and its place taken by one floor generation: readers that
// started before it cache nothing, as after a wipe, since a write they
// missed is no longer on record.
type cache struct {
	gen atomic.Uint64

	mu        sync.Mutex
	bodies    map[Key][]byte
	size      int
	lastWrite map[Key]uint64
	floor     uint64 // readers older than this generation cache nothing
}

// Bounds of the cache; past one the cache starts over.
const (
	maxCacheBytes    = 64 << 20
	maxCacheKeys     = 1 << 16
	maxTrackedWrites = 1 << 16
)

func newCache() *cache {
	return &cache{bodies: map[Key][]byte{}, lastWrite: map[Key]uint64{}}
}

func (c *cache) get(k Key) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.bodies[k]
	return b, ok
}

// add caches body for k as read by a transaction that started at gen.
func (c *cache) add(k Key, body []byte, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lastWrite[k] > gen || c.floor > gen {
		return
	}
	if c.size+len(body) > maxCacheBytes || len(c.bodies) >= maxCacheKeys {
		c.bodies, c.size = map[Key][]byte{}, 0
	}
	if old, ok := c.bodies[k]; ok {
		c.size -= len(old)
	}
	c.bodies[k] = body
	c.size += len(body)
}

// written drops the keys a committed transaction wrote.
func (c *cache) written(keys []Key) {
	if len(keys) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	gen := c.gen.Add(1)
	if len(c.lastWrite)+len(keys) > maxTrackedWrites {
		c.lastWrite, c.floor = map[Key]uint64{}, gen
	}
	for _, k := range keys {
		if old, ok := c.bodies[k]; ok {
			c.size -= len(old)
			delete(c.bodies, k)
		}
		if gen > c.floor {
			c.lastWrite[k] = gen
		}
	}
}

// stats returns how many bodies and write records the cache holds.
func (c *cache) stats() (bodies, writes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.bodies), len(c.lastWrite)
}

// wipe drops everything, for a store whose resources were all deleted.
func (c *cache) wipe() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.floor = c.gen.Add(1)
	c.bodies, c.size, c.lastWrite = map[Key][]byte{}, 0, map[Key]uint64{}
}
