package zonestore

import (
	"fmt"
	"io"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// SnapshotTx is a point-in-time view of the store for a replication
// snapshot: BeginSnapshot pins the state (a bbolt read transaction) on the
// applying goroutine, and WriteTo may then stream it from another goroutine
// while later commands are applied. Close releases the transaction; until
// then bbolt cannot reuse the pages it sees, and a write that must grow the
// file's memory map waits for it.
type SnapshotTx struct {
	mu sync.Mutex
	tx *bolt.Tx
}

// BeginSnapshot pins the current state for a later WriteTo. The caller must
// Close the handle.
func (s *Store) BeginSnapshot() (*SnapshotTx, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return nil, ErrClosed
	}
	tx, err := s.db.Begin(false)
	if err != nil {
		return nil, fmt.Errorf("zonestore: begin snapshot: %w", err)
	}
	return &SnapshotTx{tx: tx}, nil
}

// Applied returns the applied log index the snapshot holds.
func (st *SnapshotTx) Applied() (uint64, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.tx == nil {
		return 0, ErrClosed
	}
	v := st.tx.Bucket(bucketMeta).Get(metaApplied)
	if v == nil {
		return 0, nil
	}
	return readU64(v)
}

// WriteTo writes the pinned state, a complete bbolt file that Restore
// accepts, to w.
func (st *SnapshotTx) WriteTo(w io.Writer) (int64, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.tx == nil {
		return 0, ErrClosed
	}
	n, err := st.tx.WriteTo(w)
	if err != nil {
		return n, fmt.Errorf("zonestore: write snapshot: %w", err)
	}
	return n, nil
}

// Close releases the pinned state. It is safe to call more than once.
func (st *SnapshotTx) Close() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.tx == nil {
		return nil
	}
	err := st.tx.Rollback()
	st.tx = nil
	return err
}
