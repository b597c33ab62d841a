package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"github.com/mxsign/mxsign/zonestore"
)

// Node is one member of the raft cluster replicating a zonestore.Store.
// It implements zonestore.Applier (on the leader).
type Node struct {
	cfg   Config
	log   hclog.Logger
	raft  *raft.Raft
	logs  *raftboltdb.BoltStore
	snaps raft.SnapshotStore
	trans raft.Transport
	addr  raft.ServerAddress

	observer *raft.Observer
	obsCh    chan raft.Observation

	// changed is closed and replaced after every raft observation (state or
	// leader change), so waiters can block on it.
	changeMu sync.Mutex
	changed  chan struct{}

	done      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

var _ zonestore.Applier = (*Node)(nil)

// logCacheSize and logCacheBytes bound the recent log entries kept in memory
// (logCache): 512 single-domain entries, or about 120 batches of 1000.
const (
	logCacheSize  = 512
	logCacheBytes = 16 << 20
)

// snapshotsRetained is the number of snapshots kept on disk.
const snapshotsRetained = 2

// Open starts a raft node on cfg.Store. Without raft state in cfg.Dir it
// bootstraps a single-node cluster if cfg.Bootstrap is set (a store that
// already holds commands becomes the cluster's first snapshot), and
// otherwise waits to be added by a leader's Join. With raft state, raft
// replays the log after the last snapshot; the store skips what it has.
func Open(cfg Config) (*Node, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = NewLogger("raft", hclog.Warn, nil)
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	n := &Node{cfg: cfg, log: cfg.Logger, changed: make(chan struct{}), done: make(chan struct{})}
	if err := n.open(); err != nil {
		n.cleanup()
		return nil, err
	}
	return n, nil
}

func (n *Node) open() error {
	cfg := n.cfg
	var err error
	n.logs, err = raftboltdb.New(raftboltdb.Options{Path: filepath.Join(cfg.Dir, "raft.db")})
	if err != nil {
		return fmt.Errorf("cluster: open raft log: %w", err)
	}
	logs, err := newLogCache(n.logs, logCacheSize, logCacheBytes)
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.Dir, snapshotsRetained, n.log.Named("snapshots"))
	if err != nil {
		return fmt.Errorf("cluster: open snapshots: %w", err)
	}
	n.snaps = snaps
	if cfg.Transport != nil {
		n.trans = cfg.Transport
	} else {
		layer, err := newStreamLayer(cfg.RaftAddr, cfg.TLS)
		if err != nil {
			return err
		}
		n.trans = newNetworkTransport(layer, n.log.Named("transport"))
	}
	n.addr = n.trans.LocalAddr()

	rc := DefaultRaftConfig()
	if cfg.RaftConfig != nil {
		cfg.RaftConfig(rc)
	}
	rc.LocalID = raft.ServerID(cfg.ID)
	rc.Logger = n.log

	has, err := raft.HasExistingState(logs, n.logs, snaps)
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	applied := cfg.Store.AppliedIndex()
	switch {
	case !has && cfg.Bootstrap && applied > 0:
		if err := seed(rc, n.logs, snaps, n.trans, cfg.Store); err != nil {
			return err
		}
	case !has && cfg.Bootstrap:
		conf := raft.Configuration{Servers: []raft.Server{{Suffrage: raft.Voter, ID: rc.LocalID, Address: n.addr}}}
		if err := raft.BootstrapCluster(rc, logs, n.logs, snaps, n.trans, conf); err != nil {
			return fmt.Errorf("cluster: bootstrap: %w", err)
		}
	case !has && applied > 0:
		return fmt.Errorf("%w: %s has applied index %d; start a joining node with an empty store", ErrStoreNotEmpty, cfg.ID, applied)
	}
	// The store is durable: restore the latest snapshot on start only if
	// the store is behind it (for instance, a lost store file).
	if metas, err := snaps.List(); err == nil && (len(metas) == 0 || !storeBehind(n.logs, applied, metas[0].Index)) {
		rc.NoSnapshotRestoreOnStart = true
	}

	n.obsCh = make(chan raft.Observation, 64)
	n.raft, err = raft.NewRaft(rc, &fsm{store: cfg.Store}, logs, n.logs, snaps, n.trans)
	if err != nil {
		return fmt.Errorf("cluster: start raft: %w", err)
	}
	n.observer = raft.NewObserver(n.obsCh, false, func(o *raft.Observation) bool {
		switch o.Data.(type) {
		case raft.LeaderObservation, raft.RaftState:
			return true
		}
		return false
	})
	n.raft.RegisterObserver(n.observer)
	raftState.Set(stateValue(n.raft.State()))
	appliedIndex.Set(float64(applied))
	n.wg.Add(2)
	go n.observe()
	go n.registerSelf()
	return nil
}

// storeBehind reports whether a snapshot at snapIndex holds commands a store
// that applied up to applied lacks. Raft's applied index counts barriers too
// (the scheduler's once per term, the plugin's at start), the store's only
// commands, so a snapshot taken after a barrier is ahead of a complete store:
// only a command in between, or an entry the log no longer has, means the store
// is behind. Restoring needlessly would rebuild the whole index a second time
// at every start.
func storeBehind(logs raft.LogStore, applied, snapIndex uint64) bool {
	for i := applied + 1; i <= snapIndex; i++ {
		var l raft.Log
		if err := logs.GetLog(i, &l); err != nil || l.Type == raft.LogCommand {
			return true
		}
	}
	return false
}

// seed turns a store that already holds commands (a single node that ran
// without raft) into the first snapshot of a new single-node cluster, at the
// store's applied index, so that the log continues after it.
func seed(rc *raft.Config, stable raft.StableStore, snaps raft.SnapshotStore, trans raft.Transport, store *zonestore.Store) error {
	st, err := store.BeginSnapshot()
	if err != nil {
		return fmt.Errorf("cluster: seed: %w", err)
	}
	defer st.Close()
	index, err := st.Applied()
	if err != nil {
		return fmt.Errorf("cluster: seed: %w", err)
	}
	conf := raft.Configuration{Servers: []raft.Server{{Suffrage: raft.Voter, ID: rc.LocalID, Address: trans.LocalAddr()}}}
	const term = 1
	sink, err := snaps.Create(raft.SnapshotVersionMax, index, term, conf, index, trans)
	if err != nil {
		return fmt.Errorf("cluster: seed: %w", err)
	}
	if _, err := st.WriteTo(sink); err != nil {
		sink.Cancel()
		return fmt.Errorf("cluster: seed: %w", err)
	}
	if err := sink.Close(); err != nil {
		return fmt.Errorf("cluster: seed: %w", err)
	}
	// raft's stable-store key for the current term.
	if err := stable.SetUint64([]byte("CurrentTerm"), term); err != nil {
		return fmt.Errorf("cluster: seed: %w", err)
	}
	return nil
}

// observe updates metrics and wakes waiters on raft state and leader changes.
func (n *Node) observe() {
	defer n.wg.Done()
	for {
		select {
		case <-n.done:
			return
		case o := <-n.obsCh:
			switch d := o.Data.(type) {
			case raft.RaftState:
				raftState.Set(stateValue(d))
			case raft.LeaderObservation:
				leaderChanges.Inc()
				if d.LeaderID != "" {
					n.log.Info("leader", "id", d.LeaderID, "addr", d.LeaderAddr)
				}
			}
			n.changeMu.Lock()
			close(n.changed)
			n.changed = make(chan struct{})
			n.changeMu.Unlock()
		}
	}
}

// changes returns a channel closed at the next raft state or leader change.
func (n *Node) changes() <-chan struct{} {
	n.changeMu.Lock()
	defer n.changeMu.Unlock()
	return n.changed
}

// registerSelf records this node's addresses in the store whenever it
// becomes the leader and the store's record differs (first bootstrap, or an
// API address changed across a restart).
func (n *Node) registerSelf() {
	defer n.wg.Done()
	for {
		select {
		case <-n.done:
			return
		case leader := <-n.raft.LeaderCh():
			if !leader {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), DefaultApplyTimeout)
			go func() {
				select {
				case <-n.done:
					cancel()
				case <-ctx.Done():
				}
			}()
			if err := n.putNode(ctx, n.cfg.ID, string(n.addr), n.cfg.APIAddr); err != nil {
				n.log.Warn("cannot record this node's addresses", "error", err)
			}
			cancel()
		}
	}
}

// putNode applies a NodeCmd unless the store already has that record.
func (n *Node) putNode(ctx context.Context, id, raftAddr, apiAddr string) error {
	want := zonestore.Node{ID: id, Raft: raftAddr, API: apiAddr}
	for _, have := range n.cfg.Store.Nodes() {
		if have == want {
			return nil
		}
	}
	_, err := n.Apply(ctx, n.nodeCommand(zonestore.NodeCmd{ID: id, Raft: raftAddr, API: apiAddr}))
	return err
}

func (n *Node) nodeCommand(c zonestore.NodeCmd) *zonestore.Command {
	return &zonestore.Command{V: zonestore.CommandVersion, Op: zonestore.OpNode, Time: n.cfg.now(), Node: &c}
}

// ID returns the node's id.
func (n *Node) ID() string { return n.cfg.ID }

// RaftAddr returns the address the node's raft transport advertises.
func (n *Node) RaftAddr() string { return string(n.addr) }

// Raft returns the underlying raft server (for snapshots, stats, tests).
func (n *Node) Raft() *raft.Raft { return n.raft }

// Apply commits cmd through the raft log and returns the store's result
// once the command is committed by a quorum and applied on this node. Only
// the leader accepts writes: elsewhere the error wraps ErrNotLeader (and
// ErrNoLeader if no leader is known). If ctx ends first, the command may
// still commit. If leadership is lost while committing, the error wraps
// raft.ErrLeadershipLost and the outcome is unknown.
func (n *Node) Apply(ctx context.Context, cmd *zonestore.Command) (*zonestore.Result, error) {
	if n.raft.State() != raft.Leader {
		return nil, n.notLeader()
	}
	b, err := cmd.Encode()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	f := n.raft.Apply(b, enqueueTimeout(ctx))
	if err := wait(ctx, f); err != nil {
		return nil, n.raftError("apply", err)
	}
	commitDuration.Observe(time.Since(start).Seconds())
	r, ok := f.Response().(applyResult)
	if !ok {
		return nil, fmt.Errorf("cluster: apply: unexpected response %T", f.Response())
	}
	return r.res, r.err
}

// enqueueTimeout is the time raft may wait to accept a new entry.
func enqueueTimeout(ctx context.Context) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		return max(time.Until(dl), time.Millisecond)
	}
	return DefaultApplyTimeout
}

// wait waits for a raft future or the end of ctx.
func wait(ctx context.Context, f raft.Future) error {
	if ctx.Done() == nil {
		return f.Error()
	}
	errc := make(chan error, 1)
	go func() { errc <- f.Error() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// raftError maps raft's errors to this package's.
func (n *Node) raftError(op string, err error) error {
	switch {
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return fmt.Errorf("cluster: %s: %w", op, n.notLeader())
	case errors.Is(err, raft.ErrRaftShutdown):
		return fmt.Errorf("cluster: %s: %w", op, ErrClosed)
	case errors.Is(err, raft.ErrLeadershipLost):
		return fmt.Errorf("cluster: %s: outcome unknown: %w", op, err)
	}
	return fmt.Errorf("cluster: %s: %w", op, err)
}

// notLeader is the error of a write on a follower, naming the leader.
func (n *Node) notLeader() error {
	id, _, api := n.Leader()
	switch {
	case id == "":
		return fmt.Errorf("%w: %w", ErrNotLeader, ErrNoLeader)
	case api == "":
		return fmt.Errorf("%w: the leader is %s", ErrNotLeader, id)
	}
	return fmt.Errorf("%w: the leader is %s (api %s)", ErrNotLeader, id, api)
}

// IsLeader reports whether this node is the leader.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// Term returns the node's current raft term. A leader that lost and regained
// leadership has a new term.
func (n *Node) Term() uint64 { return n.raft.CurrentTerm() }

// Barrier returns once this node, as leader, has applied every entry
// committed before the call, entries of earlier terms included. A node
// reports itself leader as soon as it wins an election, before it has
// applied what its predecessor committed: a leader that decides from its
// store (the rollover scheduler) calls Barrier first in each term. Elsewhere
// the error wraps ErrNotLeader.
func (n *Node) Barrier(ctx context.Context) error {
	if n.raft.State() != raft.Leader {
		return n.notLeader()
	}
	if err := wait(ctx, n.raft.Barrier(enqueueTimeout(ctx))); err != nil {
		return n.raftError("barrier", err)
	}
	return nil
}

// Leader returns the current leader's id, raft address and admin API
// address (from the replicated node records, "" if unknown). All are ""
// when no leader is known.
func (n *Node) Leader() (id, raftAddr, apiAddr string) {
	addr, sid := n.raft.LeaderWithID()
	if sid == "" {
		return "", "", ""
	}
	return string(sid), string(addr), n.apiAddr(string(sid))
}

func (n *Node) apiAddr(id string) string {
	for _, nd := range n.cfg.Store.Nodes() {
		if nd.ID == id {
			return nd.API
		}
	}
	return ""
}

// WaitLeader blocks until a leader is known to this node or ctx ends.
func (n *Node) WaitLeader(ctx context.Context) error {
	for {
		ch := n.changes()
		if id, _, _ := n.Leader(); id != "" {
			return nil
		}
		select {
		case <-ch:
		case <-n.done:
			return ErrClosed
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ErrNoLeader, ctx.Err())
		}
	}
}

// NodeStatus is one member as seen from this node.
type NodeStatus struct {
	ID      string `json:"id"`
	Raft    string `json:"raft"`
	API     string `json:"api"`
	State   string `json:"state"` // leader, follower, candidate, nonvoter or unknown
	Voter   bool   `json:"voter"`
	Applied uint64 `json:"applied"` // known for this node only; 0 for the others
}

// Status is the cluster as seen from this node.
type Status struct {
	Leader string       `json:"leader"` // leader id, "" if none is known
	Nodes  []NodeStatus `json:"nodes"`  // the raft configuration, in its order
}

// Status returns the raft configuration as this node knows it, with the
// API addresses from the store. Other nodes' states are derived from the
// configuration: the leader, nonvoters, and followers once a leader is known.
func (n *Node) Status() Status {
	leader, _, _ := n.Leader()
	st := Status{Leader: leader}
	f := n.raft.GetConfiguration()
	if f.Error() != nil {
		return st
	}
	for _, srv := range f.Configuration().Servers {
		ns := NodeStatus{ID: string(srv.ID), Raft: string(srv.Address), API: n.apiAddr(string(srv.ID)), Voter: srv.Suffrage == raft.Voter}
		switch {
		case string(srv.ID) == n.cfg.ID:
			ns.Applied = n.cfg.Store.AppliedIndex()
			ns.State = stateName(n.raft.State(), ns.Voter)
		case string(srv.ID) == leader:
			ns.State = "leader"
		case !ns.Voter:
			ns.State = "nonvoter"
		case leader != "":
			ns.State = "follower"
		default:
			ns.State = "unknown"
		}
		st.Nodes = append(st.Nodes, ns)
	}
	return st
}

func stateName(s raft.RaftState, voter bool) string {
	switch {
	case s == raft.Leader:
		return "leader"
	case s == raft.Candidate:
		return "candidate"
	case s == raft.Follower && !voter:
		return "nonvoter"
	case s == raft.Follower:
		return "follower"
	}
	return "unknown"
}

// Close stops raft and closes the transport and the log store. It does not
// close the zonestore. It is safe to call more than once. If the store applied
// commands after the latest snapshot, Close first takes one (snapshotOnClose).
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		var errs []error
		if n.raft != nil {
			n.snapshotOnClose()
			if err := n.raft.Shutdown().Error(); err != nil {
				errs = append(errs, err)
			}
			n.raft.DeregisterObserver(n.observer)
		}
		errs = append(errs, n.cleanup())
		raftState.Set(stateValue(raft.Shutdown))
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}

// snapshotOnClose snapshots the store when it has applied commands the latest
// snapshot lacks. Raft starts applying the log after its latest snapshot, so
// without one a restart reads back every entry since: the store skips them
// (fsm.Apply), but raft still maps the pages of raft.db that hold them and
// decodes each into the heap. A million domains loaded in batches are about
// 150 MB of log that a restart would read for nothing. The snapshot is the
// store's file streamed to disk (file reads, not mapped), and it lets raft
// compact the log past TrailingLogs as well. A failure only costs that replay.
func (n *Node) snapshotOnClose() {
	applied := n.cfg.Store.AppliedIndex()
	metas, err := n.snaps.List()
	if err != nil || applied == 0 || (len(metas) > 0 && metas[0].Index >= applied) {
		return
	}
	start := time.Now()
	if err := n.raft.Snapshot().Error(); err != nil {
		n.log.Warn("no snapshot at close: the next start replays the log", "error", err)
		return
	}
	n.log.Info("snapshot at close", "index", applied, "duration", time.Since(start))
}

// cleanup stops the goroutines and closes what open created.
func (n *Node) cleanup() error {
	close(n.done)
	n.wg.Wait()
	var errs []error
	if c, ok := n.trans.(raft.WithClose); ok && n.cfg.Transport == nil {
		errs = append(errs, c.Close()) // a no-op after raft's shutdown closed it
	}
	if n.logs != nil {
		errs = append(errs, n.logs.Close())
	}
	return errors.Join(errs...)
}
