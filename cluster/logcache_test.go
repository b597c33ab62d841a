package cluster

import (
	"bytes"
	"errors"
	"testing"

	"github.com/hashicorp/raft"
)

// countingStore counts the reads that reach the store behind the cache.
type countingStore struct {
	*raft.InmemStore
	reads int
}

func (s *countingStore) GetLog(idx uint64, l *raft.Log) error {
	s.reads++
	return s.InmemStore.GetLog(idx, l)
}

func entry(i uint64, size int) *raft.Log {
	return &raft.Log{Index: i, Term: 1, Type: raft.LogCommand, Data: bytes.Repeat([]byte{byte(i)}, size)}
}

// TestLogCache: the cache serves the newest entries within both bounds, the
// newest always, from copies of what raft passed; the rest comes from the store.
func TestLogCache(t *testing.T) {
	tests := []struct {
		name       string
		capacity   int
		maxBytes   int
		sizes      []int // entry i+1 has sizes[i] bytes of data
		batch      int   // entries per StoreLogs
		wantCached int   // the newest this many are cached, no older one
	}{
		{name: "count bound", capacity: 8, maxBytes: 1 << 20, sizes: repeat(20, 100), batch: 1, wantCached: 8},
		{name: "byte bound", capacity: 64, maxBytes: 10_000, sizes: repeat(40, 1000), batch: 3, wantCached: 9},
		{name: "one entry above the bound is kept", capacity: 8, maxBytes: 1000, sizes: []int{10, 10, 5000}, batch: 1, wantCached: 1},
		{name: "small after big", capacity: 8, maxBytes: 3000, sizes: []int{2500, 2500, 100, 100, 100}, batch: 2, wantCached: 3},
		{name: "fewer than both bounds", capacity: 8, maxBytes: 1 << 20, sizes: repeat(5, 100), batch: 5, wantCached: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &countingStore{InmemStore: raft.NewInmemStore()}
			c, err := newLogCache(store, tt.capacity, tt.maxBytes)
			if err != nil {
				t.Fatal(err)
			}
			var stored []*raft.Log
			for i := 0; i < len(tt.sizes); i += tt.batch {
				var logs []*raft.Log
				for j := i; j < min(i+tt.batch, len(tt.sizes)); j++ {
					logs = append(logs, entry(uint64(j+1), tt.sizes[j]))
				}
				if err := c.StoreLogs(logs); err != nil {
					t.Fatal(err)
				}
				stored = append(stored, logs...)
			}
			// The cache holds copies: what raft passed may change (or stay reachable) freely.
			for _, l := range stored {
				if c.ring[l.Index%uint64(tt.capacity)] == l {
					t.Fatalf("entry %d is cached by the caller's pointer", l.Index)
				}
			}
			want := stored[len(stored)-1].Data
			stored[len(stored)-1].Data = nil
			n := len(tt.sizes)
			for i := n; i >= 1; i-- {
				before := store.reads
				var got raft.Log
				if err := c.GetLog(uint64(i), &got); err != nil {
					t.Fatalf("GetLog(%d): %v", i, err)
				}
				if len(got.Data) != tt.sizes[i-1] || got.Index != uint64(i) {
					t.Fatalf("GetLog(%d) = index %d, %d bytes; want %d bytes", i, got.Index, len(got.Data), tt.sizes[i-1])
				}
				if i == n && !bytes.Equal(got.Data, want) {
					t.Fatalf("the newest entry changed with the caller's copy")
				}
				if cached := store.reads == before; cached != (i > n-tt.wantCached) {
					t.Errorf("entry %d of %d: cached %v, want the newest %d cached", i, n, cached, tt.wantCached)
				}
			}
			if c.bytes > tt.maxBytes && tt.wantCached > 1 {
				t.Errorf("%d bytes cached, bound %d", c.bytes, tt.maxBytes)
			}
			if err := c.DeleteRange(1, uint64(n)); err != nil {
				t.Fatal(err)
			}
			if c.bytes != 0 {
				t.Errorf("%d bytes cached after DeleteRange", c.bytes)
			}
			var got raft.Log
			if err := c.GetLog(uint64(n), &got); !errors.Is(err, raft.ErrLogNotFound) {
				t.Errorf("GetLog after DeleteRange: %v, want ErrLogNotFound", err)
			}
		})
	}
	if _, err := newLogCache(raft.NewInmemStore(), 0, 1); err == nil {
		t.Error("a cache of no entries was accepted")
	}
}

func repeat(n, size int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = size
	}
	return out
}
