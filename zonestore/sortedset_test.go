package zonestore

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// sliceKeys is a keySource: id i has key sliceKeys[i].
type sliceKeys []string

func (k sliceKeys) key(id uint32) string { return k[id] }

// keysOf returns the keys of ids.
func keysOf(keys keySource, ids []uint32) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = keys.key(id)
	}
	return out
}

// checkSet compares the keys of s with the sorted reference want and checks
// the chunk invariants: sorted, non-empty chunks of at most chunkMax in
// order, and no two neighbours that a delete should have merged.
func checkSet(t *testing.T, s *sortedSet, keys keySource, want []string) {
	t.Helper()
	var got []string
	for ci, ids := range s.chunks {
		c := keysOf(keys, ids)
		if len(c) == 0 || len(c) > chunkMax {
			t.Fatalf("chunk %d holds %d elements", ci, len(c))
		}
		if !slices.IsSorted(c) {
			t.Fatalf("chunk %d is not sorted: %q", ci, c)
		}
		if len(s.maxes) != len(s.chunks) || s.maxes[ci] != ids[len(ids)-1] {
			t.Fatalf("chunk %d ends with %q, maxes say %d", ci, c[len(c)-1], s.maxes[min(ci, len(s.maxes)-1)])
		}
		if ci > 0 {
			prev := s.chunks[ci-1]
			if keys.key(prev[len(prev)-1]) >= c[0] {
				t.Fatalf("chunk %d begins with %q, not after %q", ci, c[0], keys.key(prev[len(prev)-1]))
			}
		}
		got = append(got, c...)
	}
	if len(s.maxes) != len(s.chunks) {
		t.Fatalf("%d maxes for %d chunks", len(s.maxes), len(s.chunks))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("set holds %d elements, want %d (first difference at %d)", len(got), len(want), firstDiff(got, want))
	}
	if s.Len() != len(want) {
		t.Fatalf("Len() = %d, want %d", s.Len(), len(want))
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestSortedSet(t *testing.T) {
	key := func(i int) string { return fmt.Sprintf("k%06d", i) }
	// id i has key(i); ids past the test's n are for keys no test adds.
	var keys sliceKeys
	for i := range 20*chunkMax + 20 {
		keys = append(keys, key(i))
	}
	tests := []struct {
		name string
		n    int                      // keys 0..n-1
		add  func(r *rand.Rand) []int // insertion order
		del  func(r *rand.Rand, n int) []int
	}{
		{name: "empty", n: 0, add: func(*rand.Rand) []int { return nil }},
		{name: "one", n: 1, add: func(*rand.Rand) []int { return []int{0} }},
		{name: "ascending", n: 5 * chunkMax, add: func(*rand.Rand) []int { return seq(5 * chunkMax) }},
		{name: "descending", n: 5 * chunkMax, add: func(*rand.Rand) []int { s := seq(5 * chunkMax); slices.Reverse(s); return s }},
		{name: "random", n: 20 * chunkMax, add: func(r *rand.Rand) []int { return r.Perm(20 * chunkMax) }},
		{
			name: "random, delete half", n: 10 * chunkMax,
			add: func(r *rand.Rand) []int { return r.Perm(10 * chunkMax) },
			del: func(r *rand.Rand, n int) []int { return r.Perm(n)[:n/2] },
		},
		{
			name: "delete all", n: 4 * chunkMax,
			add: func(r *rand.Rand) []int { return r.Perm(4 * chunkMax) },
			del: func(r *rand.Rand, n int) []int { return r.Perm(n) },
		},
		{
			name: "delete every other", n: 8 * chunkMax,
			add: func(*rand.Rand) []int { return seq(8 * chunkMax) },
			del: func(_ *rand.Rand, n int) []int {
				var out []int
				for i := 0; i < n; i += 2 {
					out = append(out, i)
				}
				return out
			},
		},
		{
			name: "delete a run", n: 8 * chunkMax,
			add: func(r *rand.Rand) []int { return r.Perm(8 * chunkMax) },
			del: func(_ *rand.Rand, n int) []int { return seq(n)[n/4 : 3*n/4] },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(tt.n)))
			var s sortedSet
			ref := map[string]bool{}
			for _, i := range tt.add(r) {
				if !s.Insert(keys, uint32(i)) {
					t.Fatalf("Insert(%s) = false for a new key", key(i))
				}
				ref[key(i)] = true
			}
			for _, i := range tt.add(r) {
				if s.Insert(keys, uint32(i)) {
					t.Fatalf("Insert(%s) = true for a present key", key(i))
				}
			}
			checkSet(t, &s, keys, sortedKeys(ref))
			if tt.del != nil {
				for _, i := range tt.del(r, tt.n) {
					if !s.Delete(keys, uint32(i)) {
						t.Fatalf("Delete(%s) = false for a present key", key(i))
					}
					delete(ref, key(i))
					if s.Delete(keys, uint32(i)) {
						t.Fatalf("second Delete(%s) = true", key(i))
					}
				}
				checkSet(t, &s, keys, sortedKeys(ref))
				if live := s.Len(); live > 0 && len(s.chunks) > 2*live/(chunkMax/4)+1 {
					t.Errorf("%d elements spread over %d chunks", live, len(s.chunks))
				}
			}
			for _, k := range []string{"", "k", key(0), key(tt.n / 2), key(tt.n), "z"} {
				ci, i := s.locate(keys, k)
				if got := s.at(keys, ci, i, k); got != ref[k] {
					t.Errorf("locate(%q) finds it: %v, want %v", k, got, ref[k])
				}
			}
			// Insert after deletes keeps the invariants.
			for _, i := range r.Perm(tt.n + 10) {
				s.Insert(keys, uint32(i))
				ref[key(i)] = true
			}
			checkSet(t, &s, keys, sortedKeys(ref))
		})
	}
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func TestSortedSetAppend(t *testing.T) {
	var s sortedSet
	var keys sliceKeys
	add := func(k string) uint32 {
		keys = append(keys, k)
		return uint32(len(keys) - 1)
	}
	var want []string
	for i := range 3 * chunkMax {
		k := fmt.Sprintf("a%05d", i)
		if !s.Append(keys, add(k)) {
			t.Fatalf("Append(%s) = false in ascending order", k)
		}
		want = append(want, k)
	}
	for _, k := range []string{"a00100", "0", "a01535"} {
		if s.Append(keys, add(k)) {
			t.Fatalf("Append(%s) = true for a key not above the last", k)
		}
	}
	checkSet(t, &s, keys, want)
	if full := chunkMax * 3 / 4; len(s.chunks[0]) != full {
		t.Errorf("Append filled the first chunk to %d, want %d", len(s.chunks[0]), full)
	}
	// Inserting into appended chunks works as into inserted ones.
	for i := range 3 * chunkMax {
		k := fmt.Sprintf("a%05d-", i)
		s.Insert(keys, add(k))
		want = append(want, k)
	}
	slices.Sort(want)
	checkSet(t, &s, keys, want)
}

func TestSortedSetFrom(t *testing.T) {
	var s sortedSet
	var all sliceKeys
	for i := range 2*chunkMax + 7 {
		all = append(all, fmt.Sprintf("%04d", 3*i))
		s.Insert(all, uint32(i))
	}
	tests := []struct {
		name  string
		after string
	}{
		{name: "start", after: ""},
		{name: "present", after: "0300"},
		{name: "absent", after: "0301"},
		{name: "chunk end", after: all[chunkMax-1]},
		{name: "last", after: all[len(all)-1]},
		{name: "beyond", after: "9999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for id := range s.From(all, func(k string) bool { return k > tt.after }) {
				got = append(got, all.key(id))
			}
			i, found := slices.BinarySearch(all, tt.after)
			if found {
				i++
			}
			if want := all[i:]; !slices.Equal(got, []string(want)) {
				t.Fatalf("From(> %q) yields %d keys from %q, want %d", tt.after, len(got), strings.Join(got[:min(1, len(got))], ""), len(want))
			}
			// Stopping early.
			n := 0
			for range s.From(all, func(k string) bool { return k > tt.after }) {
				n++
				if n == 3 {
					break
				}
			}
			if want := min(3, len(all)-i); n != want {
				t.Fatalf("stopped after %d, want %d", n, want)
			}
		})
	}
}

func BenchmarkSortedSetInsert(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	keys := make(sliceKeys, 1<<20)
	for i := range keys {
		keys[i] = fmt.Sprintf("%016x", r.Uint64())
	}
	b.ReportAllocs()
	var s sortedSet
	i := 0
	for b.Loop() {
		if i == len(keys) {
			s, i = sortedSet{}, 0
		}
		s.Insert(keys, uint32(i))
		i++
	}
}
