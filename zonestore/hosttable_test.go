package zonestore

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// checkTable compares t with the reference map and checks the probing
// invariant: every entry is reachable from its home without crossing an
// empty slot.
func checkTable(t *testing.T, ht *hostTable, ref map[string]hostRec) {
	t.Helper()
	if ht.Len() != len(ref) {
		t.Fatalf("Len() = %d, want %d", ht.Len(), len(ref))
	}
	for k, want := range ref {
		if got, ok := ht.Get(k); !ok || got != want {
			t.Fatalf("Get(%q) = %+v, %v; want %+v", k, got, ok, want)
		}
	}
	mask := uint32(len(ht.slots) - 1)
	live := 0
	for i, s := range ht.slots {
		if s == 0 {
			continue
		}
		live++
		for j := uint32(s>>32) & mask; j != uint32(i); j = (j + 1) & mask {
			if ht.slots[j] == 0 {
				t.Fatalf("slot %d is not reachable from its home %d", i, uint32(s>>32)&mask)
			}
		}
		if _, ok := ref[ht.record(uint32(s)-1).label]; !ok {
			t.Fatalf("slot %d holds %q, which was deleted", i, ht.record(uint32(s)-1).label)
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
}

func TestHostTable(t *testing.T) {
	tests := []struct {
		name    string
		hint    int
		keys    int     // distinct keys drawn from
		ops     int     // random operations
		delFrac float64 // share of operations that delete
	}{
		{name: "small, grows", hint: 0, keys: 200, ops: 2000, delFrac: 0.2},
		{name: "churn in a full table", hint: 0, keys: 14, ops: 5000, delFrac: 0.5},
		{name: "mostly deletes", hint: 100, keys: 300, ops: 5000, delFrac: 0.7},
		{name: "sized up front", hint: 5000, keys: 5000, ops: 6000, delFrac: 0},
		{name: "many chunks", hint: 0, keys: 3 * recChunk, ops: 20000, delFrac: 0.3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, uint64(tt.ops)))
			ht := newHostTable(tt.hint)
			slots := len(ht.slots)
			ref := map[string]hostRec{}
			for op := range tt.ops {
				k := "k" + strconv.Itoa(r.IntN(tt.keys))
				if r.Float64() < tt.delFrac {
					_, want := ref[k]
					if got := ht.Delete(k); got != want {
						t.Fatalf("op %d: Delete(%q) = %v, want %v", op, k, got, want)
					}
					delete(ref, k)
				} else {
					rec := hostRec{sec: int64(op), nsec: uint32(op), shard: uint32(r.IntN(5))}
					ht.Put(k, rec)
					ref[k] = rec
				}
				if op%97 == 0 {
					checkTable(t, &ht, ref)
				}
			}
			checkTable(t, &ht, ref)
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
			checkTable(t, &ht, ref)
			for i, s := range ht.slots {
				if s != 0 {
					t.Fatalf("slot %d not empty after deleting everything", i)
				}
			}
			for _, c := range ht.recs {
				for _, rec := range c {
					if rec.label != "" {
						t.Fatalf("a deleted record keeps its label %q", rec.label)
					}
				}
			}
		})
	}
}

func TestHostTableGetDoesNotAllocate(t *testing.T) {
	ht := newHostTable(0)
	for i := range 1000 {
		ht.Put("label"+strconv.Itoa(i), hostRec{sec: int64(i)})
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
				ht.Put(keys[i], hostRec{sec: int64(i)})
				m[keys[i]] = hostRec{sec: int64(i)}
			}
			r := rand.New(rand.NewPCG(1, 2))
			order := make([]string, 1<<16)
			for i := range order {
				order[i] = keys[r.IntN(n)]
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
