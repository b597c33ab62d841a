package zonestore

import (
	"fmt"
	"unsafe"
)

// arenaChunk is the size of a labelArena chunk. A position is the chunk's
// number in the high 16 bits and the offset in the low 16, so an arena holds
// up to 4 GiB: some 150 million hosts.
const arenaChunk = 1 << 16

// labelArena stores the host table's strings back to back in 64 KiB byte
// chunks: no string header and no allocation per string, and nothing the
// garbage collector scans. A string is known by its position (a uint32) and
// its length, kept by the caller.
//
// Bytes once written are never written again; freeing a string only makes
// its bytes dead (the hostTable counts them and compacts into a new arena).
// So a view of a string (view) stays valid for as long as anything holds it:
// it points into its chunk, which the collector then keeps alive.
type labelArena struct {
	chunks [][]byte // each of capacity arenaChunk; only the last has room
	size   int      // bytes handed out
}

// reserve returns the position of n new bytes and the slice to write them
// through, before any view of them is taken. n must be at most arenaChunk.
func (a *labelArena) reserve(n int) (uint32, []byte) {
	last := len(a.chunks) - 1
	if last < 0 || len(a.chunks[last])+n > arenaChunk {
		if len(a.chunks) == 1<<16 {
			panic(fmt.Sprintf("zonestore: the host label arena is full (%d bytes)", a.size))
		}
		a.chunks = append(a.chunks, make([]byte, 0, arenaChunk))
		last++
	}
	c := a.chunks[last]
	off := len(c)
	a.chunks[last] = c[:off+n]
	a.size += n
	return uint32(last)<<16 | uint32(off), a.chunks[last][off : off+n]
}

// view returns the n bytes at pos as a string, without copying. The bytes
// are immutable (see labelArena).
func (a *labelArena) view(pos uint32, n int) string {
	if n == 0 {
		return ""
	}
	return unsafe.String(&a.chunks[pos>>16][pos&0xffff], n)
}

// bytesView returns b as a string without copying, for a lookup or a copy
// into the arena that ends before b changes.
func bytesView(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
