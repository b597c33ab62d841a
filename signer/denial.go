package signer

import (
	"slices"

	"github.com/miekg/dns"
)

// TypeNXNAME is the NXNAME meta-type of compact denial of existence
// (RFC 9824 §2): listed in an NSEC bitmap, it says the owner name does not
// exist.
const TypeNXNAME uint16 = 128

// CompactNSEC returns the NSEC record of compact denial of existence
// (RFC 9824 §3) for owner (case preserved, as the query had it).
//
// NextDomain is the immediate successor of owner, "\000.<owner>" lower-cased
// (RFC 4471 §3.1.2 when owner is too long for that). For nxname (the name does
// not exist) the bitmap is exactly {RRSIG, NSEC, NXNAME} (§3.1). Otherwise
// (NODATA, §3.2) it is types ∪ {RRSIG, NSEC} without qtype, so it never lists
// the queried type (RRSIG and NSEC themselves excepted: RFC 4035 §2.3 requires them); an empty non-terminal (types empty) gets {RRSIG, NSEC}.
// The bitmap is sorted without duplicates. The TTL should be NegativeTTL of the
// zone's SOA.
func CompactNSEC(owner string, ttl uint32, types []uint16, qtype uint16, nxname bool) *dns.NSEC {
	var bitmap []uint16
	if nxname {
		bitmap = []uint16{dns.TypeRRSIG, dns.TypeNSEC, TypeNXNAME}
	} else {
		bitmap = make([]uint16, 0, len(types)+2)
		bitmap = append(bitmap, types...)
		bitmap = append(bitmap, dns.TypeRRSIG, dns.TypeNSEC)
		slices.Sort(bitmap)
		bitmap = slices.Compact(bitmap)
		bitmap = slices.DeleteFunc(bitmap, func(t uint16) bool {
			// RRSIG and NSEC are always present (RFC 4035 §2.3), even when asked for;
			// NXNAME only ever means "no such name".
			return (t == qtype && t != dns.TypeRRSIG && t != dns.TypeNSEC) || t == TypeNXNAME
		})
	}
	return &dns.NSEC{
		Hdr:        dns.RR_Header{Name: owner, Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: ttl},
		NextDomain: successor(owner),
		TypeBitMap: bitmap,
	}
}

// successor returns the immediate canonical successor of name in presentation
// form, lower-cased: "\000.<name>" (RFC 4471 §3.1.1). When that would exceed
// 255 octets it appends a zero octet to the first label, or failing that
// increments its last octet (RFC 4471 §3.1.2), which still sorts after name.
// Lower-casing is done on the wire and touches only A-Z (RFC 4034 §6.2), so
// escapes and non-ASCII octets survive unchanged.
func successor(name string) string {
	var buf [258]byte
	buf[0], buf[1] = 1, 0 // the \000 label
	n, err := dns.PackDomainName(dns.Fqdn(name), buf[2:], 0, nil, false)
	if err != nil {
		return `\000.` + dns.Fqdn(name) // not a valid name: nothing better to say
	}
	w := buf[2 : 2+n]
	if _, err := lowerName(w, 0); err != nil {
		return `\000.` + dns.Fqdn(name)
	}
	var next []byte
	switch l := int(w[0]); {
	case n+2 <= 255: // \000.<name>
		next = buf[:2+n]
	case l < 63 && n+1 <= 255: // <first label>\000.<rest>
		next = make([]byte, 0, n+1)
		next = append(next, byte(l+1))
		next = append(next, w[1:1+l]...)
		next = append(next, 0)
		next = append(next, w[1+l:]...)
	default:
		// Increment the last octet of the first label that can be, dropping
		// 0xff octets; A-Z sort as a-z, so '@'+1 becomes '['.
		i := l
		for i >= 1 && w[i] == 0xff {
			i--
		}
		if i == 0 {
			return `\000.` + dns.Fqdn(name) // 63 octets of 0xff: no successor in this label
		}
		c := w[i] + 1
		if c == 'A' {
			c = 'Z' + 1
		}
		next = make([]byte, 0, n)
		next = append(next, byte(i))
		next = append(next, w[1:i]...)
		next = append(next, c)
		next = append(next, w[1+l:]...)
	}
	s, _, err := dns.UnpackDomainName(next, 0)
	if err != nil {
		return `\000.` + dns.Fqdn(name)
	}
	return s
}

// NegativeTTL is the TTL of negative answers and their NSEC records:
// min(SOA MINIMUM, SOA TTL) (RFC 2308 §5, RFC 9077 §3). It is 0 for a nil SOA.
func NegativeTTL(soa *dns.SOA) uint32 {
	if soa == nil {
		return 0
	}
	return min(soa.Minttl, soa.Hdr.Ttl)
}
