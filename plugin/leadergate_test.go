package mxsign

import (
	"context"
	"errors"
	"testing"

	"github.com/mxsign/mxsign/cluster"
	"github.com/mxsign/mxsign/zonestore"
)

// fakeLeader is a raft node whose leadership, term and barrier the test sets.
type fakeLeader struct {
	leader     bool
	term       uint64
	barrierErr error
	barriers   int
	applied    int
	onBarrier  func() // runs inside Barrier (e.g. the term changes meanwhile)
}

func (f *fakeLeader) IsLeader() bool { return f.leader }
func (f *fakeLeader) Term() uint64   { return f.term }
func (f *fakeLeader) Barrier(context.Context) error {
	f.barriers++
	if f.onBarrier != nil {
		f.onBarrier()
	}
	return f.barrierErr
}
func (f *fakeLeader) Apply(context.Context, *zonestore.Command) (*zonestore.Result, error) {
	if !f.leader {
		return nil, cluster.ErrNotLeader
	}
	f.applied++
	return &zonestore.Result{}, nil
}

func TestLeaderGate(t *testing.T) {
	ctx := context.Background()
	cmd := &zonestore.Command{}
	type step struct {
		do        func(f *fakeLeader)
		wantReady bool
		wantErr   bool  // ready returns an error
		applyErr  error // error Apply must return (nil: success)
		barriers  int   // barriers so far
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{name: "follower: closed, writes refused", steps: []step{
			{do: func(f *fakeLeader) {}, applyErr: errStaleLeader},
		}},
		{name: "new leader: one barrier per term", steps: []step{
			{do: func(f *fakeLeader) { f.leader, f.term = true, 2 }, wantReady: true, barriers: 1},
			{do: func(f *fakeLeader) {}, wantReady: true, barriers: 1},
		}},
		{name: "new term: a new barrier", steps: []step{
			{do: func(f *fakeLeader) { f.leader, f.term = true, 2 }, wantReady: true, barriers: 1},
			{do: func(f *fakeLeader) { f.term = 4 }, wantReady: true, barriers: 2},
		}},
		{name: "barrier fails: closed", steps: []step{
			{do: func(f *fakeLeader) { f.leader, f.term, f.barrierErr = true, 2, cluster.ErrNotLeader }, wantErr: true, applyErr: errStaleLeader, barriers: 1},
			{do: func(f *fakeLeader) { f.barrierErr = nil }, wantReady: true, barriers: 2},
		}},
		{name: "term lost during the barrier", steps: []step{
			{do: func(f *fakeLeader) { f.leader, f.term, f.onBarrier = true, 2, func() { f.term = 3 } }, applyErr: errStaleLeader, barriers: 1},
			{do: func(f *fakeLeader) { f.onBarrier = nil }, wantReady: true, barriers: 2},
		}},
		{name: "lost leadership: closed again", steps: []step{
			{do: func(f *fakeLeader) { f.leader, f.term = true, 2 }, wantReady: true, barriers: 1},
			{do: func(f *fakeLeader) { f.leader, f.term = false, 3 }, applyErr: errStaleLeader, barriers: 1},
			{do: func(f *fakeLeader) { f.leader, f.term = true, 5 }, wantReady: true, barriers: 2},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeLeader{}
			g := &leaderGate{node: f}
			for i, s := range tc.steps {
				s.do(f)
				ready, err := g.ready(ctx)
				if ready != s.wantReady || (err != nil) != s.wantErr {
					t.Fatalf("step %d: ready = %v, %v; want %v, error %v", i, ready, err, s.wantReady, s.wantErr)
				}
				if f.barriers != s.barriers {
					t.Fatalf("step %d: %d barriers, want %d", i, f.barriers, s.barriers)
				}
				if _, err := g.Apply(ctx, cmd); !errors.Is(err, s.applyErr) {
					t.Fatalf("step %d: Apply = %v, want %v", i, err, s.applyErr)
				}
			}
		})
	}
	// A write decided before the term changed is refused even while this node
	// leads again in the new term: its store may lack the other leader's writes.
	f := &fakeLeader{leader: true, term: 7}
	g := &leaderGate{node: f}
	if ok, err := g.ready(ctx); !ok || err != nil {
		t.Fatalf("ready: %v %v", ok, err)
	}
	f.term = 9
	if _, err := g.Apply(ctx, cmd); !errors.Is(err, errStaleLeader) || f.applied != 0 {
		t.Fatalf("Apply across a term change = %v (%d applied), want errStaleLeader", err, f.applied)
	}
}
