package signer

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

const testZone = "1j2b.mx.example."

// t0 is the fixed "now" of the tests.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func mustRR(tb testing.TB, s string) dns.RR {
	tb.Helper()
	rr, err := dns.NewRR(s)
	if err != nil {
		tb.Fatalf("NewRR(%q): %v", s, err)
	}
	return rr
}

func rrs(tb testing.TB, ss ...string) []dns.RR {
	tb.Helper()
	out := make([]dns.RR, len(ss))
	for i, s := range ss {
		out[i] = mustRR(tb, s)
	}
	return out
}

// testKey returns a fresh key for zone with algorithm alg.
func testKey(tb testing.TB, zone string, alg uint8, ksk bool) *Key {
	tb.Helper()
	dk, priv, err := GenerateKey(zone, alg, ksk, 3600, rand.Reader)
	if err != nil {
		tb.Fatalf("GenerateKey: %v", err)
	}
	k, err := NewKey(dk, priv)
	if err != nil {
		tb.Fatalf("NewKey: %v", err)
	}
	return k
}

// fixedEd25519Key is deterministic, so signatures can be compared byte for byte.
func fixedEd25519Key(tb testing.TB, zone string) *Key {
	tb.Helper()
	priv := ed25519.NewKeyFromSeed([]byte("mxsign-signer-test-seed-32-bytes"))
	dk := &dns.DNSKEY{
		Hdr:       dns.RR_Header{Name: zone, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
		Flags:     256,
		Protocol:  3,
		Algorithm: dns.ED25519,
	}
	pub, err := publicKeyBytes(priv.Public())
	if err != nil {
		tb.Fatal(err)
	}
	dk.PublicKey = base64.StdEncoding.EncodeToString(pub)
	k, err := NewKey(dk, priv)
	if err != nil {
		tb.Fatalf("NewKey: %v", err)
	}
	return k
}

// checkSig fails the test unless sig validates rrset with k at now.
func checkSig(tb testing.TB, sig *dns.RRSIG, k *Key, rrset []dns.RR, now time.Time) {
	tb.Helper()
	if sig == nil {
		tb.Fatal("nil RRSIG")
	}
	if err := sig.Verify(k.DNSKEY, rrset); err != nil {
		tb.Errorf("Verify(%v) over %v: %v", sig, rrset, err)
	}
	if !sig.ValidityPeriod(now) {
		tb.Errorf("RRSIG %v not valid at %v", sig, now)
	}
}

var algs = []struct {
	name string
	alg  uint8
}{
	{"ECDSAP256SHA256", dns.ECDSAP256SHA256},
	{"ED25519", dns.ED25519},
}

func TestSignVerifies(t *testing.T) {
	tests := []struct {
		name   string
		rrset  []string
		verify []string // rrset given to Verify; defaults to rrset
	}{
		{name: "A", rrset: []string{"contoso-com.1j2b.mx.example. 300 IN A 192.0.2.1"}},
		{name: "AAAA pair", rrset: []string{
			"contoso-com.1j2b.mx.example. 300 IN AAAA 2001:db8::2",
			"contoso-com.1j2b.mx.example. 300 IN AAAA 2001:db8::1"}},
		{name: "TLSA", rrset: []string{"_25._tcp.contoso-com.1j2b.mx.example. 3600 IN TLSA 3 1 1 " + strings.Repeat("ab", 32)}},
		{name: "zone apex SOA", rrset: []string{"1j2b.mx.example. 60 IN SOA ns1.MX.example. Hostmaster.mx.example. 7 3600 600 86400 60"}},
		{name: "NS mixed-case targets", rrset: []string{
			"1j2b.mx.example. 3600 IN NS NS2.mx.example.", "1j2b.mx.example. 3600 IN NS ns1.Mx.Example."}},
		{name: "0x20 owner verifies against lower-case rrset",
			rrset:  []string{"CoNtOsO-cOm.1J2B.mx.EXAMPLE. 300 IN A 192.0.2.1"},
			verify: []string{"contoso-com.1j2b.mx.example. 300 IN A 192.0.2.1"}},
		{name: "lower-case owner verifies against 0x20 rrset",
			rrset:  []string{"contoso-com.1j2b.mx.example. 300 IN A 192.0.2.1"},
			verify: []string{"CONTOSO-com.1j2b.MX.example. 300 IN A 192.0.2.1"}},
		{name: "wildcard owner", rrset: []string{"*.1j2b.mx.example. 300 IN A 192.0.2.9"}},
		{name: "compact NSEC", rrset: []string{`Nope.1j2b.mx.example. 60 IN NSEC \000.nope.1j2b.mx.example. RRSIG NSEC TYPE128`}},
		{name: "duplicates", rrset: []string{
			"dup.1j2b.mx.example. 300 IN A 192.0.2.1", "dup.1j2b.mx.example. 300 IN A 192.0.2.1"}},
	}
	for _, a := range algs {
		k := testKey(t, testZone, a.alg, false)
		s := New(Options{})
		for _, tc := range tests {
			t.Run(a.name+"/"+tc.name, func(t *testing.T) {
				set := rrs(t, tc.rrset...)
				sig, err := s.Sign(set, k, testZone, t0)
				if err != nil {
					t.Fatalf("Sign: %v", err)
				}
				v := set
				if tc.verify != nil {
					v = rrs(t, tc.verify...)
				}
				checkSig(t, sig, k, v, t0)
				if sig.Hdr.Name != set[0].Header().Name {
					t.Errorf("owner = %q, want %q (case preserved)", sig.Hdr.Name, set[0].Header().Name)
				}
				if sig.Hdr.Ttl != set[0].Header().Ttl || sig.OrigTtl != set[0].Header().Ttl {
					t.Errorf("TTL %d / OrigTtl %d, want %d", sig.Hdr.Ttl, sig.OrigTtl, set[0].Header().Ttl)
				}
				if sig.SignerName != testZone || sig.KeyTag != k.Tag || sig.Algorithm != a.alg {
					t.Errorf("signer %q tag %d alg %d, want %q %d %d", sig.SignerName, sig.KeyTag, sig.Algorithm, testZone, k.Tag, a.alg)
				}
			})
		}
	}
}

// TestSignMatchesMiekg checks the canonical form byte for byte: Ed25519 is
// deterministic, so our signature equals miekg/dns's exactly when the signed
// data does.
func TestSignMatchesMiekg(t *testing.T) {
	tests := []struct {
		name  string
		rrset []string
	}{
		{name: "A", rrset: []string{"h.1j2b.mx.example. 300 IN A 192.0.2.1"}},
		{name: "mixed-case owner", rrset: []string{"H.1J2B.mx.example. 300 IN A 192.0.2.1"}},
		{name: "unsorted set", rrset: []string{
			"h.1j2b.mx.example. 300 IN A 192.0.2.3", "h.1j2b.mx.example. 300 IN A 192.0.2.1", "h.1j2b.mx.example. 300 IN A 192.0.2.2"}},
		{name: "sorted by rdata not rdlength", rrset: []string{
			`h.1j2b.mx.example. 300 IN TXT "b"`, `h.1j2b.mx.example. 300 IN TXT "aaaa"`, `h.1j2b.mx.example. 300 IN TXT "a"`}},
		{name: "duplicate", rrset: []string{"h.1j2b.mx.example. 300 IN A 192.0.2.1", "h.1j2b.mx.example. 300 IN A 192.0.2.1"}},
		{name: "differing TTLs use the first", rrset: []string{"h.1j2b.mx.example. 300 IN A 192.0.2.1", "h.1j2b.mx.example. 60 IN A 192.0.2.2"}},
		{name: "SOA", rrset: []string{"1j2b.mx.example. 60 IN SOA NS1.mx.example. HostMaster.MX.example. 7 3600 600 86400 60"}},
		{name: "NS", rrset: []string{"1j2b.mx.example. 60 IN NS NS1.mx.example.", "1j2b.mx.example. 60 IN NS ns0.mx.EXAMPLE."}},
		{name: "MX", rrset: []string{"1j2b.mx.example. 60 IN MX 10 Mail.Example."}},
		{name: "CNAME", rrset: []string{"c.1j2b.mx.example. 60 IN CNAME Target.Example."}},
		{name: "SRV", rrset: []string{"_x._tcp.1j2b.mx.example. 60 IN SRV 1 2 3 Target.Example."}},
		{name: "NAPTR", rrset: []string{`n.1j2b.mx.example. 60 IN NAPTR 100 10 "S" "SIP+D2U" "" _SIP._udp.Example.`}},
		{name: "RP", rrset: []string{"r.1j2b.mx.example. 60 IN RP Mbox.Example. Txt.Example."}},
		{name: "PX", rrset: []string{"p.1j2b.mx.example. 60 IN PX 10 Map.Example. X400.Example."}},
		{name: "DNAME", rrset: []string{"d.1j2b.mx.example. 60 IN DNAME Other.Example."}},
		{name: "NSEC next name keeps its case", rrset: []string{`Q.1j2b.mx.example. 60 IN NSEC \000.Q.1j2b.mx.example. A RRSIG NSEC`}},
		{name: "TLSA", rrset: []string{"_25._tcp.h.1j2b.mx.example. 60 IN TLSA 3 1 1 " + strings.Repeat("0F", 32)}},
		{name: "wildcard", rrset: []string{"*.w.1j2b.mx.example. 60 IN A 192.0.2.1"}},
		{name: "apex", rrset: []string{"1j2b.mx.example. 60 IN A 192.0.2.1"}},
	}
	k := fixedEd25519Key(t, testZone)
	s := New(Options{CacheSize: -1})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := rrs(t, tc.rrset...)
			ours, err := s.Sign(set, k, testZone, t0)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			checkSig(t, ours, k, set, t0)
			theirs := &dns.RRSIG{
				Hdr:        dns.RR_Header{Ttl: set[0].Header().Ttl},
				KeyTag:     k.Tag,
				SignerName: testZone,
				Algorithm:  dns.ED25519,
				Inception:  ours.Inception,
				Expiration: ours.Expiration,
			}
			if err := theirs.Sign(k.Private, set); err != nil {
				t.Fatalf("miekg Sign: %v", err)
			}
			if ours.Labels != theirs.Labels {
				t.Errorf("Labels = %d, miekg %d", ours.Labels, theirs.Labels)
			}
			if ours.Signature != theirs.Signature {
				t.Errorf("signature differs from miekg/dns:\nours   %v\nmiekg  %v", ours, theirs)
			}
		})
	}
}

func TestSignTimes(t *testing.T) {
	opts := Options{Validity: 10 * 24 * time.Hour, Backdate: 3 * time.Hour}
	for _, a := range algs {
		t.Run(a.name, func(t *testing.T) {
			k := testKey(t, testZone, a.alg, false)
			s := New(opts)
			seen := map[uint32]bool{}
			for i := range 64 {
				set := rrs(t, fmt.Sprintf("h%d.1j2b.mx.example. 300 IN A 192.0.2.1", i))
				sig, err := s.Sign(set, k, testZone, t0)
				if err != nil {
					t.Fatal(err)
				}
				checkSig(t, sig, k, set, t0)
				if want := uint32(t0.Add(-opts.Backdate).Unix()); sig.Inception != want {
					t.Errorf("inception %d, want now-Backdate %d", sig.Inception, want)
				}
				lo := t0.Add(opts.Validity * 9 / 10).Unix()
				hi := t0.Add(opts.Validity).Unix()
				if e := int64(sig.Expiration); e < lo || e > hi {
					t.Errorf("expiration %d outside [%d, %d]", e, lo, hi)
				}
				seen[sig.Expiration] = true
			}
			if len(seen) < 32 {
				t.Errorf("only %d distinct expirations over 64 RRsets: jitter does not spread", len(seen))
			}
		})
	}
}

func TestJitterDeterministic(t *testing.T) {
	k := testKey(t, testZone, dns.ED25519, false)
	a := New(Options{CacheSize: -1})
	set := rrs(t, "h.1j2b.mx.example. 300 IN A 192.0.2.1")
	s1, err1 := a.Sign(set, k, testZone, t0)
	s2, err2 := a.Sign(set, k, testZone, t0)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if s1.Expiration != s2.Expiration {
		t.Errorf("same signer, same RRset: expiration %d then %d", s1.Expiration, s2.Expiration)
	}
}

func TestCache(t *testing.T) {
	base := "h.1j2b.mx.example. 300 IN A 192.0.2.1"
	for _, a := range algs {
		t.Run(a.name, func(t *testing.T) {
			k1 := testKey(t, testZone, a.alg, false)
			k2 := testKey(t, testZone, a.alg, false)
			tests := []struct {
				name   string
				second string
				key    *Key
				hit    bool
			}{
				{name: "same rrset hits", second: base, key: k1, hit: true},
				{name: "0x20 owner shares the entry", second: "H.1J2B.Mx.Example. 300 IN A 192.0.2.1", key: k1, hit: true},
				{name: "different TTL misses", second: "h.1j2b.mx.example. 301 IN A 192.0.2.1", key: k1},
				{name: "different key misses", second: base, key: k2},
				{name: "different rdata misses", second: "h.1j2b.mx.example. 300 IN A 192.0.2.2", key: k1},
				{name: "different owner misses", second: "i.1j2b.mx.example. 300 IN A 192.0.2.1", key: k1},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					s := New(Options{})
					first := rrs(t, base)
					sig1, err := s.Sign(first, k1, testZone, t0)
					if err != nil {
						t.Fatal(err)
					}
					checkSig(t, sig1, k1, first, t0)
					second := rrs(t, tc.second)
					now := t0.Add(time.Hour)
					sig2, err := s.Sign(second, tc.key, testZone, now)
					if err != nil {
						t.Fatal(err)
					}
					checkSig(t, sig2, tc.key, second, now)
					st := s.Stats()
					if tc.hit {
						if sig2.Signature != sig1.Signature || sig2.Expiration != sig1.Expiration || sig2.Inception != sig1.Inception {
							t.Errorf("hit returned a different signature:\n%v\n%v", sig1, sig2)
						}
						if st.Hits != 1 || st.Misses != 1 || st.Signatures != 1 || st.Entries != 1 {
							t.Errorf("stats %+v, want 1 hit, 1 miss, 1 signature, 1 entry", st)
						}
					} else {
						if sig2.Signature == sig1.Signature {
							t.Errorf("miss returned the cached signature")
						}
						if st.Hits != 0 || st.Misses != 2 || st.Signatures != 2 || st.Entries != 2 {
							t.Errorf("stats %+v, want 0 hits, 2 misses, 2 signatures, 2 entries", st)
						}
					}
					if sig2.Hdr.Name != second[0].Header().Name || sig2.Hdr.Ttl != second[0].Header().Ttl {
						t.Errorf("header %v, want owner %q TTL %d", sig2.Hdr, second[0].Header().Name, second[0].Header().Ttl)
					}
				})
			}
		})
	}
}

func TestCacheReturnsCopies(t *testing.T) {
	k := testKey(t, testZone, dns.ED25519, false)
	s := New(Options{})
	set := rrs(t, "h.1j2b.mx.example. 300 IN A 192.0.2.1")
	sig1, err := s.Sign(set, k, testZone, t0)
	if err != nil {
		t.Fatal(err)
	}
	want := sig1.Signature
	sig1.Signature = "AAAA"
	sig1.Hdr.Ttl = 1
	sig2, err := s.Sign(set, k, testZone, t0)
	if err != nil {
		t.Fatal(err)
	}
	if sig2.Signature != want || sig2.Hdr.Ttl != 300 {
		t.Errorf("mutating a returned RRSIG changed the cache: %v", sig2)
	}
	checkSig(t, sig2, k, set, t0)
}

func TestCacheRefresh(t *testing.T) {
	tests := []struct {
		name      string
		opts      Options
		ttl       uint32
		threshold time.Duration // max(Refresh, TTL+Skew)
	}{
		{name: "refresh dominates", opts: Options{}, ttl: 300, threshold: DefaultRefresh},
		{name: "TTL+skew dominates", opts: Options{Refresh: time.Hour, Skew: 10 * time.Minute}, ttl: 7200, threshold: 2*time.Hour + 10*time.Minute},
	}
	for _, a := range algs {
		for _, tc := range tests {
			t.Run(a.name+"/"+tc.name, func(t *testing.T) {
				k := testKey(t, testZone, a.alg, false)
				s := New(tc.opts)
				set := rrs(t, fmt.Sprintf("h.1j2b.mx.example. %d IN A 192.0.2.1", tc.ttl))
				sig1, err := s.Sign(set, k, testZone, t0)
				if err != nil {
					t.Fatal(err)
				}
				exp := time.Unix(int64(sig1.Expiration), 0)
				last := exp.Add(-tc.threshold - time.Second) // still reusable
				sig2, err := s.Sign(set, k, testZone, last)
				if err != nil {
					t.Fatal(err)
				}
				if sig2.Signature != sig1.Signature {
					t.Errorf("at expiration-%v-1s the cached signature was not reused", tc.threshold)
				}
				checkSig(t, sig2, k, set, last)

				stale := exp.Add(-tc.threshold) // remaining == threshold: must re-sign
				sig3, err := s.Sign(set, k, testZone, stale)
				if err != nil {
					t.Fatal(err)
				}
				if sig3.Signature == sig1.Signature {
					t.Fatalf("at expiration-%v the cached signature was reused", tc.threshold)
				}
				checkSig(t, sig3, k, set, stale)
				if got := time.Unix(int64(sig3.Expiration), 0).Sub(stale); got <= tc.threshold {
					t.Errorf("re-signed RRSIG has only %v left", got)
				}
				// Every handed-out signature outlives the TTL plus skew.
				skew := s.Options().Skew
				for i, c := range []struct {
					sig *dns.RRSIG
					now time.Time
				}{{sig1, t0}, {sig2, last}, {sig3, stale}} {
					left := time.Unix(int64(c.sig.Expiration), 0).Sub(c.now)
					if left <= time.Duration(tc.ttl)*time.Second+skew {
						t.Errorf("signature %d handed out with %v left, TTL %ds + skew %v", i, left, tc.ttl, skew)
					}
				}
				if st := s.Stats(); st.Signatures != 2 || st.Hits != 1 || st.Entries != 1 {
					t.Errorf("stats %+v, want 2 signatures, 1 hit, 1 entry", st)
				}
			})
		}
	}
}

func TestCacheNotBeforeInception(t *testing.T) {
	k := testKey(t, testZone, dns.ECDSAP256SHA256, false)
	s := New(Options{})
	set := rrs(t, "h.1j2b.mx.example. 300 IN A 192.0.2.1")
	sig1, err := s.Sign(set, k, testZone, t0)
	if err != nil {
		t.Fatal(err)
	}
	earlier := t0.Add(-2 * DefaultBackdate) // clock stepped back past the inception
	sig2, err := s.Sign(set, k, testZone, earlier)
	if err != nil {
		t.Fatal(err)
	}
	if sig2.Signature == sig1.Signature {
		t.Error("reused a signature that is not yet valid")
	}
	checkSig(t, sig2, k, set, earlier)
}

func TestCacheEviction(t *testing.T) {
	tests := []struct {
		name string
		size int
		n    int
	}{
		{name: "tiny", size: 1, n: 20},
		{name: "small", size: 16, n: 200},
		{name: "odd", size: 1000, n: 3000},
		{name: "disabled", size: -1, n: 50},
	}
	k := testKey(t, testZone, dns.ED25519, false)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := New(Options{CacheSize: tc.size})
			for i := range tc.n {
				set := rrs(t, fmt.Sprintf("h%d.1j2b.mx.example. 300 IN A 192.0.2.1", i))
				sig, err := s.Sign(set, k, testZone, t0)
				if err != nil {
					t.Fatal(err)
				}
				if i%97 == 0 {
					checkSig(t, sig, k, set, t0)
				}
				if st := s.Stats(); st.Entries > max(tc.size, 0) {
					t.Fatalf("after %d signatures Entries = %d > CacheSize %d", i+1, st.Entries, tc.size)
				}
			}
			st := s.Stats()
			if st.Signatures != uint64(tc.n) || st.Misses != uint64(tc.n) {
				t.Errorf("stats %+v, want %d signatures and misses", st, tc.n)
			}
			if tc.size > 0 && st.Evictions != st.Signatures-uint64(st.Entries) {
				t.Errorf("evictions %d != signatures %d - entries %d", st.Evictions, st.Signatures, st.Entries)
			}
			if tc.size > 0 && st.Entries == 0 {
				t.Error("cache holds nothing")
			}
			if tc.size < 0 && (st.Entries != 0 || st.Evictions != 0 || st.Hits != 0) {
				t.Errorf("disabled cache: %+v", st)
			}
		})
	}
}

// TestCacheEvictsGradually checks that a hot entry survives a flood of
// one-off RRsets (CLOCK keeps referenced entries): the cache is never flushed.
func TestCacheEvictsGradually(t *testing.T) {
	k := testKey(t, testZone, dns.ED25519, false)
	hot := rrs(t, "hot.1j2b.mx.example. 300 IN A 192.0.2.1")
	s2 := New(Options{CacheSize: 64})
	if _, err := s2.Sign(hot, k, testZone, t0); err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		if _, err := s2.Sign(hot, k, testZone, t0); err != nil { // keep it referenced
			t.Fatal(err)
		}
		cold := rrs(t, fmt.Sprintf("cold%d.1j2b.mx.example. 300 IN A 192.0.2.1", i))
		if _, err := s2.Sign(cold, k, testZone, t0); err != nil {
			t.Fatal(err)
		}
	}
	st := s2.Stats()
	if st.Hits != 200 {
		t.Errorf("hot RRset hits = %d, want 200 (it was evicted)", st.Hits)
	}
	if st.Entries < 32 {
		t.Errorf("entries = %d: the cache was emptied, not evicted gradually", st.Entries)
	}
}

func TestSignConcurrent(t *testing.T) {
	s := New(Options{CacheSize: 64})
	var keys []*Key
	for _, a := range algs {
		keys = append(keys, testKey(t, testZone, a.alg, false))
	}
	// Shared, read-only RRsets: Sign must not write to them (-race).
	var sets [][]dns.RR
	for i := range 8 {
		owner := fmt.Sprintf("h%d.1j2b.mx.example.", i)
		if i%2 == 1 {
			owner = strings.ToUpper(owner)
		}
		sets = append(sets, rrs(t, owner+" 300 IN A 192.0.2.1", owner+" 300 IN A 192.0.2.2"))
	}
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 50 {
				set := sets[(g+i)%len(sets)]
				k := keys[i%len(keys)]
				now := t0.Add(time.Duration(i) * time.Minute)
				sig, err := s.Sign(set, k, testZone, now)
				if err != nil {
					t.Error(err)
					return
				}
				if err := sig.Verify(k.DNSKEY, set); err != nil {
					t.Errorf("Verify: %v", err)
				}
				if !sig.ValidityPeriod(now) {
					t.Errorf("not valid at %v", now)
				}
			}
		})
	}
	wg.Wait()
	st := s.Stats()
	if st.Hits+st.Misses != 16*50 {
		t.Errorf("hits %d + misses %d != %d calls", st.Hits, st.Misses, 16*50)
	}
	if st.Entries > 64 {
		t.Errorf("entries %d > 64", st.Entries)
	}
}

func TestSignErrors(t *testing.T) {
	k := testKey(t, testZone, dns.ECDSAP256SHA256, false)
	other := testKey(t, "other.example.", dns.ECDSAP256SHA256, false)
	tests := []struct {
		name  string
		rrset []dns.RR
		key   *Key
		zone  string
		want  error
	}{
		{name: "empty", rrset: nil, key: k, zone: testZone, want: ErrRRset},
		{name: "mixed types", rrset: rrs(t, "h.1j2b.mx.example. 300 IN A 192.0.2.1", "h.1j2b.mx.example. 300 IN AAAA ::1"), key: k, zone: testZone, want: ErrRRset},
		{name: "mixed owners", rrset: rrs(t, "h.1j2b.mx.example. 300 IN A 192.0.2.1", "i.1j2b.mx.example. 300 IN A 192.0.2.2"), key: k, zone: testZone, want: ErrRRset},
		{name: "mixed classes", rrset: rrs(t, "h.1j2b.mx.example. 300 IN A 192.0.2.1", "h.1j2b.mx.example. 300 CH A 192.0.2.2"), key: k, zone: testZone, want: ErrRRset},
		{name: "RRSIG", rrset: rrs(t, "h.1j2b.mx.example. 300 IN RRSIG A 13 4 300 20260101000000 20250101000000 1 1j2b.mx.example. AAAA"), key: k, zone: testZone, want: ErrRRset},
		{name: "out of zone", rrset: rrs(t, "h.other.example. 300 IN A 192.0.2.1"), key: k, zone: testZone, want: ErrZone},
		{name: "sibling suffix is not in zone", rrset: rrs(t, "h.x1j2b.mx.example. 300 IN A 192.0.2.1"), key: k, zone: testZone, want: ErrZone},
		{name: "parent of zone", rrset: rrs(t, "mx.example. 300 IN A 192.0.2.1"), key: k, zone: testZone, want: ErrZone},
		{name: "key of another zone", rrset: rrs(t, "h.1j2b.mx.example. 300 IN A 192.0.2.1"), key: other, zone: testZone, want: ErrKey},
		{name: "nil key", rrset: rrs(t, "h.1j2b.mx.example. 300 IN A 192.0.2.1"), key: nil, zone: testZone, want: ErrKey},
	}
	s := New(Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sig, err := s.Sign(tc.rrset, tc.key, tc.zone, t0)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if sig != nil {
				t.Errorf("got RRSIG %v with an error", sig)
			}
		})
	}
}

func TestSignZoneSpelling(t *testing.T) {
	k := testKey(t, testZone, dns.ED25519, false)
	s := New(Options{})
	set := rrs(t, "h.1j2b.mx.example. 300 IN A 192.0.2.1")
	for _, zone := range []string{testZone, "1J2B.mx.example.", "1j2b.mx.example"} {
		t.Run(zone, func(t *testing.T) {
			sig, err := s.Sign(set, k, zone, t0)
			if err != nil {
				t.Fatal(err)
			}
			if sig.SignerName != testZone {
				t.Errorf("SignerName %q, want canonical %q", sig.SignerName, testZone)
			}
			checkSig(t, sig, k, set, t0)
		})
	}
}

func TestSignAll(t *testing.T) {
	zsk := testKey(t, testZone, dns.ECDSAP256SHA256, false)
	ksk := testKey(t, testZone, dns.ED25519, true)
	s := New(Options{})
	set := rrs(t, "h.1j2b.mx.example. 300 IN A 192.0.2.1", "h.1j2b.mx.example. 300 IN A 192.0.2.2")
	out, err := s.SignAll(set, []*Key{zsk, ksk}, testZone, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 4 || out[0] != set[0] || out[1] != set[1] {
		t.Fatalf("SignAll = %v, want the rrset then 2 RRSIGs", out)
	}
	for i, k := range []*Key{zsk, ksk} {
		sig, ok := out[2+i].(*dns.RRSIG)
		if !ok {
			t.Fatalf("out[%d] = %T", 2+i, out[2+i])
		}
		checkSig(t, sig, k, set, t0)
	}
	if _, err := s.SignAll(set, []*Key{zsk, nil}, testZone, t0); !errors.Is(err, ErrKey) {
		t.Errorf("SignAll with a nil key: err = %v", err)
	}
}

func TestOptionsDefaults(t *testing.T) {
	got := New(Options{}).Options()
	want := Options{Validity: 14 * 24 * time.Hour, Refresh: 5 * 24 * time.Hour, Backdate: time.Hour, Skew: 5 * time.Minute, CacheSize: DefaultCacheSize}
	if got != want {
		t.Errorf("defaults %+v, want %+v", got, want)
	}
	custom := Options{Validity: time.Hour, Refresh: time.Minute, Backdate: time.Second, Skew: time.Second, CacheSize: -1}
	if got := New(custom).Options(); got != custom {
		t.Errorf("Options() = %+v, want %+v", got, custom)
	}
}

// TestExpiryHorizon checks that no signature Sign hands out at now expires sooner than
// ExpiryHorizon(now), and that the horizon is the earliest such expiration.
func TestExpiryHorizon(t *testing.T) {
	k := testKey(t, testZone, dns.ECDSAP256SHA256, false)
	fresh := DefaultValidity - DefaultValidity/10
	if got := New(Options{}).ExpiryHorizon(t0); got != fresh {
		t.Fatalf("empty cache: horizon %v, want validity less the largest jitter %v", got, fresh)
	}
	s := New(Options{})
	sets := [][]dns.RR{
		rrs(t, "a.1j2b.mx.example. 300 IN A 192.0.2.1"),
		rrs(t, "b.1j2b.mx.example. 300 IN A 192.0.2.2"),
		rrs(t, "c.1j2b.mx.example. 300 IN A 192.0.2.3"),
	}
	var earliest time.Time // expiration of the signature made first
	for i, set := range sets {
		now := t0.Add(time.Duration(i) * 24 * time.Hour)
		sig, err := s.Sign(set, k, testZone, now)
		if err != nil {
			t.Fatal(err)
		}
		if exp := time.Unix(int64(sig.Expiration), 0); earliest.IsZero() || exp.Before(earliest) {
			earliest = exp
		}
	}
	for _, now := range []time.Time{t0.Add(3 * 24 * time.Hour), t0.Add(6 * 24 * time.Hour), earliest.Add(-DefaultRefresh - time.Hour)} {
		h := s.ExpiryHorizon(now)
		if want := earliest.Sub(now); h != want {
			t.Errorf("%v: horizon %v, want the earliest cached expiration %v", now, h, want)
		}
		for _, set := range sets {
			sig, err := s.Sign(set, k, testZone, now)
			if err != nil {
				t.Fatal(err)
			}
			if left := time.Unix(int64(sig.Expiration), 0).Sub(now); left < h {
				t.Errorf("%v: handed out a signature with %v left, below the horizon %v", now, left, h)
			}
		}
	}
	// Within Refresh of its expiration the first signature is not handed out any more.
	now := earliest.Add(-DefaultRefresh)
	if h := s.ExpiryHorizon(now); h <= DefaultRefresh {
		t.Errorf("horizon %v counts a signature that would be re-signed (refresh %v)", h, DefaultRefresh)
	}
	if got := New(Options{CacheSize: -1}).ExpiryHorizon(t0); got != fresh {
		t.Errorf("no cache: horizon %v, want %v", got, fresh)
	}
}
