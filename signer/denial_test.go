package signer

import (
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestCompactNSEC(t *testing.T) {
	tests := []struct {
		name   string
		owner  string
		types  []uint16
		qtype  uint16
		nxname bool
		next   string
		bitmap []uint16
	}{
		{name: "NXNAME", owner: "nope.1j2b.mx.example.", qtype: dns.TypeA, nxname: true,
			next: `\000.nope.1j2b.mx.example.`, bitmap: []uint16{dns.TypeRRSIG, dns.TypeNSEC, TypeNXNAME}},
		{name: "NXNAME ignores types", owner: "nope.1j2b.mx.example.", types: []uint16{dns.TypeA}, qtype: dns.TypeRRSIG, nxname: true,
			next: `\000.nope.1j2b.mx.example.`, bitmap: []uint16{dns.TypeRRSIG, dns.TypeNSEC, TypeNXNAME}},
		{name: "NODATA excludes qtype", owner: "h.1j2b.mx.example.", types: []uint16{dns.TypeAAAA, dns.TypeA}, qtype: dns.TypeA,
			next: `\000.h.1j2b.mx.example.`, bitmap: []uint16{dns.TypeAAAA, dns.TypeRRSIG, dns.TypeNSEC}},
		{name: "NODATA for MX", owner: "h.1j2b.mx.example.", types: []uint16{dns.TypeA, dns.TypeAAAA}, qtype: dns.TypeMX,
			next: `\000.h.1j2b.mx.example.`, bitmap: []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeRRSIG, dns.TypeNSEC}},
		{name: "duplicates and RRSIG/NSEC in types", owner: "h.1j2b.mx.example.", types: []uint16{dns.TypeNSEC, dns.TypeA, dns.TypeA, dns.TypeRRSIG}, qtype: dns.TypeTXT,
			next: `\000.h.1j2b.mx.example.`, bitmap: []uint16{dns.TypeA, dns.TypeRRSIG, dns.TypeNSEC}},
		{name: "NXNAME never in a NODATA bitmap", owner: "h.1j2b.mx.example.", types: []uint16{TypeNXNAME, dns.TypeA}, qtype: dns.TypeTXT,
			next: `\000.h.1j2b.mx.example.`, bitmap: []uint16{dns.TypeA, dns.TypeRRSIG, dns.TypeNSEC}},
		{name: "ENT", owner: "_tcp.h.1j2b.mx.example.", qtype: dns.TypeTLSA,
			next: `\000._tcp.h.1j2b.mx.example.`, bitmap: []uint16{dns.TypeRRSIG, dns.TypeNSEC}},
		{name: "apex, type 65535 sorts last", owner: "1j2b.mx.example.", types: []uint16{65535, dns.TypeSOA, dns.TypeNS, dns.TypeDNSKEY}, qtype: dns.TypeA,
			next: `\000.1j2b.mx.example.`, bitmap: []uint16{dns.TypeNS, dns.TypeSOA, dns.TypeRRSIG, dns.TypeNSEC, dns.TypeDNSKEY, 65535}},
		{name: "owner case preserved, next lower-cased", owner: "NoPe.1J2B.Mx.Example.", nxname: true, qtype: dns.TypeA,
			next: `\000.nope.1j2b.mx.example.`, bitmap: []uint16{dns.TypeRRSIG, dns.TypeNSEC, TypeNXNAME}},
		{name: "non-UTF-8 octet kept, only A-Z lowered", owner: "X\xacY.example.", nxname: true, qtype: dns.TypeA,
			next: `\000.x\172y.example.`, bitmap: []uint16{dns.TypeRRSIG, dns.TypeNSEC, TypeNXNAME}},
		{name: "escaped dot kept", owner: `A\.b.example.`, nxname: true, qtype: dns.TypeA,
			next: `\000.a\.b.example.`, bitmap: []uint16{dns.TypeRRSIG, dns.TypeNSEC, TypeNXNAME}},
		{name: "root", owner: ".", types: []uint16{dns.TypeNS}, qtype: dns.TypeA,
			next: `\000.`, bitmap: []uint16{dns.TypeNS, dns.TypeRRSIG, dns.TypeNSEC}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.types)
			n := CompactNSEC(tc.owner, 60, tc.types, tc.qtype, tc.nxname)
			if n.Hdr.Name != tc.owner || n.Hdr.Rrtype != dns.TypeNSEC || n.Hdr.Class != dns.ClassINET || n.Hdr.Ttl != 60 {
				t.Errorf("header %+v", n.Hdr)
			}
			if n.NextDomain != tc.next {
				t.Errorf("next %q, want %q", n.NextDomain, tc.next)
			}
			if !slices.Equal(n.TypeBitMap, tc.bitmap) {
				t.Errorf("bitmap %v, want %v", n.TypeBitMap, tc.bitmap)
			}
			if !slices.Equal(in, tc.types) {
				t.Errorf("types argument modified: %v -> %v", in, tc.types)
			}
			checkNSEC(t, n, tc.qtype, tc.nxname)
		})
	}
}

// checkNSEC checks the invariants of a compact NSEC and that it packs and
// round-trips through its text form.
func checkNSEC(t *testing.T, n *dns.NSEC, qtype uint16, nxname bool) {
	t.Helper()
	if !slices.IsSorted(n.TypeBitMap) || len(slices.Compact(slices.Clone(n.TypeBitMap))) != len(n.TypeBitMap) {
		t.Errorf("bitmap %v not sorted or has duplicates", n.TypeBitMap)
	}
	if nxname {
		if !slices.Equal(n.TypeBitMap, []uint16{dns.TypeRRSIG, dns.TypeNSEC, TypeNXNAME}) {
			t.Errorf("NXNAME bitmap %v", n.TypeBitMap)
		}
	} else if slices.Contains(n.TypeBitMap, qtype) && qtype != dns.TypeRRSIG && qtype != dns.TypeNSEC {
		t.Errorf("bitmap %v lists the queried type %d", n.TypeBitMap, qtype)
	}
	if !slices.Contains(n.TypeBitMap, dns.TypeRRSIG) || !slices.Contains(n.TypeBitMap, dns.TypeNSEC) {
		t.Errorf("bitmap %v lacks RRSIG or NSEC (RFC 4035 §2.3)", n.TypeBitMap)
	}
	buf := make([]byte, dns.MaxMsgSize) // a bitmap of every type is ~8 KB
	if _, err := dns.PackRR(n, buf, 0, nil, false); err != nil {
		t.Errorf("PackRR(%v): %v", n, err)
	}
	if !strings.HasPrefix(n.NextDomain, `\000.`) {
		// Only the over-long fallback (RFC 4471) differs; it must sort after the owner.
		if dns.CanonicalName(n.NextDomain) == dns.CanonicalName(n.Hdr.Name) {
			t.Errorf("next %q equals the owner", n.NextDomain)
		}
	}
}

func TestSuccessorLongNames(t *testing.T) {
	l63 := strings.Repeat("a", 63)
	l61 := strings.Repeat("b", 61)
	l59 := strings.Repeat("c", 59)
	tests := []struct {
		name  string
		owner string
		want  string
	}{
		{
			// 255 octets on the wire: no room at all.
			name:  "255 octets: increment the last octet of the first label",
			owner: "X" + strings.Repeat("a", 59) + "a." + l63 + "." + l63 + "." + l63 + ".",
			want:  "x" + strings.Repeat("a", 59) + "b." + l63 + "." + l63 + "." + l63 + ".",
		},
		{
			name:  "254 octets: append a zero octet to the first label",
			owner: "x." + l61 + "b." + l63 + "." + l63 + "." + l59 + ".",
			want:  `x\000.` + l61 + "b." + l63 + "." + l63 + "." + l59 + ".",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := successor(tc.owner)
			if got != tc.want {
				t.Errorf("successor =\n %q, want\n %q", got, tc.want)
			}
			if _, ok := dns.IsDomainName(got); !ok {
				t.Errorf("%q is not a domain name", got)
			}
			n := CompactNSEC(tc.owner, 60, nil, dns.TypeA, true)
			checkNSEC(t, n, dns.TypeA, true)
		})
	}
}

func TestNegativeTTL(t *testing.T) {
	tests := []struct {
		name     string
		ttl, min uint32
		want     uint32
	}{
		{name: "minimum smaller", ttl: 3600, min: 60, want: 60},
		{name: "TTL smaller", ttl: 30, min: 300, want: 30},
		{name: "equal", ttl: 120, min: 120, want: 120},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			soa := &dns.SOA{Hdr: dns.RR_Header{Ttl: tc.ttl}, Minttl: tc.min}
			if got := NegativeTTL(soa); got != tc.want {
				t.Errorf("NegativeTTL = %d, want %d", got, tc.want)
			}
		})
	}
	if NegativeTTL(nil) != 0 {
		t.Error("NegativeTTL(nil) != 0")
	}
}

func FuzzCompactNSEC(f *testing.F) {
	f.Add("nope.1j2b.mx.example.", []byte{0, 1, 0, 28}, uint16(1), true)
	f.Add("_tcp.h.1j2b.mx.example.", []byte{}, uint16(52), false)
	f.Add("H.1J2B.Mx.Example.", []byte{0, 1, 0, 1, 0, 46, 0, 47, 0, 128}, uint16(47), false)
	f.Add(".", []byte{0, 2}, uint16(0), false)
	f.Add(`a\000\.b.example.`, []byte{255, 255}, uint16(65535), false)
	f.Add(strings.Repeat("a", 63)+"."+strings.Repeat("b", 63)+"."+strings.Repeat("c", 63)+"."+strings.Repeat("d", 61)+".", []byte{0, 1}, uint16(1), true)
	f.Fuzz(func(t *testing.T, owner string, raw []byte, qtype uint16, nxname bool) {
		types := make([]uint16, len(raw)/2)
		for i := range types {
			types[i] = uint16(raw[2*i])<<8 | uint16(raw[2*i+1])
		}
		n := CompactNSEC(owner, 60, types, qtype, nxname) // must not panic
		if n.Hdr.Name != owner {
			t.Fatalf("owner %q became %q", owner, n.Hdr.Name)
		}
		// Only names that pack as an owner must pack as an NSEC.
		if _, err := dns.PackDomainName(dns.Fqdn(owner), make([]byte, 256), 0, nil, false); err != nil || !dns.IsFqdn(owner) {
			return
		}
		checkNSEC(t, n, qtype, nxname)
	})
}
