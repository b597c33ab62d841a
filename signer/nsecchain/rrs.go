package nsecchain

import (
	"math"
	"strings"

	"github.com/miekg/dns"
)

// NoDeadline is the deadline of records without signatures.
const NoDeadline = math.MaxInt64

// AppendDenial appends the authority section of a negative answer to dst: the SOA with
// the NSEC TTL (RFC 2308 §3, RFC 9077) and, when dnssec, its RRSIGs and each NSEC of p
// followed by its RRSIGs (RFC 4035 §3.1.3). An NSEC owned by qname (ignoring case) is
// spelled as qname is. Signatures come from the chain; missing ones are made now.
// until is the Unix second from which a signature appended may no longer be handed out
// (signer.ServeUntil), NoDeadline without signatures: a cache of whole answers must
// not serve the answer from then on.
func (ch *Chain) AppendDenial(dst []dns.RR, p Proof, qname string, dnssec bool, sg Signing) (_ []dns.RR, until int64, err error) {
	until = NoDeadline
	dst = append(dst, ch.SOA())
	if !dnssec {
		return dst, until, nil
	}
	set, _, err := ch.signatures(len(ch.keys), &sg, sg.Now.Unix())
	if err != nil {
		return dst, until, err
	}
	for i := range set {
		dst = append(dst, ch.rrsig(&set[i], ch.apex, dns.TypeSOA))
		until = min(until, set[i].until)
	}
	for j := 0; j < p.n; j++ {
		var u int64
		if dst, u, err = ch.AppendNSEC(dst, p.nsec[j], qname, true, sg); err != nil {
			return dst, until, err
		}
		until = min(until, u)
	}
	return dst, until, nil
}

// AppendNSEC appends the NSEC of the i-th name to dst and, when dnssec, its RRSIGs: as
// the answer to a query of type NSEC, or as part of a proof. The owner is spelled as
// qname when they are equal ignoring case. until is as for AppendDenial.
func (ch *Chain) AppendNSEC(dst []dns.RR, i int, qname string, dnssec bool, sg Signing) (_ []dns.RR, until int64, err error) {
	until = NoDeadline
	owner := ch.Name(i)
	if strings.EqualFold(owner, qname) {
		owner = qname
	}
	dst = append(dst, ch.NSEC(i, owner))
	if !dnssec {
		return dst, until, nil
	}
	set, _, err := ch.signatures(i, &sg, sg.Now.Unix())
	if err != nil {
		return dst, until, err
	}
	for k := range set {
		dst = append(dst, ch.rrsig(&set[k], owner, dns.TypeNSEC))
		until = min(until, set[k].until)
	}
	return dst, until, nil
}
