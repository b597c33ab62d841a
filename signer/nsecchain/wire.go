package nsecchain

import (
	"encoding/binary"
	"errors"

	"github.com/miekg/dns"
)

// ErrQuery is returned by AppendNegative for a question it cannot answer in wire form.
var ErrQuery = errors.New("nsecchain: question not in the zone")

// WireQuery is the query a packed answer replies to.
type WireQuery struct {
	ID      uint16
	RD, CD  bool   // copied into the answer (RFC 1035 §4.1.1, RFC 4035 §3.1.6)
	Name    []byte // the question name in wire form, spelled as asked
	Qtype   uint16
	Qclass  uint16
	OPT     bool   // the query had an OPT record: the answer gets one
	DO      bool   // DNSSEC OK: RRSIGs and NSECs go in, and DO is echoed
	BufSize uint16 // the UDP payload size the answer's OPT advertises
}

// headerLen is the size of the DNS message header.
const headerLen = 12

// AppendNegative appends to dst the complete answer to q with rcode (NXDOMAIN or
// NOERROR for NODATA): the same records AppendDenial gives, packed without going
// through dns.Msg. The SOA's names and the NSEC owners are compressed against the
// question name (RFC 1035 §4.1.4); NSEC next names and RRSIG signer names never are
// (RFC 4034 §3.1.7, §4.1.1). Header: QR and AA set, RA clear, RD and CD as asked.
// Answers are at most a few hundred octets; the caller checks the size limit.
func (ch *Chain) AppendNegative(dst []byte, q *WireQuery, rcode int, p Proof, sg Signing) ([]byte, error) {
	if !endsIn(q.Name, ch.apexWire) {
		return dst, ErrQuery // (q.Name is not in the error: it would escape to the heap)
	}
	base := len(dst)
	var flags uint16 = 1<<15 | 1<<10 | uint16(rcode&0xf) // QR, AA
	if q.RD {
		flags |= 1 << 8
	}
	if q.CD {
		flags |= 1 << 4
	}
	var hdr [headerLen]byte
	binary.BigEndian.PutUint16(hdr[0:], q.ID)
	binary.BigEndian.PutUint16(hdr[2:], flags)
	binary.BigEndian.PutUint16(hdr[4:], 1) // QDCOUNT
	if q.OPT {
		binary.BigEndian.PutUint16(hdr[10:], 1) // ARCOUNT
	}
	dst = append(dst, hdr[:]...)
	dst = append(dst, q.Name...)
	dst = binary.BigEndian.AppendUint16(dst, q.Qtype)
	dst = binary.BigEndian.AppendUint16(dst, q.Qclass)

	w := packer{buf: dst, base: base}
	count := 0
	// The SOA of negative answers.
	soaOwner := w.name(ch.apexWire, q.Name)
	w.rrHeader(dns.TypeSOA, ch.ttl)
	rd := w.rdataStart()
	for _, n := range ch.soaNames {
		w.name(n, q.Name)
	}
	for _, v := range []uint32{ch.soa.Serial, ch.soa.Refresh, ch.soa.Retry, ch.soa.Expire, ch.soa.Minttl} {
		w.buf = binary.BigEndian.AppendUint32(w.buf, v)
	}
	w.rdataEnd(rd)
	count++
	if q.DO {
		set, _, err := ch.signatures(len(ch.keys), &sg, sg.Now.Unix())
		if err != nil {
			return dst[:base], err
		}
		for i := range set {
			w.sameOwner(soaOwner)
			w.rrsig(&set[i], dns.TypeSOA, ch.ttl, ch.apexWire)
			count++
		}
		var nb [256]byte
		for j := 0; j < p.n; j++ {
			i := p.nsec[j]
			set, _, err := ch.signatures(i, &sg, sg.Now.Unix())
			if err != nil {
				return dst[:base], err
			}
			full := appendWire(nb[:0], ch.keys[i])
			full = append(full, ch.apexWire...)
			owner := w.name(full, q.Name)
			w.rrHeader(dns.TypeNSEC, ch.ttl)
			rd := w.rdataStart()
			w.buf = appendWire(w.buf, ch.keys[(i+1)%len(ch.keys)])
			w.buf = append(w.buf, ch.apexWire...)
			w.buf = append(w.buf, ch.bitmaps[ch.bm[i]].wire...)
			w.rdataEnd(rd)
			count++
			for k := range set {
				w.sameOwner(owner)
				w.rrsig(&set[k], dns.TypeNSEC, ch.ttl, ch.apexWire)
				count++
			}
		}
	}
	if q.OPT {
		w.buf = append(w.buf, 0) // root owner
		w.buf = binary.BigEndian.AppendUint16(w.buf, dns.TypeOPT)
		w.buf = binary.BigEndian.AppendUint16(w.buf, q.BufSize)
		var ttl uint32 // extended RCODE 0, version 0
		if q.DO {
			ttl |= 1 << 15
		}
		w.buf = binary.BigEndian.AppendUint32(w.buf, ttl)
		w.buf = binary.BigEndian.AppendUint16(w.buf, 0)
	}
	binary.BigEndian.PutUint16(w.buf[base+8:], uint16(count)) // NSCOUNT
	return w.buf, nil
}

// packer appends resource records to a message that starts at buf[base]. (The question
// name is passed to name rather than kept here: escape analysis would move the caller's
// copy of it to the heap along with buf.)
type packer struct {
	buf  []byte
	base int
}

// ownerRef says how an owner name was written: at offset off, and whether it is a lone
// compression pointer (then a later copy repeats the pointer).
type ownerRef struct {
	off     int
	pointer bool
}

// name appends wire name n, compressed against the question name q (at offset
// headerLen): its labels up to the longest suffix it shares with q, then a pointer to
// that suffix.
func (w *packer) name(n, q []byte) ownerRef {
	ref := ownerRef{off: len(w.buf) - w.base}
	for at := 0; at < len(n); at += 1 + int(n[at]) {
		if n[at] == 0 {
			break
		}
		if qoff, ok := suffixIn(q, n[at:]); ok {
			w.buf = append(w.buf, n[:at]...)
			w.buf = binary.BigEndian.AppendUint16(w.buf, 0xC000|uint16(headerLen+qoff))
			ref.pointer = at == 0
			return ref
		}
	}
	w.buf = append(w.buf, n...)
	return ref
}

// sameOwner writes an owner name equal to the one at ref: the same pointer, or a
// pointer to it.
func (w *packer) sameOwner(ref ownerRef) {
	if ref.pointer {
		w.buf = append(w.buf, w.buf[w.base+ref.off:w.base+ref.off+2]...)
		return
	}
	w.buf = binary.BigEndian.AppendUint16(w.buf, 0xC000|uint16(ref.off))
}

// suffixIn returns the offset in wire name q of a suffix equal to s ignoring case,
// starting at a label of q. s starts at a label and ends with the root.
func suffixIn(q, s []byte) (int, bool) {
	off := len(q) - len(s)
	if off < 0 || len(s) <= 1 {
		return 0, false // the root alone is not worth a pointer
	}
	at := 0
	for at < off && q[at] != 0 {
		at += 1 + int(q[at])
	}
	if at != off {
		return 0, false
	}
	for i, c := range q[off:] {
		if lower(c) != lower(s[i]) {
			return 0, false
		}
	}
	return off, true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// rrHeader appends type, class IN and TTL; the RDLENGTH follows with rdataStart.
func (w *packer) rrHeader(t uint16, ttl uint32) {
	w.buf = binary.BigEndian.AppendUint16(w.buf, t)
	w.buf = binary.BigEndian.AppendUint16(w.buf, dns.ClassINET)
	w.buf = binary.BigEndian.AppendUint32(w.buf, ttl)
}

// rdataStart reserves the RDLENGTH and returns where the RDATA starts.
func (w *packer) rdataStart() int {
	w.buf = append(w.buf, 0, 0)
	return len(w.buf)
}

// rdataEnd writes the RDLENGTH of the RDATA that started at rd.
func (w *packer) rdataEnd(rd int) {
	binary.BigEndian.PutUint16(w.buf[rd-2:], uint16(len(w.buf)-rd))
}

// rrsig appends the rest of an RRSIG record (the owner is written) for rec over type t
// (RFC 4034 §3.1): the signer name uncompressed.
func (w *packer) rrsig(rec *sigRec, t uint16, ttl uint32, signer []byte) {
	w.rrHeader(dns.TypeRRSIG, ttl)
	rd := w.rdataStart()
	w.buf = binary.BigEndian.AppendUint16(w.buf, t)
	w.buf = append(w.buf, rec.alg, rec.labels)
	w.buf = binary.BigEndian.AppendUint32(w.buf, ttl)
	w.buf = binary.BigEndian.AppendUint32(w.buf, rec.expiration)
	w.buf = binary.BigEndian.AppendUint32(w.buf, rec.inception)
	w.buf = binary.BigEndian.AppendUint16(w.buf, rec.tag)
	w.buf = append(w.buf, signer...)
	w.buf = append(w.buf, rec.sig...)
	w.rdataEnd(rd)
}
