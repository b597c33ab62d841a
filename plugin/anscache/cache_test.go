package anscache

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
)

func key(s string) []byte { return []byte(s) }

func TestCacheGetPut(t *testing.T) {
	const now = 1_000_000
	tests := []struct {
		name    string
		put     func(c *Cache, g *Gens) bool // stores "answer" under "k"
		change  func(g *Gens)                // after the put
		getAt   int64
		stored  bool
		wantHit bool
	}{
		{
			name:  "hit",
			put:   func(c *Cache, g *Gens) bool { return c.Put(key("k"), key("answer"), now+10, now, "z.", g.Epoch()) },
			getAt: now, stored: true, wantHit: true,
		},
		{
			name:  "last second before the deadline",
			put:   func(c *Cache, g *Gens) bool { return c.Put(key("k"), key("answer"), now+10, now, "z.", g.Epoch()) },
			getAt: now + 9, stored: true, wantHit: true,
		},
		{
			name:  "at the deadline",
			put:   func(c *Cache, g *Gens) bool { return c.Put(key("k"), key("answer"), now+10, now, "z.", g.Epoch()) },
			getAt: now + 10, stored: true, wantHit: false,
		},
		{
			name:  "deadline already passed",
			put:   func(c *Cache, g *Gens) bool { return c.Put(key("k"), key("answer"), now, now, "z.", g.Epoch()) },
			getAt: now, stored: false, wantHit: false,
		},
		{
			name:   "its zone changed",
			put:    func(c *Cache, g *Gens) bool { return c.Put(key("k"), key("answer"), NoDeadline, now, "z.", g.Epoch()) },
			change: func(g *Gens) { g.Bump([]string{"z."}) },
			getAt:  now, stored: true, wantHit: false,
		},
		{
			name:   "another zone changed",
			put:    func(c *Cache, g *Gens) bool { return c.Put(key("k"), key("answer"), NoDeadline, now, "z.", g.Epoch()) },
			change: func(g *Gens) { g.Bump([]string{"other."}) },
			getAt:  now, stored: true, wantHit: true,
		},
		{
			name:   "every zone changed",
			put:    func(c *Cache, g *Gens) bool { return c.Put(key("k"), key("answer"), NoDeadline, now, "z.", g.Epoch()) },
			change: func(g *Gens) { g.BumpAll() },
			getAt:  now, stored: true, wantHit: false,
		},
		{
			name: "built across a change",
			put: func(c *Cache, g *Gens) bool {
				epoch := g.Epoch()
				g.Bump([]string{"other."}) // applied while the answer was built
				return c.Put(key("k"), key("answer"), NoDeadline, now, "z.", epoch)
			},
			getAt: now, stored: false, wantHit: false,
		},
		{
			name: "a newer answer replaces the old",
			put: func(c *Cache, g *Gens) bool {
				c.Put(key("k"), key("old"), NoDeadline, now, "z.", g.Epoch())
				return c.Put(key("k"), key("answer"), NoDeadline, now, "z.", g.Epoch())
			},
			getAt: now, stored: true, wantHit: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := NewGens()
			c := New(1<<20, g)
			if got := tc.put(c, g); got != tc.stored {
				t.Fatalf("Put = %v, want %v", got, tc.stored)
			}
			if tc.change != nil {
				tc.change(g)
			}
			wire, ok := c.Get(key("k"), tc.getAt, 512)
			if ok != tc.wantHit {
				t.Fatalf("Get hit = %v, want %v", ok, tc.wantHit)
			}
			if ok && string(wire) != "answer" {
				t.Fatalf("Get = %q", wire)
			}
			if _, ok := c.Get(key("k2"), tc.getAt, 512); ok {
				t.Fatal("hit for a key never stored")
			}
			st := c.Stats()
			if !ok && st.Entries != 0 {
				t.Errorf("a stale entry was kept after the miss: %+v", st)
			}
		})
	}
}

// TestCacheGetMaxLen: an answer too long for a query's buffer is a miss for that query
// (it must be truncated) and stays cached for the others.
func TestCacheGetMaxLen(t *testing.T) {
	g := NewGens()
	c := New(1<<20, g)
	c.Put(key("k"), key("answer"), NoDeadline, 0, "z.", g.Epoch())
	if _, ok := c.Get(key("k"), 0, len("answer")-1); ok {
		t.Fatal("hit for a query whose buffer the answer does not fit")
	}
	if _, ok := c.Get(key("k"), 0, len("answer")); !ok {
		t.Fatal("miss for a query whose buffer the answer fits")
	}
	if st := c.Stats(); st.Hits != 1 || st.Misses != 1 || st.Entries != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestCacheNil(t *testing.T) {
	if c := New(0, NewGens()); c != nil {
		t.Fatal("New(0) made a cache")
	}
	var c *Cache
	if st := c.Stats(); st != (Stats{}) {
		t.Fatalf("nil cache stats %+v", st)
	}
}

// TestCacheBoundedAndClock: the cache stays within its bytes, and entries that are
// hit survive a stream of one-off entries (CLOCK gives them a second chance).
func TestCacheBoundedAndClock(t *testing.T) {
	g := NewGens()
	const size = 64 << 10 // one shard
	c := New(size, g)
	if len(c.shards) != 1 {
		t.Fatalf("%d shards for %d bytes, want 1", len(c.shards), size)
	}
	answer := bytes.Repeat([]byte{'x'}, 300)
	hot := 20
	for i := range hot {
		c.Put(fmt.Appendf(nil, "hot%d", i), answer, NoDeadline, 0, "z.", g.Epoch())
	}
	for i := range 5000 {
		for j := range hot {
			if _, ok := c.Get(fmt.Appendf(nil, "hot%d", j), 0, 512); !ok {
				t.Fatalf("after %d one-offs, hot entry %d was evicted", i, j)
			}
		}
		c.Put(fmt.Appendf(nil, "cold%d", i), answer, NoDeadline, 0, "z.", g.Epoch())
		if st := c.Stats(); st.Bytes > size {
			t.Fatalf("%d bytes held, budget %d", st.Bytes, size)
		}
	}
	st := c.Stats()
	if st.Evictions == 0 || st.Entries < hot || st.Inserts != uint64(hot+5000) {
		t.Fatalf("stats %+v", st)
	}
	if c.Put(key("huge"), bytes.Repeat([]byte{'x'}, size), NoDeadline, 0, "z.", g.Epoch()) {
		t.Fatal("an entry larger than the shard was stored")
	}
}

func TestCacheShards(t *testing.T) {
	for _, tc := range []struct{ size, shards int }{
		{size: 1, shards: 1},
		{size: 2 * minShardBudget, shards: 2},
		{size: 64 << 20, shards: maxShards},
		{size: 1 << 30, shards: maxShards},
	} {
		if c := New(tc.size, NewGens()); len(c.shards) != tc.shards {
			t.Errorf("New(%d): %d shards, want %d", tc.size, len(c.shards), tc.shards)
		}
	}
}

// TestCacheConcurrent exercises Get, Put, Bump and Stats together for -race.
func TestCacheConcurrent(t *testing.T) {
	g := NewGens()
	c := New(1<<20, g)
	zones := []string{"a.", "b.", "c."}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				k := fmt.Appendf(nil, "k%d", (i*7+w)%300)
				zone := zones[i%len(zones)]
				if wire, ok := c.Get(k, int64(i), 512); ok && !bytes.HasPrefix(wire, k) {
					t.Errorf("key %s: answer %q", k, wire)
					return
				}
				c.Put(k, append(bytes.Clone(k), " answer"...), int64(i+100), int64(i), zone, g.Epoch())
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 200 {
			if i%50 == 0 {
				g.BumpAll()
			} else {
				g.Bump(zones[i%len(zones):][:1])
			}
			c.Stats()
		}
	}()
	wg.Wait()
	if st := c.Stats(); st.Inserts == 0 || st.Hits+st.Misses != 8000 {
		t.Fatalf("stats %+v", st)
	}
}

// BenchmarkCacheGetPatch is the cache's share of an answer from the cache: find it,
// copy it, patch it.
func BenchmarkCacheGetPatch(b *testing.B) {
	g := NewGens()
	c := New(64<<20, g)
	var q Query
	q.Set("contoso-com.1j2b.mx.example.", 1, 1, EDNS|DO)
	wire := make([]byte, 200)
	copy(wire[headerLen:], q.Name())
	c.Put(q.Key(), wire, NoDeadline, 0, "1j2b.mx.example.", g.Epoch())
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		w, ok := c.Get(q.Key(), 0, 1232)
		if !ok {
			b.Fatal("miss")
		}
		buf = append(buf[:0], w...)
		if !Patch(buf, 7, true, false, &q) {
			b.Fatal("Patch")
		}
	}
}
