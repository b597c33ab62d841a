package mxsign

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mxsign/mxsign/plugin/api/client"
	"github.com/mxsign/mxsign/signer/keymgr"
)

// waitFor polls cond until it holds or the deadline passes. It waits on a condition,
// never on a fixed delay.
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		<-tick.C
	}
}

// clusterCorefile is a node of a test cluster: every member shares the token and KEK
// files (as a real deployment must), raft and API ports are picked by the kernel.
func clusterCorefile(shared, dir, id string, join []string, voter bool) string {
	block := fmt.Sprintf("cluster {\n            node-id %s\n            raft 127.0.0.1:0\n", id)
	for _, j := range join {
		block += "            join " + j + "\n"
	}
	if !voter {
		block += "            nonvoter\n"
	}
	block += "        }\n        token-file " + filepath.Join(shared, "token") + "\n        kek-file " + filepath.Join(shared, "kek")
	return corefileWith(dir, 100, block, "192.0.2.25")
}

func TestClusterThroughThePlugin(t *testing.T) {
	shared := t.TempDir()
	ctx := context.Background()
	n1 := startNode(t, shared, "n1", nil, true)
	waitFor(t, "n1 to lead and create the parent zone", 10*time.Second, func() bool {
		_, _, ok := n1.mx.store.Config()
		return n1.mx.node.IsLeader() && ok
	})
	seed := n1.mx.APIAddr()
	n2 := startNode(t, shared, "n2", []string{seed}, true)
	n3 := startNode(t, shared, "n3", []string{seed}, false)
	nodes := []*testServer{n1, n2, n3}

	waitFor(t, "3 members", 20*time.Second, func() bool {
		st, err := n1.api.ClusterStatus(ctx)
		return err == nil && len(st.Nodes) == 3
	})
	// The leader replicates its API address right after it is elected; until a
	// follower has applied that record it answers writes with 503 (tested in forward).
	for _, n := range []*testServer{n2, n3} {
		waitFor(t, "the leader's API address on the followers", 10*time.Second, func() bool {
			_, _, a := n.mx.node.Leader()
			return a != ""
		})
	}
	st, err := n2.api.ClusterStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Leader != "n1" {
		t.Fatalf("leader %q, want n1: %+v", st.Leader, st)
	}
	for _, n := range st.Nodes {
		if n.ID == "n3" && n.Voter {
			t.Errorf("n3 joined as a voter, want a non-voter: %+v", n)
		}
	}

	// A write through a follower is forwarded to the leader and answered as if made there.
	d, err := n2.api.AddDomain(ctx, "contoso.com")
	if err != nil {
		t.Fatalf("add through follower: %v", err)
	}
	// Read-your-writes on the follower that forwarded the write.
	if _, err := n2.api.GetDomain(ctx, "contoso.com"); err != nil {
		t.Fatalf("read back on the forwarding follower: %v", err)
	}
	if _, err := n3.api.AddDomain(ctx, "contoso.com"); err == nil {
		t.Fatal("duplicate through the non-voter: want 409")
	} else {
		var se *client.StatusError
		if !errors.As(err, &se) || se.Status != 409 {
			t.Fatalf("duplicate: %v", err)
		}
	}
	res, err := n3.api.AddDomains(ctx, []string{"fabrikam.com", "northwind.net", "bad..name"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Results[0].Status != 201 || res.Results[2].Status != 400 {
		t.Fatalf("batch through non-voter: %+v", res.Results)
	}

	// Every node answers from its own applied state, identically and validly signed.
	anchor := n1.anchor(t)
	var serials []uint32
	for i, n := range nodes {
		waitFor(t, fmt.Sprintf("node %d to apply", i+1), 10*time.Second, func() bool {
			_, err := n.mx.store.Host("northwind.net")
			return err == nil
		})
		v := newValidator(t, n.tcp, "mx.example.", anchor, time.Now())
		m := new(dns.Msg)
		m.SetQuestion("_25._tcp."+d.MailExchange, dns.TypeTLSA)
		m.SetEdns0(1232, true)
		if err := v.validatePositive(n.exchange(t, m, "udp")); err != nil {
			t.Fatalf("node %d: %v", i+1, err)
		}
		z, err := n.mx.store.Zone(d.Shard)
		if err != nil {
			t.Fatal(err)
		}
		serials = append(serials, z.Serial)
	}
	if serials[0] != serials[1] || serials[1] != serials[2] {
		t.Fatalf("shard serials differ between nodes: %v", serials)
	}

	// The key manager's propagation measurement (Dprp): a command stays pending until
	// every member has applied it, then its delay is the margin.
	prop := n1.mx.newPropagation(keymgr.DefaultPolicy())
	failures := testutil.ToFloat64(propagationFailures)
	start := prop.clock()
	if _, err := n1.api.AddDomain(ctx, "tailspintoys.com"); err != nil {
		t.Fatal(err)
	}
	idx := n1.mx.store.AppliedIndex()
	prop.observe(start, idx)
	waitFor(t, "the write to be applied by every member", 10*time.Second, func() bool { return !prop.Pending() })
	for i, n := range nodes {
		if got := n.mx.store.AppliedIndex(); got < idx {
			t.Errorf("node %d: applied index %d when the measurement ended, want >= %d", i+1, got, idx)
		}
	}
	if m := prop.Margin(); m <= 0 || m >= 10*time.Second {
		t.Errorf("measured propagation %v, want within (0, 10s)", m)
	}
	if got := testutil.ToFloat64(propagationFailures); got != failures {
		t.Errorf("propagation failures %v -> %v, want none", failures, got)
	}
	t.Logf("propagation of one write to 3 members (commit + apply): %v", prop.Margin())

	// Removing a node: it leaves the configuration.
	if err := n2.api.RemoveNode(ctx, "n3"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "n3 removed", 10*time.Second, func() bool {
		st, err := n1.api.ClusterStatus(ctx)
		return err == nil && len(st.Nodes) == 2
	})
	if err := n1.api.RemoveNode(ctx, "nope"); err == nil {
		t.Fatal("removing an unknown node: want 404")
	}
}

// startNode starts one cluster member in a data directory of its own.
func startNode(t testing.TB, shared, id string, join []string, voter bool) *testServer {
	dir := t.TempDir()
	return startCorefile(t, dir, clusterCorefile(shared, dir, id, join, voter))
}
