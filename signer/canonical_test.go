package signer

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestLabelCountAndInZone(t *testing.T) {
	tests := []struct {
		name   string
		owner  string
		zone   string
		labels uint8
		in     bool
	}{
		{name: "host", owner: "h.1j2b.mx.example.", zone: testZone, labels: 4, in: true},
		{name: "apex", owner: "1j2b.mx.example.", zone: testZone, labels: 3, in: true},
		{name: "wildcard", owner: "*.1j2b.mx.example.", zone: testZone, labels: 3, in: true},
		{name: "star inside a label is no wildcard", owner: "*x.1j2b.mx.example.", zone: testZone, labels: 4, in: true},
		{name: "parent", owner: "mx.example.", zone: testZone, labels: 2},
		{name: "suffix but not a label boundary", owner: "a1j2b.mx.example.", zone: testZone, labels: 3},
		{name: "root zone", owner: "a.b.", zone: ".", labels: 2, in: true},
		{name: "root owner", owner: ".", zone: ".", labels: 0, in: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pack := func(s string) []byte {
				b := make([]byte, 256)
				n, err := dns.PackDomainName(s, b, 0, nil, false)
				if err != nil {
					t.Fatal(err)
				}
				return b[:n]
			}
			o := append(pack(tc.owner), 0, 1, 0, 1) // followed by type and class, as in the canonical RRset
			if got := labelCount(o); got != tc.labels {
				t.Errorf("labelCount = %d, want %d", got, tc.labels)
			}
			if got := inZone(o, pack(tc.zone)); got != tc.in {
				t.Errorf("inZone = %v, want %v", got, tc.in)
			}
		})
	}
}

// TestCanonicalizeDoesNotModify checks that Sign leaves the input RRs alone.
func TestCanonicalizeDoesNotModify(t *testing.T) {
	set := rrs(t, "H.1j2b.mx.example. 300 IN MX 10 Mail.Example.", "H.1j2b.mx.example. 60 IN MX 5 A.Example.")
	before := []string{set[0].String(), set[1].String()}
	rdl := []uint16{set[0].Header().Rdlength, set[1].Header().Rdlength}
	k := fixedEd25519Key(t, testZone)
	if _, err := New(Options{}).Sign(set, k, testZone, t0); err != nil {
		t.Fatal(err)
	}
	for i, rr := range set {
		if rr.String() != before[i] || rr.Header().Rdlength != rdl[i] {
			t.Errorf("RR %d changed: %q -> %q (rdlength %d -> %d)", i, before[i], rr.String(), rdl[i], rr.Header().Rdlength)
		}
	}
}

// FuzzSign checks Sign on arbitrary RR text against miekg/dns: it never
// panics, and what it signs verifies; for names without escapes or non-ASCII
// octets (where miekg's string lower-casing differs from RFC 4034's octet
// lower-casing) Ed25519 signatures equal miekg's byte for byte.
func FuzzSign(f *testing.F) {
	f.Add("h.example. 300 IN A 192.0.2.1\nh.example. 300 IN A 192.0.2.2")
	f.Add("H.Example. 300 IN MX 10 Mail.Example.")
	f.Add("example. 60 IN SOA NS1.example. H.example. 1 2 3 4 5")
	f.Add(`n.example. 60 IN NAPTR 100 10 "S" "SIP+D2U" "" _SIP._udp.Example.`)
	f.Add("*.Example. 60 IN TXT \"x\" \"Y\"\n*.example. 60 IN TXT \"a\"")
	f.Add("a.example. 60 IN CNAME B.example.\nA.example. 60 IN CNAME b.example.")
	k := fixedEd25519Key(f, ".")
	s := New(Options{CacheSize: 128})
	f.Fuzz(func(t *testing.T, text string) {
		var set []dns.RR
		for _, line := range strings.SplitN(text, "\n", 4) {
			rr, err := dns.NewRR(line)
			if err != nil || rr == nil {
				return
			}
			// Skip what miekg parses but cannot print back (e.g. SOA with
			// empty names): miekg signs those differently from their wire form.
			if back, err := dns.NewRR(rr.String()); err != nil || back.String() != rr.String() {
				return
			}
			set = append(set, rr)
		}
		if len(set) == 0 {
			return
		}
		sig, err := s.Sign(set, k, ".", t0)
		if err != nil {
			return
		}
		plain := true
		for _, c := range []byte(text) {
			if c == '\\' || c >= 0x80 {
				plain = false
			}
		}
		if !plain {
			return
		}
		// miekg's IsRRset compares owners case-sensitively; DNS does not.
		same := make([]dns.RR, len(set))
		for i, rr := range set {
			same[i] = dns.Copy(rr)
			same[i].Header().Name = set[0].Header().Name
		}
		theirs := &dns.RRSIG{Hdr: dns.RR_Header{Ttl: set[0].Header().Ttl}, KeyTag: k.Tag, SignerName: ".",
			Algorithm: dns.ED25519, Inception: sig.Inception, Expiration: sig.Expiration, OrigTtl: sig.OrigTtl}
		if err := theirs.Sign(k.Private, same); err != nil {
			return // RRs miekg cannot pack (e.g. TXT without strings)
		}
		if err := sig.Verify(k.DNSKEY, same); err != nil {
			t.Fatalf("Verify(%v) over %v: %v", sig, set, err)
		}
		if !strings.HasPrefix(set[0].Header().Name, "*") && theirs.Signature != sig.Signature {
			t.Fatalf("signature differs from miekg over %v", set)
		}
	})
}
