package mxsign

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/mxsign/mxsign/zonestore"
)

// errStaleLeader refuses a scheduler write decided in an earlier leadership term.
var errStaleLeader = errors.New("mxsign: leadership changed since the scheduler read the store")

// raftLeader is what the gate needs of the raft node (cluster.Node).
type raftLeader interface {
	zonestore.Applier
	IsLeader() bool
	Term() uint64
	Barrier(ctx context.Context) error
}

// leaderGate lets the rollover scheduler write only as a leader whose store holds
// everything committed before: raft reports a node leader as soon as it wins the
// election, while its store may still lack its predecessor's last commands (after a
// leadership transfer right after a write, usually so). A scheduler deciding from
// that store proposes stale decisions, e.g. a second successor key; the key
// records' compare-and-set (zonestore.ErrKeysChanged) refuses those, but the
// new-leader wait for every member (propagation) would count from a stale applied
// index. So in every new term the gate waits for a raft barrier before it opens, and
// it refuses writes once the term has changed (a node that lost and regained
// leadership must read its store again). A node that is no longer leader has its
// writes refused by raft itself (cluster.ErrNotLeader): they are never forwarded.
type leaderGate struct {
	node raftLeader

	mu   sync.Mutex
	term uint64 // the term whose barrier passed; 0: closed
}

var _ zonestore.Applier = (*leaderGate)(nil)

// ready reports whether this node leads and has applied everything committed before
// its term; the first call in a term waits for the barrier.
func (g *leaderGate) ready(ctx context.Context) (bool, error) {
	if !g.node.IsLeader() {
		g.close()
		return false, nil
	}
	term := g.node.Term()
	g.mu.Lock()
	open := g.term == term
	g.mu.Unlock()
	if open {
		return true, nil
	}
	if err := g.node.Barrier(ctx); err != nil {
		g.close()
		return false, fmt.Errorf("mxsign: waiting for the store to catch up as the new leader: %w", err)
	}
	if g.node.Term() != term {
		return false, nil // lost the term during the barrier: try again next time
	}
	g.mu.Lock()
	g.term = term
	g.mu.Unlock()
	return true, nil
}

// opened returns the term the gate is open in (0: closed).
func (g *leaderGate) opened() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.term
}

func (g *leaderGate) close() {
	g.mu.Lock()
	g.term = 0
	g.mu.Unlock()
}

// Apply proposes cmd if the term the gate opened in still runs.
func (g *leaderGate) Apply(ctx context.Context, cmd *zonestore.Command) (*zonestore.Result, error) {
	g.mu.Lock()
	term := g.term
	g.mu.Unlock()
	if term == 0 || g.node.Term() != term {
		g.close()
		return nil, errStaleLeader
	}
	return g.node.Apply(ctx, cmd)
}
