package signer

import (
	"testing"
	"time"
)

// TestServeUntil: ServeUntil is the moment Sign stops handing out a cached signature,
// so a cache of whole answers that stops serving them then never serves a signature
// the signer would not, and keeps none longer than needed.
func TestServeUntil(t *testing.T) {
	tests := []struct {
		name string
		ttl  string
	}{
		{name: "refresh dominates", ttl: "300"},
		{name: "TTL plus skew dominates", ttl: "518400"}, // 6 days, beyond the 5-day refresh
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := New(Options{})
			k := testKey(t, testZone, 13, false)
			set := rrs(t, "h.1j2b.mx.example. "+tc.ttl+" IN A 192.0.2.1")
			sig, err := s.Sign(set, k, testZone, t0)
			if err != nil {
				t.Fatal(err)
			}
			until := s.ServeUntil(sig, t0)
			if until <= t0.Unix() || until >= int64(sig.Expiration) {
				t.Fatalf("ServeUntil %d outside (now %d, expiration %d)", until, t0.Unix(), sig.Expiration)
			}
			last := time.Unix(until-1, 0)
			if got := s.ServeUntil(sig, last); got != until {
				t.Fatalf("ServeUntil depends on now: %d, then %d", until, got)
			}
			again, err := s.Sign(set, k, testZone, last)
			if err != nil {
				t.Fatal(err)
			}
			if again.Signature != sig.Signature {
				t.Fatal("Sign re-signed before ServeUntil: a cache could stop serving earlier")
			}
			fresh, err := s.Sign(set, k, testZone, time.Unix(until, 0))
			if err != nil {
				t.Fatal(err)
			}
			if fresh.Signature == sig.Signature || fresh.Inception == sig.Inception {
				t.Fatal("Sign still handed out the signature at ServeUntil: a cache serving it then would break the refresh rule")
			}
		})
	}
}
