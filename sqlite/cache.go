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
type cache struct {
	gen atomic.Uint64

	mu        sync.Mutex
	bodies    map[Key][]byte
	size      int
	lastWrite map[Key]uint64
	wiped     uint64 // the generation of the last Wipe: older readers cache nothing
}

// maxCacheBytes bounds the cache; past it the cache starts over.
const maxCacheBytes = 64 << 20

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
	if c.lastWrite[k] > gen || c.wiped > gen {
		return
	}
	if c.size+len(body) > maxCacheBytes {
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
	for _, k := range keys {
		if old, ok := c.bodies[k]; ok {
			c.size -= len(old)
			delete(c.bodies, k)
		}
		c.lastWrite[k] = gen
	}
}

// wipe drops everything, for a store whose resources were all deleted.
func (c *cache) wipe() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wiped = c.gen.Add(1)
	c.bodies, c.size, c.lastWrite = map[Key][]byte{}, 0, map[Key]uint64{}
}
