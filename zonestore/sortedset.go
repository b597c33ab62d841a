package zonestore

import (
	"iter"
	"slices"
	"sort"
)

// chunkMax is the most strings a chunk of a sortedSet holds. An insert or a
// delete moves at most this many string headers (8 KiB, a size class of the
// allocator); a full chunk is split in two before it takes another.
const chunkMax = 512

// sortedSet is an ordered set of strings kept in sorted chunks of at most
// chunkMax elements: a B-tree of height two. Insert and delete cost
// O(log n + chunkMax) and never copy the whole set, so adding a batch to a
// million hosts costs the same as adding it to a thousand. The zero value is
// an empty set.
type sortedSet struct {
	chunks [][]string // each sorted and non-empty; every element of chunk i is < every element of chunk i+1
	maxes  []string   // the last element of each chunk, in one array for the search
	n      int
}

// newChunk returns an empty chunk with room for chunkMax elements.
func newChunk() []string { return make([]string, 0, chunkMax) }

// Len returns the number of elements.
func (s *sortedSet) Len() int { return s.n }

// seek returns the position of the first element for which past is true;
// past must be false for a prefix of the set and true for the rest.
// ci == len(s.chunks) means there is none.
func (s *sortedSet) seek(past func(string) bool) (ci, i int) {
	ci = sort.Search(len(s.maxes), func(j int) bool { return past(s.maxes[j]) })
	if ci < len(s.chunks) {
		c := s.chunks[ci]
		i = sort.Search(len(c), func(j int) bool { return past(c[j]) })
	}
	return ci, i
}

// locate returns the position of the first element >= k.
func (s *sortedSet) locate(k string) (ci, i int) {
	ci, _ = slices.BinarySearch(s.maxes, k)
	if ci < len(s.chunks) {
		i, _ = slices.BinarySearch(s.chunks[ci], k)
	}
	return ci, i
}

// Insert adds k; it reports false if k was already present.
func (s *sortedSet) Insert(k string) bool {
	if len(s.chunks) == 0 {
		s.chunks = [][]string{append(newChunk(), k)}
		s.maxes = []string{k}
		s.n = 1
		return true
	}
	ci, i := s.locate(k)
	if ci == len(s.chunks) { // beyond the last element
		ci = len(s.chunks) - 1
		i = len(s.chunks[ci])
	} else if s.chunks[ci][i] == k {
		return false
	}
	if c := s.chunks[ci]; len(c) == chunkMax {
		const half = chunkMax / 2
		right := append(newChunk(), c[half:]...)
		clear(c[half:])
		s.chunks[ci], s.maxes[ci] = c[:half], c[half-1]
		s.chunks = slices.Insert(s.chunks, ci+1, right)
		s.maxes = slices.Insert(s.maxes, ci+1, right[len(right)-1])
		if i > half {
			ci, i = ci+1, i-half
		}
	}
	c := slices.Insert(s.chunks[ci], i, k) // within capacity: in place
	s.chunks[ci], s.maxes[ci] = c, c[len(c)-1]
	s.n++
	return true
}

// Append adds k if it is greater than every element, filling chunks to three
// quarters so that later inserts split rarely; it reports false (and adds
// nothing) otherwise. It builds a set from sorted input in O(n).
func (s *sortedSet) Append(k string) bool {
	last := len(s.chunks) - 1
	switch {
	case last < 0 || len(s.chunks[last]) >= chunkMax*3/4:
		if last >= 0 && s.chunks[last][len(s.chunks[last])-1] >= k {
			return false
		}
		s.chunks = append(s.chunks, append(newChunk(), k))
		s.maxes = append(s.maxes, k)
	case s.maxes[last] >= k:
		return false
	default:
		s.chunks[last] = append(s.chunks[last], k)
		s.maxes[last] = k
	}
	s.n++
	return true
}

// Delete removes k; it reports false if k was not present. A chunk left
// below a quarter full is merged with a neighbour that has room, so deletes
// cannot leave the set spread thinly over many chunks.
func (s *sortedSet) Delete(k string) bool {
	ci, i := s.locate(k)
	if ci == len(s.chunks) || s.chunks[ci][i] != k {
		return false
	}
	c := slices.Delete(s.chunks[ci], i, i+1) // clears the vacated tail element
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

// From yields the elements from the first one for which past is true (see
// seek), in order. The set must not change during the iteration.
func (s *sortedSet) From(past func(string) bool) iter.Seq[string] {
	return func(yield func(string) bool) {
		ci, i := s.seek(past)
		for ; ci < len(s.chunks); ci, i = ci+1, 0 {
			for _, k := range s.chunks[ci][i:] {
				if !yield(k) {
					return
				}
			}
		}
	}
}
