package cluster

import (
	"fmt"
	"io"

	"github.com/hashicorp/raft"

	"github.com/mxsign/mxsign/zonestore"
)

// fsm adapts a *zonestore.Store to raft.FSM. It is thin on purpose: the
// store is deterministic and idempotent by log index, so the FSM only
// decodes, applies and reports.
type fsm struct {
	store *zonestore.Store
}

var _ raft.FSM = (*fsm)(nil)

// applyResult is what Apply returns to the proposer through
// ApplyFuture.Response: the store's result and its domain error.
type applyResult struct {
	res *zonestore.Result
	err error
}

// Apply implements raft.FSM. A command that does not decode, or one the
// store could not record as applied (a disk failure, a closed store),
// panics: raft has committed the entry, and a replica that went on without
// it would silently diverge from the others. A restart replays the log.
func (f *fsm) Apply(l *raft.Log) any {
	if l.Type != raft.LogCommand {
		return nil
	}
	if l.Index <= f.store.AppliedIndex() {
		// A restart replays every entry since the last snapshot, and the store
		// already has them (its applied index is written with the data): skip the
		// decoding too, which for batches of domains is most of a restart's work.
		return applyResult{res: &zonestore.Result{}}
	}
	cmd, err := zonestore.DecodeCommand(l.Data)
	if err != nil {
		panic(fmt.Sprintf("cluster: log entry %d (term %d) is not a command: %v", l.Index, l.Term, err))
	}
	res, err := f.store.Apply(l.Index, cmd)
	if f.store.AppliedIndex() < l.Index {
		panic(fmt.Sprintf("cluster: log entry %d (%s) was not applied: %v", l.Index, cmd.Op, err))
	}
	appliedIndex.Set(float64(l.Index))
	return applyResult{res: res, err: err}
}

// Snapshot implements raft.FSM. It runs on the FSM goroutine, so it only
// pins the current state; Persist streams it concurrently with later
// applies.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	st, err := f.store.BeginSnapshot()
	if err != nil {
		return nil, err
	}
	return &fsmSnapshot{st: st}, nil
}

// Restore implements raft.FSM: the store writes the snapshot to a
// temporary file, checks it and swaps it in.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	if err := f.store.Restore(rc); err != nil {
		return err
	}
	appliedIndex.Set(float64(f.store.AppliedIndex()))
	return nil
}

// fsmSnapshot is one pinned store state.
type fsmSnapshot struct {
	st *zonestore.SnapshotTx
}

// Persist implements raft.FSMSnapshot.
func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := s.st.WriteTo(sink); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

// Release implements raft.FSMSnapshot.
func (s *fsmSnapshot) Release() { s.st.Close() }
