package mxsign

import (
	"encoding/binary"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/mxsign/mxsign/plugin/anscache"
	"github.com/mxsign/mxsign/signer"
	"github.com/mxsign/mxsign/zonestore"
)

// Compact denial in wire form: the fast path of a random-subdomain flood.
//
// A name that does not exist gets a compact denial (RFC 9824 §3.1): the zone's SOA
// and, with DO, the SOA's RRSIGs, an NSEC owned by the name and its RRSIGs. Such an
// answer is cached only once its name is asked for again (the cache of denials, see
// anscache.go), and the names of a flood are one-offs, so each one used to be built as
// records, signed, and packed: some ninety allocations around the one signature it
// needs. Here it is written straight into bytes:
//
//   - the SOA, its TTL and its RRSIG RDATA, one per ZSK, are kept per zone as bytes
//     (nxZone), built through the record path (so the SOA's signatures come from the
//     signature cache) and rebuilt when the zone's SOA or keys change or a signature
//     reaches the end of its serving time (the signer's refresh rule);
//   - the NSEC RDATA and its RRSIG come from signer.AppendNXNAMEData and
//     signer.SignNXNAME: the one signature per answer;
//   - names are compressed exactly as miekg/dns compresses the message the record
//     path packs, so that the two paths give the same bytes (TestNXFastMatchesMsgPath).
//
// Anything else (a name with escapes, one too long for the "\000." successor, a query
// for type NSEC, an answer over the client's buffer, any error) is left to the
// record path, which does the same job as before. With `denial nsec` this path is not
// taken: the zone's pre-signed chain answers (nsecanswer.go).

// nxZone is one zone's part of its compact-denial answers, ready to copy. It is not
// modified once built.
type nxZone struct {
	soa      *dns.SOA // the store's SOA it was built from: a change to the zone replaces it
	keyGen   uint64   // and the key generation
	zk       *zoneKeys
	notAfter int64 // served while now < notAfter: the SOA signatures' ServeUntil
	from     int64 // and now >= from: the latest inception

	apex  []byte // the SOA owner, wire
	class uint16
	ttl   uint32 // min(SOA MINIMUM, SOA TTL): of every record in the answer
	mname []byte // wire, uncompressed
	rname []byte
	tail  [20]byte // SERIAL REFRESH RETRY EXPIRE MINIMUM
	sigs  [][]byte // RRSIG RDATA over the SOA, one per ZSK in zk.zsk order
}

// nxZones holds the nxZone of each zone that has answered a name that does not exist,
// at most one per zone served. Its zero value is ready to use. Reads take no lock:
// an entry is replaced, never modified.
type nxZones struct {
	zones sync.Map // zone name -> *nxZone
}

// get returns the zone's nxZone for ans, fit to serve at now, building it when there
// is none or it no longer is. ok is false when the zone cannot use the fast path.
func (c *nxZones) get(r *responder, ans *zonestore.Answer, now time.Time) (*nxZone, bool) {
	t := now.Unix()
	if v, ok := c.zones.Load(ans.Zone); ok {
		if z := v.(*nxZone); z.soa == ans.SOA && z.keyGen == ans.KeyGen && z.from <= t && t < z.notAfter {
			return z, true
		}
	}
	z, ok := buildNXZone(r, ans, now)
	if !ok {
		return nil, false
	}
	c.zones.Store(ans.Zone, z)
	return z, true
}

// buildNXZone makes the nxZone of ans's zone through the record path: the SOA with the
// negative TTL, signed by each ZSK (from the signature cache when it can).
func buildNXZone(r *responder, ans *zonestore.Answer, now time.Time) (*nxZone, bool) {
	if ans.SOA == nil || hasEscape(ans.SOA.Hdr.Name) || hasEscape(ans.SOA.Ns) || hasEscape(ans.SOA.Mbox) {
		return nil, false // compressed by name strings, not by wire labels: leave them to miekg
	}
	zk, err := r.keys.get(ans.Zone, ans.KeyGen)
	if err != nil {
		return nil, false
	}
	soa := *ans.SOA
	soa.Hdr.Ttl = signer.NegativeTTL(ans.SOA)
	meta := answerMeta{deadline: anscache.NoDeadline}
	rrs, err := r.sign(nil, []dns.RR{&soa}, zk, ans.Zone, now, &meta)
	if err != nil || len(rrs) != len(zk.zsk) {
		return nil, false
	}
	z := &nxZone{soa: ans.SOA, keyGen: ans.KeyGen, zk: zk, notAfter: meta.deadline,
		class: soa.Hdr.Class, ttl: soa.Hdr.Ttl}
	var ok bool
	if z.apex, ok = packName(soa.Hdr.Name); !ok {
		return nil, false
	}
	if z.mname, ok = packName(soa.Ns); !ok {
		return nil, false
	}
	if z.rname, ok = packName(soa.Mbox); !ok {
		return nil, false
	}
	for i, v := range []uint32{soa.Serial, soa.Refresh, soa.Retry, soa.Expire, soa.Minttl} {
		binary.BigEndian.PutUint32(z.tail[4*i:], v)
	}
	buf := make([]byte, 512)
	for _, rr := range rrs {
		sig := rr.(*dns.RRSIG)
		t := now.Unix()                                               // serial arithmetic (RFC 4034 §3.1.5): the inception nearest to now
		z.from = max(z.from, t+int64(int32(sig.Inception-uint32(t)))) // #nosec G115 -- intended wrap-around
		n, err := dns.PackRR(sig, buf, 0, nil, false)
		if err != nil {
			return nil, false
		}
		_, end, err := dns.UnpackDomainName(buf, 0)
		if err != nil {
			return nil, false
		}
		z.sigs = append(z.sigs, append([]byte(nil), buf[end+10:n]...))
	}
	return z, true
}

// packName packs a fully qualified presentation name.
func packName(name string) ([]byte, bool) {
	var buf [256]byte
	n, err := dns.PackDomainName(name, buf[:], 0, nil, false)
	if err != nil {
		return nil, false
	}
	return append([]byte(nil), buf[:n]...), true
}

func hasEscape(name string) bool { return strings.IndexByte(name, '\\') >= 0 }

// plainName reports whether a wire name is spelled the same in presentation form, with
// no escapes (RFC 1035 §5.1, and miekg/dns's choice of characters to escape): the wire
// form of a name hasEscape finds none in.
func plainName(name []byte) bool {
	for off := 0; off < len(name); {
		l := int(name[off])
		for _, c := range name[off+1 : off+1+l] {
			switch {
			case c <= ' ' || c > '~', c == '.', c == '\\', c == '"', c == '\'', c == '@', c == ';', c == '(', c == ')':
				return false
			}
		}
		off += 1 + l
	}
	return true
}

// nxQuery is what the wire paths for names that do not exist need of a query: read
// from its message (newNXQuery) or straight from its bytes (the raw path, udp.go).
type nxQuery struct {
	q             *anscache.Query // the question: its name as asked and lower-cased
	id            uint16
	rd, cd        bool
	qtype, qclass uint16
	do, co, edns  bool
	limit         int // the largest answer the client takes
}

// newNXQuery reads an nxQuery from a query's message.
func newNXQuery(r *dns.Msg, opt *dns.OPT, q *anscache.Query, limit int) nxQuery {
	nq := nxQuery{
		q: q, id: r.Id, rd: r.RecursionDesired, cd: r.CheckingDisabled,
		qtype: r.Question[0].Qtype, qclass: r.Question[0].Qclass,
		edns: opt != nil, limit: limit,
	}
	if opt != nil {
		nq.do, nq.co = opt.Do(), opt.Hdr.Ttl&ednsFlagCO != 0
	}
	return nq
}

// appendNXAnswer appends to dst the complete answer to nq, whose name does not exist
// (ans is the store's NXDOMAIN answer for it), as the record path would pack it; ok
// is false when the fast path does not apply. It signs once per ZSK. deadline is the
// first second at which one of the answer's signatures may no longer be served
// (anscache.NoDeadline without DO).
func (c *nxZones) appendNXAnswer(dst []byte, res *responder, nq *nxQuery, ans *zonestore.Answer, now time.Time) (out []byte, deadline int64, ok bool) {
	z, ok := c.get(res, ans, now)
	if !ok {
		return dst, 0, false
	}
	lq := nq.q.Key()[5:] // the question name, lower-cased, as the record path packs it
	apexOff := len(lq) - len(z.apex)
	if apexOff < 0 || string(lq[apexOff:]) != string(z.apex) || !labelStart(lq, apexOff) {
		return dst, 0, false
	}
	deadline = anscache.NoDeadline
	start := len(dst)
	dst = binary.BigEndian.AppendUint16(dst, nq.id)
	flags := uint16(1<<15 | 1<<10) // QR, AA; opcode QUERY
	if nq.rd {
		flags |= 1 << 8
	}
	if nq.cd {
		flags |= 1 << 4
	}
	if !nq.do || nq.co {
		flags |= dns.RcodeNameError // RFC 9824 §5.1; NOERROR for a compact answer otherwise
	}
	dst = binary.BigEndian.AppendUint16(dst, flags)
	dst = binary.BigEndian.AppendUint16(dst, 1)
	dst = binary.BigEndian.AppendUint16(dst, 0)
	ns := 1 // SOA; with DO its RRSIGs, the NSEC and its RRSIGs
	if nq.do {
		ns = 2 + 2*len(z.zk.zsk)
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(ns)) // #nosec G115 -- a few keys
	ar := uint16(0)
	if nq.edns {
		ar = 1
	}
	dst = binary.BigEndian.AppendUint16(dst, ar)

	// Question, as the query spelled it.
	dst = append(dst, nq.q.Name()...)
	dst = binary.BigEndian.AppendUint16(dst, nq.qtype)
	dst = binary.BigEndian.AppendUint16(dst, nq.qclass)
	qOff := headerLen
	apexPtr := qOff + apexOff
	dst = z.appendSOA(dst, start, lq, apexPtr)
	if nq.do {
		deadline = z.notAfter
		var rd int
		for _, sig := range z.sigs {
			dst, rd = appendRRHeader(dst, apexPtr, dns.TypeRRSIG, z.class, z.ttl)
			dst = endRDATA(append(dst, sig...), rd)
		}
		// NSEC owned by the question name (a pointer to it), next "\000.<qname>".
		dst, rd = appendRRHeader(dst, qOff, dns.TypeNSEC, dns.ClassINET, z.ttl)
		dst = endRDATA(signer.AppendNXNAMEData(dst, lq), rd)
		if len(dst)-start+z.restLen(nq.edns) > nq.limit {
			return dst[:start], 0, false // see below; and no signature is wasted
		}
		for _, k := range z.zk.zsk {
			dst, rd = appendRRHeader(dst, qOff, dns.TypeRRSIG, dns.ClassINET, z.ttl)
			var err error
			if dst, err = res.signer.SignNXNAME(dst, lq, z.ttl, k, ans.Zone, now); err != nil {
				return dst[:start], 0, false
			}
			dst = endRDATA(dst, rd)
			// EXPIRATION is at offset 8 of the RRSIG RDATA (RFC 4034 §3.1).
			sig := dns.RRSIG{OrigTtl: z.ttl, Expiration: binary.BigEndian.Uint32(dst[rd+2+8:])}
			deadline = min(deadline, res.signer.ServeUntil(&sig, now))
		}
	}
	if nq.edns { // our OPT: RFC 6891 §6.1.1, DO and CO echoed (see responder.withOPT)
		dst = append(dst, 0)
		dst = binary.BigEndian.AppendUint16(dst, dns.TypeOPT)
		dst = binary.BigEndian.AppendUint16(dst, res.bufSize)
		var ttl uint32
		if nq.do {
			ttl |= 1 << 15
		}
		if nq.co {
			ttl |= ednsFlagCO
		}
		dst = binary.BigEndian.AppendUint32(dst, ttl)
		dst = binary.BigEndian.AppendUint16(dst, 0)
	}
	if len(dst)-start > nq.limit {
		return dst[:start], 0, false // truncation is the record path's
	}
	return dst, deadline, true
}

// restLen is the length of what follows the NSEC in a signed answer: its RRSIGs, as
// long as the SOA's (same keys, same signer name), and the OPT record if edns.
func (z *nxZone) restLen(edns bool) int {
	n := 0
	for _, sig := range z.sigs {
		n += 2 + 10 + len(sig) // owner pointer, TYPE CLASS TTL RDLENGTH, RDATA
	}
	if edns {
		n += 11
	}
	return n
}

// appendSOA appends the SOA record to dst, the message that starts at dst[start:]
// with the question name lq: its owner a pointer to the apex at apexPtr, the names in
// its RDATA compressed as miekg does (see compressor).
func (z *nxZone) appendSOA(dst []byte, start int, lq []byte, apexPtr int) []byte {
	cm := compressor{msgStart: start, q: lq, qOff: headerLen}
	dst, rd := appendRRHeader(dst, apexPtr, dns.TypeSOA, z.class, z.ttl)
	dst = cm.appendName(dst, z.mname, true)
	dst = cm.appendName(dst, z.rname, false)
	return endRDATA(append(dst, z.tail[:]...), rd)
}

// appendRRHeader appends the header of an RR whose owner is a pointer to the name at
// message offset owner, with RDLENGTH left for endRDATA: rd is where it goes.
func appendRRHeader(dst []byte, owner int, rrtype, class uint16, ttl uint32) (out []byte, rd int) {
	dst = appendPointer(dst, owner)
	dst = binary.BigEndian.AppendUint16(dst, rrtype)
	dst = binary.BigEndian.AppendUint16(dst, class)
	dst = binary.BigEndian.AppendUint32(dst, ttl)
	return append(dst, 0, 0), len(dst)
}

// endRDATA sets the RDLENGTH at dst[rd:] to the length of the RDATA that follows it.
func endRDATA(dst []byte, rd int) []byte {
	binary.BigEndian.PutUint16(dst[rd:], uint16(len(dst)-rd-2)) // #nosec G115 -- a few hundred octets at most
	return dst
}

// headerLen is the size of a DNS message header.
const headerLen = 12

func appendPointer(dst []byte, off int) []byte {
	return binary.BigEndian.AppendUint16(dst, 0xc000|uint16(off)) // #nosec G115 -- off < 300
}

// labelStart reports whether off is where a label of the wire name w starts.
func labelStart(w []byte, off int) bool {
	for i := 0; i < len(w); i += 1 + int(w[i]) {
		if i == off {
			return true
		}
		if w[i] == 0 {
			break
		}
	}
	return false
}

// compressor compresses the SOA's names as miekg/dns does when it packs the record
// path's message, whose only names before them are the question (lower-cased) and
// the SOA owner, a pointer into it. miekg keeps, for each name suffix it writes in
// full, the offset of its first occurrence, and writes a compressible name up to its
// longest suffix already seen, then a pointer to it. So a suffix of the MNAME is found
// in the question; one of the RNAME in the question or else in the MNAME's own labels.
// Its keys are presentation strings; for names without escapes (checked by the callers)
// those match exactly when the wire labels do.
type compressor struct {
	msgStart int    // where the message starts in dst
	q        []byte // the question name as packed
	qOff     int    // its offset in the message
	prev     []byte // the first name written in full so far (MNAME), and
	prevOff  int    // the message offset of its first label
	prevLen  int    // how many of its octets were written before its pointer (all: no pointer)
}

// appendName appends the wire name n, compressed. remember keeps its suffixes for the
// next name.
func (c *compressor) appendName(dst, n []byte, remember bool) []byte {
	for i := 0; i < len(n) && n[i] != 0; i += 1 + int(n[i]) {
		if p, ok := c.find(n[i:]); ok {
			if remember {
				c.prev, c.prevOff, c.prevLen = n, len(dst)-c.msgStart, i
			}
			dst = append(dst, n[:i]...)
			return appendPointer(dst, p)
		}
	}
	if remember {
		c.prev, c.prevOff, c.prevLen = n, len(dst)-c.msgStart, len(n)-1
	}
	return append(dst, n...)
}

// find returns the message offset of the first occurrence of the name suffix s.
func (c *compressor) find(s []byte) (int, bool) {
	if off := len(c.q) - len(s); off >= 0 && string(c.q[off:]) == string(s) && labelStart(c.q, off) {
		return c.qOff + off, true
	}
	if off := len(c.prev) - len(s); c.prev != nil && off >= 0 && off < c.prevLen &&
		string(c.prev[off:]) == string(s) && labelStart(c.prev, off) {
		return c.prevOff + off, true
	}
	return 0, false
}
