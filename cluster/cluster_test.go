package cluster

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/mxsign/mxsign/zonestore"
)

func initZones(t testing.TB, leader *Node) *zonestore.Provisioner {
	t.Helper()
	p := provisioner(t, leader)
	cfg, prof := testZoneConfig()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.Init(ctx, cfg, prof); err != nil {
		t.Fatalf("Init: %v", err)
	}
	return p
}

// TestReplication: three voters and a nonvoter end with identical stores;
// the leader stops, a new one is elected and takes writes; the old leader
// restarts on its directories and catches up.
func TestReplicationFailoverRestart(t *testing.T) {
	nodes := startCluster(t, 3, 1, nil)
	leader := leaderOf(t, nodes)
	p := initZones(t, leader.Node)
	mustAdd(t, p, domains("a", 120)...) // 3 shards of 50
	v := waitConverged(t, nodes)
	if len(v.Zones) != 4 || len(v.Hosts) != 120 || len(v.Nodes) != 4 {
		t.Fatalf("converged view: %d zones, %d hosts, %d nodes", len(v.Zones), len(v.Hosts), len(v.Nodes))
	}
	for _, n := range nodes {
		lookupHost(t, n.store, "a42.example.com")
	}

	st := leader.Status()
	if st.Leader != leader.id || len(st.Nodes) != 4 {
		t.Fatalf("Status = %+v", st)
	}
	states := map[string]string{}
	for _, ns := range st.Nodes {
		states[ns.ID] = ns.State
		if ns.API != "api-"+ns.ID {
			t.Errorf("Status: %s API %q", ns.ID, ns.API)
		}
	}
	if states[leader.id] != "leader" || states["n4"] != "nonvoter" {
		t.Errorf("Status states = %v", states)
	}

	// Followers refuse writes and name the leader.
	for _, n := range nodes {
		if n == leader {
			continue
		}
		_, err := n.Apply(context.Background(), &zonestore.Command{V: 1, Op: zonestore.OpDeleteHosts, Time: t0,
			DeleteHosts: &zonestore.DeleteHostsCmd{Domains: []string{"a1.example.com"}}})
		if !errors.Is(err, ErrNotLeader) {
			t.Fatalf("Apply on follower %s: %v", n.id, err)
		}
		if id, _, api := n.Leader(); id != leader.id || api != "api-"+leader.id {
			t.Errorf("%s: Leader() = %s, %s", n.id, id, api)
		}
	}

	// Stop the leader; the others elect a new one and keep provisioning.
	old := leader
	oldDir, oldAddr := old.dir, old.addr
	old.stop(t)
	rest := make([]*testNode, 0, 3)
	for _, n := range nodes {
		if n != old {
			rest = append(rest, n)
		}
	}
	leader = leaderOf(t, rest)
	if leader.id == "n4" {
		t.Fatal("the nonvoter became leader")
	}
	mustAdd(t, provisioner(t, leader.Node), domains("b", 30)...)
	waitConverged(t, rest)

	// The old leader restarts on the same directories and catches up.
	back := startNode(t, old.id, oldDir, oldAddr, nodeOpts{voter: true})
	all := append(rest, back)
	v = waitConverged(t, all)
	if len(v.Hosts) != 150 {
		t.Fatalf("after restart: %d hosts", len(v.Hosts))
	}
	lookupHost(t, back.store, "b7.example.com")
	mustAdd(t, provisioner(t, leaderOf(t, all).Node), "c.example.net")
	waitConverged(t, all)
}

// TestInstallSnapshot: a node added after the log was compacted receives
// the state as a snapshot.
func TestInstallSnapshot(t *testing.T) {
	small := func(c *raft.Config) {
		c.SnapshotThreshold = 4
		c.TrailingLogs = 2
	}
	first := startNode(t, "n1", "", "", nodeOpts{bootstrap: true, voter: true, tweak: small})
	waitFor(t, 10*time.Second, "n1 to lead", first.IsLeader)
	p := initZones(t, first.Node)
	for i := range 8 {
		mustAdd(t, p, domains(string(rune('a'+i)), 10)...)
	}
	if err := first.Raft().Snapshot().Error(); err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	if fi, _ := first.logs.FirstIndex(); fi <= 1 {
		t.Fatalf("log not compacted: first index %d", fi)
	}
	second := startNode(t, "n2", "", "", nodeOpts{voter: true, tweak: small})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := first.Join(ctx, "n2", second.RaftAddr(), "api-n2", true); err != nil {
		t.Fatal(err)
	}
	v := waitConverged(t, []*testNode{first, second})
	if len(v.Hosts) != 80 {
		t.Fatalf("%d hosts", len(v.Hosts))
	}
	lookupHost(t, second.store, "h3.example.com")

	// A restart restores nothing (the store is durable) and loses nothing.
	second = second.restart(t, nodeOpts{voter: true, tweak: small})
	mustAdd(t, p, "late.example.org")
	v = waitConverged(t, []*testNode{first, second})
	if len(v.Hosts) != 81 {
		t.Fatalf("after restart: %d hosts", len(v.Hosts))
	}
}

// TestPartition: a leader cut off from the others cannot commit, the
// majority elects a new leader, the old one still answers lookups, and it
// catches up when the partition heals.
func TestPartition(t *testing.T) {
	sw := newNetSwitch()
	nodes := startCluster(t, 3, 0, sw)
	leader := leaderOf(t, nodes)
	p := initZones(t, leader.Node)
	mustAdd(t, p, domains("a", 10)...)
	waitConverged(t, nodes)

	sw.isolate(leader.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	_, err := leader.Apply(ctx, &zonestore.Command{V: 1, Op: zonestore.OpDeleteHosts, Time: t0,
		DeleteHosts: &zonestore.DeleteHostsCmd{Domains: []string{"a1.example.com"}}})
	cancel()
	if err == nil {
		t.Fatal("the isolated leader committed a write")
	}
	if !errors.Is(err, ErrNotLeader) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, raft.ErrLeadershipLost) {
		t.Fatalf("Apply on the isolated leader: %v", err)
	}
	waitFor(t, 10*time.Second, "the isolated leader to step down", func() bool { return !leader.IsLeader() })
	lookupHost(t, leader.store, "a1.example.com") // still served

	var majority []*testNode
	for _, n := range nodes {
		if n != leader {
			majority = append(majority, n)
		}
	}
	newLeader := leaderOf(t, majority)
	mustAdd(t, provisioner(t, newLeader.Node), "b.example.net")
	waitConverged(t, majority)
	if _, err := leader.store.Host("b.example.net"); !errors.Is(err, zonestore.ErrHostNotFound) {
		t.Fatalf("isolated node has b.example.net: %v", err)
	}

	sw.heal(leader.addr)
	v := waitConverged(t, nodes)
	if len(v.Hosts) != 11 {
		t.Fatalf("after heal: %d hosts", len(v.Hosts))
	}
	lookupHost(t, leader.store, "b.example.net")
}
