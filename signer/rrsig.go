package signer

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/miekg/dns"
)

// errECDSASignature is returned when a crypto.Signer hands back a signature
// that is not DER for an ECDSA signature of the expected size.
var errECDSASignature = errors.New("signer: malformed ECDSA signature")

// sigFields are the RRSIG RDATA fields that the signature covers.
type sigFields struct {
	typeCovered uint16
	labels      uint8
	origTTL     uint32
	expiration  uint32
	inception   uint32
}

// signCanonical signs canon, the canonical wire form of an RRset (see
// scratch.canonicalize), with k and returns the base64 signature. sd is a
// scratch buffer for the signed data (RFC 4034 §3.1.8.1:
// RRSIG_RDATA | RR(1) | RR(2)...); the possibly grown buffer is returned.
func signCanonical(k *Key, f sigFields, canon, sd []byte) (string, []byte, error) {
	sd = sd[:0]
	sd = binary.BigEndian.AppendUint16(sd, f.typeCovered)
	sd = append(sd, k.DNSKEY.Algorithm, f.labels)
	sd = binary.BigEndian.AppendUint32(sd, f.origTTL)
	sd = binary.BigEndian.AppendUint32(sd, f.expiration)
	sd = binary.BigEndian.AppendUint32(sd, f.inception)
	sd = binary.BigEndian.AppendUint16(sd, k.Tag)
	sd = append(sd, k.zoneWire...)
	sd = append(sd, canon...)

	var raw []byte
	switch k.DNSKEY.Algorithm {
	case dns.ECDSAP256SHA256:
		digest := sha256.Sum256(sd)
		der, err := k.Private.Sign(rand.Reader, digest[:], crypto.SHA256)
		if err != nil {
			return "", sd, fmt.Errorf("signer: sign: %w", err)
		}
		var buf [64]byte
		if raw, err = ecdsaRaw(der, buf[:0], 32); err != nil {
			return "", sd, err
		}
	case dns.ED25519:
		var err error
		if raw, err = k.Private.Sign(rand.Reader, sd, crypto.Hash(0)); err != nil {
			return "", sd, fmt.Errorf("signer: sign: %w", err)
		}
	default:
		return "", sd, fmt.Errorf("%w: %d", ErrAlgorithm, k.DNSKEY.Algorithm)
	}
	return base64.StdEncoding.EncodeToString(raw), sd, nil
}

// ecdsaRaw converts an ASN.1 DER ECDSA signature, SEQUENCE { INTEGER r,
// INTEGER s }, to the DNSSEC form r | s, each left-padded to size octets
// (RFC 6605 §4), appending to dst.
func ecdsaRaw(der, dst []byte, size int) ([]byte, error) {
	bad := errECDSASignature
	tlv := func(b []byte, tag byte) (val, rest []byte, ok bool) {
		if len(b) < 2 || b[0] != tag {
			return nil, nil, false
		}
		l, b := int(b[1]), b[2:]
		if l&0x80 != 0 { // long form
			n := l & 0x7f
			if n == 0 || n > 2 || len(b) < n {
				return nil, nil, false
			}
			l = 0
			for _, c := range b[:n] {
				l = l<<8 | int(c)
			}
			b = b[n:]
		}
		if l > len(b) {
			return nil, nil, false
		}
		return b[:l], b[l:], true
	}
	seq, rest, ok := tlv(der, 0x30)
	if !ok || len(rest) != 0 {
		return nil, bad
	}
	for range 2 {
		var n []byte
		if n, seq, ok = tlv(seq, 0x02); !ok {
			return nil, bad
		}
		for len(n) > 0 && n[0] == 0 {
			n = n[1:]
		}
		if len(n) > size {
			return nil, bad
		}
		for i := len(n); i < size; i++ {
			dst = append(dst, 0)
		}
		dst = append(dst, n...)
	}
	if len(seq) != 0 {
		return nil, bad
	}
	return dst, nil
}
