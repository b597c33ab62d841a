package signer

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestDSCDSCDNSKEY(t *testing.T) {
	for _, a := range algs {
		for _, ksk := range []bool{false, true} {
			t.Run(a.name, func(t *testing.T) {
				k := testKey(t, testZone, a.alg, ksk)
				want := k.DNSKEY.ToDS(dns.SHA256)
				want.Hdr.Ttl = 86400

				ds := DS(k.DNSKEY, 86400)
				if ds.String() != want.String() {
					t.Errorf("DS = %v, want %v", ds, want)
				}
				if ds.DigestType != dns.SHA256 || ds.KeyTag != k.Tag || ds.Algorithm != a.alg || len(ds.Digest) != 64 {
					t.Errorf("DS fields %v", ds)
				}
				cds := CDS(k.DNSKEY, 86400)
				if cds.Hdr.Rrtype != dns.TypeCDS || cds.DS.Digest != want.Digest || cds.Hdr.Ttl != 86400 || cds.KeyTag != k.Tag {
					t.Errorf("CDS = %v, want the DS %v as CDS", cds, want)
				}
				cdnskey := CDNSKEY(k.DNSKEY, 300)
				if cdnskey.Hdr.Rrtype != dns.TypeCDNSKEY || cdnskey.Hdr.Ttl != 300 || cdnskey.PublicKey != k.DNSKEY.PublicKey ||
					cdnskey.Flags != k.DNSKEY.Flags || cdnskey.Algorithm != a.alg {
					t.Errorf("CDNSKEY = %v for %v", cdnskey, k.DNSKEY)
				}
				if k.DNSKEY.Hdr.Ttl != 3600 || k.DNSKEY.Hdr.Rrtype != dns.TypeDNSKEY {
					t.Errorf("helpers modified the DNSKEY: %v", k.DNSKEY)
				}
			})
		}
	}
	if DS(nil, 1) != nil || CDS(nil, 1) != nil || CDNSKEY(nil, 1) != nil {
		t.Error("nil DNSKEY gave a record")
	}
}

func TestDSMatches(t *testing.T) {
	k := testKey(t, testZone, dns.ECDSAP256SHA256, true)
	other := testKey(t, testZone, dns.ECDSAP256SHA256, true)
	ds := func(digest uint8) *dns.DS {
		d := k.DNSKEY.ToDS(digest)
		if d == nil {
			t.Fatalf("ToDS(%d) = nil", digest)
		}
		return d
	}
	upper := ds(dns.SHA256)
	upper.Digest = strings.ToUpper(upper.Digest)
	wrongDigest := ds(dns.SHA256)
	wrongDigest.Digest = strings.Repeat("0", 64)
	wrongTag := ds(dns.SHA256)
	wrongTag.KeyTag++
	wrongAlg := ds(dns.SHA256)
	wrongAlg.Algorithm = dns.ED25519
	gost := ds(dns.SHA256)
	gost.DigestType = dns.GOST94
	unassigned := ds(dns.SHA256)
	unassigned.DigestType = 200
	tests := []struct {
		name         string
		key          *dns.DNSKEY
		ds           *dns.DS
		match, known bool
	}{
		{name: "sha-1", key: k.DNSKEY, ds: ds(dns.SHA1), match: true, known: true},
		{name: "sha-256", key: k.DNSKEY, ds: ds(dns.SHA256), match: true, known: true},
		{name: "sha-384", key: k.DNSKEY, ds: ds(dns.SHA384), match: true, known: true},
		{name: "upper-case hex", key: k.DNSKEY, ds: upper, match: true, known: true},
		{name: "another key's DS", key: other.DNSKEY, ds: ds(dns.SHA256), match: false, known: true},
		{name: "wrong digest", key: k.DNSKEY, ds: wrongDigest, match: false, known: true},
		{name: "wrong key tag", key: k.DNSKEY, ds: wrongTag, match: false, known: true},
		{name: "wrong algorithm", key: k.DNSKEY, ds: wrongAlg, match: false, known: true},
		{name: "GOST is not computed", key: k.DNSKEY, ds: gost, match: false, known: false},
		{name: "unassigned digest type", key: k.DNSKEY, ds: unassigned, match: false, known: false},
		{name: "nil DS", key: k.DNSKEY, ds: nil, match: false, known: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			match, known := DSMatches(tc.key, tc.ds)
			if match != tc.match || known != tc.known {
				t.Fatalf("DSMatches = (%v, %v), want (%v, %v)", match, known, tc.match, tc.known)
			}
		})
	}
}
