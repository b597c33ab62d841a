package nsecchain

import (
	"strings"

	"github.com/miekg/dns"
)

// AppendDenial appends the authority section of a negative answer to dst: the SOA with
// the NSEC TTL (RFC 2308 §3, RFC 9077) and, when dnssec, its RRSIGs and each NSEC of p
// followed by its RRSIGs (RFC 4035 §3.1.3). An NSEC owned by qname (ignoring case) is
// spelled as qname is. Signatures come from the chain; missing ones are made now.
func (ch *Chain) AppendDenial(dst []dns.RR, p Proof, qname string, dnssec bool, sg Signing) ([]dns.RR, error) {
	dst = append(dst, ch.SOA())
	if !dnssec {
		return dst, nil
	}
	now := sg.Now.Unix()
	set, _, err := ch.signatures(len(ch.keys), &sg, now)
	if err != nil {
		return dst, err
	}
	for i := range set {
		dst = append(dst, ch.rrsig(&set[i], ch.apex, dns.TypeSOA))
	}
	for j := 0; j < p.n; j++ {
		if dst, err = ch.AppendNSEC(dst, p.nsec[j], qname, true, sg); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// AppendNSEC appends the NSEC of the i-th name to dst and, when dnssec, its RRSIGs: as
// the answer to a query of type NSEC, or as part of a proof. The owner is spelled as
// qname when they are equal ignoring case.
func (ch *Chain) AppendNSEC(dst []dns.RR, i int, qname string, dnssec bool, sg Signing) ([]dns.RR, error) {
	owner := ch.Name(i)
	if strings.EqualFold(owner, qname) {
		owner = qname
	}
	dst = append(dst, ch.NSEC(i, owner))
	if !dnssec {
		return dst, nil
	}
	set, _, err := ch.signatures(i, &sg, sg.Now.Unix())
	if err != nil {
		return dst, err
	}
	for k := range set {
		dst = append(dst, ch.rrsig(&set[k], owner, dns.TypeNSEC))
	}
	return dst, nil
}
