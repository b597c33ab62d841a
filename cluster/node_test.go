package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/mxsign/mxsign/zonestore"
)

func TestOpenErrors(t *testing.T) {
	store := openStore(t, t.TempDir())
	defer store.Close()
	dir := t.TempDir()
	tests := []struct {
		name string
		cfg  Config
		err  error
	}{
		{name: "no id", cfg: Config{RaftAddr: "127.0.0.1:0", Dir: dir, Store: store}, err: ErrConfig},
		{name: "no dir", cfg: Config{ID: "n1", RaftAddr: "127.0.0.1:0", Store: store}, err: ErrConfig},
		{name: "no store", cfg: Config{ID: "n1", RaftAddr: "127.0.0.1:0", Dir: dir}, err: ErrConfig},
		{name: "no address", cfg: Config{ID: "n1", Dir: dir, Store: store}, err: ErrConfig},
		{name: "unspecified address", cfg: Config{ID: "n1", RaftAddr: "0.0.0.0:0", Dir: dir, Store: store}, err: ErrConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := Open(tt.cfg)
			if err == nil {
				n.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, tt.err) {
				t.Fatalf("Open: %v, want %v", err, tt.err)
			}
		})
	}
}

// TestSeed: a store written without raft becomes the first snapshot of a
// bootstrapped cluster, and the log continues after its applied index.
func TestSeed(t *testing.T) {
	dir := t.TempDir()
	store := openStore(t, dir)
	p := &zonestore.Provisioner{Store: store, Applier: zonestore.NewLocalApplier(store), Keys: testKeys(t), Now: clock.Now, Rand: provisionRand()}
	cfg, prof := testZoneConfig()
	if err := p.Init(context.Background(), cfg, prof); err != nil {
		t.Fatal(err)
	}
	mustAdd(t, p, domains("a", 5)...)
	applied := store.AppliedIndex()

	// A joining node must start empty.
	n, err := Open(Config{ID: "n1", RaftAddr: "127.0.0.1:0", Dir: filepath.Join(dir, "raft"), Store: store, Logger: hclog.NewNullLogger()})
	if !errors.Is(err, ErrStoreNotEmpty) {
		if n != nil {
			n.Close()
		}
		t.Fatalf("Open of a non-empty joiner: %v", err)
	}
	store.Close()

	tn := startNode(t, "n1", dir, "", nodeOpts{bootstrap: true, voter: true})
	waitFor(t, 10*time.Second, "n1 to lead", tn.IsLeader)
	mustAdd(t, provisioner(t, tn.Node), "after.example.net")
	if got := tn.store.AppliedIndex(); got <= applied+1 {
		t.Fatalf("applied index %d, want > %d", got, applied+1)
	}
	lookupHost(t, tn.store, "after.example.net")
	lookupHost(t, tn.store, "a1.example.com")

	// A second node joins and receives the seeded state.
	n2 := startNode(t, "n2", "", "", nodeOpts{voter: true})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := tn.Join(ctx, "n2", n2.addr, "api-n2", true); err != nil {
		t.Fatal(err)
	}
	v := waitConverged(t, []*testNode{tn, n2})
	if len(v.Hosts) != 6 {
		t.Fatalf("%d hosts", len(v.Hosts))
	}
}

func TestWaitLeaderAndClose(t *testing.T) {
	lone := startNode(t, "n1", "", "", nodeOpts{}) // no bootstrap: never a leader
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := lone.WaitLeader(ctx); !errors.Is(err, ErrNoLeader) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitLeader: %v", err)
	}
	_, err := lone.Apply(context.Background(), &zonestore.Command{V: 1, Op: zonestore.OpNode, Time: t0, Node: &zonestore.NodeCmd{ID: "x", Raft: "y"}})
	if !errors.Is(err, ErrNotLeader) || !errors.Is(err, ErrNoLeader) {
		t.Fatalf("Apply without a leader: %v", err)
	}
	st := lone.Status()
	if st.Leader != "" {
		t.Errorf("Status = %+v", st)
	}
	if err := lone.Node.Close(); err != nil {
		t.Fatal(err)
	}
	if err := lone.Node.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := lone.WaitLeader(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("WaitLeader after Close: %v", err)
	}
}

// TestBarrierAfterLeaderChange: a node reports itself leader as soon as it wins
// the election, before it has applied what its predecessor committed; Barrier
// returns only once it has, and refuses on followers.
func TestBarrierAfterLeaderChange(t *testing.T) {
	nodes := startCluster(t, 3, 0, nil)
	leader := leaderOf(t, nodes)
	p := initZones(t, leader.Node)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for round := range 3 {
		mustAdd(t, p, domains(fmt.Sprintf("r%d-", round), 5)...)
		applied, term := leader.store.AppliedIndex(), leader.Term()
		for _, n := range nodes {
			if n == leader {
				continue
			}
			if err := n.Barrier(ctx); !errors.Is(err, ErrNotLeader) {
				t.Fatalf("Barrier on follower %s: %v, want ErrNotLeader", n.id, err)
			}
		}
		if err := leader.Raft().LeadershipTransfer().Error(); err != nil {
			t.Fatalf("round %d: leadership transfer: %v", round, err)
		}
		var next *testNode
		waitFor(t, 15*time.Second, "a new leader", func() bool {
			for _, n := range nodes {
				if n != leader && n.IsLeader() {
					next = n
					return true
				}
			}
			return false
		})
		if err := next.Barrier(ctx); err != nil {
			t.Fatalf("round %d: Barrier on the new leader %s: %v", round, next.id, err)
		}
		if got := next.store.AppliedIndex(); got < applied {
			t.Fatalf("round %d: after Barrier the new leader %s applied %d, its predecessor had committed %d", round, next.id, got, applied)
		}
		if next.Term() <= term {
			t.Fatalf("round %d: new leader's term %d, old %d", round, next.Term(), term)
		}
		leader, p = next, provisioner(t, next.Node)
	}
}

// TestSnapshotOnClose: a clean Close snapshots what the store applied since the last
// snapshot, so a restart starts after it and reads none of the log back; a Close
// with nothing new writes none.
func TestSnapshotOnClose(t *testing.T) {
	tn := startNode(t, "n1", "", "", nodeOpts{bootstrap: true, voter: true})
	waitFor(t, 10*time.Second, "n1 to lead", tn.IsLeader)
	p := provisioner(t, tn.Node)
	cfg, prof := testZoneConfig()
	if err := p.Init(context.Background(), cfg, prof); err != nil {
		t.Fatal(err)
	}
	mustAdd(t, p, domains("a", 30)...)
	applied := tn.store.AppliedIndex()
	snaps := func() []*raft.SnapshotMeta {
		t.Helper()
		fs, err := raft.NewFileSnapshotStore(filepath.Join(tn.dir, "raft"), snapshotsRetained, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		metas, err := fs.List()
		if err != nil {
			t.Fatal(err)
		}
		return metas
	}
	before := len(snaps()) // bootstrapping writes none

	tn = tn.restart(t, nodeOpts{bootstrap: true, voter: true})
	metas := snaps()
	if len(metas) != before+1 {
		t.Fatalf("after Close: %d snapshots, had %d; want one more", len(metas), before)
	}
	if metas[0].Index != applied {
		t.Fatalf("snapshot at Close is at %d, want the applied index %d", metas[0].Index, applied)
	}
	// Raft starts after its latest snapshot: nothing before it is read again.
	if got := tn.Raft().AppliedIndex(); got < applied {
		t.Fatalf("raft applied index %d on start, want the snapshot's %d", got, applied)
	}
	waitFor(t, 10*time.Second, "n1 to lead again", tn.IsLeader)
	lookupHost(t, tn.store, "a29.example.com")

	// Nothing applied since: no new snapshot.
	id := metas[0].ID
	tn = tn.restart(t, nodeOpts{bootstrap: true, voter: true})
	if metas := snaps(); metas[0].ID != id {
		t.Fatalf("a Close with nothing new wrote snapshot %s", metas[0].ID)
	}
	lookupHost(t, tn.store, "a29.example.com")

	// A barrier after the last command: the next snapshot is at the barrier,
	// ahead of the store's applied index, and the store is still complete. The
	// restart must not restore it (Restore would replace the store's file).
	waitFor(t, 10*time.Second, "n1 to lead again", tn.IsLeader)
	mustAdd(t, provisioner(t, tn.Node), "b.example.com")
	if err := tn.Barrier(context.Background()); err != nil {
		t.Fatal(err)
	}
	applied = tn.store.AppliedIndex()
	path := filepath.Join(tn.dir, "zones.db")
	file, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	tn = tn.restart(t, nodeOpts{bootstrap: true, voter: true})
	if metas := snaps(); metas[0].Index <= applied {
		t.Fatalf("snapshot at %d, want the barrier after the store's %d", metas[0].Index, applied)
	}
	again, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(file, again) {
		t.Fatal("the restart restored the snapshot over a complete store")
	}
	lookupHost(t, tn.store, "b.example.com")
}

func TestStoreBehind(t *testing.T) {
	logs := raft.NewInmemStore()
	for i, typ := range []raft.LogType{raft.LogCommand, raft.LogCommand, raft.LogBarrier, raft.LogNoop, raft.LogCommand, raft.LogBarrier} {
		if err := logs.StoreLog(&raft.Log{Index: uint64(i + 3), Term: 1, Type: typ}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name            string
		applied, snap   uint64
		wantStoreBehind bool
	}{
		{name: "at the snapshot", applied: 8, snap: 8, wantStoreBehind: false},
		{name: "ahead of the snapshot", applied: 8, snap: 5, wantStoreBehind: false},
		{name: "only a barrier and a no-op between", applied: 4, snap: 6, wantStoreBehind: false},
		{name: "a command between", applied: 4, snap: 7, wantStoreBehind: true},
		{name: "a barrier after the last command", applied: 7, snap: 8, wantStoreBehind: false},
		{name: "entries compacted away", applied: 0, snap: 4, wantStoreBehind: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := storeBehind(logs, tt.applied, tt.snap); got != tt.wantStoreBehind {
				t.Fatalf("storeBehind(%d, %d) = %v, want %v", tt.applied, tt.snap, got, tt.wantStoreBehind)
			}
		})
	}
}
