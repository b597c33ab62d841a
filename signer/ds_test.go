package signer

import (
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
