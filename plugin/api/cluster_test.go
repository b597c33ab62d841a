package api

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

// fakeCluster is an in-memory ClusterService.
type fakeCluster struct {
	mu     sync.Mutex
	leader string // "" makes Join and RemoveNode fail with a bare ErrUnavailable
	nodes  []ClusterNode
	err    error // returned by every call when set

	joins []JoinRequest // every Join call, for assertions
}

func newFakeCluster() *fakeCluster {
	return &fakeCluster{
		leader: "ns1",
		nodes: []ClusterNode{
			{ID: "ns1", Raft: "10.0.0.1:7000", API: "10.0.0.1:8053", State: "leader", Voter: true, Applied: 42},
			{ID: "ns2", Raft: "10.0.0.2:7000", API: "10.0.0.2:8053", State: "follower", Voter: true, Applied: 41},
		},
	}
}

func (f *fakeCluster) ClusterStatus(context.Context) (ClusterStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return ClusterStatus{}, f.err
	}
	return ClusterStatus{Leader: f.leader, Nodes: slices.Clone(f.nodes)}, nil
}

func (f *fakeCluster) Join(_ context.Context, req JoinRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.joins = append(f.joins, req)
	switch {
	case f.err != nil:
		return f.err
	case f.leader == "":
		return ErrUnavailable
	case req.Voter == nil:
		return errors.New("fake: Voter is nil, the handler should have set it")
	case !strings.Contains(req.Raft, ":"):
		return fmt.Errorf("%w: raft address %q has no port", ErrInvalid, req.Raft)
	}
	n := ClusterNode{ID: req.ID, Raft: req.Raft, API: req.API, State: "follower", Voter: *req.Voter}
	if i := slices.IndexFunc(f.nodes, func(n ClusterNode) bool { return n.ID == req.ID }); i >= 0 {
		n.Applied = f.nodes[i].Applied
		f.nodes[i] = n
		return nil
	}
	f.nodes = append(f.nodes, n)
	return nil
}

func (f *fakeCluster) RemoveNode(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.err != nil:
		return f.err
	case f.leader == "":
		return ErrUnavailable
	}
	i := slices.IndexFunc(f.nodes, func(n ClusterNode) bool { return n.ID == id })
	if i < 0 {
		return fmt.Errorf("%w: node %s", ErrNotFound, id)
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

func TestCluster(t *testing.T) {
	const join3 = `{"id":"ns3","raft":"10.0.0.3:7000","api":"10.0.0.3:8053"}`
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		noLeader   bool
		wantStatus int
		wantError  string // substring of the error message when status >= 400
		wantHeader map[string]string
		check      func(t *testing.T, rec *httptest.ResponseRecorder, c *fakeCluster)
	}{
		{
			name: "status", method: "GET", path: "/v1/cluster", wantStatus: 200,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, c *fakeCluster) {
				var st ClusterStatus
				checkJSON(t, rec, &st)
				want := ClusterStatus{Leader: "ns1", Nodes: newFakeCluster().nodes}
				if !reflect.DeepEqual(st, want) {
					t.Errorf("got %+v, want %+v", st, want)
				}
			},
		},
		{
			name: "status without leader", method: "GET", path: "/v1/cluster", noLeader: true, wantStatus: 200,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, _ *fakeCluster) {
				if !strings.Contains(rec.Body.String(), `"leader":""`) {
					t.Errorf("no empty leader in %s", rec.Body)
				}
			},
		},
		{name: "status wrong method", method: "POST", path: "/v1/cluster", body: "{}", wantStatus: 405, wantError: "POST not allowed", wantHeader: map[string]string{"Allow": "GET, HEAD"}},
		{
			name: "join", method: "POST", path: "/v1/cluster/join", body: join3, wantStatus: 204,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, c *fakeCluster) {
				if rec.Body.Len() != 0 {
					t.Errorf("204 with body %q", rec.Body)
				}
				if got, want := c.ids(), []string{"ns1", "ns2", "ns3"}; !reflect.DeepEqual(got, want) {
					t.Errorf("nodes %q, want %q", got, want)
				}
				if len(c.joins) != 1 || c.joins[0].Voter == nil || !*c.joins[0].Voter {
					t.Errorf("joins %+v: a missing voter must reach the service as true", c.joins)
				}
			},
		},
		{
			name: "join nonvoter", method: "POST", path: "/v1/cluster/join", body: `{"id":"ns3","raft":"10.0.0.3:7000","api":"10.0.0.3:8053","voter":false}`, wantStatus: 204,
			check: func(t *testing.T, _ *httptest.ResponseRecorder, c *fakeCluster) {
				if len(c.joins) != 1 || c.joins[0].IsVoter() || c.nodes[2].Voter {
					t.Errorf("joins %+v, nodes %+v: want a nonvoter", c.joins, c.nodes)
				}
			},
		},
		{
			name: "join null voter", method: "POST", path: "/v1/cluster/join", body: `{"id":"ns3","raft":"10.0.0.3:7000","api":"10.0.0.3:8053","voter":null}`, wantStatus: 204,
			check: func(t *testing.T, _ *httptest.ResponseRecorder, c *fakeCluster) {
				if !c.nodes[2].Voter {
					t.Error("null voter did not mean voter")
				}
			},
		},
		{
			name: "join existing is idempotent", method: "POST", path: "/v1/cluster/join", body: `{"id":"ns2","raft":"10.0.0.2:7000","api":"10.0.0.2:8053","voter":true}`, wantStatus: 204,
			check: func(t *testing.T, _ *httptest.ResponseRecorder, c *fakeCluster) {
				if got, want := c.ids(), []string{"ns1", "ns2"}; !reflect.DeepEqual(got, want) {
					t.Errorf("nodes %q, want %q", got, want)
				}
			},
		},
		{name: "join without id", method: "POST", path: "/v1/cluster/join", body: `{"raft":"10.0.0.3:7000","api":"10.0.0.3:8053"}`, wantStatus: 400, wantError: `missing required field "id"`},
		{name: "join without raft", method: "POST", path: "/v1/cluster/join", body: `{"id":"ns3","api":"10.0.0.3:8053"}`, wantStatus: 400, wantError: `missing required field "raft"`},
		{name: "join without api", method: "POST", path: "/v1/cluster/join", body: `{"id":"ns3","raft":"10.0.0.3:7000"}`, wantStatus: 400, wantError: `missing required field "api"`},
		{name: "join blank id", method: "POST", path: "/v1/cluster/join", body: `{"id":"  ","raft":"10.0.0.3:7000","api":"10.0.0.3:8053"}`, wantStatus: 400, wantError: `"id"`},
		{name: "join empty object", method: "POST", path: "/v1/cluster/join", body: `{}`, wantStatus: 400, wantError: `missing required fields "id", "raft", "api"`},
		{name: "join no body", method: "POST", path: "/v1/cluster/join", wantStatus: 400, wantError: "empty"},
		{name: "join unknown field", method: "POST", path: "/v1/cluster/join", body: `{"id":"ns3","raft":"a:1","api":"b:2","addr":"x"}`, wantStatus: 400, wantError: `"addr"`},
		{name: "join voter not bool", method: "POST", path: "/v1/cluster/join", body: `{"id":"ns3","raft":"a:1","api":"b:2","voter":"yes"}`, wantStatus: 400, wantError: `field "voter" in request body must be a bool`},
		{name: "join invalid address", method: "POST", path: "/v1/cluster/join", body: `{"id":"ns3","raft":"nowhere","api":"b:2"}`, wantStatus: 400, wantError: `"nowhere" has no port`},
		{
			name: "join without leader", method: "POST", path: "/v1/cluster/join", body: join3, noLeader: true,
			wantStatus: 503, wantError: "no leader", wantHeader: map[string]string{"Retry-After": "1"},
		},
		{name: "join wrong method", method: "GET", path: "/v1/cluster/join", wantStatus: 405, wantHeader: map[string]string{"Allow": "POST"}},
		{
			name: "remove", method: "DELETE", path: "/v1/cluster/nodes/ns2", wantStatus: 204,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, c *fakeCluster) {
				if rec.Body.Len() != 0 {
					t.Errorf("204 with body %q", rec.Body)
				}
				if got, want := c.ids(), []string{"ns1"}; !reflect.DeepEqual(got, want) {
					t.Errorf("nodes %q, want %q", got, want)
				}
			},
		},
		{name: "remove unknown", method: "DELETE", path: "/v1/cluster/nodes/ns9", wantStatus: 404, wantError: "not found: node ns9"},
		{name: "remove escaped id", method: "DELETE", path: "/v1/cluster/nodes/a%2Fb", wantStatus: 404, wantError: "node a/b"},
		{name: "remove without leader", method: "DELETE", path: "/v1/cluster/nodes/ns2", noLeader: true, wantStatus: 503, wantError: "no leader"},
		{name: "remove no id", method: "DELETE", path: "/v1/cluster/nodes/", wantStatus: 404, wantError: "no such endpoint"},
		{name: "remove wrong method", method: "GET", path: "/v1/cluster/nodes/ns2", wantStatus: 405, wantHeader: map[string]string{"Allow": "DELETE"}},
		{name: "unknown cluster path", method: "GET", path: "/v1/cluster/peers", wantStatus: 404, wantError: "/v1/cluster"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newFakeCluster()
			if tc.noLeader {
				c.leader = ""
			}
			h := NewHandler(newFakeService(), Options{Token: testToken, Cluster: c})
			rec := request(h, tc.method, tc.path, tc.body, testToken)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tc.wantStatus, rec.Body)
			}
			if rec.Code >= 400 {
				checkError(t, rec, tc.wantError)
				if strings.Contains(rec.Body.String(), "api: ") {
					t.Errorf("package prefix leaked to the client: %s", rec.Body)
				}
			}
			for k, v := range tc.wantHeader {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if tc.check != nil {
				tc.check(t, rec, c)
			}
		})
	}
}

func TestClusterDisabled(t *testing.T) {
	h := NewHandler(newFakeService(), Options{Token: testToken})
	tests := []struct{ method, path, body string }{
		{"GET", "/v1/cluster", ""},
		{"POST", "/v1/cluster", "{}"},
		{"POST", "/v1/cluster/join", `{"id":"ns3","raft":"10.0.0.3:7000","api":"10.0.0.3:8053"}`},
		{"DELETE", "/v1/cluster/nodes/ns2", ""},
		{"GET", "/v1/cluster/anything/else", ""},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			rec := request(h, tc.method, tc.path, tc.body, testToken)
			if rec.Code != 404 {
				t.Fatalf("status = %d, want 404; body %s", rec.Code, rec.Body)
			}
			var e Error
			checkJSON(t, rec, &e)
			if e.Error != "clustering is not enabled on this node" {
				t.Errorf("error %q", e.Error)
			}
		})
	}
	t.Run("still needs the token", func(t *testing.T) {
		if rec := request(h, "GET", "/v1/cluster", "", ""); rec.Code != 401 {
			t.Errorf("status = %d, want 401", rec.Code)
		}
	})
}

func TestClusterServiceErrors(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantError  string
		wantLog    bool
	}{
		{name: "invalid", err: fmt.Errorf("%w: id too long", ErrInvalid), wantStatus: 400, wantError: "invalid request: id too long"},
		{name: "not found", err: fmt.Errorf("%w: node ns9", ErrNotFound), wantStatus: 404, wantError: "not found: node ns9"},
		{name: "unavailable with reason", err: fmt.Errorf("%w: leader is ns2 at 10.0.0.2:8053", ErrUnavailable), wantStatus: 503, wantError: "leader is ns2"},
		{name: "unexpected", err: errors.New("raft: shutdown"), wantStatus: 500, wantError: "mxsign log", wantLog: true},
		{name: "timeout", err: fmt.Errorf("waiting for commit: %w", context.DeadlineExceeded), wantStatus: 504, wantError: "deadline exceeded"},
	}
	paths := []struct{ method, path, body string }{
		{"GET", "/v1/cluster", ""},
		{"POST", "/v1/cluster/join", `{"id":"ns3","raft":"10.0.0.3:7000","api":"10.0.0.3:8053"}`},
		{"DELETE", "/v1/cluster/nodes/ns2", ""},
	}
	for _, tc := range tests {
		for _, p := range paths {
			t.Run(tc.name+" "+p.method+" "+p.path, func(t *testing.T) {
				c := newFakeCluster()
				c.err = tc.err
				var mu sync.Mutex
				var logged []string
				h := NewHandler(newFakeService(), Options{Token: testToken, Cluster: c, Logf: func(format string, args ...any) {
					mu.Lock()
					defer mu.Unlock()
					logged = append(logged, fmt.Sprintf(format, args...))
				}})
				rec := request(h, p.method, p.path, p.body, testToken)
				if rec.Code != tc.wantStatus {
					t.Fatalf("status = %d, want %d; body %s", rec.Code, tc.wantStatus, rec.Body)
				}
				checkError(t, rec, tc.wantError)
				if tc.wantLog != (len(logged) == 1) || len(logged) > 1 {
					t.Errorf("logged %q; want a line: %t", logged, tc.wantLog)
				}
			})
		}
	}
}

func TestJoinRequestIsVoter(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		name  string
		voter *bool
		want  bool
	}{
		{name: "absent", voter: nil, want: true},
		{name: "true", voter: &yes, want: true},
		{name: "false", voter: &no, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := (JoinRequest{Voter: tc.voter}).IsVoter(); got != tc.want {
				t.Errorf("IsVoter() = %t, want %t", got, tc.want)
			}
		})
	}
}

func BenchmarkClusterStatus(b *testing.B) {
	h := NewHandler(newFakeService(), Options{Token: testToken, Cluster: newFakeCluster()})
	r := httptest.NewRequest("GET", "/v1/cluster", nil)
	r.Header.Set("Authorization", "Bearer "+testToken)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != 200 {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
