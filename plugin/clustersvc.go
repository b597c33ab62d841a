package mxsign

import (
	"context"
	"fmt"
	"net"

	"github.com/mxsign/mxsign/cluster"
	"github.com/mxsign/mxsign/plugin/api"
)

// clusterService implements api.ClusterService over the raft node.
type clusterService struct {
	node *cluster.Node
}

var _ api.ClusterService = (*clusterService)(nil)

func (c *clusterService) ClusterStatus(context.Context) (api.ClusterStatus, error) {
	st := c.node.Status()
	out := api.ClusterStatus{Leader: st.Leader, Nodes: make([]api.ClusterNode, 0, len(st.Nodes))}
	for _, n := range st.Nodes {
		out.Nodes = append(out.Nodes, api.ClusterNode{ID: n.ID, Raft: n.Raft, API: n.API, State: n.State, Voter: n.Voter, Applied: n.Applied})
	}
	return out, nil
}

func (c *clusterService) Join(ctx context.Context, req api.JoinRequest) error {
	for _, a := range []struct{ name, v string }{{"raft", req.Raft}, {"api", req.API}} {
		if _, _, err := net.SplitHostPort(a.v); err != nil {
			return fmt.Errorf("%w: %s address %q: want HOST:PORT", api.ErrInvalid, a.name, a.v)
		}
	}
	if !validNodeID(req.ID) {
		return fmt.Errorf("%w: node id %q: letters, digits, '-', '_' and '.' only, at most 64", api.ErrInvalid, req.ID)
	}
	return apiError(c.node.Join(ctx, req.ID, req.Raft, req.API, req.IsVoter()))
}

func (c *clusterService) RemoveNode(ctx context.Context, id string) error {
	known := false
	for _, n := range c.node.Status().Nodes {
		known = known || n.ID == id
	}
	if !known {
		return fmt.Errorf("%w: no node %q in the cluster", api.ErrNotFound, id)
	}
	return apiError(c.node.Remove(ctx, id))
}
