package signer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

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
	sd = appendRRSIGPrefix(sd[:0], k, f)
	sd = append(sd, canon...)
	var buf [64]byte
	raw, err := appendSignature(buf[:0], k, sd)
	if err != nil {
		return "", sd, err
	}
	return base64.StdEncoding.EncodeToString(raw), sd, nil
}

// appendRRSIGPrefix appends the RRSIG RDATA without its Signature field (RFC 4034
// §3.1.8.1: the fields the signature covers, signer name uncompressed) to dst.
func appendRRSIGPrefix(dst []byte, k *Key, f sigFields) []byte {
	dst = binary.BigEndian.AppendUint16(dst, f.typeCovered)
	dst = append(dst, k.DNSKEY.Algorithm, f.labels)
	dst = binary.BigEndian.AppendUint32(dst, f.origTTL)
	dst = binary.BigEndian.AppendUint32(dst, f.expiration)
	dst = binary.BigEndian.AppendUint32(dst, f.inception)
	dst = binary.BigEndian.AppendUint16(dst, k.Tag)
	return append(dst, k.zoneWire...)
}

// appendSignature appends k's signature over data to dst in the form of the RRSIG
// Signature field: r | s for ECDSA P-256 over SHA-256 (RFC 6605 §4), the 64 octets
// of Ed25519 (RFC 8080 §3).
//
// ECDSA signatures are deterministic (RFC 6979): the nonce is derived from the
// private key and the digest with HMAC-DRBG over SHA-256, so distinct data never
// share a nonce and no nonce is biased, without reading entropy. Go's default, the
// hedged nonce (RFC 6979 with added randomness, SHA-512 HMAC-DRBG), cost about a
// quarter of the CPU time of each signature here: see DESIGN.md. A key that is not
// a plain *ecdsa.PrivateKey (an external crypto.Signer) gets crypto/rand.
func appendSignature(dst []byte, k *Key, data []byte) ([]byte, error) {
	switch k.DNSKEY.Algorithm {
	case dns.ECDSAP256SHA256:
		digest := sha256.Sum256(data)
		var rnd io.Reader = rand.Reader
		if _, ok := k.Private.(*ecdsa.PrivateKey); ok {
			rnd = nil // RFC 6979
		}
		der, err := k.Private.Sign(rnd, digest[:], crypto.SHA256)
		if err != nil {
			return dst, fmt.Errorf("signer: sign: %w", err)
		}
		return ecdsaRaw(der, dst, 32)
	case dns.ED25519:
		if priv, ok := k.Private.(ed25519.PrivateKey); ok {
			return append(dst, ed25519.Sign(priv, data)...), nil // inlined: the signature stays on the stack
		}
		raw, err := k.Private.Sign(rand.Reader, data, crypto.Hash(0))
		if err != nil {
			return dst, fmt.Errorf("signer: sign: %w", err)
		}
		return append(dst, raw...), nil
	}
	return dst, fmt.Errorf("%w: %d", ErrAlgorithm, k.DNSKEY.Algorithm)
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
