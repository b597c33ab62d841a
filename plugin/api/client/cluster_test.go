package client

import (
	"context"
	"fmt"
	"net/http/httptest"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/mxsign/mxsign/plugin/api"
)

// fakeCluster is an in-memory api.ClusterService.
type fakeCluster struct {
	mu     sync.Mutex
	leader string
	nodes  []api.ClusterNode
	joins  []api.JoinRequest
}

func (f *fakeCluster) ClusterStatus(context.Context) (api.ClusterStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return api.ClusterStatus{Leader: f.leader, Nodes: slices.Clone(f.nodes)}, nil
}

func (f *fakeCluster) Join(_ context.Context, req api.JoinRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.joins = append(f.joins, req)
	if f.leader == "" {
		return fmt.Errorf("%w: no leader", api.ErrUnavailable)
	}
	if slices.ContainsFunc(f.nodes, func(n api.ClusterNode) bool { return n.ID == req.ID }) {
		return nil
	}
	f.nodes = append(f.nodes, api.ClusterNode{ID: req.ID, Raft: req.Raft, API: req.API, State: "follower", Voter: req.IsVoter()})
	return nil
}

func (f *fakeCluster) RemoveNode(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := slices.IndexFunc(f.nodes, func(n api.ClusterNode) bool { return n.ID == id })
	if i < 0 {
		return fmt.Errorf("%w: node %s", api.ErrNotFound, id)
	}
	f.nodes = slices.Delete(f.nodes, i, i+1)
	return nil
}

// newClusterServer serves the real API handler with a ClusterService.
func newClusterServer(t testing.TB, leader string) (*Client, *fakeCluster) {
	t.Helper()
	fc := &fakeCluster{leader: leader, nodes: []api.ClusterNode{
		{ID: "ns1", Raft: "10.0.0.1:7000", API: "10.0.0.1:8053", State: "leader", Voter: true, Applied: 42},
	}}
	svc := &fakeService{domains: map[string]api.Domain{}}
	srv := httptest.NewServer(api.NewHandler(svc, api.Options{Token: testToken, Cluster: fc}))
	t.Cleanup(srv.Close)
	return New(srv.URL, testToken), fc
}

func TestClientCluster(t *testing.T) {
	ctx := context.Background()
	c, fc := newClusterServer(t, "ns1")

	t.Run("ClusterStatus", func(t *testing.T) {
		st, err := c.ClusterStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := api.ClusterStatus{Leader: "ns1", Nodes: []api.ClusterNode{
			{ID: "ns1", Raft: "10.0.0.1:7000", API: "10.0.0.1:8053", State: "leader", Voter: true, Applied: 42},
		}}
		if !reflect.DeepEqual(st, want) {
			t.Errorf("got %+v, want %+v", st, want)
		}
	})
	t.Run("Join", func(t *testing.T) {
		tests := []struct {
			name      string
			req       api.JoinRequest
			wantVoter bool
		}{
			{name: "voter by default", req: api.JoinRequest{ID: "ns2", Raft: "10.0.0.2:7000", API: "10.0.0.2:8053"}, wantVoter: true},
			{name: "nonvoter", req: api.JoinRequest{ID: "ns3", Raft: "10.0.0.3:7000", API: "10.0.0.3:8053", Voter: new(false)}, wantVoter: false},
			{name: "again", req: api.JoinRequest{ID: "ns2", Raft: "10.0.0.2:7000", API: "10.0.0.2:8053"}, wantVoter: true},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if err := c.Join(ctx, tc.req); err != nil {
					t.Fatal(err)
				}
				last := fc.joins[len(fc.joins)-1]
				if last.ID != tc.req.ID || last.Raft != tc.req.Raft || last.API != tc.req.API || last.IsVoter() != tc.wantVoter {
					t.Errorf("service got %+v (voter %t), want %+v (voter %t)", last, last.IsVoter(), tc.req, tc.wantVoter)
				}
			})
		}
		if len(fc.nodes) != 3 {
			t.Errorf("%d nodes after joining ns2 twice and ns3, want 3", len(fc.nodes))
		}
		checkStatus(t, c.Join(ctx, api.JoinRequest{ID: "ns4", API: "x:1"}), 400, `"raft"`)
	})
	t.Run("RemoveNode", func(t *testing.T) {
		if err := c.RemoveNode(ctx, "ns3"); err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(fc.nodes, func(n api.ClusterNode) bool { return n.ID == "ns3" }) {
			t.Error("ns3 not removed")
		}
		checkStatus(t, c.RemoveNode(ctx, "ns3"), 404, "node ns3")
		checkStatus(t, c.RemoveNode(ctx, "a/b?c"), 404, "node a/b?c")
	})
}

func TestClientClusterErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("no leader", func(t *testing.T) {
		c, _ := newClusterServer(t, "")
		checkStatus(t, c.Join(ctx, api.JoinRequest{ID: "ns2", Raft: "10.0.0.2:7000", API: "10.0.0.2:8053"}), 503, "no leader")
		st, err := c.ClusterStatus(ctx)
		if err != nil || st.Leader != "" {
			t.Errorf("status without leader: %+v, %v", st, err)
		}
	})
	t.Run("clustering not enabled", func(t *testing.T) {
		srv, _ := newServer(t)
		c := New(srv.URL, testToken)
		_, err := c.ClusterStatus(ctx)
		checkStatus(t, err, 404, "clustering is not enabled")
		checkStatus(t, c.Join(ctx, api.JoinRequest{ID: "ns2", Raft: "r:1", API: "a:1"}), 404, "clustering is not enabled")
		checkStatus(t, c.RemoveNode(ctx, "ns2"), 404, "clustering is not enabled")
	})
	t.Run("wrong token", func(t *testing.T) {
		c, _ := newClusterServer(t, "ns1")
		c.Token = "wrong"
		_, err := c.ClusterStatus(ctx)
		checkStatus(t, err, 401, "invalid bearer token")
	})
}
