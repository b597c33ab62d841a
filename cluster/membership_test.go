package cluster

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/mxsign/mxsign/zonestore"
)

func servers(t *testing.T, n *Node) map[string]raft.Server {
	t.Helper()
	f := n.Raft().GetConfiguration()
	if err := f.Error(); err != nil {
		t.Fatal(err)
	}
	out := map[string]raft.Server{}
	for _, s := range f.Configuration().Servers {
		out[string(s.ID)] = s
	}
	return out
}

func TestJoinIdempotence(t *testing.T) {
	nodes := startCluster(t, 2, 0, nil)
	leader, n2 := nodes[0], nodes[1]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	spare := startNode(t, "n3", "", "", nodeOpts{})

	steps := []struct {
		name, id, addr, api string
		voter               bool
		wantServers         int
		wantSuffrage        raft.ServerSuffrage
		wantApply           bool // a new log entry is expected
	}{
		{name: "rejoin unchanged", id: "n2", addr: n2.addr, api: "api-n2", voter: true, wantServers: 2, wantSuffrage: raft.Voter},
		{name: "api changed", id: "n2", addr: n2.addr, api: "api-n2-new", voter: true, wantServers: 2, wantSuffrage: raft.Voter, wantApply: true},
		{name: "add nonvoter", id: "n3", addr: spare.addr, api: "api-n3", wantServers: 3, wantSuffrage: raft.Nonvoter, wantApply: true},
		{name: "nonvoter again", id: "n3", addr: spare.addr, api: "api-n3", wantServers: 3, wantSuffrage: raft.Nonvoter},
		{name: "promote", id: "n3", addr: spare.addr, api: "api-n3", voter: true, wantServers: 3, wantSuffrage: raft.Voter, wantApply: true},
		{name: "demote", id: "n3", addr: spare.addr, api: "api-n3", wantServers: 3, wantSuffrage: raft.Nonvoter, wantApply: true},
		{name: "same address new id", id: "n3b", addr: spare.addr, api: "api-n3", wantServers: 3, wantSuffrage: raft.Nonvoter, wantApply: true},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := leader.Raft().LastIndex()
			if err := leader.Join(ctx, st.id, st.addr, st.api, st.voter); err != nil {
				t.Fatalf("Join: %v", err)
			}
			if got := leader.Raft().LastIndex() > before; got != st.wantApply {
				t.Errorf("new log entries = %v, want %v", got, st.wantApply)
			}
			srv := servers(t, leader.Node)
			if len(srv) != st.wantServers {
				t.Errorf("servers = %v", srv)
			}
			if s := srv[st.id]; s.Address != raft.ServerAddress(st.addr) || s.Suffrage != st.wantSuffrage {
				t.Errorf("server %s = %+v", st.id, s)
			}
			found := false
			for _, nd := range leader.store.Nodes() {
				if nd.ID == st.id {
					found = nd == zonestore.Node{ID: st.id, Raft: st.addr, API: st.api}
				}
			}
			if !found {
				t.Errorf("node record of %s missing or stale: %+v", st.id, leader.store.Nodes())
			}
		})
	}
	if _, ok := servers(t, leader.Node)["n3"]; ok {
		t.Error("stale n3 still in the configuration")
	}
	for _, nd := range leader.store.Nodes() {
		if nd.ID == "n3" {
			t.Errorf("stale node record %+v", nd)
		}
	}

	// Errors.
	if err := n2.Join(ctx, "n9", "127.0.0.1:1", "", true); !errors.Is(err, ErrNotLeader) {
		t.Errorf("Join on a follower: %v", err)
	}
	if err := leader.Join(ctx, "n9", leader.addr, "", true); !errors.Is(err, ErrConfig) {
		t.Errorf("Join with the leader's address: %v", err)
	}
	if err := leader.Join(ctx, "", "127.0.0.1:1", "", true); !errors.Is(err, ErrConfig) {
		t.Errorf("Join without id: %v", err)
	}
}

func TestRemove(t *testing.T) {
	nodes := startCluster(t, 3, 0, nil)
	leader := nodes[0]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := nodes[1].Remove(ctx, "n3"); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("Remove on a follower: %v", err)
	}
	if err := leader.Remove(ctx, "n3"); err != nil {
		t.Fatal(err)
	}
	if err := leader.Remove(ctx, "n3"); err != nil {
		t.Fatalf("second Remove: %v", err)
	}
	if _, ok := servers(t, leader.Node)["n3"]; ok {
		t.Error("n3 still in the configuration")
	}
	waitFor(t, 10*time.Second, "n2 to forget n3", func() bool { return len(nodes[1].store.Nodes()) == 2 })

	// The leader removes itself: n2 takes over.
	if err := leader.Remove(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "n2 to lead", nodes[1].IsLeader)
	if got := nodes[1].store.Nodes(); len(got) != 1 || got[0].ID != "n2" {
		t.Errorf("Nodes after removing the leader: %+v", got)
	}
}
