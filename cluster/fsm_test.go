package cluster

import (
	"bytes"
	"context"
	"errors"
	"io"
	mrand "math/rand/v2"
	"reflect"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/mxsign/mxsign/zonestore"
)

// recorder collects the commands a Provisioner proposes, numbering them.
type recorder struct {
	store *zonestore.Store
	logs  []*raft.Log
	f     *fsm
}

func (r *recorder) Apply(ctx context.Context, cmd *zonestore.Command) (*zonestore.Result, error) {
	b, err := cmd.Encode()
	if err != nil {
		return nil, err
	}
	l := &raft.Log{Index: uint64(len(r.logs) + 1), Term: 1, Type: raft.LogCommand, Data: b}
	r.logs = append(r.logs, l)
	ar := r.f.Apply(l).(applyResult)
	return ar.res, ar.err
}

// memSink is a raft.SnapshotSink in memory.
type memSink struct {
	bytes.Buffer
	closed, cancelled bool
}

func (s *memSink) ID() string    { return "mem" }
func (s *memSink) Close() error  { s.closed = true; return nil }
func (s *memSink) Cancel() error { s.cancelled = true; return nil }

func TestFSMApplyAndSnapshot(t *testing.T) {
	src := openStore(t, t.TempDir())
	defer src.Close()
	rec := &recorder{store: src, f: &fsm{store: src}}
	p := &zonestore.Provisioner{Store: src, Applier: rec, Keys: testKeys(t), Now: clock.Now, Rand: mrand.NewChaCha8([32]byte{9})}
	cfg, prof := testZoneConfig()
	if err := p.Init(context.Background(), cfg, prof); err != nil {
		t.Fatal(err)
	}
	mustAdd(t, p, domains("a", 60)...)

	// A domain error is the Apply result, not a panic.
	r, err := rec.Apply(context.Background(), &zonestore.Command{V: 1, Op: zonestore.OpInit, Time: t0,
		Init: &zonestore.InitCmd{Config: cfg, Profile: prof}})
	if !errors.Is(err, zonestore.ErrExists) || r != nil {
		t.Fatalf("second init: %v, %v; want ErrExists", r, err)
	}
	// Non-command entries are ignored.
	if got := rec.f.Apply(&raft.Log{Index: 99, Type: raft.LogNoop}); got != nil {
		t.Errorf("Apply(noop) = %v", got)
	}

	// Replaying the same log into a fresh store gives the same state.
	replica := openStore(t, t.TempDir())
	defer replica.Close()
	rf := &fsm{store: replica}
	for _, l := range rec.logs {
		rf.Apply(l)
	}
	for _, l := range rec.logs { // and replaying again is a no-op
		rf.Apply(l)
	}
	if got, want := view(replica), view(src); !reflect.DeepEqual(got, want) {
		t.Fatalf("replica:\n got %+v\nwant %+v", got, want)
	}

	// Snapshot -> Persist -> Restore into a new store.
	snap, err := rec.f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	want := view(src)
	// Persist runs concurrently with later applies (a write that grows
	// bbolt's memory map waits for the pinned snapshot).
	sink := &memSink{}
	persisted := make(chan error, 1)
	go func() {
		err := snap.Persist(sink)
		snap.Release() // as raft does, right after Persist
		persisted <- err
	}()
	mustAdd(t, p, "after.example.org")
	if err := <-persisted; err != nil {
		t.Fatal(err)
	}
	if !sink.closed || sink.cancelled {
		t.Errorf("sink closed=%v cancelled=%v", sink.closed, sink.cancelled)
	}
	restored := openStore(t, t.TempDir())
	defer restored.Close()
	if err := (&fsm{store: restored}).Restore(io.NopCloser(&sink.Buffer)); err != nil {
		t.Fatal(err)
	}
	if got := view(restored); !reflect.DeepEqual(got, want) {
		t.Fatalf("restored:\n got %+v\nwant %+v", got, want)
	}
	lookupHost(t, restored, "a7.example.com")
}

func TestFSMPanics(t *testing.T) {
	tests := []struct {
		name  string
		setup func(s *zonestore.Store)
		data  []byte
	}{
		{name: "undecodable", setup: func(*zonestore.Store) {}, data: []byte("{not json")},
		{name: "unknown op", setup: func(*zonestore.Store) {}, data: []byte(`{"v":1,"op":"dance","time":"2026-03-01T12:00:00Z"}`)},
		{name: "store closed", setup: func(s *zonestore.Store) { s.Close() },
			data: []byte(`{"v":1,"op":"node","time":"2026-03-01T12:00:00Z","node":{"id":"n1","raft":"127.0.0.1:1"}}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t, t.TempDir())
			defer s.Close()
			tt.setup(s)
			defer func() {
				if recover() == nil {
					t.Fatal("Apply did not panic")
				}
			}()
			(&fsm{store: s}).Apply(&raft.Log{Index: 1, Type: raft.LogCommand, Data: tt.data})
		})
	}
}

func TestPersistError(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	snap, err := (&fsm{store: s}).Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	snap.Release() // closes the handle: Persist must fail and cancel
	sink := &memSink{}
	if err := snap.Persist(sink); !errors.Is(err, zonestore.ErrClosed) {
		t.Fatalf("Persist after Release: %v", err)
	}
	if !sink.cancelled || sink.closed {
		t.Errorf("sink closed=%v cancelled=%v", sink.closed, sink.cancelled)
	}
}
