package signer

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestSignTransient: a transient signature verifies and counts, but takes no cache
// slot; an entry that Sign cached is still used by SignTransient.
func TestSignTransient(t *testing.T) {
	k := testKey(t, testZone, dns.ECDSAP256SHA256, false)
	s := New(Options{CacheSize: 1000})
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	nsec := []dns.RR{CompactNSEC("x7q."+testZone, 300, nil, dns.TypeA, true)}

	sig, err := s.SignTransient(nsec, k, testZone, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := sig.Verify(k.DNSKEY, nsec); err != nil {
		t.Fatalf("transient signature does not verify: %v", err)
	}
	if st := s.Stats(); st.Entries != 0 || st.Signatures != 1 {
		t.Fatalf("after SignTransient: %+v, want 0 entries and 1 signature", st)
	}

	hot := rrs(t, "h."+testZone+" 300 IN A 192.0.2.1")
	first, err := s.Sign(hot, k, testZone, now)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.SignTransient(hot, k, testZone, now)
	if err != nil {
		t.Fatal(err)
	}
	if again.Signature != first.Signature {
		t.Fatal("SignTransient did not use the cached signature")
	}
	if st := s.Stats(); st.Entries != 1 || st.Signatures != 2 || st.Hits != 1 {
		t.Fatalf("stats %+v, want 1 entry, 2 signatures, 1 hit", st)
	}
}

// TestSignUncached: an uncached signature verifies and has Sign's timing (ServeUntil
// applies), but the cache is neither consulted nor filled nor counted.
func TestSignUncached(t *testing.T) {
	k := testKey(t, testZone, dns.ECDSAP256SHA256, false)
	s := New(Options{CacheSize: 1000})
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	set := rrs(t, "h."+testZone+" 300 IN A 192.0.2.1")
	cached, err := s.Sign(set, k, testZone, now)
	if err != nil {
		t.Fatal(err)
	}
	// A minute later the cached signature is still the one Sign hands out; signatures
	// are deterministic, so a fresh one differs from it only by its times.
	later := now.Add(time.Minute)
	before := s.Stats()
	sig, err := s.SignUncached(set, k, testZone, later)
	if err != nil {
		t.Fatal(err)
	}
	if err := sig.Verify(k.DNSKEY, set); err != nil {
		t.Fatalf("uncached signature does not verify: %v", err)
	}
	if sig.Inception == cached.Inception || sig.Signature == cached.Signature {
		t.Fatal("SignUncached handed out the cached signature")
	}
	if sig.Expiration != cached.Expiration+60 || sig.Inception != cached.Inception+60 {
		t.Fatalf("timing %d..%d is not Sign's %d..%d a minute later", sig.Inception, sig.Expiration, cached.Inception, cached.Expiration)
	}
	if until := s.ServeUntil(sig, later); until <= later.Unix() {
		t.Fatalf("ServeUntil %d is not after now", until)
	}
	if after := s.Stats(); after != before {
		t.Fatalf("stats changed from %+v to %+v", before, after)
	}
	if again, err := s.Sign(set, k, testZone, later); err != nil || again.Inception != cached.Inception {
		t.Fatalf("Sign a minute later: %v, %v: the cached signature is not what SignUncached had to avoid", again, err)
	}
}

// TestKeyID: the ID is stable across parses of the same key and differs between keys.
func TestKeyID(t *testing.T) {
	k := testKey(t, testZone, dns.ECDSAP256SHA256, false)
	again, err := NewKey(k.DNSKEY, k.Private)
	if err != nil {
		t.Fatal(err)
	}
	if k.ID() != again.ID() {
		t.Fatal("the same DNSKEY parsed twice has two IDs")
	}
	if other := testKey(t, testZone, dns.ECDSAP256SHA256, false); other.ID() == k.ID() {
		t.Fatal("two keys share an ID")
	}
}
