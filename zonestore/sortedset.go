package zonestore

import (
	"iter"
	"slices"
	"sort"
)

// chunkMax is the most elements a chunk of a sortedSet holds. An insert or a
// delete moves at most this many 4-byte ids (2 KiB); a full chunk is split in
// two before it takes another.
const chunkMax = 512

// keySource gives the string an element of a sortedSet is ordered by.
type keySource interface {
	key(id uint32) string
}

// sortedSet is an ordered set of ids, ordered by their keys (a keySource
// passed to each call, which must give every id the same key for as long as
// it is in the set; keys are distinct), kept in sorted chunks of at most
// chunkMax elements: a B-tree of height two. Insert and delete cost
// O(log n + chunkMax) and never copy the whole set, so adding a batch to a
// million hosts costs the same as adding it to a thousand. The set holds no
// pointers but its chunk list: a million elements are 4 MiB that the garbage
// collector does not scan. The zero value is an empty set.
type sortedSet struct {
	chunks [][]uint32 // each sorted and non-empty; every element of chunk i is < every element of chunk i+1
	maxes  []uint32   // the last element of each chunk, in one array for the search
	n      int
}

// newChunk returns an empty chunk with room for chunkMax elements.
func newChunk() []uint32 { return make([]uint32, 0, chunkMax) }

// Len returns the number of elements.
func (s *sortedSet) Len() int { return s.n }

// seek returns the position of the first element for whose key past is true;
// past must be false for a prefix of the set and true for the rest.
// ci == len(s.chunks) means there is none.
func (s *sortedSet) seek(keys keySource, past func(string) bool) (ci, i int) {
	ci = sort.Search(len(s.maxes), func(j int) bool { return past(keys.key(s.maxes[j])) })
	if ci < len(s.chunks) {
		c := s.chunks[ci]
		i = sort.Search(len(c), func(j int) bool { return past(keys.key(c[j])) })
	}
	return ci, i
}

// locate returns the position of the first element whose key is >= k.
func (s *sortedSet) locate(keys keySource, k string) (ci, i int) {
	return s.seek(keys, func(e string) bool { return e >= k })
}

// at reports whether the element at (ci, i), if any, has key k.
func (s *sortedSet) at(keys keySource, ci, i int, k string) bool {
	return ci < len(s.chunks) && keys.key(s.chunks[ci][i]) == k
}

// Insert adds id; it reports false if an element with its key was already
// present.
func (s *sortedSet) Insert(keys keySource, id uint32) bool {
	if len(s.chunks) == 0 {
		s.chunks = [][]uint32{append(newChunk(), id)}
		s.maxes = []uint32{id}
		s.n = 1
		return true
	}
	k := keys.key(id)
	ci, i := s.locate(keys, k)
	if ci == len(s.chunks) { // beyond the last element
		ci = len(s.chunks) - 1
		i = len(s.chunks[ci])
	} else if s.at(keys, ci, i, k) {
		return false
	}
	if c := s.chunks[ci]; len(c) == chunkMax {
		const half = chunkMax / 2
		right := append(newChunk(), c[half:]...)
		s.chunks[ci], s.maxes[ci] = c[:half], c[half-1]
		s.chunks = slices.Insert(s.chunks, ci+1, right)
		s.maxes = slices.Insert(s.maxes, ci+1, right[len(right)-1])
		if i > half {
			ci, i = ci+1, i-half
		}
	}
	c := slices.Insert(s.chunks[ci], i, id) // within capacity: in place
	s.chunks[ci], s.maxes[ci] = c, c[len(c)-1]
	s.n++
	return true
}

// Append adds id if its key is greater than every element's, filling chunks
// to three quarters so that later inserts split rarely; it reports false (and
// adds nothing) otherwise. It builds a set from sorted input in O(n).
func (s *sortedSet) Append(keys keySource, id uint32) bool {
	last := len(s.chunks) - 1
	if last >= 0 && keys.key(s.maxes[last]) >= keys.key(id) {
		return false
	}
	if last < 0 || len(s.chunks[last]) >= chunkMax*3/4 {
		s.chunks = append(s.chunks, append(newChunk(), id))
		s.maxes = append(s.maxes, id)
	} else {
		s.chunks[last] = append(s.chunks[last], id)
		s.maxes[last] = id
	}
	s.n++
	return true
}

// Delete removes id; it reports false if id was not present. A chunk left
// below a quarter full is merged with a neighbour that has room, so deletes
// cannot leave the set spread thinly over many chunks.
func (s *sortedSet) Delete(keys keySource, id uint32) bool {
	ci, i := s.locate(keys, keys.key(id))
	if ci == len(s.chunks) || s.chunks[ci][i] != id {
		return false
	}
	c := slices.Delete(s.chunks[ci], i, i+1)
	s.n--
	if len(c) == 0 {
		s.chunks = slices.Delete(s.chunks, ci, ci+1)
		s.maxes = slices.Delete(s.maxes, ci, ci+1)
		return true
	}
	s.chunks[ci] = c
	s.maxes[ci] = c[len(c)-1]
	if len(c) < chunkMax/4 {
		switch {
		case ci+1 < len(s.chunks) && len(c)+len(s.chunks[ci+1]) <= chunkMax:
			s.chunks[ci] = append(c, s.chunks[ci+1]...)
			s.maxes[ci] = s.maxes[ci+1]
			s.chunks = slices.Delete(s.chunks, ci+1, ci+2)
			s.maxes = slices.Delete(s.maxes, ci+1, ci+2)
		case ci > 0 && len(c)+len(s.chunks[ci-1]) <= chunkMax:
			s.chunks[ci-1] = append(s.chunks[ci-1], c...)
			s.maxes[ci-1] = s.maxes[ci]
			s.chunks = slices.Delete(s.chunks, ci, ci+1)
			s.maxes = slices.Delete(s.maxes, ci, ci+1)
		}
	}
	return true
}

// From yields the elements from the first one for whose key past is true
// (see seek), in order. The set must not change during the iteration.
func (s *sortedSet) From(keys keySource, past func(string) bool) iter.Seq[uint32] {
	return func(yield func(uint32) bool) {
		ci, i := s.seek(keys, past)
		for ; ci < len(s.chunks); ci, i = ci+1, 0 {
			for _, id := range s.chunks[ci][i:] {
				if !yield(id) {
					return
				}
			}
		}
	}
}
