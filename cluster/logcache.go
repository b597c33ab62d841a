package cluster

import (
	"fmt"
	"sync"

	"github.com/hashicorp/raft"
)

// logCache keeps the most recent raft log entries in memory in front of the
// log store, like raft.LogCache, with two differences that matter for memory:
//
//   - It is bounded by bytes as well as by count. Entries differ a thousandfold
//     in size: a single domain is a few hundred bytes, a batch of 1000 about
//     140 KB, so raft.LogCache's 512 entries held 70 MB after a bulk load and
//     kept it until 512 newer entries came.
//   - It caches copies. The leader's entries are fields of their apply futures,
//     so caching the pointer raft passes kept each future reachable, and with it
//     the result the FSM returned to the proposer: another 90 MB of results for
//     512 batches.
type logCache struct {
	store    raft.LogStore
	maxBytes int

	mu     sync.RWMutex
	ring   []*raft.Log // entry i at i % len(ring)
	bytes  int         // entrySize of the cached entries
	lo, hi uint64      // entries below lo are not cached; hi is the newest; hi == 0: empty
}

var _ raft.LogStore = (*logCache)(nil)

// newLogCache caches up to capacity entries and about maxBytes of them (the
// newest entry is kept whatever its size) in front of store.
func newLogCache(store raft.LogStore, capacity, maxBytes int) (*logCache, error) {
	if capacity <= 0 || maxBytes <= 0 {
		return nil, fmt.Errorf("cluster: log cache of %d entries, %d bytes", capacity, maxBytes)
	}
	return &logCache{store: store, maxBytes: maxBytes, ring: make([]*raft.Log, capacity)}, nil
}

// entrySize is what an entry costs in the cache: its data and the struct.
func entrySize(l *raft.Log) int { return len(l.Data) + len(l.Extensions) + 96 }

// IsMonotonic forwards raft.MonotonicLogStore, as raft.LogCache does.
func (c *logCache) IsMonotonic() bool {
	m, ok := c.store.(raft.MonotonicLogStore)
	return ok && m.IsMonotonic()
}

// GetLog implements raft.LogStore.
func (c *logCache) GetLog(idx uint64, log *raft.Log) error {
	c.mu.RLock()
	cached := c.ring[idx%uint64(len(c.ring))]
	c.mu.RUnlock()
	if cached != nil && cached.Index == idx {
		*log = *cached
		return nil
	}
	return c.store.GetLog(idx, log)
}

// StoreLog implements raft.LogStore.
func (c *logCache) StoreLog(log *raft.Log) error { return c.StoreLogs([]*raft.Log{log}) }

// StoreLogs implements raft.LogStore: the entries are cached once the store
// has them.
func (c *logCache) StoreLogs(logs []*raft.Log) error {
	if err := c.store.StoreLogs(logs); err != nil {
		return fmt.Errorf("cluster: store log entries: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	n := uint64(len(c.ring))
	for _, l := range logs {
		cp := *l
		slot := &c.ring[l.Index%n]
		if *slot != nil {
			c.bytes -= entrySize(*slot)
		}
		*slot = &cp
		c.bytes += entrySize(&cp)
		if c.hi == 0 || l.Index < c.lo {
			c.lo = l.Index
		}
		c.hi = max(c.hi, l.Index)
	}
	if c.hi >= n {
		c.lo = max(c.lo, c.hi-n+1) // older slots were overwritten
	}
	for c.bytes > c.maxBytes && c.lo < c.hi {
		slot := &c.ring[c.lo%n]
		if *slot != nil && (*slot).Index == c.lo {
			c.bytes -= entrySize(*slot)
			*slot = nil
		}
		c.lo++
	}
	return nil
}

// FirstIndex implements raft.LogStore.
func (c *logCache) FirstIndex() (uint64, error) { return c.store.FirstIndex() }

// LastIndex implements raft.LogStore.
func (c *logCache) LastIndex() (uint64, error) { return c.store.LastIndex() }

// DeleteRange implements raft.LogStore: it empties the cache.
func (c *logCache) DeleteRange(lo, hi uint64) error {
	c.mu.Lock()
	clear(c.ring)
	c.bytes, c.lo, c.hi = 0, 0, 0
	c.mu.Unlock()
	return c.store.DeleteRange(lo, hi)
}
