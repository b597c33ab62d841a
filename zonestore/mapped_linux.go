//go:build linux

package zonestore

import (
	"syscall"

	bolt "go.etcd.io/bbolt"
)

// dropMapped unmaps from this process the pages of bbolt's memory map it has
// touched, leaving them to the page cache: madvise(MADV_DONTNEED) on bbolt's
// read-only, shared file mapping. Open reads every host once to build the
// index and then serves from the index alone, so without this the whole file
// (90 bytes a host) would stay resident in the process for nothing; it drops
// them as it goes, so they do not even add up while it reads. Reads stay
// correct: the next access to a page, by an open cursor too, faults it in
// again from the page cache (or the file) with the same bytes, since bbolt
// writes with pwrite and never through the map. tx, open, holds bbolt's mmap
// lock, so the map cannot move while the advice runs. Advisory: a failure
// leaves the pages mapped, nothing else.
func dropMapped(tx *bolt.Tx) {
	// tx.Size is the high-water mark of the file's pages; bbolt maps at least
	// that much.
	if n := uintptr(tx.Size()); n > 0 {
		syscall.Syscall(syscall.SYS_MADVISE, tx.DB().Info().Data, n, syscall.MADV_DONTNEED)
	}
}
