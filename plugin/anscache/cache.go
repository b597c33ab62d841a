// Package anscache keeps complete, packed DNS answers so that a repeated question is
// answered by copying bytes: no lookup, no signing, no packing.
//
// An entry is the wire form of the answer to the lower-case question, keyed by that
// question and the query's EDNS flags (see Query). Serving it takes Patch: the query's
// ID, its RD and CD bits, and its question name as the query spelled it (0x20). Owner
// names equal to the question name are compression pointers to it, so they follow.
//
// Entries never outlive what they were built from:
//   - each carries a deadline, the moment its earliest signature may no longer be
//     handed out (the signer's refresh rule), after which it is a miss;
//   - each carries the generation of its zone (Gens) when it was built; a change to
//     the zone bumps the generation and the entry becomes a miss.
//
// The cache is bounded in bytes and split into shards, each with its own lock and a
// CLOCK (second chance) eviction over its slots, one entry at a time.
package anscache

import (
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"
)

// Sizing. slotOverhead approximates what an entry costs beyond its key and wire
// bytes: the slot, its index entry and the allocation's rounding.
const (
	maxShards      = 64
	minShardBudget = 256 << 10
	slotOverhead   = 128
)

// NoDeadline is the deadline of an answer without signatures.
const NoDeadline = math.MaxInt64

// Stats are cumulative counters and current sizes, summed over the shards.
type Stats struct {
	Hits, Misses, Inserts, Evictions uint64
	Entries, Bytes                   int
}

// Add adds o's counters and sizes to s.
func (s *Stats) Add(o Stats) {
	s.Hits += o.Hits
	s.Misses += o.Misses
	s.Inserts += o.Inserts
	s.Evictions += o.Evictions
	s.Entries += o.Entries
	s.Bytes += o.Bytes
}

// Cache is a bounded cache of packed answers. It is safe for concurrent use.
type Cache struct {
	seed   maphash.Seed
	gens   *Gens
	shards []shard
	bits   uint
}

// slot is one cached answer. buf holds the key followed by the wire bytes; it is
// never modified after the slot is filled, so a reader may keep it after unlocking.
type slot struct {
	hash     uint64
	buf      []byte
	keyLen   int
	deadline int64          // Unix seconds; served while now < deadline
	gen      *atomic.Uint64 // the zone's generation cell
	genVal   uint64         // its value when the answer was built
	ref      bool           // CLOCK reference bit
}

func (s *slot) key() []byte  { return s.buf[:s.keyLen] }
func (s *slot) wire() []byte { return s.buf[s.keyLen:] }
func (s *slot) size() int    { return len(s.buf) + slotOverhead }

// shard is one lock's worth of cache.
type shard struct {
	mu     sync.Mutex
	index  map[uint64]int32
	slots  []slot
	free   []int32
	hand   int
	used   int
	budget int

	hits, misses, inserts, evictions uint64

	_ [64]byte // keep neighbouring shards' locks off this cache line
}

// New returns a cache of at most size bytes whose entries are invalidated through
// gens. size <= 0 returns nil: no cache.
func New(size int, gens *Gens) *Cache {
	if size <= 0 {
		return nil
	}
	n, bits := 1, uint(0)
	for n < maxShards && size/(n*2) >= minShardBudget {
		n *= 2
		bits++
	}
	c := &Cache{seed: maphash.MakeSeed(), gens: gens, shards: make([]shard, n), bits: bits}
	for i := range c.shards {
		c.shards[i].index = make(map[uint64]int32)
		c.shards[i].budget = size / n
	}
	return c
}

func (c *Cache) shardFor(key []byte) (*shard, uint64) {
	h := maphash.Bytes(c.seed, key)
	return &c.shards[h>>(64-c.bits)], h // top bits; 0 with one shard
}

// Epoch returns the generations' epoch (Gens.Epoch): read it before building an
// answer that is to be Put.
func (c *Cache) Epoch() uint64 { return c.gens.Epoch() }

// Get returns the answer stored under key if it may still be served at now (Unix
// seconds) and is at most maxLen bytes long (a longer one must be truncated for this
// query: a miss). The returned bytes are shared: copy them before patching.
func (c *Cache) Get(key []byte, now int64, maxLen int) ([]byte, bool) {
	sh, h := c.shardFor(key)
	sh.mu.Lock()
	if i, ok := sh.index[h]; ok {
		s := &sh.slots[i]
		if string(s.key()) == string(key) {
			if now < s.deadline && s.gen.Load() == s.genVal {
				if len(s.buf)-s.keyLen > maxLen {
					sh.misses++
					sh.mu.Unlock()
					return nil, false
				}
				s.ref = true
				sh.hits++
				w := s.wire()
				sh.mu.Unlock()
				return w, true
			}
			sh.remove(i) // stale for good: free its bytes now
		}
	}
	sh.misses++
	sh.mu.Unlock()
	return nil, false
}

// Put stores wire under key: the answer built for zone, whose signatures may be
// served until deadline (Unix seconds). epoch is what Gens.Epoch returned before the
// answer was built: if any zone changed since, the answer may be from the old state and
// is not stored. Put copies key and wire. It reports whether the answer was stored.
func (c *Cache) Put(key, wire []byte, deadline, now int64, zone string, epoch uint64) bool {
	if deadline <= now {
		return false
	}
	gen := c.gens.cell(zone)
	genVal := gen.Load()
	if c.gens.Epoch() != epoch {
		return false
	}
	buf := make([]byte, 0, len(key)+len(wire))
	buf = append(append(buf, key...), wire...)
	sh, h := c.shardFor(key)
	return sh.put(slot{hash: h, buf: buf, keyLen: len(key), deadline: deadline, gen: gen, genVal: genVal})
}

func (sh *shard) put(s slot) bool {
	size := s.size()
	if size > sh.budget {
		return false
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if i, ok := sh.index[s.hash]; ok {
		sh.remove(i) // same key (or a colliding one): the newer answer wins
	}
	for sh.used+size > sh.budget {
		if !sh.evict() {
			return false
		}
	}
	var i int32
	if n := len(sh.free); n > 0 {
		i = sh.free[n-1]
		sh.free = sh.free[:n-1]
		sh.slots[i] = s
	} else {
		i = int32(len(sh.slots))
		sh.slots = append(sh.slots, s)
	}
	sh.index[s.hash] = i
	sh.used += size
	sh.inserts++
	return true
}

// evict removes one entry by CLOCK: entries hit since the hand last passed get a
// second chance. It reports false when the shard is empty.
func (sh *shard) evict() bool {
	for range 2*len(sh.slots) + 1 {
		if len(sh.slots) == 0 {
			return false
		}
		i := sh.hand
		sh.hand = (sh.hand + 1) % len(sh.slots)
		s := &sh.slots[i]
		switch {
		case s.buf == nil:
		case s.ref:
			s.ref = false
		default:
			sh.remove(int32(i))
			sh.evictions++
			return true
		}
	}
	return false
}

func (sh *shard) remove(i int32) {
	s := &sh.slots[i]
	delete(sh.index, s.hash)
	sh.used -= s.size()
	*s = slot{}
	sh.free = append(sh.free, i)
}

// Stats returns the counters summed over the shards.
func (c *Cache) Stats() Stats {
	var st Stats
	if c == nil {
		return st
	}
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		st.Hits += sh.hits
		st.Misses += sh.misses
		st.Inserts += sh.inserts
		st.Evictions += sh.evictions
		st.Entries += len(sh.index)
		st.Bytes += sh.used
		sh.mu.Unlock()
	}
	return st
}
