package zonestore

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// checkTable compares t with the reference map and checks the probing
// invariant: every entry is reachable from its home without crossing an
// empty slot. plain gives the plain form each key was put with ("" for none).
func checkTable(t *testing.T, ht *hostTable, ref map[string]hostRec, plain func(string) string) {
	t.Helper()
	if ht.Len() != len(ref) {
		t.Fatalf("Len() = %d, want %d", ht.Len(), len(ref))
	}
	for k, want := range ref {
		if got, ok := ht.Get(k); !ok || got != want {
			t.Fatalf("Get(%q) = %+v, %v; want %+v", k, got, ok, want)
		}
		i, _ := ht.index(k)
		wantKey := cmp.Or(plain(k), k)
		if ht.label(i) != k || ht.key(i) != wantKey {
			t.Fatalf("record of %q: label %q, key %q; want key %q", k, ht.label(i), ht.key(i), wantKey)
		}
	}
	live := 0
	for i, s := range ht.slots {
		if s == 0 {
			continue
		}
		live++
		h := home(uint32(s>>32), len(ht.slots))
		for j := h; j != i; j = (j + 1) % len(ht.slots) {
			if ht.slots[j] == 0 {
				t.Fatalf("slot %d is not reachable from its home %d", i, h)
			}
		}
		if _, ok := ref[ht.label(uint32(s)-1)]; !ok {
			t.Fatalf("slot %d holds %q, which was deleted", i, ht.label(uint32(s)-1))
		}
	}
	if live != len(ref) {
		t.Fatalf("%d slots in use, want %d", live, len(ref))
	}
	if got := int(ht.used) - len(ht.free); got != len(ref) {
		t.Fatalf("%d records in use, want %d", got, len(ref))
	}
	if len(ref) > len(ht.slots)*7/8 {
		t.Fatalf("%d entries in %d slots", len(ref), len(ht.slots))
	}
	// The arena: live strings plus the dead bytes Delete counted, and never
	// more than half dead past compactMin.
	liveBytes := 0
	for k := range ref {
		i, _ := ht.index(k)
		liveBytes += len(k) + int(ht.record(i).pn)
	}
	if ht.strs.size != liveBytes+ht.dead {
		t.Fatalf("arena holds %d bytes, want %d live + %d dead", ht.strs.size, liveBytes, ht.dead)
	}
	if ht.dead >= compactMin && 2*ht.dead > ht.strs.size {
		t.Fatalf("arena not compacted: %d of %d bytes dead", ht.dead, ht.strs.size)
	}
}

func TestHostTable(t *testing.T) {
	tests := []struct {
		name    string
		hint    int
		keys    int     // distinct keys drawn from
		ops     int     // random operations
		delFrac float64 // share of operations that delete
		long    bool    // 60-octet labels with a plain form of 180 (hashed labels): the arena compacts
	}{
		{name: "small, grows", hint: 0, keys: 200, ops: 2000, delFrac: 0.2},
		{name: "churn in a full table", hint: 0, keys: 14, ops: 5000, delFrac: 0.5},
		{name: "mostly deletes", hint: 100, keys: 300, ops: 5000, delFrac: 0.7},
		{name: "sized up front", hint: 5000, keys: 5000, ops: 6000, delFrac: 0},
		{name: "many chunks", hint: 0, keys: 3 * recChunk, ops: 20000, delFrac: 0.3},
		{name: "hashed labels, compacting", hint: 0, keys: 2000, ops: 20000, delFrac: 0.5, long: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, uint64(tt.ops)))
			ht := newHostTable(tt.hint)
			slots := len(ht.slots)
			ref := map[string]hostRec{}
			plain := func(k string) string {
				if !tt.long {
					return ""
				}
				return strings.Repeat(k, 3)
			}
			compactions := 0
			for op := range tt.ops {
				k := "k" + strconv.Itoa(r.IntN(tt.keys))
				if tt.long {
					k = fmt.Sprintf("%060d", r.IntN(tt.keys))
				}
				dead := ht.dead
				if r.Float64() < tt.delFrac {
					_, want := ref[k]
					if got := ht.Delete(k); got != want {
						t.Fatalf("op %d: Delete(%q) = %v, want %v", op, k, got, want)
					}
					delete(ref, k)
					if ht.dead < dead {
						compactions++
						checkTable(t, &ht, ref, plain)
					}
				} else {
					rec := hostRec{sec: int64(op), nsec: uint32(op), shard: uint32(r.IntN(5))}
					ht.Put(k, plain(k), rec)
					ref[k] = rec
				}
				if op%97 == 0 {
					checkTable(t, &ht, ref, plain)
				}
			}
			checkTable(t, &ht, ref, plain)
			if tt.long && compactions == 0 {
				t.Error("the arena never compacted")
			}
			if tt.hint > 0 && tt.delFrac == 0 && len(ht.slots) != slots {
				t.Errorf("a table sized for %d grew from %d to %d slots", tt.hint, slots, len(ht.slots))
			}
			if _, ok := ht.Get("absent"); ok {
				t.Error("Get(absent) found it")
			}
			for k := range ref {
				ht.Delete(k)
				delete(ref, k)
			}
			checkTable(t, &ht, ref, plain)
			for i, s := range ht.slots {
				if s != 0 {
					t.Fatalf("slot %d not empty after deleting everything", i)
				}
			}
			for _, c := range ht.recs {
				for _, rec := range c {
					if rec != (hostSlot{}) {
						t.Fatalf("a deleted record keeps %+v", rec)
					}
				}
			}
		})
	}
}

// TestHostTableCompactKeepsViews: a label taken from the table before the arena
// compacts keeps its bytes, and the record size is what the memory budget assumes.
func TestHostTableCompactKeepsViews(t *testing.T) {
	if got := unsafe.Sizeof(hostSlot{}); got != 24 {
		t.Errorf("hostSlot is %d bytes, want 24", got)
	}
	ht := newHostTable(0)
	for i := range 3000 {
		ht.Put(fmt.Sprintf("%060d", i), "", hostRec{sec: int64(i)})
	}
	i, _ := ht.index(fmt.Sprintf("%060d", 2999))
	view := ht.label(i)
	for i := range 2999 {
		ht.Delete(fmt.Sprintf("%060d", i))
	}
	if live := ht.strs.size - ht.dead; live != 60 || ht.strs.size >= 1500*60 {
		t.Fatalf("after deleting all but one: %d live of %d arena bytes, want 60 of fewer than %d (compacted)", live, ht.strs.size, 1500*60)
	}
	ht.Put(fmt.Sprintf("%060d", 5000), "", hostRec{})
	if want := fmt.Sprintf("%060d", 2999); view != want || ht.label(i) != want {
		t.Fatalf("view %q, label %q after compaction; want %q", view, ht.label(i), want)
	}
}

func TestHostTableGetDoesNotAllocate(t *testing.T) {
	ht := newHostTable(0)
	for i := range 1000 {
		ht.Put("label"+strconv.Itoa(i), "", hostRec{sec: int64(i)})
	}
	q := "x.label500.shard"
	allocs := testing.AllocsPerRun(100, func() {
		if _, ok := ht.Get(q[2:10]); !ok {
			t.Fatal("not found")
		}
	})
	if allocs != 0 {
		t.Fatalf("Get allocates %v times", allocs)
	}
}

func BenchmarkHostTableGet(b *testing.B) {
	for _, n := range []int{32_000, 1_000_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			ht := newHostTable(0)
			m := make(map[string]hostRec)
			keys := make([]string, n)
			for i := range keys {
				keys[i] = "host-" + strconv.Itoa(i*7919) + "-example-com"
				ht.Put(keys[i], "", hostRec{sec: int64(i)})
				m[keys[i]] = hostRec{sec: int64(i)}
			}
			r := rand.New(rand.NewPCG(1, 2))
			order := make([]string, 1<<16)
			for i := range order {
				order[i] = strings.Clone(keys[r.IntN(n)]) // a query does not share the stored bytes
			}
			b.Run("table", func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					ht.Get(order[i&(len(order)-1)])
					i++
				}
			})
			b.Run("map", func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					_ = m[order[i&(len(order)-1)]]
					i++
				}
			})
		})
	}
}

// TestHostTableSize: the slots grow by half, so a million hosts take about 11
// bytes of slots each (17 with a power-of-two table), and every home is a slot.
func TestHostTableSize(t *testing.T) {
	for _, n := range []int{0, 1, 14, 15, 1000, 1_000_000} {
		ht := newHostTable(n)
		if len(ht.slots)*7/8 < n || (n > minSlots && len(ht.slots)*7/8 >= n*3/2) {
			t.Errorf("newHostTable(%d): %d slots", n, len(ht.slots))
		}
	}
	if got := len(newHostTable(1_000_000).slots); got*8 > 11_000_000 {
		t.Errorf("a million hosts: %d slots, %d bytes", got, got*8)
	}
	for _, n := range []int{16, 24, 1347984} {
		for _, h := range []uint32{0, 1, 1 << 31, ^uint32(0)} {
			if i := home(h, n); i < 0 || i >= n {
				t.Errorf("home(%#x, %d) = %d", h, n, i)
			}
		}
	}
}
