package zonestore

import "hash/maphash"

// hostTable maps host labels to hostRecs: an open-addressing hash table
// (linear probing, backward-shift deletion) over records that never move.
//
// It replaces a map[string]hostRec, whose 32-byte slots double with the map:
// just past a power of two (a million hosts is one) a Go map holds twice the
// slots it needs, 84 bytes a host. Here only the 8-byte slots double; the
// 32-byte records sit densely in fixed chunks, and growing rehashes slots
// without reading a label.
type hostTable struct {
	seed  maphash.Seed
	slots []uint64     // 0 is empty; else the label's 32-bit hash << 32 | record index + 1
	recs  [][]hostSlot // records in chunks of recChunk
	used  uint32       // records handed out, live or free
	free  []uint32     // indexes of deleted records, reused first
	n     int
}

// hostSlot is one record of a hostTable.
type hostSlot struct {
	label string
	rec   hostRec
}

const (
	recChunk = 1024 // records per chunk (32 KiB)
	minSlots = 16
)

// newHostTable returns a table with room for n labels before it grows.
func newHostTable(n int) hostTable {
	size := minSlots
	for size*7/8 < n {
		size *= 2
	}
	return hostTable{seed: maphash.MakeSeed(), slots: make([]uint64, size)}
}

// Len returns the number of labels.
func (t *hostTable) Len() int { return t.n }

func (t *hostTable) hash(label string) uint32 { return uint32(maphash.String(t.seed, label)) }

func (t *hostTable) record(i uint32) *hostSlot { return &t.recs[i/recChunk][i%recChunk] }

// find returns the position of label's slot, or -1. It does not allocate.
func (t *hostTable) find(label string) int {
	h := t.hash(label)
	mask := uint32(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return -1
		}
		if uint32(s>>32) == h && t.record(uint32(s)-1).label == label {
			return int(i)
		}
	}
}

// Get returns the record of label.
func (t *hostTable) Get(label string) (hostRec, bool) {
	i := t.find(label)
	if i < 0 {
		return hostRec{}, false
	}
	return t.record(uint32(t.slots[i]) - 1).rec, true
}

// Put sets the record of label; the table keeps label.
func (t *hostTable) Put(label string, r hostRec) {
	if i := t.find(label); i >= 0 {
		t.record(uint32(t.slots[i]) - 1).rec = r
		return
	}
	if t.n+1 > len(t.slots)*7/8 {
		t.grow()
	}
	var idx uint32
	if k := len(t.free); k > 0 {
		idx, t.free = t.free[k-1], t.free[:k-1]
	} else {
		if t.used%recChunk == 0 {
			t.recs = append(t.recs, make([]hostSlot, recChunk))
		}
		idx = t.used
		t.used++
	}
	*t.record(idx) = hostSlot{label: label, rec: r}
	t.place(t.slots, uint64(t.hash(label))<<32|uint64(idx+1))
	t.n++
}

// place puts slot value s into the first empty slot from its home.
func (t *hostTable) place(slots []uint64, s uint64) {
	mask := uint32(len(slots) - 1)
	i := uint32(s>>32) & mask
	for slots[i] != 0 {
		i = (i + 1) & mask
	}
	slots[i] = s
}

// grow doubles the slots. The hashes are in the slots: no label is read.
func (t *hostTable) grow() {
	slots := make([]uint64, 2*len(t.slots))
	for _, s := range t.slots {
		if s != 0 {
			t.place(slots, s)
		}
	}
	t.slots = slots
}

// Delete removes label; it reports whether it was present.
func (t *hostTable) Delete(label string) bool {
	i := t.find(label)
	if i < 0 {
		return false
	}
	idx := uint32(t.slots[i]) - 1
	*t.record(idx) = hostSlot{} // drop the label for the collector
	t.free = append(t.free, idx)
	t.n--
	// Backward shift: pull later entries of the run into the hole unless
	// that would put one before its home.
	mask := uint32(len(t.slots) - 1)
	hole := uint32(i)
	for j := (hole + 1) & mask; t.slots[j] != 0; j = (j + 1) & mask {
		home := uint32(t.slots[j]>>32) & mask
		if (j-home)&mask >= (j-hole)&mask {
			t.slots[hole] = t.slots[j]
			hole = j
		}
	}
	t.slots[hole] = 0
	return true
}

// each calls fn with every label and its record, in no particular order, until fn
// returns false. The records are visited in storage order: no slot is read.
func (t *hostTable) each(fn func(label string, r hostRec) bool) {
	for i := uint32(0); i < t.used; i++ {
		s := t.record(i)
		if s.label == "" { // a deleted record, free for reuse
			continue
		}
		if !fn(s.label, s.rec) {
			return
		}
	}
}
