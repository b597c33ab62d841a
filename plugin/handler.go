package mxsign

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/coredns/coredns/plugin"
	"github.com/miekg/dns"

	"github.com/mxsign/mxsign/plugin/anscache"
	"github.com/mxsign/mxsign/signer"
	"github.com/mxsign/mxsign/zonestore"
)

// Mxsign is the plugin handler: authoritative, online-signing answers for the parent zone
// and every shard the store holds.
type Mxsign struct {
	Next    plugin.Handler
	r       *responder
	cache   *anscache.Cache      // nil: no answer cache
	neg     *anscache.Cache      // denials of names asked for twice; nil with cache
	door    *anscache.Doorkeeper // admits a denial into neg on its name's second sighting
	writers writerKinds
	nx      nxZones // the compact-denial fast path's per-zone parts
}

// Name implements plugin.Handler.
func (m *Mxsign) Name() string { return "mxsign" }

// ServeDNS implements plugin.Handler.
//
// A query with one question is answered in wire form: the answer to the lower-case
// question is packed once (and cached when it may be), then patched to this query's
// ID, flags and spelling (anscache.Patch) and written as bytes. Anything else goes
// through the message path.
func (m *Mxsign) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	// Only plain UDP has a size limit; TCP, DoT and DoH carry any answer.
	udp := w.RemoteAddr() != nil && w.RemoteAddr().Network() == "udp"
	opt := r.IsEdns0()
	var q anscache.Query
	if r.Opcode != dns.OpcodeQuery || len(r.Question) != 1 || !q.Set(r.Question[0].Name, r.Question[0].Qtype, r.Question[0].Qclass, queryFlags(opt)) {
		return m.serveMsg(ctx, w, r, opt, udp)
	}
	limit := dns.MaxMsgSize
	if udp {
		limit = m.r.udpSize(opt)
	}
	t := m.r.now()
	now := t.Unix()
	if m.cache != nil {
		if wire, ok := m.cache.Get(q.Key(), now, limit); ok {
			return m.writeCached(ctx, w, r, opt, udp, &q, wire)
		}
		if wire, ok := m.neg.Get(q.Key(), now, limit); ok {
			return m.writeCached(ctx, w, r, opt, udp, &q, wire)
		}
	}

	var epoch uint64
	if m.cache != nil {
		epoch = m.cache.Epoch() // before the store is read: see anscache.Gens
	}
	qname := strings.ToLower(r.Question[0].Name)
	bp := getWireBuf()
	defer putWireBuf(bp)
	var ans zonestore.Answer
	var looked *zonestore.Answer
	if qtype := r.Question[0].Qtype; !specialType(qtype) {
		// A name that does not exist (a random-subdomain flood) is answered in wire
		// form: from its zone's pre-signed chain with `denial nsec`, else as a compact
		// denial (denial_fast.go).
		ans = m.r.lookup(qname, qtype)
		looked = &ans
		if ans.Rcode == zonestore.NXDomain {
			nq := newNXQuery(r, opt, &q, limit)
			if wire, ok := m.nxWire((*bp)[:0], &nq, qname, &ans, t, epoch); ok {
				*bp = wire[:cap(wire)]
				if !isResponse(wire, r.Id) {
					return m.serveMsgAfterBadWire(ctx, w, r, opt, udp, wire)
				}
				return m.write(w, wire, opt)
			}
		}
	}
	resp, meta, ok := m.r.answerFrom(r, opt, qname, looked)
	if !ok {
		return m.serveMsg(ctx, w, r, opt, udp)
	}
	wire, err := resp.PackBuffer(*bp)
	if err != nil {
		return dns.RcodeServerFailure, fmt.Errorf("mxsign: packing the answer: %w", err)
	}
	switch {
	case m.cache == nil:
	case meta.cacheable:
		m.cache.Put(q.Key(), wire, meta.deadline, now, meta.zone, epoch)
	case meta.negative && m.door.Admit(q.Key()):
		m.neg.Put(q.Key(), wire, meta.deadline, now, meta.zone, epoch)
	}
	if len(wire) > limit {
		resp.Truncate(limit)
		resp.Compress = true
		if wire, err = resp.PackBuffer(*bp); err != nil {
			return dns.RcodeServerFailure, fmt.Errorf("mxsign: packing the truncated answer: %w", err)
		}
	}
	if !anscache.Patch(wire, r.Id, r.RecursionDesired, r.CheckingDisabled, &q) {
		return dns.RcodeServerFailure, fmt.Errorf("mxsign: the packed answer's question is not %q", r.Question[0].Name)
	}
	*bp = wire[:cap(wire)] // keep a grown buffer
	if !isResponse(wire, r.Id) {
		return m.serveMsgAfterBadWire(ctx, w, r, opt, udp, wire)
	}
	return m.write(w, wire, opt)
}

// nxWire answers nq, a question about a name that does not exist (ans is the store's
// answer, qname the name in lower-case presentation form), in wire form: from the
// zone's pre-signed chain with `denial nsec`, else as a compact denial, which joins the
// cache of denials on its name's second sighting (as the record path's denials do).
// ok is false when the answer is the record path's to make. epoch is the answer cache's,
// read before the store was.
func (m *Mxsign) nxWire(dst []byte, nq *nxQuery, qname string, ans *zonestore.Answer, t time.Time, epoch uint64) ([]byte, bool) {
	if m.r.nsec != nil {
		return m.r.nsecNX(dst, nq, qname, ans)
	}
	wire, deadline, ok := m.compactNX(dst, nq, ans, t)
	if ok && m.cache != nil && isResponse(wire, nq.id) && m.door.Admit(nq.q.Key()) {
		m.neg.Put(nq.q.Key(), wire, deadline, t.Unix(), ans.Zone, epoch)
	}
	return wire, ok
}

// compactNX is the compact denial (RFC 9824) of a name that does not exist in wire form
// (denial_fast.go), ans the store's answer: ok is false when it is the record path's to
// make. deadline is the first second at which one of its signatures may no longer be
// served.
func (m *Mxsign) compactNX(dst []byte, nq *nxQuery, ans *zonestore.Answer, now time.Time) (wire []byte, deadline int64, ok bool) {
	if nq.qtype == dns.TypeNSEC || len(nq.q.Name()) > signer.MaxNXNAMEOwner || !plainName(nq.q.Name()) {
		return dst, 0, false // the NSEC as the answer; no "\000." successor; names compressed by strings
	}
	if nq.do {
		growStack(int(nq.id)) // see stack.go
	}
	return m.nx.appendNXAnswer(dst, m.r, nq, ans, now)
}

// isResponse checks the header of packed bytes about to be written: a response (QR)
// with the query's ID. It always holds unless a buffer was overwritten under us.
func isResponse(wire []byte, id uint16) bool {
	return len(wire) >= 12 && wire[2]&0x80 != 0 && uint16(wire[0])<<8|uint16(wire[1]) == id
}

// serveMsgAfterBadWire answers through the message path when packed bytes fail
// isResponse, and says so: an answer was once seen to echo the query's bytes, and
// this keeps such a fault from reaching clients while it is tracked down.
func (m *Mxsign) serveMsgAfterBadWire(ctx context.Context, w dns.ResponseWriter, r *dns.Msg, opt *dns.OPT, udp bool, wire []byte) (int, error) {
	m.r.log.Errorf("internal error: the packed answer to %s %s is not a response to it (%d bytes, header % x); answered through the message path",
		r.Question[0].Name, dns.TypeToString[r.Question[0].Qtype], len(wire), wire[:min(len(wire), 12)])
	return m.serveMsg(ctx, w, r, opt, udp)
}

// writeCached patches a copy of a cached answer for r and writes it.
func (m *Mxsign) writeCached(ctx context.Context, w dns.ResponseWriter, r *dns.Msg, opt *dns.OPT, udp bool, q *anscache.Query, cached []byte) (int, error) {
	bp := getWireBuf()
	defer putWireBuf(bp)
	wire := append((*bp)[:0], cached...)
	*bp = wire[:cap(wire)]
	if !anscache.Patch(wire, r.Id, r.RecursionDesired, r.CheckingDisabled, q) {
		return dns.RcodeServerFailure, fmt.Errorf("mxsign: a cached answer's question is not %q", r.Question[0].Name)
	}
	if !isResponse(wire, r.Id) {
		return m.serveMsgAfterBadWire(ctx, w, r, opt, udp, wire)
	}
	return m.write(w, wire, opt)
}

// write counts and writes a packed answer.
func (m *Mxsign) write(w dns.ResponseWriter, wire []byte, opt *dns.OPT) (int, error) {
	rcode, answers := anscache.Rcode(wire)
	countAnswer(rcode, answers, opt != nil && opt.Do())
	if err := m.writers.write(w, wire, rcode); err != nil {
		// The answer was made; only delivering it failed. Returning an error rcode
		// would make CoreDNS try to write a second reply.
		return dns.RcodeSuccess, fmt.Errorf("mxsign: writing the answer: %w", err)
	}
	return dns.RcodeSuccess, nil
}

// serveMsg answers through the message path: queries that are not plain one-question
// queries, names that are not ours.
func (m *Mxsign) serveMsg(ctx context.Context, w dns.ResponseWriter, r *dns.Msg, opt *dns.OPT, udp bool) (int, error) {
	resp, ok := m.r.respond(r, udp)
	if !ok {
		if m.Next != nil {
			return plugin.NextOrFailure(m.Name(), m.Next, ctx, w, r)
		}
		// Not ours and nobody after us: refuse rather than SERVFAIL.
		resp = new(dns.Msg)
		resp.SetRcode(r, dns.RcodeRefused)
		if opt != nil {
			resp.SetEdns0(m.r.bufSize, opt.Do())
		}
	}
	countAnswer(resp.Rcode, len(resp.Answer), opt != nil && opt.Do())
	if err := w.WriteMsg(resp); err != nil {
		return dns.RcodeSuccess, fmt.Errorf("mxsign: writing the answer: %w", err)
	}
	return dns.RcodeSuccess, nil
}

// specialType reports whether answers to qtype are not looked up in the store.
func specialType(qtype uint16) bool {
	return qtype == signer.TypeNXNAME || qtype == dns.TypeAXFR || qtype == dns.TypeIXFR
}

// queryFlags are the parts of the query's OPT record that change the answer.
func queryFlags(opt *dns.OPT) anscache.Flags {
	if opt == nil {
		return 0
	}
	f := anscache.EDNS
	if opt.Do() {
		f |= anscache.DO
	}
	if opt.Hdr.Ttl&ednsFlagCO != 0 {
		f |= anscache.CO
	}
	return f
}

// wireBufs recycles the buffers answers are packed or copied into: the writer is done
// with the bytes when Write returns.
var wireBufs = sync.Pool{New: func() any {
	b := make([]byte, 4096)
	return &b
}}

func getWireBuf() *[]byte { return wireBufs.Get().(*[]byte) }

func putWireBuf(b *[]byte) {
	if cap(*b) <= dns.MaxMsgSize {
		wireBufs.Put(b)
	}
}
