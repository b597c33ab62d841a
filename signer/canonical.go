package signer

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/miekg/dns"
)

// span locates one RR inside scratch.wire.
type span struct {
	start, rdata, end int
}

// scratch holds the per-call buffers of Sign; pooled so that a cache hit does
// not allocate.
type scratch struct {
	msg   dns.Msg
	wire  []byte // the RRset packed as a DNS message, then canonicalized in place
	spans []span
	key   []byte // keyID | TTL | canonical RRset (the cache key input)
	sd    []byte // the signed data: RRSIG RDATA without signature | canonical RRset
}

var scratchPool = sync.Pool{New: func() any {
	return &scratch{wire: make([]byte, 1024), spans: make([]span, 0, 8), key: make([]byte, 0, 512), sd: make([]byte, 0, 1024)}
}}

// headerLen is the size of a DNS message header.
const headerLen = 12

// canonicalize fills s.key with keyID | origTTL | the canonical wire form of
// rrset (RFC 4034 §6.2 and §6.3: owner and listed RDATA names lower-cased, TTL
// set to origTTL, RRs sorted by RDATA, duplicates removed). It checks that all
// RRs share one owner, type and class. The input RRs are not modified: they
// are packed through a dns.Msg, which does not write back to them.
// It returns the offset of the canonical RRset in s.key.
func (s *scratch) canonicalize(rrset []dns.RR, keyID uint64, origTTL uint32) (int, error) {
	s.msg.Compress = false
	s.msg.Answer = rrset
	w, err := s.msg.PackBuffer(s.wire)
	s.msg.Answer = nil
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrRRset, err)
	}
	if cap(w) > cap(s.wire) {
		s.wire = w[:cap(w)]
	}

	s.spans = s.spans[:0]
	off := headerLen
	var ownerEnd int
	for i := range rrset {
		start := off
		end, err := lowerName(w, off)
		if err != nil {
			return 0, err
		}
		if i == 0 {
			ownerEnd = end
		} else if !bytes.Equal(w[start:end], w[headerLen:ownerEnd]) ||
			!bytes.Equal(w[end:end+4], w[ownerEnd:ownerEnd+4]) { // type and class
			return 0, fmt.Errorf("%w: RRs differ in owner, type or class", ErrRRset)
		}
		if end+10 > len(w) {
			return 0, fmt.Errorf("%w: short RR", ErrRRset)
		}
		rrtype := binary.BigEndian.Uint16(w[end:])
		binary.BigEndian.PutUint32(w[end+4:], origTTL) // RFC 4034 §6.2 (5)
		rd := end + 10
		rdEnd := rd + int(binary.BigEndian.Uint16(w[end+8:]))
		if rdEnd > len(w) {
			return 0, fmt.Errorf("%w: short RDATA", ErrRRset)
		}
		if err := lowerRdata(rrtype, w[:rdEnd], rd); err != nil {
			return 0, err
		}
		s.spans = append(s.spans, span{start: start, rdata: rd, end: rdEnd})
		off = rdEnd
	}

	// RFC 4034 §6.3: sort by RDATA as left-justified octet strings. RRsets are
	// small, so an insertion sort without allocation is the right tool.
	sp := s.spans
	for i := 1; i < len(sp); i++ {
		for j := i; j > 0 && bytes.Compare(w[sp[j].rdata:sp[j].end], w[sp[j-1].rdata:sp[j-1].end]) < 0; j-- {
			sp[j], sp[j-1] = sp[j-1], sp[j]
		}
	}

	k := s.key[:0]
	k = binary.BigEndian.AppendUint64(k, keyID)
	k = binary.BigEndian.AppendUint32(k, origTTL)
	for i, x := range sp {
		if i > 0 && bytes.Equal(w[x.rdata:x.end], w[sp[i-1].rdata:sp[i-1].end]) {
			continue // RFC 4034 §6.3: duplicate RRs are dropped
		}
		k = append(k, w[x.start:x.end]...)
	}
	s.key = k
	return 12, nil
}

// lowerName lower-cases (ASCII only, as RFC 4034 §6.2 says) the uncompressed
// domain name at msg[off:] in place and returns the offset just past it.
// Length octets are at most 63, below 'A', so they are never touched.
func lowerName(msg []byte, off int) (int, error) {
	for {
		if off >= len(msg) {
			return 0, fmt.Errorf("%w: truncated name", ErrRRset)
		}
		l := int(msg[off])
		if l == 0 {
			return off + 1, nil
		}
		if l > 63 || off+1+l > len(msg) {
			return 0, fmt.Errorf("%w: bad label", ErrRRset)
		}
		for i := off + 1; i <= off+l; i++ {
			if c := msg[i]; 'A' <= c && c <= 'Z' {
				msg[i] = c + ('a' - 'A')
			}
		}
		off += 1 + l
	}
}

// lowerRdata lower-cases the domain names in the RDATA at msg[rd:] of the
// types RFC 4034 §6.2 (3) lists, as corrected by RFC 6840 §5.1 (no HINFO, no
// NSEC), the same list miekg/dns uses when it signs and verifies. msg ends at
// the end of the RDATA.
func lowerRdata(rrtype uint16, msg []byte, rd int) error {
	var err error
	names := func(off, n int) {
		for ; n > 0 && err == nil; n-- {
			off, err = lowerName(msg, off)
		}
	}
	switch rrtype {
	case dns.TypeNS, dns.TypeMD, dns.TypeMF, dns.TypeCNAME, dns.TypeMB, dns.TypeMG,
		dns.TypeMR, dns.TypePTR, dns.TypeDNAME:
		names(rd, 1)
	case dns.TypeSOA, dns.TypeMINFO, dns.TypeRP:
		names(rd, 2)
	case dns.TypeMX, dns.TypeAFSDB, dns.TypeRT, dns.TypeKX:
		names(rd+2, 1)
	case dns.TypePX:
		names(rd+2, 2)
	case dns.TypeSRV:
		names(rd+6, 1)
	case dns.TypeSIG:
		names(rd+18, 1)
	case dns.TypeNAPTR:
		off := rd + 4 // order, preference
		for range 3 { // flags, services, regexp: <character-string>s
			if off >= len(msg) {
				return fmt.Errorf("%w: short NAPTR", ErrRRset)
			}
			off += 1 + int(msg[off])
		}
		names(off, 1)
	}
	return err
}

// labelCount returns the RRSIG Labels value for the canonical owner name at
// the start of wire: the number of labels, not counting the root nor a leading
// wildcard label (RFC 4034 §3.1.3).
func labelCount(wire []byte) uint8 {
	n := 0
	for off := 0; off < len(wire) && wire[off] != 0; off += 1 + int(wire[off]) {
		n++
	}
	if len(wire) > 1 && wire[0] == 1 && wire[1] == '*' {
		n--
	}
	return uint8(n)
}

// inZone reports whether the canonical owner name at the start of wire is
// zone (canonical wire) or below it.
func inZone(wire, zone []byte) bool {
	for off := 0; off < len(wire); off += 1 + int(wire[off]) {
		if len(wire)-off >= len(zone) && bytes.Equal(wire[off:off+len(zone)], zone) {
			return true
		}
		if wire[off] == 0 {
			return false
		}
	}
	return false
}
