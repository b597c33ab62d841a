package zonestore

import "hash/maphash"

// hostTable maps host labels to hostRecs: an open-addressing hash table
// (linear probing, backward-shift deletion) over records that never move.
//
// It replaces a map[string]hostRec, whose 32-byte slots double with the map:
// just past a power of two (a million hosts is one) a Go map holds twice the
// slots it needs, 84 bytes a host. Here only the 8-byte slots grow, by half
// (a slot's home is the hash scaled to the table's length, so any length
// works: 11 bytes a host at a million instead of 17 for a power of two); the
// 24-byte records sit densely in fixed chunks, and growing rehashes slots
// without reading a label. The labels (and, for hashed labels, the plain form
// of the domain after them) live in a labelArena. Nothing in the table is a
// pointer but its chunk lists, so the garbage collector does not scan a
// million hosts on every cycle.
type hostTable struct {
	seed  maphash.Seed
	slots []uint64     // 0 is empty; else the label's 32-bit hash << 32 | record index + 1
	recs  [][]hostSlot // records in chunks of recChunk
	used  uint32       // records handed out, live or free
	free  []uint32     // indexes of deleted records, reused first
	n     int
	strs  labelArena // the records' strings
	dead  int        // bytes of strs that deleted records held
}

// hostSlot is one record of a hostTable.
type hostSlot struct {
	rec hostRec
	pos uint32 // arena position of the label, followed by the plain form when pn > 0
	n   uint8  // label length; 0 marks a free record
	pn  uint16 // length of the domain's plain form when it is not the label (a hashed label)
}

const (
	recChunk = 1024 // records per chunk (24 KiB)
	minSlots = 16
	// compactMin is the dead arena bytes below which Delete does not compact.
	compactMin = arenaChunk
)

// newHostTable returns a table with room for n labels before it grows.
func newHostTable(n int) hostTable {
	size := minSlots
	for size*7/8 < n {
		size += size / 2
	}
	return hostTable{seed: maphash.MakeSeed(), slots: make([]uint64, size)}
}

// home returns the first slot a hash probes in slots of length n: the hash
// scaled to n (Lemire's multiply-shift), no power of two needed.
func home(h uint32, n int) int { return int(uint64(h) * uint64(n) >> 32) }

// Len returns the number of labels.
func (t *hostTable) Len() int { return t.n }

func (t *hostTable) hash(label string) uint32 { return uint32(maphash.String(t.seed, label)) }

func (t *hostTable) record(i uint32) *hostSlot { return &t.recs[i/recChunk][i%recChunk] }

// label returns record i's label, a view into the arena.
func (t *hostTable) label(i uint32) string {
	s := t.record(i)
	return t.strs.view(s.pos, int(s.n))
}

// key returns record i's plain form of its domain (the label itself unless
// the label is hashed), a view into the arena: the order key of hostIndex.
func (t *hostTable) key(i uint32) string {
	s := t.record(i)
	if s.pn == 0 {
		return t.strs.view(s.pos, int(s.n))
	}
	return t.strs.view(s.pos+uint32(s.n), int(s.pn))
}

// find returns the position of label's slot, or -1. It does not allocate.
func (t *hostTable) find(label string) int {
	h := t.hash(label)
	for i := home(h, len(t.slots)); ; {
		s := t.slots[i]
		if s == 0 {
			return -1
		}
		if uint32(s>>32) == h && t.label(uint32(s)-1) == label {
			return i
		}
		if i++; i == len(t.slots) {
			i = 0
		}
	}
}

// index returns the record index of label.
func (t *hostTable) index(label string) (uint32, bool) {
	i := t.find(label)
	if i < 0 {
		return 0, false
	}
	return uint32(t.slots[i]) - 1, true
}

// Get returns the record of label.
func (t *hostTable) Get(label string) (hostRec, bool) {
	i, ok := t.index(label)
	if !ok {
		return hostRec{}, false
	}
	return t.record(i).rec, true
}

// Put sets the record of label and returns its index. A new label (1 to 63
// octets) is copied into the table with plain, the plain form of its domain
// when that is not the label itself ("" otherwise); the caller's strings are
// not retained. For a present label only the record changes.
func (t *hostTable) Put(label, plain string, r hostRec) uint32 {
	if i, ok := t.index(label); ok {
		t.record(i).rec = r
		return i
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
	if plain == label {
		plain = ""
	}
	pos, b := t.strs.reserve(len(label) + len(plain))
	copy(b[copy(b, label):], plain)
	*t.record(idx) = hostSlot{rec: r, pos: pos, n: uint8(len(label)), pn: uint16(len(plain))}
	t.place(t.slots, uint64(t.hash(label))<<32|uint64(idx+1))
	t.n++
	return idx
}

// place puts slot value s into the first empty slot from its home.
func (t *hostTable) place(slots []uint64, s uint64) {
	i := home(uint32(s>>32), len(slots))
	for slots[i] != 0 {
		if i++; i == len(slots) {
			i = 0
		}
	}
	slots[i] = s
}

// grow adds half the slots. The hashes are in the slots: no label is read.
func (t *hostTable) grow() {
	slots := make([]uint64, len(t.slots)+len(t.slots)/2)
	for _, s := range t.slots {
		if s != 0 {
			t.place(slots, s)
		}
	}
	t.slots = slots
}

// Delete removes label; it reports whether it was present. Once more than
// half of the arena is dead (and at least compactMin), it compacts it.
func (t *hostTable) Delete(label string) bool {
	i := t.find(label)
	if i < 0 {
		return false
	}
	idx := uint32(t.slots[i]) - 1
	s := t.record(idx)
	t.dead += int(s.n) + int(s.pn)
	*s = hostSlot{}
	t.free = append(t.free, idx)
	t.n--
	// Backward shift: pull later entries of the run into the hole unless
	// that would put one before its home.
	n := len(t.slots)
	dist := func(from, to int) int { return (to - from + n) % n } // probes from slot from to slot to
	hole := i
	for j := (hole + 1) % n; t.slots[j] != 0; j = (j + 1) % n {
		if dist(home(uint32(t.slots[j]>>32), n), j) >= dist(hole, j) {
			t.slots[hole] = t.slots[j]
			hole = j
		}
	}
	t.slots[hole] = 0
	if t.dead >= compactMin && 2*t.dead > t.strs.size {
		t.compact()
	}
	return true
}

// compact copies the live records' strings into a new arena. Views of the
// old one stay valid (labelArena); the old chunks are freed once none is held.
func (t *hostTable) compact() {
	var a labelArena
	for i := uint32(0); i < t.used; i++ {
		s := t.record(i)
		if s.n == 0 {
			continue
		}
		n := int(s.n) + int(s.pn)
		pos, b := a.reserve(n)
		copy(b, t.strs.view(s.pos, n))
		s.pos = pos
	}
	t.strs, t.dead = a, 0
}

// each calls fn with every label and its record, in no particular order, until fn
// returns false. The records are visited in storage order: no slot is read.
// The labels are views into the arena.
func (t *hostTable) each(fn func(label string, r hostRec) bool) {
	for i := uint32(0); i < t.used; i++ {
		s := t.record(i)
		if s.n == 0 { // a deleted record, free for reuse
			continue
		}
		if !fn(t.strs.view(s.pos, int(s.n)), s.rec) {
			return
		}
	}
}
