package zonestore

import (
	"bytes"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestRestoreKeepsServing: while a raft snapshot still streams from the old database
// (an open read transaction), Restore must not block readers; it finishes closing the
// old database once the snapshot is done.
func TestRestoreKeepsServing(t *testing.T) {
	s, p, _ := newTestProvisioner(t, nil)
	res := mustAdd(t, p, "contoso.com")
	host := res[0].Host.Name()
	var snap bytes.Buffer
	if err := s.Snapshot(&snap); err != nil {
		t.Fatal(err)
	}
	tx, err := s.BeginSnapshot() // a Persist in progress
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Restore(bytes.NewReader(snap.Bytes())) }()

	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond) // polls a condition
	defer tick.Stop()
	for lookups := 0; lookups < 50; lookups++ {
		answered := make(chan Rcode, 1)
		go func() { answered <- s.Lookup(host, dns.TypeA).Rcode }()
		select {
		case rc := <-answered:
			if rc != Success {
				t.Fatalf("lookup during restore: %v", rc)
			}
		case <-time.After(time.Until(deadline)):
			t.Fatal("a lookup blocked while Restore waited for the open snapshot")
		}
		<-tick.C
	}
	select {
	case err := <-done:
		t.Fatalf("Restore returned (%v) while the old database still had an open read transaction", err)
	default:
	}
	if err := tx.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if s.Lookup(host, dns.TypeA).Rcode != Success {
		t.Fatal("host gone after restore")
	}
}
