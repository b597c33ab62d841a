package zonestore

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// SigningKey is a key that signs (Key.Signs) with its private half, for the
// signer. Published tells whether its DNSKEY is in the zone's DNSKEY RRset:
// during an algorithm rollover a key signs before it is published (RFC 6781
// section 4.1.4).
type SigningKey struct {
	ID        string
	Role      KeyRole
	DNSKEY    *dns.DNSKEY // shared: do not modify
	Private   crypto.Signer
	Published bool
}

// loadedKey is a stored key (Sealed cleared) with its parsed DNSKEY, the
// unsealed private key and the sealed form as stored (kept so that a keys
// command may update the key without resending its material).
type loadedKey struct {
	key    Key
	dnskey *dns.DNSKEY
	signer crypto.Signer
	sealed []byte
}

// checkKey validates the public fields of k for zone and parses its DNSKEY.
func checkKey(k Key, zone string) (*dns.DNSKEY, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: key %q of %s: %s", ErrBadCommand, k.ID, zone, fmt.Sprintf(format, a...))
	}
	if k.Zone != zone {
		return nil, bad("zone is %q", k.Zone)
	}
	if k.ID == "" || len(k.ID) > 64 || strings.ContainsFunc(k.ID, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-')
	}) {
		return nil, bad("id must be 1-64 characters [a-z0-9-]")
	}
	switch k.Role {
	case RoleKSK, RoleZSK, RoleCSK:
	default:
		return nil, bad("unknown role %q", k.Role)
	}
	switch k.State {
	case StateGenerated, StatePublished, StateActive, StateRetired, StateRemoved:
	default:
		return nil, bad("unknown state %q", k.State)
	}
	if k.Algorithm != dns.ECDSAP256SHA256 && k.Algorithm != dns.ED25519 {
		return nil, bad("algorithm %d not supported", k.Algorithm)
	}
	rr, err := dns.NewRR(k.DNSKEY)
	if err != nil {
		return nil, bad("dnskey: %v", err)
	}
	dk, ok := rr.(*dns.DNSKEY)
	if !ok {
		return nil, bad("dnskey field holds a %s record", dns.TypeToString[rr.Header().Rrtype])
	}
	wantFlags := uint16(dns.ZONE)
	if k.Role != RoleZSK {
		wantFlags |= dns.SEP
	}
	switch {
	case !strings.EqualFold(dk.Hdr.Name, zone):
		return nil, bad("dnskey owner %q", dk.Hdr.Name)
	case dk.Algorithm != k.Algorithm:
		return nil, bad("dnskey algorithm %d, key says %d", dk.Algorithm, k.Algorithm)
	case dk.Protocol != 3:
		return nil, bad("dnskey protocol %d", dk.Protocol)
	case dk.Flags != wantFlags:
		return nil, bad("dnskey flags %d, role %s wants %d", dk.Flags, k.Role, wantFlags)
	case dk.KeyTag() != k.Tag:
		return nil, bad("tag %d, dnskey has %d", k.Tag, dk.KeyTag())
	}
	dk.Hdr.Name = zone
	return dk, nil
}

// openKey unseals k's private key with kek and checks that it matches the
// DNSKEY's public key.
func openKey(kek []byte, k Key, dk *dns.DNSKEY) (crypto.Signer, error) {
	der, err := UnsealKey(kek, k.Zone, k.ID, k.Sealed)
	if err != nil {
		return nil, err
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	clear(der)
	if err != nil {
		return nil, fmt.Errorf("%w: key %s of zone %s: pkcs8: %v", ErrSeal, k.ID, k.Zone, err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: key %s of zone %s: %T is not a signer", ErrSeal, k.ID, k.Zone, priv)
	}
	pub, err := publicKeyBytes(dk.Algorithm, signer.Public())
	if err != nil {
		return nil, fmt.Errorf("%w: key %s of zone %s: %v", ErrSeal, k.ID, k.Zone, err)
	}
	want, err := base64.StdEncoding.DecodeString(dk.PublicKey)
	if err != nil || !bytes.Equal(pub, want) {
		return nil, fmt.Errorf("%w: key %s of zone %s: private key does not match the DNSKEY", ErrSeal, k.ID, k.Zone)
	}
	return signer, nil
}

// publicKeyBytes returns the DNSKEY public key field (RFC 6605, RFC 8080) of pub.
func publicKeyBytes(alg uint8, pub crypto.PublicKey) ([]byte, error) {
	switch alg {
	case dns.ECDSAP256SHA256:
		p, ok := pub.(*ecdsa.PublicKey)
		if !ok || p.Curve != elliptic.P256() {
			return nil, fmt.Errorf("algorithm 13 wants an ECDSA P-256 key, have %T", pub)
		}
		e, err := p.ECDH()
		if err != nil {
			return nil, err
		}
		return e.Bytes()[1:], nil // drop the 0x04 uncompressed-point prefix
	case dns.ED25519:
		p, ok := pub.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("algorithm 15 wants an Ed25519 key, have %T", pub)
		}
		return p, nil
	}
	return nil, fmt.Errorf("algorithm %d not supported", alg)
}
