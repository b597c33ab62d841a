package mxsign

import (
	"time"

	"github.com/miekg/dns"

	"github.com/mxsign/mxsign/signer"
	"github.com/mxsign/mxsign/signer/nsecchain"
	"github.com/mxsign/mxsign/zonestore"
)

// nsecDenial fills resp with the negative answer of `denial nsec` to q, which the store
// answered with ans (NoData or NXDomain), from the zone's pre-signed chain
// (RFC 4035 §3.1.3): the SOA, and with DO its RRSIGs and the NSEC of the name (NODATA),
// the NSEC covering an empty non-terminal, or the NSECs covering the name and the
// wildcard at its closest encloser (NXDOMAIN, rcode NXDOMAIN with or without DO). A
// query of type NSEC for a name that has one gets that NSEC RRset as its answer.
// errChainAhead: the zone changed since ans was looked up.
func (s *responder) nsecDenial(resp *dns.Msg, q dns.Question, ans *zonestore.Answer, zk *zoneKeys, do bool, now time.Time, meta *answerMeta) error {
	nx := ans.Rcode == zonestore.NXDomain
	if nx {
		resp.Rcode = dns.RcodeNameError
	}
	// A name that does not exist is usually a one-off (a random-subdomain flood): its
	// answer goes to the cache of denials, and only when asked for again (the handler).
	meta.cacheable, meta.negative = !nx, nx
	if !do && (nx || q.Qtype != dns.TypeNSEC) {
		soa := *ans.SOA
		soa.Hdr.Ttl = signer.NegativeTTL(ans.SOA)
		resp.Ns = append(resp.Ns, &soa)
		return nil
	}
	ch, err := s.nsec.chain(ans.Zone, ans.SOA.Serial)
	if err != nil {
		return err
	}
	var sg nsecchain.Signing
	if do {
		sg = nsecchain.Signing{Signer: s.signer, Keys: zk.zsk, Now: now, Signed: &s.nsec.signed}
	}
	var until int64
	if q.Qtype == dns.TypeNSEC && !nx {
		if i, ok := ch.Find(q.Name); ok {
			resp.Answer, until, err = ch.AppendNSEC(resp.Answer, i, q.Name, do, sg)
			meta.deadline = min(meta.deadline, until)
			return err
		}
	}
	var p nsecchain.Proof
	if nx {
		p, err = ch.NXDomain(q.Name)
	} else {
		p, err = ch.NoData(q.Name)
	}
	if err != nil {
		return err // the chain and the store disagree at one serial: never a false proof
	}
	resp.Ns, until, err = ch.AppendDenial(resp.Ns, p, q.Name, do, sg)
	meta.deadline = min(meta.deadline, until)
	return err
}

// nsecNX packs into dst the NXDOMAIN answer of `denial nsec` to nq, whose question
// (spelled as asked; qname lower-cased) the store answered with ans, an NXDomain: the
// same answer nsecDenial gives, but written straight from the chain
// (nsecchain.AppendNegative), with no dns.Msg and no signing once the chain is signed.
// ok is false when the message path must answer instead: the answer does not fit in
// nq.limit (it truncates), or the chain could not give it (the zone changed since the
// lookup, a signature could not be made); the message path looks up again and reports.
func (s *responder) nsecNX(dst []byte, nq *nxQuery, qname string, ans *zonestore.Answer) ([]byte, bool) {
	ch, err := s.nsec.chain(ans.Zone, ans.SOA.Serial)
	if err != nil {
		return dst, false
	}
	var p nsecchain.Proof
	var sg nsecchain.Signing
	if nq.do {
		zk, err := s.keys.get(ans.Zone, ans.KeyGen)
		if err != nil {
			return dst, false
		}
		if p, err = ch.NXDomain(qname); err != nil {
			return dst, false
		}
		sg = nsecchain.Signing{Signer: s.signer, Keys: zk.zsk, Now: s.now(), Signed: &s.nsec.signed}
	}
	wq := nsecchain.WireQuery{
		ID: nq.id, RD: nq.rd, CD: nq.cd,
		Name: nq.q.Name(), Qtype: nq.qtype, Qclass: nq.qclass,
		OPT: nq.edns, DO: nq.do, BufSize: s.bufSize,
	}
	wire, err := ch.AppendNegative(dst, &wq, dns.RcodeNameError, p, sg)
	if err != nil || len(wire) > nq.limit {
		return dst, false
	}
	return wire, true
}
