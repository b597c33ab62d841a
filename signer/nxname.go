package signer

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"time"

	"github.com/miekg/dns"
)

// Compact denial of a name that does not exist, in wire form.
//
// CompactNSEC and SignTransient build and sign the NSEC of a name that does not
// exist as miekg/dns records. A random-subdomain flood asks for nothing else, so
// AppendNXNAMEData and SignNXNAME make the same NSEC RDATA and RRSIG RDATA
// straight into bytes: no records, no packing, no base64, and no signature-cache
// lookup (such an NSEC is never cached, see SignTransient). They produce the same
// bytes as the record path, signature included (both algorithms sign
// deterministically): TestSignNXNAMEMatchesRecords.

// nxnameBitmap is the NSEC type bitmap {RRSIG, NSEC, NXNAME} in wire form
// (RFC 4034 §4.1.2): window 0, 17 octets, RRSIG (46) and NSEC (47) in octet 5,
// NXNAME (128) in octet 16.
var nxnameBitmap = [...]byte{0, 17, 0, 0, 0, 0, 0, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80}

// MaxNXNAMEOwner is the longest owner name, in wire octets, whose compact-denial
// NSEC AppendNXNAMEData and SignNXNAME make: the next name "\000.<owner>" must fit
// in 255 octets. Longer names take CompactNSEC's RFC 4471 §3.1.2 fallbacks.
const MaxNXNAMEOwner = 253

// AppendNXNAMEData appends to dst the RDATA of the compact-denial NSEC (RFC 9824
// §3.1) owned by owner, a name that does not exist: next name "\000.<owner>"
// (RFC 4471 §3.1.1) and the bitmap {RRSIG, NSEC, NXNAME}. owner is an uncompressed
// wire name in canonical (lower-case) form, at most MaxNXNAMEOwner octets. It is
// the RDATA of CompactNSEC(owner, ttl, nil, qtype, true).
func AppendNXNAMEData(dst, owner []byte) []byte {
	dst = append(dst, 1, 0)
	dst = append(dst, owner...)
	return append(dst, nxnameBitmap[:]...)
}

// SignNXNAME appends to dst the RDATA of the RRSIG by k, for zone, over the
// compact-denial NSEC owned by owner with TTL ttl whose RDATA AppendNXNAMEData
// makes. owner is an uncompressed wire name (any case: it is signed lower-cased,
// RFC 4034 §6.2) of at most MaxNXNAMEOwner octets. The RDATA is that of
// SignTransient over CompactNSEC(owner, ttl, nil, qtype, true), with the signer
// name uncompressed (RFC 4034 §3.1.7). It counts one signature in Stats. On error
// dst is returned unchanged.
func (s *Signer) SignNXNAME(dst, owner []byte, ttl uint32, k *Key, zone string, now time.Time) ([]byte, error) {
	if err := checkKey(k, zone); err != nil {
		return dst, err
	}
	if len(owner) > MaxNXNAMEOwner {
		return dst, fmt.Errorf("%w: owner of %d octets too long for a \\000 successor", ErrRRset, len(owner))
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)

	// keyID | TTL | canonical NSEC: the bytes scratch.canonicalize makes of it.
	key := binary.BigEndian.AppendUint64(sc.key[:0], k.id)
	key = binary.BigEndian.AppendUint32(key, ttl)
	start := len(key)
	key = append(key, owner...)
	end, err := lowerName(key, start)
	if err != nil || end != len(key) {
		sc.key = key
		return dst, fmt.Errorf("%w: owner is not a wire name", ErrRRset)
	}
	key = binary.BigEndian.AppendUint16(key, dns.TypeNSEC)
	key = binary.BigEndian.AppendUint16(key, dns.ClassINET)
	key = binary.BigEndian.AppendUint32(key, ttl)
	key = binary.BigEndian.AppendUint16(key, uint16(2+len(owner)+len(nxnameBitmap))) // #nosec G115 -- at most 274
	key = AppendNXNAMEData(key, key[start:end])
	sc.key = key
	canon := key[start:]
	if !inZone(canon, k.zoneWire) {
		return dst, fmt.Errorf("%w: an owner is not in %s", ErrZone, k.signerName)
	}

	hash := maphash.Bytes(s.seed, key)
	f := s.fields(dns.TypeNSEC, canon, ttl, hash, now.Unix())
	sd := appendRRSIGPrefix(sc.sd[:0], k, f)
	n := len(sd)
	sd = append(sd, canon...)
	sc.sd = sd
	out := append(dst, sd[:n]...)
	if out, err = appendSignature(out, k, sd); err != nil {
		return dst, err
	}
	s.shardOf(hash).countSignature()
	return out, nil
}
