package signer

import (
	"sync"

	"github.com/miekg/dns"
)

// maxShards is the number of cache shards for large caches; each has its own
// lock, so concurrent Sign calls rarely contend. Small caches get fewer shards
// so that each holds at least minPerShard entries: CLOCK needs room to give a
// hot entry its second chance.
const (
	maxShards   = 256
	minPerShard = 64
)

// entry is one cached signature.
type entry struct {
	hash       uint64
	keyID      uint64
	ttl        uint32
	canonLen   int       // length of the canonical RRset: a cheap collision check
	inception  int64     // Unix seconds, not serial arithmetic
	expiration int64     // Unix seconds
	sig        dns.RRSIG // template; Hdr.Name is filled in per answer
	ref        bool      // CLOCK reference bit, set on every hit
}

// shard is one lock's worth of cache, with a fixed capacity. Entries live in a
// slab; eviction is CLOCK (second chance) over the slab, one entry at a time,
// so the cache is never emptied at once (PowerDNS #12899).
type shard struct {
	mu    sync.Mutex
	index map[uint64]int32
	slab  []entry
	hand  int
	cap   int

	hits, misses, signatures, evictions uint64

	_ [64]byte // keep neighbouring shards' locks off this cache line
}

// get returns the cached entry for hash if it is still fit to hand out at now:
// see fresh.
func (sh *shard) get(hash, keyID uint64, ttl uint32, canonLen int, now, minRemain int64, out *dns.RRSIG) bool {
	sh.mu.Lock()
	if i, ok := sh.index[hash]; ok {
		e := &sh.slab[i]
		if e.keyID == keyID && e.ttl == ttl && e.canonLen == canonLen &&
			e.inception <= now && e.expiration-now > minRemain {
			e.ref = true
			*out = e.sig
			sh.hits++
			sh.mu.Unlock()
			return true
		}
	}
	sh.misses++
	sh.mu.Unlock()
	return false
}

// put stores e, replacing an entry with the same hash in place, or else
// taking a free slot, or else evicting one entry.
func (sh *shard) put(e entry) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.signatures++
	if sh.cap <= 0 {
		return
	}
	if i, ok := sh.index[e.hash]; ok {
		sh.slab[i] = e
		return
	}
	if len(sh.slab) < sh.cap {
		sh.index[e.hash] = int32(len(sh.slab))
		sh.slab = append(sh.slab, e)
		return
	}
	for {
		v := &sh.slab[sh.hand]
		if v.ref {
			v.ref = false
			sh.hand = (sh.hand + 1) % len(sh.slab)
			continue
		}
		delete(sh.index, v.hash)
		sh.evictions++
		*v = e
		sh.index[e.hash] = int32(sh.hand)
		sh.hand = (sh.hand + 1) % len(sh.slab)
		return
	}
}

// newShards makes a power-of-two number of shards whose capacities add up to
// at most size. size <= 0 means no caching; the shards then only count.
func newShards(size int) ([]shard, uint) {
	n, bits := 1, uint(0)
	for n < maxShards && n*2 <= size/minPerShard {
		n *= 2
		bits++
	}
	shards := make([]shard, n)
	for i := range shards {
		shards[i].cap = max(size, 0) / n
		shards[i].index = make(map[uint64]int32)
	}
	return shards, bits
}

// countSignature records a signature that was made but not cached.
func (sh *shard) countSignature() {
	sh.mu.Lock()
	sh.signatures++
	sh.mu.Unlock()
}
