package zonestore

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestLookup(t *testing.T) {
	s, p, _ := newTestProvisioner(t, nil)
	h := *mustAdd(t, p, "contoso.com")[0].Host
	shard, host := h.Shard, h.Name()
	const parent = "mx.example."
	apexTypes := []uint16{dns.TypeNS, dns.TypeSOA, dns.TypeDNSKEY, dns.TypeCDS, dns.TypeCDNSKEY}

	tests := []struct {
		name   string
		qname  string
		qtype  uint16
		zone   string
		rcode  Rcode
		rrtype uint16 // type of the answer RRset
		count  int    // RRs in it
		types  []uint16
	}{
		{name: "parent SOA", qname: parent, qtype: dns.TypeSOA, zone: parent, rcode: Success, rrtype: dns.TypeSOA, count: 1, types: apexTypes},
		{name: "parent NS", qname: parent, qtype: dns.TypeNS, zone: parent, rcode: Success, rrtype: dns.TypeNS, count: 2, types: apexTypes},
		{name: "parent DNSKEY", qname: parent, qtype: dns.TypeDNSKEY, zone: parent, rcode: Success, rrtype: dns.TypeDNSKEY, count: 2, types: apexTypes},
		{name: "parent CDS", qname: parent, qtype: dns.TypeCDS, zone: parent, rcode: Success, rrtype: dns.TypeCDS, count: 1, types: apexTypes},
		{name: "parent CDNSKEY", qname: parent, qtype: dns.TypeCDNSKEY, zone: parent, rcode: Success, rrtype: dns.TypeCDNSKEY, count: 1, types: apexTypes},
		{name: "parent ANY is minimal", qname: parent, qtype: dns.TypeANY, zone: parent, rcode: Success, rrtype: dns.TypeNS, count: 2, types: apexTypes},
		{name: "parent NODATA", qname: parent, qtype: dns.TypeA, zone: parent, rcode: NoData, types: apexTypes},
		{name: "parent DS is not ours", qname: parent, qtype: dns.TypeDS, rcode: NotOurs},
		{name: "mixed case", qname: "Mx.EXAMPLE", qtype: dns.TypeSOA, zone: parent, rcode: Success, rrtype: dns.TypeSOA, count: 1, types: apexTypes},
		{name: "glue A", qname: "ns1.mx.example.", qtype: dns.TypeA, zone: parent, rcode: Success, rrtype: dns.TypeA, count: 1, types: []uint16{dns.TypeA, dns.TypeAAAA}},
		{name: "glue AAAA", qname: "NS1.mx.example.", qtype: dns.TypeAAAA, zone: parent, rcode: Success, rrtype: dns.TypeAAAA, count: 1, types: []uint16{dns.TypeA, dns.TypeAAAA}},
		{name: "glue NODATA", qname: "ns1.mx.example.", qtype: dns.TypeMX, zone: parent, rcode: NoData, types: []uint16{dns.TypeA, dns.TypeAAAA}},
		{name: "parent NXDOMAIN", qname: "nope.mx.example.", qtype: dns.TypeA, zone: parent, rcode: NXDomain},
		{name: "parent NXDOMAIN deep", qname: "a.b.nope.mx.example.", qtype: dns.TypeA, zone: parent, rcode: NXDomain},
		{name: "unknown shard-like name DS", qname: "zzzz.mx.example.", qtype: dns.TypeDS, zone: parent, rcode: NXDomain},
		{name: "shard DS from parent", qname: shard, qtype: dns.TypeDS, zone: parent, rcode: Success, rrtype: dns.TypeDS, count: 1, types: []uint16{dns.TypeNS, dns.TypeDS}},
		{name: "shard DS upper case", qname: strings.ToUpper(shard), qtype: dns.TypeDS, zone: parent, rcode: Success, rrtype: dns.TypeDS, count: 1, types: []uint16{dns.TypeNS, dns.TypeDS}},
		{name: "shard SOA", qname: shard, qtype: dns.TypeSOA, zone: shard, rcode: Success, rrtype: dns.TypeSOA, count: 1, types: apexTypes},
		{name: "shard NS", qname: shard, qtype: dns.TypeNS, zone: shard, rcode: Success, rrtype: dns.TypeNS, count: 2, types: apexTypes},
		{name: "shard DNSKEY", qname: shard, qtype: dns.TypeDNSKEY, zone: shard, rcode: Success, rrtype: dns.TypeDNSKEY, count: 2, types: apexTypes},
		{name: "shard CDS", qname: shard, qtype: dns.TypeCDS, zone: shard, rcode: Success, rrtype: dns.TypeCDS, count: 1, types: apexTypes},
		{name: "shard CDNSKEY", qname: shard, qtype: dns.TypeCDNSKEY, zone: shard, rcode: Success, rrtype: dns.TypeCDNSKEY, count: 1, types: apexTypes},
		{name: "shard NODATA", qname: shard, qtype: dns.TypeTXT, zone: shard, rcode: NoData, types: apexTypes},
		{name: "host A", qname: host, qtype: dns.TypeA, zone: shard, rcode: Success, rrtype: dns.TypeA, count: 2, types: []uint16{dns.TypeA, dns.TypeAAAA}},
		{name: "host AAAA", qname: strings.ToUpper(host), qtype: dns.TypeAAAA, zone: shard, rcode: Success, rrtype: dns.TypeAAAA, count: 1, types: []uint16{dns.TypeA, dns.TypeAAAA}},
		{name: "host ANY", qname: host, qtype: dns.TypeANY, zone: shard, rcode: Success, rrtype: dns.TypeA, count: 2, types: []uint16{dns.TypeA, dns.TypeAAAA}},
		{name: "host NODATA", qname: host, qtype: dns.TypeMX, zone: shard, rcode: NoData, types: []uint16{dns.TypeA, dns.TypeAAAA}},
		{name: "host TLSA NODATA", qname: host, qtype: dns.TypeTLSA, zone: shard, rcode: NoData, types: []uint16{dns.TypeA, dns.TypeAAAA}},
		{name: "host DS", qname: host, qtype: dns.TypeDS, zone: shard, rcode: NoData, types: []uint16{dns.TypeA, dns.TypeAAAA}},
		{name: "_tcp ENT", qname: "_tcp." + host, qtype: dns.TypeA, zone: shard, rcode: NoData},
		{name: "_tcp ENT ANY", qname: "_tcp." + host, qtype: dns.TypeANY, zone: shard, rcode: NoData},
		{name: "TLSA", qname: "_25._tcp." + host, qtype: dns.TypeTLSA, zone: shard, rcode: Success, rrtype: dns.TypeTLSA, count: 1, types: []uint16{dns.TypeTLSA}},
		{name: "TLSA ANY", qname: "_25._TCP." + host, qtype: dns.TypeANY, zone: shard, rcode: Success, rrtype: dns.TypeTLSA, count: 1, types: []uint16{dns.TypeTLSA}},
		{name: "TLSA name NODATA", qname: "_25._tcp." + host, qtype: dns.TypeA, zone: shard, rcode: NoData, types: []uint16{dns.TypeTLSA}},
		{name: "other port", qname: "_26._tcp." + host, qtype: dns.TypeTLSA, zone: shard, rcode: NXDomain},
		{name: "below TLSA", qname: "x._25._tcp." + host, qtype: dns.TypeTLSA, zone: shard, rcode: NXDomain},
		{name: "below host", qname: "www." + host, qtype: dns.TypeA, zone: shard, rcode: NXDomain},
		{name: "unknown host", qname: "fabrikam-com." + shard, qtype: dns.TypeA, zone: shard, rcode: NXDomain},
		{name: "unknown host _tcp", qname: "_tcp.fabrikam-com." + shard, qtype: dns.TypeA, zone: shard, rcode: NXDomain},
		{name: "outside", qname: "example.com.", qtype: dns.TypeA, rcode: NotOurs},
		{name: "grandparent", qname: "example.", qtype: dns.TypeSOA, rcode: NotOurs},
		{name: "suffix but not below", qname: "xmx.example.", qtype: dns.TypeA, rcode: NotOurs},
		{name: "root", qname: ".", qtype: dns.TypeNS, rcode: NotOurs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := s.Lookup(tt.qname, tt.qtype)
			if a.Rcode != tt.rcode || a.Zone != tt.zone {
				t.Fatalf("Lookup(%s, %s) = %s in %q, want %s in %q", tt.qname, dns.TypeToString[tt.qtype], a.Rcode, a.Zone, tt.rcode, tt.zone)
			}
			if !slices.Equal(a.Types, tt.types) {
				t.Errorf("types %v, want %v", a.Types, tt.types)
			}
			if tt.rcode == NotOurs {
				if a.SOA != nil || a.RRsets != nil {
					t.Errorf("NotOurs answer carries data: %+v", a)
				}
				return
			}
			z := mustZone(t, s, tt.zone)
			if a.SOA == nil || a.SOA.Hdr.Name != tt.zone || a.SOA.Serial != z.Serial || a.KeyGen != z.KeyGen {
				t.Errorf("SOA %v KeyGen %d; zone %+v", a.SOA, a.KeyGen, z)
			}
			if tt.rcode != Success {
				if len(a.RRsets) != 0 {
					t.Errorf("RRsets %v, want none", a.RRsets)
				}
				return
			}
			if len(a.RRsets) != 1 || len(a.RRsets[0]) != tt.count {
				t.Fatalf("RRsets %v, want one set of %d", a.RRsets, tt.count)
			}
			owner := strings.ToLower(dns.Fqdn(tt.qname))
			for _, rr := range a.RRsets[0] {
				if rr.Header().Rrtype != tt.rrtype || rr.Header().Name != owner || rr.Header().Class != dns.ClassINET {
					t.Errorf("RR %v, want type %s owner %s", rr, dns.TypeToString[tt.rrtype], owner)
				}
			}
		})
	}
}

func TestLookupContents(t *testing.T) {
	s, p, _ := newTestProvisioner(t, nil)
	h := *mustAdd(t, p, "contoso.com")[0].Host
	cfg, _, _ := s.Config()

	soa := s.Lookup(h.Shard, dns.TypeSOA).SOA
	if soa.Ns != "ns1.mx.example." || soa.Mbox != "hostmaster.mx.example." || soa.Minttl != 300 ||
		soa.Refresh != 3600 || soa.Retry != 600 || soa.Expire != 1209600 || soa.Hdr.Ttl != 3600 {
		t.Errorf("shard SOA %v", soa)
	}
	// The parent's DS for the shard matches the shard's KSK and CDS.
	ds := s.Lookup(h.Shard, dns.TypeDS).RRsets[0][0].(*dns.DS)
	cds := s.Lookup(h.Shard, dns.TypeCDS).RRsets[0][0].(*dns.CDS)
	if ds.Digest != cds.Digest || ds.KeyTag != cds.KeyTag || ds.Hdr.Ttl != cfg.DSTTL || ds.DigestType != dns.SHA256 {
		t.Errorf("DS %v vs CDS %v", ds, cds)
	}
	var ksk *dns.DNSKEY
	for _, rr := range s.Lookup(h.Shard, dns.TypeDNSKEY).RRsets[0] {
		if k := rr.(*dns.DNSKEY); k.Flags&dns.SEP != 0 {
			ksk = k
		}
	}
	if ksk == nil || ksk.ToDS(dns.SHA256).Digest != ds.Digest || ksk.Hdr.Ttl != cfg.DNSKEYTTL {
		t.Errorf("KSK %v does not match DS %v", ksk, ds)
	}
	want, _ := s.DS(h.Shard)
	if len(want) != 1 || want[0].String() != ds.String() {
		t.Errorf("DS(shard) = %v, lookup %v", want, ds)
	}
	// DS(parent) is the parent's CDS as a DS.
	pds, _ := s.DS("mx.example.")
	pcds := s.Lookup("mx.example.", dns.TypeCDS).RRsets[0][0].(*dns.CDS)
	if len(pds) != 1 || pds[0].Digest != pcds.Digest {
		t.Errorf("DS(parent) %v, CDS %v", pds, pcds)
	}
	tlsa := s.Lookup("_25._tcp."+h.Name(), dns.TypeTLSA).RRsets[0][0].(*dns.TLSA)
	if got := tlsaRdata(tlsa); got != testTLSA || tlsa.Hdr.Ttl != 300 {
		t.Errorf("TLSA %v", tlsa)
	}
}

func TestLookupProfileWithoutTLSA(t *testing.T) {
	s, p, _ := newTestProvisioner(t, nil)
	h := *mustAdd(t, p, "contoso.com")[0].Host
	cfg, _ := testConfig()
	if err := p.Init(context.Background(), cfg, Profile{AAAA: []string{"2001:db8::1"}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		qname string
		qtype uint16
		rcode Rcode
		types []uint16
	}{
		{h.Name(), dns.TypeA, NoData, []uint16{dns.TypeAAAA}},
		{h.Name(), dns.TypeAAAA, Success, []uint16{dns.TypeAAAA}},
		{"_tcp." + h.Name(), dns.TypeA, NXDomain, nil},
		{"_25._tcp." + h.Name(), dns.TypeTLSA, NXDomain, nil},
	}
	for _, tt := range tests {
		t.Run(tt.qname, func(t *testing.T) {
			a := s.Lookup(tt.qname, tt.qtype)
			if a.Rcode != tt.rcode || !slices.Equal(a.Types, tt.types) {
				t.Fatalf("Lookup = %s %v, want %s %v", a.Rcode, a.Types, tt.rcode, tt.types)
			}
		})
	}
}

func TestLookupUninitialized(t *testing.T) {
	s := openTestStore(t)
	if a := s.Lookup("mx.example.", dns.TypeSOA); a.Rcode != NotOurs {
		t.Fatalf("Lookup on an empty store: %+v", a)
	}
	if _, ok := func() (Config, bool) { c, _, ok := s.Config(); return c, ok }(); ok {
		t.Fatal("Config reports initialized")
	}
	if zs := s.Zones(); len(zs) != 0 {
		t.Fatalf("Zones = %v", zs)
	}
}

// TestLookupAnswersAreStable checks that answers handed out before an Apply
// are not modified by it (callers may hold them while signing).
func TestLookupAnswersAreStable(t *testing.T) {
	s, p, clk := newTestProvisioner(t, nil)
	h := *mustAdd(t, p, "contoso.com")[0].Host
	before := s.Lookup(h.Shard, dns.TypeSOA)
	serial := before.SOA.Serial
	text := rrStrings(before.RRsets[0])
	clk.now = clk.now.Add(3600e9)
	mustAdd(t, p, "fabrikam.com")
	after := s.Lookup(h.Shard, dns.TypeSOA)
	if after.SOA.Serial == serial {
		t.Fatal("serial did not change")
	}
	if before.SOA.Serial != serial || rrStrings(before.RRsets[0]) != text {
		t.Fatal("an earlier answer was modified by Apply")
	}
}

func BenchmarkLookup(b *testing.B) {
	s, p, _ := newTestProvisioner(b, nil)
	var domains []string
	for i := range 1000 {
		domains = append(domains, "d"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+".example"+strconv.Itoa(i)+".com")
	}
	h := *mustAdd(b, p, domains...)[0].Host
	cases := []struct {
		name, qname string
		qtype       uint16
	}{
		{"host-A", h.Name(), dns.TypeA},
		{"host-A-mixedcase", strings.ToUpper(h.Name()), dns.TypeA},
		{"TLSA", "_25._tcp." + h.Name(), dns.TypeTLSA},
		{"nxdomain", "nope." + h.Shard, dns.TypeA},
		{"apex-DNSKEY", h.Shard, dns.TypeDNSKEY},
		{"parent-DS", h.Shard, dns.TypeDS},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if a := s.Lookup(c.qname, c.qtype); a.Rcode == NotOurs {
					b.Fatal("not ours")
				}
			}
		})
	}
}
