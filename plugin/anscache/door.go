package anscache

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// Doorkeeper admits a key on its second sighting (TinyLFU's doorkeeper): the answer
// to a name that does not exist goes into a cache only once the name was asked for
// before, so a random-subdomain flood, whose names are each asked once, fills neither
// that cache nor its eviction order, while a name asked for again and again is
// answered from it. It is a Bloom filter with two bits per key, cleared whenever a
// quarter of its bits are set, which keeps false admissions below about 1 in 16.
type Doorkeeper struct {
	seed  maphash.Seed
	words []atomic.Uint64
	mask  uint64
	set   atomic.Int64 // bits set since the last clear
	limit int64
	clear sync.Mutex
}

// NewDoorkeeper returns a doorkeeper of bits bits (rounded up to a power of two, at
// least 4096).
func NewDoorkeeper(bits int) *Doorkeeper {
	n := 4096
	for n < bits {
		n <<= 1
	}
	return &Doorkeeper{seed: maphash.MakeSeed(), words: make([]atomic.Uint64, n/64), mask: uint64(n - 1), limit: int64(n / 4)}
}

// Admit reports whether key was seen since the last clear, and records it.
func (d *Doorkeeper) Admit(key []byte) bool {
	h := maphash.Bytes(d.seed, key)
	seen := true
	for _, b := range [2]uint64{h & d.mask, (h >> 32) & d.mask} {
		w, bit := &d.words[b/64], uint64(1)<<(b%64)
		if w.Load()&bit != 0 {
			continue
		}
		seen = false
		if w.Or(bit)&bit == 0 {
			d.set.Add(1)
		}
	}
	if d.set.Load() >= d.limit {
		d.reset()
	}
	return seen
}

func (d *Doorkeeper) reset() {
	d.clear.Lock()
	defer d.clear.Unlock()
	if d.set.Load() < d.limit {
		return // another caller cleared it
	}
	for i := range d.words {
		d.words[i].Store(0)
	}
	d.set.Store(0)
}
