package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mxsign/mxsign/plugin/api"
)

// fakeCluster is an in-memory api.ClusterService.
type fakeCluster struct {
	mu     sync.Mutex
	leader string // "" makes Join and RemoveNode fail with 503
	nodes  []api.ClusterNode
	joins  []api.JoinRequest
}

func testNodes() []api.ClusterNode {
	return []api.ClusterNode{
		{ID: "ns1", Raft: "10.0.0.1:7000", API: "10.0.0.1:8053", State: "leader", Voter: true, Applied: 1042},
		{ID: "ns2", Raft: "10.0.0.2:7000", API: "10.0.0.2:8053", State: "follower", Voter: true, Applied: 1041},
		{ID: "ns3", Raft: "10.0.0.3:7000", API: "10.0.0.3:8053", State: "follower", Voter: false, Applied: 990},
	}
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
	if !strings.Contains(req.Raft, ":") {
		return fmt.Errorf("%w: raft address %q has no port", api.ErrInvalid, req.Raft)
	}
	if !slices.ContainsFunc(f.nodes, func(n api.ClusterNode) bool { return n.ID == req.ID }) {
		f.nodes = append(f.nodes, api.ClusterNode{ID: req.ID, Raft: req.Raft, API: req.API, State: "follower", Voter: req.IsVoter()})
	}
	return nil
}

func (f *fakeCluster) RemoveNode(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.leader == "" {
		return fmt.Errorf("%w: no leader", api.ErrUnavailable)
	}
	i := slices.IndexFunc(f.nodes, func(n api.ClusterNode) bool { return n.ID == id })
	if i < 0 {
		return fmt.Errorf("%w: node %s", api.ErrNotFound, id)
	}
	f.nodes = slices.Delete(f.nodes, i, i+1)
	return nil
}

func (f *fakeCluster) ids() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for _, n := range f.nodes {
		ids = append(ids, n.ID)
	}
	return ids
}

func TestClusterCommands(t *testing.T) {
	tests := []struct {
		name       string
		args       []string // after --api URL --token testToken
		noLeader   bool
		disabled   bool // serve without a ClusterService
		wantCode   int
		wantStdout string // exact, unless empty
		wantStderr string // exact, unless empty
		stderrHas  []string
		check      func(t *testing.T, fc *fakeCluster, stdout string)
	}{
		{
			name: "status", args: []string{"cluster", "status"},
			wantStdout: "ID     RAFT           API            STATE     VOTER  APPLIED\n" +
				"ns1 *  10.0.0.1:7000  10.0.0.1:8053  leader    yes    1042\n" +
				"ns2    10.0.0.2:7000  10.0.0.2:8053  follower  yes    1041\n" +
				"ns3    10.0.0.3:7000  10.0.0.3:8053  follower  no     990\n",
		},
		{
			name: "status without leader", args: []string{"cluster", "status"}, noLeader: true,
			wantStderr: "mxctl: the cluster has no leader: writes fail until one is elected\n",
			check: func(t *testing.T, _ *fakeCluster, stdout string) {
				if strings.Contains(stdout, "*") {
					t.Errorf("a leader is marked: %q", stdout)
				}
			},
		},
		{
			name: "status json", args: []string{"--json", "cluster", "status"},
			check: func(t *testing.T, _ *fakeCluster, stdout string) {
				var st api.ClusterStatus
				dec := json.NewDecoder(strings.NewReader(stdout))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&st); err != nil {
					t.Fatal(err)
				}
				if want := (api.ClusterStatus{Leader: "ns1", Nodes: testNodes()}); !reflect.DeepEqual(st, want) {
					t.Errorf("got %+v, want %+v", st, want)
				}
			},
		},
		{name: "status argument", args: []string{"cluster", "status", "ns1"}, wantCode: 2},
		{
			name: "join", args: []string{"cluster", "join", "ns4", "10.0.0.4:7000", "10.0.0.4:8053"},
			wantStdout: "joined ns4 (raft 10.0.0.4:7000, api 10.0.0.4:8053) as a voter\n",
			check: func(t *testing.T, fc *fakeCluster, _ string) {
				want := []api.JoinRequest{{ID: "ns4", Raft: "10.0.0.4:7000", API: "10.0.0.4:8053", Voter: new(true)}}
				if !reflect.DeepEqual(fc.joins, want) {
					t.Errorf("service got %+v, want %+v", fc.joins, want)
				}
			},
		},
		{
			name: "join nonvoter", args: []string{"cluster", "join", "ns4", "--nonvoter", "10.0.0.4:7000", "10.0.0.4:8053"},
			wantStdout: "joined ns4 (raft 10.0.0.4:7000, api 10.0.0.4:8053) as a nonvoter\n",
			check: func(t *testing.T, fc *fakeCluster, _ string) {
				if len(fc.joins) != 1 || fc.joins[0].IsVoter() {
					t.Errorf("service got %+v, want a nonvoter", fc.joins)
				}
			},
		},
		{
			name: "join member again", args: []string{"cluster", "join", "ns2", "10.0.0.2:7000", "10.0.0.2:8053"},
			wantStdout: "joined ns2 (raft 10.0.0.2:7000, api 10.0.0.2:8053) as a voter\n",
			check: func(t *testing.T, fc *fakeCluster, _ string) {
				if got := fc.ids(); !reflect.DeepEqual(got, []string{"ns1", "ns2", "ns3"}) {
					t.Errorf("nodes %q", got)
				}
			},
		},
		{
			name: "join json", args: []string{"cluster", "join", "ns4", "10.0.0.4:7000", "10.0.0.4:8053", "--json"},
			check: func(t *testing.T, fc *fakeCluster, stdout string) {
				if stdout != "" || len(fc.joins) != 1 {
					t.Errorf("stdout %q, joins %+v", stdout, fc.joins)
				}
			},
		},
		{
			name: "join without leader", args: []string{"cluster", "join", "ns4", "10.0.0.4:7000", "10.0.0.4:8053"}, noLeader: true,
			wantCode: 1, wantStderr: "mxctl: ns4: unavailable: no leader (503)\n",
		},
		{
			name: "join invalid address", args: []string{"cluster", "join", "ns4", "nowhere", "10.0.0.4:8053"},
			wantCode: 1, wantStderr: "mxctl: ns4: invalid request: raft address \"nowhere\" has no port (400)\n",
		},
		{name: "join two arguments", args: []string{"cluster", "join", "ns4", "10.0.0.4:7000"}, wantCode: 2, stderrHas: []string{"ID RAFT-ADDR API-ADDR"}},
		{name: "join four arguments", args: []string{"cluster", "join", "ns4", "a:1", "b:2", "c"}, wantCode: 2},
		{name: "join empty id", args: []string{"cluster", "join", "", "a:1", "b:2"}, wantCode: 2, stderrHas: []string{"ID is empty"}},
		{name: "join bad flag", args: []string{"cluster", "join", "--voter", "ns4", "a:1", "b:2"}, wantCode: 2, stderrHas: []string{"voter"}},
		{
			name: "remove", args: []string{"cluster", "remove", "ns3"}, wantStdout: "removed ns3 from the cluster\n",
			check: func(t *testing.T, fc *fakeCluster, _ string) {
				if got := fc.ids(); !reflect.DeepEqual(got, []string{"ns1", "ns2"}) {
					t.Errorf("nodes %q", got)
				}
			},
		},
		{
			name: "rm json", args: []string{"--json", "cluster", "rm", "ns3"},
			check: func(t *testing.T, fc *fakeCluster, stdout string) {
				if stdout != "" || len(fc.ids()) != 2 {
					t.Errorf("stdout %q, nodes %q", stdout, fc.ids())
				}
			},
		},
		{name: "remove unknown", args: []string{"cluster", "remove", "ns9"}, wantCode: 1, wantStderr: "mxctl: not found: node ns9 (404)\n"},
		{name: "remove without leader", args: []string{"cluster", "remove", "ns3"}, noLeader: true, wantCode: 1, stderrHas: []string{"no leader (503)"}},
		{name: "remove nothing", args: []string{"cluster", "remove"}, wantCode: 2, stderrHas: []string{"exactly one ID"}},
		{name: "remove two", args: []string{"cluster", "remove", "ns2", "ns3"}, wantCode: 2},
		{name: "no subcommand", args: []string{"cluster"}, wantCode: 2, stderrHas: []string{"status, join or remove"}},
		{name: "bad subcommand", args: []string{"cluster", "frob"}, wantCode: 2, stderrHas: []string{`"frob"`}},
		{name: "disabled status", args: []string{"cluster", "status"}, disabled: true, wantCode: 1, wantStderr: "mxctl: clustering is not enabled on this node (404)\n"},
		{name: "disabled join", args: []string{"cluster", "join", "ns4", "a:1", "b:2"}, disabled: true, wantCode: 1, wantStderr: "mxctl: ns4: clustering is not enabled on this node (404)\n"},
		{name: "disabled remove", args: []string{"cluster", "remove", "ns3"}, disabled: true, wantCode: 1, stderrHas: []string{"clustering is not enabled"}},
		{name: "wrong token", args: []string{"cluster", "status", "--token", "wrong"}, wantCode: 3, wantStderr: "mxctl: unauthorized: check --token or the token file\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fc := &fakeCluster{leader: "ns1", nodes: testNodes()}
			if tc.noLeader {
				fc.leader = ""
			}
			opts := api.Options{Token: testToken, Cluster: fc}
			if tc.disabled {
				opts.Cluster = nil
			}
			srv := httptest.NewServer(api.NewHandler(&fakeService{domains: map[string]api.Domain{}}, opts))
			t.Cleanup(srv.Close)

			res := invocation{
				dir:  t.TempDir(),
				args: append([]string{"--api", srv.URL, "--token", testToken}, tc.args...),
			}.run()
			if res.code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", res.code, tc.wantCode, res.stdout, res.stderr)
			}
			if tc.wantStdout != "" && res.stdout != tc.wantStdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", res.stdout, tc.wantStdout)
			}
			if tc.wantStderr != "" && res.stderr != tc.wantStderr {
				t.Errorf("stderr:\n%q\nwant:\n%q", res.stderr, tc.wantStderr)
			}
			for _, s := range tc.stderrHas {
				if !strings.Contains(res.stderr, s) {
					t.Errorf("stderr %q lacks %q", res.stderr, s)
				}
			}
			if tc.wantCode == 0 && tc.wantStderr == "" && res.stderr != "" {
				t.Errorf("unexpected stderr %q", res.stderr)
			}
			if tc.check != nil {
				tc.check(t, fc, res.stdout)
			}
		})
	}
}
