package mxsign

import (
	"errors"
	"slices"
	"strings"
	"time"

	clog "github.com/coredns/coredns/plugin/pkg/log"
	"github.com/miekg/dns"

	"github.com/mxsign/mxsign/plugin/anscache"
	"github.com/mxsign/mxsign/signer"
	"github.com/mxsign/mxsign/zonestore"
)

// ednsFlagCO is the "Compact Answers OK" EDNS header flag (RFC 9824 §5.1): the bit after DO.
const ednsFlagCO = 1 << 14

// responder builds complete answers from the store's unsigned lookup and the signer.
// It holds no state of its own beyond what it is given.
type responder struct {
	store   *zonestore.Store
	signer  *signer.Signer
	keys    *keyring
	nsec    *nsecChains // nil: compact denial (RFC 9824); else the pre-signed chains of `denial nsec`
	now     func() time.Time
	bufSize uint16
	log     clog.P
}

// answerMeta says what the answer cache needs to know about an answer.
type answerMeta struct {
	zone      string // the zone that answered; "" if none did
	cacheable bool   // a positive or NODATA answer, complete: it may be cached
	negative  bool   // a complete denial of a name that does not exist
	deadline  int64  // Unix second from which a signature in it may no longer be served
}

// respond answers r as the client gets it, truncated for UDP. ok is false when the name
// is outside every zone we serve (the caller passes the query on to the next plugin).
func (s *responder) respond(r *dns.Msg, udp bool) (resp *dns.Msg, ok bool) {
	var qname string
	if len(r.Question) == 1 {
		qname = r.Question[0].Name
	}
	opt := r.IsEdns0()
	resp, _, ok = s.answer(r, opt, qname)
	if ok && udp {
		resp.Truncate(s.udpSize(opt))
	}
	return resp, ok
}

// udpSize is the largest answer a UDP query with opt may get: its EDNS buffer size
// (RFC 6891 §6.2.5: at least 512) capped at ours, or 512 without EDNS.
func (s *responder) udpSize(opt *dns.OPT) int {
	if opt == nil {
		return dns.MinMsgSize
	}
	return min(max(int(opt.UDPSize()), dns.MinMsgSize), int(s.bufSize))
}

// answer builds the complete, untruncated answer to r, whose OPT record is opt, with
// its question name spelled qname and every owner name equal to it spelled the same.
// The handler passes the name lower-cased, so that one packed answer serves every
// spelling of the question (see anscache.Patch). ok is false when the name is outside
// every zone we serve.
func (s *responder) answer(r *dns.Msg, opt *dns.OPT, qname string) (resp *dns.Msg, meta answerMeta, ok bool) {
	return s.answerFrom(r, opt, qname, nil)
}

// answerFrom is answer with the store's answer to the question when the caller has
// looked it up already (lookup), or nil. With `denial nsec`, a negative answer whose
// zone changed between the lookup and the proof is built again from a new lookup.
func (s *responder) answerFrom(r *dns.Msg, opt *dns.OPT, qname string, ans *zonestore.Answer) (resp *dns.Msg, meta answerMeta, ok bool) {
	for attempt := 1; ; attempt++ {
		resp, meta, ok = s.answerOnce(r, opt, qname, ans, attempt == maxAnswerAttempts)
		if resp != nil || !ok {
			return resp, meta, ok
		}
		ans = nil
	}
}

// maxAnswerAttempts bounds answerFrom's new lookups after a zone changed under it.
const maxAnswerAttempts = 3

// answerOnce builds the answer; resp is nil (and ok true) when a negative answer must be
// built again from a new lookup, unless last.
func (s *responder) answerOnce(r *dns.Msg, opt *dns.OPT, qname string, pre *zonestore.Answer, last bool) (resp *dns.Msg, meta answerMeta, ok bool) {
	resp = new(dns.Msg)
	resp.SetReply(r)
	resp.Authoritative = true
	resp.RecursionAvailable = false
	resp.Compress = true
	meta.deadline = anscache.NoDeadline

	if r.Opcode != dns.OpcodeQuery {
		resp.Authoritative = false
		resp.Rcode = dns.RcodeNotImplemented
		return s.withOPT(resp, opt, false), meta, true
	}
	if len(r.Question) != 1 {
		resp.Authoritative = false
		resp.Rcode = dns.RcodeFormatError
		return s.withOPT(resp, opt, false), meta, true
	}
	q := r.Question[0]
	q.Name = qname
	resp.Question[0].Name = qname
	do := opt != nil && opt.Do()
	co := opt != nil && opt.Hdr.Ttl&ednsFlagCO != 0 && s.nsec == nil // CO means nothing with a chain

	switch q.Qtype {
	case signer.TypeNXNAME: // RFC 9824 §3.5
		resp.Authoritative = false
		resp.Rcode = dns.RcodeFormatError
		resp = s.withOPT(resp, opt, co)
		if o := resp.IsEdns0(); o != nil {
			o.Option = append(o.Option, &dns.EDNS0_EDE{InfoCode: dns.ExtendedErrorCodeInvalidQueryType, ExtraText: "NXNAME is a meta type"})
		}
		return resp, meta, true
	case dns.TypeAXFR, dns.TypeIXFR:
		if s.store.Lookup(q.Name, dns.TypeSOA).Rcode == zonestore.NotOurs {
			return nil, meta, false
		}
		resp.Authoritative = false
		resp.Rcode = dns.RcodeRefused
		return s.withOPT(resp, opt, co), meta, true
	}

	var ans zonestore.Answer
	if pre != nil {
		ans = *pre
	} else {
		ans = s.lookup(q.Name, q.Qtype)
	}
	if ans.Rcode == zonestore.NotOurs {
		return nil, meta, false
	}
	meta.zone = ans.Zone
	var zk *zoneKeys
	if do {
		var err error
		if zk, err = s.keys.get(ans.Zone, ans.KeyGen); err != nil {
			s.log.Errorf("zone %s: %v", ans.Zone, err)
			resp.Authoritative = false
			resp.Rcode = dns.RcodeServerFailure
			return s.withOPT(resp, opt, co), meta, true
		}
	}
	now := s.now()
	var err error
	switch ans.Rcode {
	case zonestore.Success:
		for _, set := range ans.RRsets {
			set = withOwner(set, q.Name)
			resp.Answer = append(resp.Answer, set...)
			if do {
				if resp.Answer, err = s.sign(resp.Answer, set, zk, ans.Zone, now, &meta); err != nil {
					break
				}
			}
		}
		meta.cacheable = true
	case zonestore.NoData, zonestore.NXDomain:
		if s.nsec != nil {
			err = s.nsecDenial(resp, q, &ans, zk, do, now, &meta)
			if errors.Is(err, errChainAhead) && !last {
				return nil, meta, true
			}
			break
		}
		nx := ans.Rcode == zonestore.NXDomain
		ttl := signer.NegativeTTL(ans.SOA)
		soa := *ans.SOA
		soa.Hdr.Ttl = ttl
		resp.Ns = append(resp.Ns, &soa)
		if do {
			if resp.Ns, err = s.sign(resp.Ns, []dns.RR{&soa}, zk, ans.Zone, now, &meta); err != nil {
				break
			}
			nsec := signer.CompactNSEC(q.Name, ttl, ans.Types, q.Qtype, nx)
			if q.Qtype == dns.TypeNSEC {
				// The NSEC RRset itself was asked for: it is the answer.
				resp.Ns = resp.Ns[:0]
				nsec = signer.CompactNSEC(q.Name, ttl, ans.Types, 0, nx) // ans.Types is the store's: never append to it
				resp.Answer = append(resp.Answer, nsec)
				resp.Answer, err = s.signNSEC(resp.Answer, nsec, nx, zk, ans.Zone, now, &meta)
			} else {
				resp.Ns = append(resp.Ns, nsec)
				resp.Ns, err = s.signNSEC(resp.Ns, nsec, nx, zk, ans.Zone, now, &meta)
			}
		}
		if nx && (!do || co) {
			resp.Rcode = dns.RcodeNameError
		}
		// A name that does not exist is usually a one-off (a random-subdomain flood):
		// caching its answer would only evict the answers that are asked for again.
		meta.cacheable, meta.negative = !nx, nx
	}
	if err != nil {
		s.log.Errorf("signing in zone %s: %v", ans.Zone, err)
		resp.Answer, resp.Ns = nil, nil
		resp.Authoritative = false
		resp.Rcode = dns.RcodeServerFailure
		meta.cacheable, meta.negative = false, false
	}
	return s.withOPT(resp, opt, co), meta, true
}

// lookup asks the store. DS at the parent apex lives at the parent's parent:
// authoritative for the child only, it is answered with NODATA from the child
// (RFC 4035 §3.1.4.1), as BIND and Knot do: TypeNULL is never present, so this is the
// apex's NODATA.
func (s *responder) lookup(qname string, qtype uint16) zonestore.Answer {
	ans := s.store.Lookup(qname, qtype)
	if ans.Rcode == zonestore.NotOurs && qtype == dns.TypeDS {
		ans = s.store.Lookup(qname, dns.TypeNULL)
		if ans.Rcode == zonestore.Success {
			ans.Rcode, ans.RRsets = zonestore.NoData, nil
		}
	}
	return ans
}

// sign appends the RRSIGs over set to dst and lowers meta's deadline to theirs.
func (s *responder) sign(dst, set []dns.RR, zk *zoneKeys, zone string, now time.Time, meta *answerMeta) ([]dns.RR, error) {
	keys := zk.zsk
	switch set[0].Header().Rrtype {
	case dns.TypeDNSKEY, dns.TypeCDS, dns.TypeCDNSKEY:
		keys = zk.ksk
	}
	for _, k := range keys {
		sig, err := s.signer.Sign(set, k, zone, now)
		if err != nil {
			return dst, err
		}
		meta.deadline = min(meta.deadline, s.signer.ServeUntil(sig, now))
		dst = append(dst, sig)
	}
	return dst, nil
}

// signNSEC signs a compact-denial NSEC. One owned by a name that does not exist is
// signed transiently: such names are usually one-offs (a random-subdomain flood), and
// caching their signatures would only evict those of real answers.
func (s *responder) signNSEC(dst []dns.RR, nsec *dns.NSEC, nx bool, zk *zoneKeys, zone string, now time.Time, meta *answerMeta) ([]dns.RR, error) {
	if !nx {
		return s.sign(dst, []dns.RR{nsec}, zk, zone, now, meta)
	}
	for _, k := range zk.zsk {
		sig, err := s.signer.SignTransient([]dns.RR{nsec}, k, zone, now)
		if err != nil {
			return dst, err
		}
		meta.deadline = min(meta.deadline, s.signer.ServeUntil(sig, now))
		dst = append(dst, sig)
	}
	return dst, nil
}

// withOPT adds our OPT record when the query had one: our buffer size, DO and CO
// echoed (RFC 6891 §6.1.1, RFC 3225 §3, RFC 9824 §5.1).
func (s *responder) withOPT(resp *dns.Msg, opt *dns.OPT, co bool) *dns.Msg {
	if opt == nil {
		return resp
	}
	o := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
	o.SetUDPSize(s.bufSize)
	if opt.Do() {
		o.SetDo()
	}
	if co {
		o.Hdr.Ttl |= ednsFlagCO
	}
	resp.Extra = append(resp.Extra, o)
	return resp
}

// withOwner returns set with each owner equal (ignoring case) to qname spelled as the
// query spelled it: owner names are case-preserving (0x20). The store's records are
// shared, so changed records are copied; set itself is returned when none changes,
// as for the lower-case names the handler asks with.
func withOwner(set []dns.RR, qname string) []dns.RR {
	var out []dns.RR
	for i, rr := range set {
		h := rr.Header()
		if h.Name == qname || !strings.EqualFold(h.Name, qname) {
			continue
		}
		if out == nil {
			out = slices.Clone(set)
		}
		c := dns.Copy(rr)
		c.Header().Name = qname
		out[i] = c
	}
	if out == nil {
		return set
	}
	return out
}
