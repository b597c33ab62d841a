package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mxsign/mxsign/plugin/api"
	"github.com/mxsign/mxsign/plugin/api/client"
)

// fakeNode serves the two admin API routes verify uses.
type fakeNode struct {
	id      string
	leader  string
	applied uint64
	domains map[string]bool
	srv     *httptest.Server
}

func (f *fakeNode) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/v1/cluster":
		json.NewEncoder(w).Encode(api.ClusterStatus{Leader: f.leader, Nodes: []api.ClusterNode{
			{ID: f.id, API: strings.TrimPrefix(f.srv.URL, "http://"), Applied: f.applied},
			{ID: "other", API: "192.0.2.1:1"},
		}})
	case strings.HasPrefix(r.URL.Path, "/v1/domains/"):
		d := strings.TrimPrefix(r.URL.Path, "/v1/domains/")
		if !f.domains[d] {
			w.WriteHeader(http.StatusNotFound)
			json.NewEncoder(w).Encode(api.Error{Error: "not found"})
			return
		}
		json.NewEncoder(w).Encode(api.Domain{Domain: d, MailExchange: strings.ReplaceAll(d, ".", "-") + ".s1.mx.example."})
	default:
		http.NotFound(w, r)
	}
}

func startFakes(t *testing.T, nodes ...*fakeNode) []*client.Client {
	t.Helper()
	var addrs []string
	for _, n := range nodes {
		n.srv = httptest.NewServer(n)
		t.Cleanup(n.srv.Close)
		addrs = append(addrs, strings.TrimPrefix(n.srv.URL, "http://"))
	}
	return newClients(addrs, "tok", time.Second)
}

func TestVerifyReads(t *testing.T) {
	set := func(ds ...string) map[string]bool {
		m := map[string]bool{}
		for _, d := range ds {
			m[d] = true
		}
		return m
	}
	clients := startFakes(t,
		&fakeNode{id: "n1", leader: "n1", applied: 9, domains: set("a.com", "b.com", "u.com")},
		&fakeNode{id: "n2", leader: "n1", applied: 9, domains: set("a.com", "u.com")}, // lost b.com
		&fakeNode{id: "n3", leader: "n1", applied: 9, domains: set("a.com", "b.com", "u.com")},
	)
	h := &History{Start: time.Now(), Ops: []Op{
		addOp("a.com", 0, 10, ResultOK),
		addOp("b.com", 0, 10, ResultOK),
		addOp("u.com", 0, 0, ResultUnknown),
		addOp("v.com", 0, 0, ResultUnknown),
	}}
	if _, idx, err := converge(context.Background(), clients, time.Second); err != nil || idx != 9 {
		t.Fatalf("converge = %d, %v; want 9, nil", idx, err)
	}
	vr := verifyReads(context.Background(), h, clients, time.Second)
	if len(vr.Missing) != 1 || !strings.HasPrefix(vr.Missing[0], "b.com on ") {
		t.Errorf("Missing = %v, want b.com on n2", vr.Missing)
	}
	if strings.Join(vr.Diverged, ",") != "b.com" {
		t.Errorf("Diverged = %v, want [b.com]", vr.Diverged)
	}
	if vr.Unknown.Present != 1 || vr.Unknown.Absent != 1 {
		t.Errorf("Unknown = %+v, want 1 present, 1 absent", vr.Unknown)
	}
	if got := strings.Join(sortedHosts(vr.Hosts), ","); got != "a-com.s1.mx.example.,b-com.s1.mx.example." {
		t.Errorf("hosts = %s", got)
	}
	if n := len(h.Ops); n != 4+4*3 {
		t.Errorf("history has %d ops after verify, want 16", n)
	}
	if res := checkHistory(h.Ops, checkOptions{StaleReads: true}, 10*time.Second); strings.Join(res.Illegal, ",") != "b.com" {
		t.Errorf("illegal = %v (%s), want [b.com]", res.Illegal, res.Result)
	}
}

func TestConvergeTimesOut(t *testing.T) {
	clients := startFakes(t,
		&fakeNode{id: "n1", leader: "n1", applied: 9},
		&fakeNode{id: "n2", leader: "n1", applied: 7},
	)
	_, _, err := converge(context.Background(), clients, 200*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "applied 7 < leader's 9") {
		t.Errorf("converge err = %v, want a lagging node", err)
	}
}
