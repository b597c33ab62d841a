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
	cache   *anscache.Cache // nil: no answer cache
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
			return m.writeCached(w, r, opt, &q, wire)
		}
	}
	var epoch uint64
	if m.cache != nil {
		epoch = m.cache.Epoch() // before the store is read: see anscache.Gens
	}
	var ans zonestore.Answer
	handled, lookedUp, rcode, err := m.serveNX(w, r, opt, &q, limit, t, &ans)
	if handled {
		return rcode, err
	}
	var looked *zonestore.Answer
	if lookedUp {
		looked = &ans
	}
	resp, meta, ok := m.r.answerFrom(r, opt, strings.ToLower(r.Question[0].Name), looked)
	if !ok {
		return m.serveMsg(ctx, w, r, opt, udp)
	}
	bp := getWireBuf()
	defer putWireBuf(bp)
	wire, err := resp.PackBuffer(*bp)
	if err != nil {
		return dns.RcodeServerFailure, fmt.Errorf("mxsign: packing the answer: %w", err)
	}
	if meta.cacheable && m.cache != nil {
		m.cache.Put(q.Key(), wire, meta.deadline, now, meta.zone, epoch)
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
	return m.write(w, wire, opt)
}

// serveNX answers a name that does not exist through the compact-denial fast path
// (denial_fast.go): compact denial (RFC 9824) is the denial of every zone served here;
// a zone that denied otherwise must not take this path. handled is false when the name exists or the fast path does not
// apply: the caller answers then, from *ans, the store's answer to the question, if
// serveNX looked it up (lookedUp).
func (m *Mxsign) serveNX(w dns.ResponseWriter, r *dns.Msg, opt *dns.OPT, q *anscache.Query, limit int, now time.Time, ans *zonestore.Answer) (handled, lookedUp bool, rcode int, err error) {
	qn := r.Question[0]
	switch qn.Qtype {
	case signer.TypeNXNAME, dns.TypeAXFR, dns.TypeIXFR, dns.TypeNSEC:
		return false, false, 0, nil // not a plain negative answer
	}
	*ans = m.r.store.Lookup(qn.Name, qn.Qtype)
	if ans.Rcode != zonestore.NXDomain || len(q.Name()) > signer.MaxNXNAMEOwner || hasEscape(qn.Name) {
		return false, true, 0, nil
	}
	nq := nxQuery{q: q, edns: opt != nil, limit: limit}
	if opt != nil {
		nq.do, nq.co = opt.Do(), opt.Hdr.Ttl&ednsFlagCO != 0
	}
	if nq.do {
		growStack(int(r.Id)) // see stack.go
	}
	bp := getWireBuf()
	defer putWireBuf(bp)
	wire, ok := m.nx.appendNXAnswer((*bp)[:0], m.r, r, &nq, ans, now)
	if !ok {
		return false, true, 0, nil
	}
	*bp = wire[:cap(wire)]
	rcode, err = m.write(w, wire, opt)
	return true, true, rcode, err
}

// writeCached patches a copy of a cached answer for r and writes it.
func (m *Mxsign) writeCached(w dns.ResponseWriter, r *dns.Msg, opt *dns.OPT, q *anscache.Query, cached []byte) (int, error) {
	bp := getWireBuf()
	defer putWireBuf(bp)
	wire := append((*bp)[:0], cached...)
	*bp = wire[:cap(wire)]
	if !anscache.Patch(wire, r.Id, r.RecursionDesired, r.CheckingDisabled, q) {
		return dns.RcodeServerFailure, fmt.Errorf("mxsign: a cached answer's question is not %q", r.Question[0].Name)
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
