package cluster

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/raft"

	"github.com/mxsign/mxsign/zonestore"
)

// Join adds a server to the cluster; only the leader can. It is idempotent:
// a server already present with the same id and address is left alone
// (promoted with voter, demoted without), and only its node record is
// re-applied if its API address changed. A stale member with the same id or
// the same address is removed first. The node record (id, raft and API
// address) is then replicated with a zonestore node command.
func (n *Node) Join(ctx context.Context, id, raftAddr, apiAddr string, voter bool) error {
	for attempt := 1; ; attempt++ {
		err := n.join(ctx, id, raftAddr, apiAddr, voter)
		if attempt == joinAttempts || !errors.Is(err, raft.ErrLeadershipLost) {
			return err
		}
		// A new voter that is slow to answer can cost this leader its lease before
		// the join is recorded. A join is idempotent: if this node leads again
		// (it has the longest log), finish it; if another does, say so.
		if werr := n.WaitLeader(ctx); werr != nil || !n.IsLeader() {
			return err
		}
	}
}

// joinAttempts bounds Join's retries after a lost leadership.
const joinAttempts = 3

func (n *Node) join(ctx context.Context, id, raftAddr, apiAddr string, voter bool) error {
	if id == "" || raftAddr == "" {
		return fmt.Errorf("%w: join needs an id and a raft address", ErrConfig)
	}
	if !n.IsLeader() {
		return n.notLeader()
	}
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return n.raftError("join", err)
	}
	sid, addr := raft.ServerID(id), raft.ServerAddress(raftAddr)
	present, isVoter := false, false
	for _, srv := range f.Configuration().Servers {
		switch {
		case srv.ID == sid && srv.Address == addr:
			present, isVoter = true, srv.Suffrage == raft.Voter
			continue
		case srv.ID != sid && srv.Address != addr:
			continue
		case string(srv.ID) == n.cfg.ID:
			return fmt.Errorf("%w: joining %s at %s would remove the leader %s at %s", ErrConfig, id, raftAddr, srv.ID, srv.Address)
		}
		if err := wait(ctx, n.raft.RemoveServer(srv.ID, 0, enqueueTimeout(ctx))); err != nil {
			return n.raftError("join: remove stale "+string(srv.ID), err)
		}
		if string(srv.ID) != id {
			if _, err := n.Apply(ctx, n.nodeCommand(zonestore.NodeCmd{ID: string(srv.ID), Remove: true})); err != nil {
				return err
			}
		}
	}
	var fut raft.IndexFuture
	switch {
	case voter && (!present || !isVoter):
		fut = n.raft.AddVoter(sid, addr, 0, enqueueTimeout(ctx))
	case !voter && !present:
		fut = n.raft.AddNonvoter(sid, addr, 0, enqueueTimeout(ctx))
	case !voter && isVoter:
		fut = n.raft.DemoteVoter(sid, 0, enqueueTimeout(ctx))
	}
	if fut != nil {
		if err := wait(ctx, fut); err != nil {
			return n.raftError("join "+id, err)
		}
	}
	if err := n.putNode(ctx, id, raftAddr, apiAddr); err != nil {
		return fmt.Errorf("cluster: join %s: record node: %w", id, err)
	}
	return nil
}

// Remove takes a server out of the cluster and forgets its node record;
// only the leader can. Removing an unknown id is not an error. A leader
// removing itself records the removal first, then steps down.
func (n *Node) Remove(ctx context.Context, id string) error {
	if !n.IsLeader() {
		return n.notLeader()
	}
	forget := func() error {
		if n.apiKnown(id) {
			if _, err := n.Apply(ctx, n.nodeCommand(zonestore.NodeCmd{ID: id, Remove: true})); err != nil {
				return fmt.Errorf("cluster: remove %s: forget node: %w", id, err)
			}
		}
		return nil
	}
	self := id == n.cfg.ID
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return n.raftError("remove", err)
	}
	if self {
		// The last voter cannot leave (raft refuses), and forgetting its record first
		// would leave a leader whose API address no follower knows.
		voters := 0
		for _, srv := range f.Configuration().Servers {
			if srv.Suffrage == raft.Voter && string(srv.ID) != id {
				voters++
			}
		}
		if voters == 0 {
			return fmt.Errorf("%w: %s is the last voter; add another voter before removing it", ErrConfig, id)
		}
		if err := forget(); err != nil {
			return err
		}
	}
	for _, srv := range f.Configuration().Servers {
		if string(srv.ID) == id {
			if err := wait(ctx, n.raft.RemoveServer(srv.ID, 0, enqueueTimeout(ctx))); err != nil {
				return n.raftError("remove "+id, err)
			}
		}
	}
	if self {
		return nil
	}
	return forget()
}

// apiKnown reports whether the store has a node record for id.
func (n *Node) apiKnown(id string) bool {
	for _, nd := range n.cfg.Store.Nodes() {
		if nd.ID == id {
			return true
		}
	}
	return false
}
