package anscache

import "encoding/binary"

// Header is what a plain query's bytes say beyond its question that a cached answer
// needs: the fields Patch copies and the EDNS parameters that pick and bound the entry.
type Header struct {
	ID      uint16
	RD, CD  bool
	Flags   Flags  // the key's EDNS, DO and CO flags
	UDPSize uint16 // the OPT record's UDP payload size; 0 without one
}

// DNS wire constants ParseQuery needs.
const (
	typeOPT      = 41
	flagDO       = 1 << 15
	flagCO       = 1 << 14 // RFC 9824 §5.1
	bitQR        = 0x80    // in the third header octet
	maskOpcode   = 0x78    // in the third header octet
	questionTail = 4       // QTYPE and QCLASS
	optFixed     = 11      // root name, TYPE, CLASS, TTL, RDLENGTH
)

// ParseQuery reads the wire form of a plain query into q and returns its header: one
// question, nothing in the answer and authority sections, at most an OPT record of
// EDNS version 0 in the additional section, no other bytes, no compression in the
// question. ok is false for anything else: such queries are the full parser's to judge (FORMERR, BADVERS, NOTIMP...). EDNS options
// are skipped, as the message path ignores them. It does not allocate.
func ParseQuery(msg []byte, q *Query) (h Header, ok bool) {
	if len(msg) < headerLen || msg[2]&(bitQR|maskOpcode) != 0 {
		return h, false // a response, or not a QUERY
	}
	qd := binary.BigEndian.Uint16(msg[4:])
	an := binary.BigEndian.Uint16(msg[6:])
	ns := binary.BigEndian.Uint16(msg[8:])
	ar := binary.BigEndian.Uint16(msg[10:])
	if qd != 1 || an != 0 || ns != 0 || ar > 1 {
		return h, false
	}
	off, ok := q.setWireName(msg, headerLen)
	if !ok || len(msg)-off < questionTail {
		return h, false
	}
	qtype := binary.BigEndian.Uint16(msg[off:])
	qclass := binary.BigEndian.Uint16(msg[off+2:])
	off += questionTail
	h.ID = binary.BigEndian.Uint16(msg)
	h.RD = msg[2]&0x01 != 0
	h.CD = msg[3]&0x10 != 0
	if ar == 1 {
		// The OPT record: root owner, TYPE 41, CLASS = UDP size, TTL = extended RCODE,
		// version and flags, then the options.
		if len(msg)-off < optFixed || msg[off] != 0 || binary.BigEndian.Uint16(msg[off+1:]) != typeOPT {
			return h, false
		}
		size := binary.BigEndian.Uint16(msg[off+3:])
		ttl := binary.BigEndian.Uint32(msg[off+5:])
		if ttl>>16&0xff != 0 {
			return h, false // EDNS version > 0: BADVERS is the server's to send
		}
		rdlen := int(binary.BigEndian.Uint16(msg[off+9:]))
		off += optFixed
		if !validOptions(msg[off:off+min(rdlen, len(msg)-off)], rdlen) {
			return h, false
		}
		off += rdlen
		h.UDPSize = size
		h.Flags = EDNS
		if ttl&flagDO != 0 {
			h.Flags |= DO
		}
		if ttl&flagCO != 0 {
			h.Flags |= CO
		}
	}
	if off != len(msg) {
		return h, false
	}
	q.key[0] = byte(h.Flags)
	binary.BigEndian.PutUint16(q.key[1:], qtype)
	binary.BigEndian.PutUint16(q.key[3:], qclass)
	q.klen = 5 + q.nlen
	return h, true
}

// Options a plain query may carry: the answer does not depend on them (we send no
// NSID and no cookies; padding is padding) and miekg/dns reads them whatever their
// data. Any other option leaves the query to the full parser.
const (
	optNSID    = 3
	optCookie  = 10
	optPadding = 12
)

// validOptions reports whether opts, rdlen bytes long, is a sequence of whole
// NSID, COOKIE and PADDING options (code, length, data).
func validOptions(opts []byte, rdlen int) bool {
	if len(opts) != rdlen {
		return false
	}
	for len(opts) > 0 {
		if len(opts) < 4 {
			return false
		}
		switch binary.BigEndian.Uint16(opts) {
		case optNSID, optCookie, optPadding:
		default:
			return false
		}
		l := int(binary.BigEndian.Uint16(opts[2:]))
		if len(opts)-4 < l {
			return false
		}
		opts = opts[4+l:]
	}
	return true
}

// setWireName copies the uncompressed wire name at msg[off:] to q.name as spelled and
// lower-cased to the key, setting q.nlen, and returns the offset after it.
func (q *Query) setWireName(msg []byte, off int) (int, bool) {
	key := q.key[5:]
	n := 0
	for {
		if off >= len(msg) {
			return 0, false
		}
		l := int(msg[off])
		if l > 63 || n+1+l > len(q.name) || off+1+l > len(msg) {
			return 0, false // a pointer, a reserved label type, or past 255 octets
		}
		q.name[n], key[n] = byte(l), byte(l)
		n++
		off++
		if l == 0 {
			q.nlen = n
			return off, true
		}
		for _, c := range msg[off : off+l] {
			q.name[n], key[n] = c, lower[c]
			n++
		}
		off += l
	}
}
