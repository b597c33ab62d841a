package signer

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/miekg/dns"
)

// GenerateKey makes key material for zone with algorithm alg, reading
// entropy from rand (crypto/rand.Reader when nil). A KSK gets Flags 257 (Zone
// Key + SEP), a ZSK 256; Protocol is 3 (RFC 4034 §2.1). The DNSKEY is owned by
// the canonical zone name, class IN, with the given TTL.
func GenerateKey(zone string, alg uint8, ksk bool, ttl uint32, rand io.Reader) (*dns.DNSKEY, crypto.Signer, error) {
	var (
		priv crypto.Signer
		pub  []byte
	)
	switch alg {
	case dns.ECDSAP256SHA256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand)
		if err != nil {
			return nil, nil, fmt.Errorf("signer: generate key: %w", err)
		}
		if pub, err = publicKeyBytes(k.Public()); err != nil {
			return nil, nil, err
		}
		priv = k
	case dns.ED25519:
		p, k, err := ed25519.GenerateKey(rand)
		if err != nil {
			return nil, nil, fmt.Errorf("signer: generate key: %w", err)
		}
		pub, priv = p, k
	default:
		return nil, nil, fmt.Errorf("%w: %d", ErrAlgorithm, alg)
	}
	flags := uint16(dns.ZONE)
	if ksk {
		flags |= dns.SEP
	}
	k := &dns.DNSKEY{
		Hdr:       dns.RR_Header{Name: dns.CanonicalName(zone), Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: ttl},
		Flags:     flags,
		Protocol:  3,
		Algorithm: alg,
		PublicKey: base64.StdEncoding.EncodeToString(pub),
	}
	return k, priv, nil
}

// MarshalPrivateKey encodes k (an ECDSA P-256 or Ed25519 private key) as
// PKCS#8 DER.
func MarshalPrivateKey(k crypto.Signer) ([]byte, error) {
	switch p := k.(type) {
	case *ecdsa.PrivateKey:
		if p.Curve != elliptic.P256() {
			return nil, fmt.Errorf("%w: ECDSA curve %s", ErrAlgorithm, p.Curve.Params().Name)
		}
	case ed25519.PrivateKey:
	case *ed25519.PrivateKey:
		k = *p
	default:
		return nil, fmt.Errorf("%w: private key type %T", ErrAlgorithm, k)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("signer: marshal private key: %w", err)
	}
	return der, nil
}

// ParsePrivateKey decodes a PKCS#8 DER private key made by MarshalPrivateKey.
func ParsePrivateKey(der []byte) (crypto.Signer, error) {
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("signer: parse private key: %w", err)
	}
	switch p := k.(type) {
	case *ecdsa.PrivateKey:
		if p.Curve != elliptic.P256() {
			return nil, fmt.Errorf("%w: ECDSA curve %s", ErrAlgorithm, p.Curve.Params().Name)
		}
		return p, nil
	case ed25519.PrivateKey:
		return p, nil
	}
	return nil, fmt.Errorf("%w: private key type %T", ErrAlgorithm, k)
}

// Key is a signing key ready for use: a DNSKEY with its private half. Make it
// with NewKey and do not modify it afterwards; it is safe for concurrent use.
type Key struct {
	DNSKEY  *dns.DNSKEY
	Private crypto.Signer
	Tag     uint16

	id         uint64 // stable cache id: SHA-256 of canonical owner + DNSKEY RDATA
	signerName string // canonical (lower-case, fully qualified) DNSKEY owner
	zoneWire   []byte // signerName in uncompressed wire form
}

// NewKey checks that priv is the private half of dnskey and returns a Key. The
// DNSKEY must be a zone key (RFC 4034 §2.1.1) with Protocol 3 and a supported
// algorithm.
func NewKey(dnskey *dns.DNSKEY, priv crypto.Signer) (*Key, error) {
	if dnskey == nil || priv == nil {
		return nil, fmt.Errorf("%w: nil DNSKEY or private key", ErrKey)
	}
	if !supported(dnskey.Algorithm) {
		return nil, fmt.Errorf("%w: %d", ErrAlgorithm, dnskey.Algorithm)
	}
	if dnskey.Protocol != 3 || dnskey.Flags&dns.ZONE == 0 {
		return nil, fmt.Errorf("%w: DNSKEY %s is not a zone key (flags %d, protocol %d)",
			ErrKey, dnskey.Hdr.Name, dnskey.Flags, dnskey.Protocol)
	}
	want, err := base64.StdEncoding.DecodeString(dnskey.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("%w: DNSKEY public key: %v", ErrKey, err)
	}
	have, err := publicKeyBytes(priv.Public())
	if err != nil {
		return nil, err
	}
	if !keyTypeMatches(dnskey.Algorithm, priv.Public()) || !bytes.Equal(want, have) {
		return nil, fmt.Errorf("%w: private key is not the pair of DNSKEY %s alg %d tag %d",
			ErrKey, dnskey.Hdr.Name, dnskey.Algorithm, dnskey.KeyTag())
	}

	name := dns.CanonicalName(dnskey.Hdr.Name)
	zw := make([]byte, 256)
	n, err := dns.PackDomainName(name, zw, 0, nil, false)
	if err != nil {
		return nil, fmt.Errorf("%w: DNSKEY owner %q: %v", ErrKey, dnskey.Hdr.Name, err)
	}
	zw = zw[:n:n]

	// id = SHA-256(owner | flags | protocol | algorithm | public key), the DS
	// digest input (RFC 4034 §5.1.4), truncated to 64 bits.
	h := sha256.New()
	h.Write(zw)
	var rd [4]byte
	binary.BigEndian.PutUint16(rd[:], dnskey.Flags)
	rd[2], rd[3] = dnskey.Protocol, dnskey.Algorithm
	h.Write(rd[:])
	h.Write(want)
	sum := h.Sum(nil)

	return &Key{
		DNSKEY:     dnskey,
		Private:    priv,
		Tag:        dnskey.KeyTag(),
		id:         binary.BigEndian.Uint64(sum),
		signerName: name,
		zoneWire:   zw,
	}, nil
}

// ID returns the key's stable identity: 64 bits of the SHA-256 of its canonical owner
// and DNSKEY RDATA (the DS digest input, RFC 4034 §5.1.4). Keys parsed again from the
// same DNSKEY have the same ID; a KSK and a ZSK of the same material, or the keys
// before and after a rollover, do not. Callers that keep signatures key them on it.
func (k *Key) ID() uint64 { return k.id }

// keyTypeMatches reports whether pub is the key type algorithm alg uses.
func keyTypeMatches(alg uint8, pub crypto.PublicKey) bool {
	switch pub.(type) {
	case *ecdsa.PublicKey:
		return alg == dns.ECDSAP256SHA256
	case ed25519.PublicKey:
		return alg == dns.ED25519
	}
	return false
}

// publicKeyBytes returns pub in DNSKEY public key format: X | Y for ECDSA
// P-256 (RFC 6605 §4), the 32-byte key for Ed25519 (RFC 8080 §3).
func publicKeyBytes(pub crypto.PublicKey) ([]byte, error) {
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		if p.Curve != elliptic.P256() {
			return nil, fmt.Errorf("%w: ECDSA curve %s", ErrAlgorithm, p.Curve.Params().Name)
		}
		b, err := p.Bytes()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrKey, err)
		}
		return b[1:], nil // drop the 0x04 uncompressed-point prefix
	case ed25519.PublicKey:
		return []byte(p), nil
	}
	return nil, fmt.Errorf("%w: public key type %T", ErrAlgorithm, pub)
}
