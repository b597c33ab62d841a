package zonestore

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"io"
)

const (
	// KEKSize is the size of a key-encryption key (AES-256).
	KEKSize = 32
	// sealVersion prefixes every sealed blob so the format can evolve.
	sealVersion = 1
	nonceSize   = 12
)

// GenerateKEK reads a new 32-byte key-encryption key from r (crypto/rand.Reader
// in production).
func GenerateKEK(r io.Reader) ([]byte, error) {
	k := make([]byte, KEKSize)
	if _, err := io.ReadFull(r, k); err != nil {
		return nil, fmt.Errorf("zonestore: generate kek: %w", err)
	}
	return k, nil
}

// SealKey encrypts a private key (PKCS#8 DER) with AES-256-GCM under kek. The
// nonce is read from r; zone+"/"+id is authenticated as additional data, so a
// sealed key cannot be moved to another zone or id. The result is
// version(1) || nonce(12) || ciphertext+tag.
func SealKey(kek []byte, zone, id string, pkcs8 []byte, r io.Reader) ([]byte, error) {
	aead, err := newAEAD(kek)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+nonceSize, 1+nonceSize+len(pkcs8)+aead.Overhead())
	out[0] = sealVersion
	if _, err := io.ReadFull(r, out[1:]); err != nil {
		return nil, fmt.Errorf("zonestore: seal key %s/%s: nonce: %w", zone, id, err)
	}
	return aead.Seal(out, out[1:], pkcs8, sealAAD(zone, id)), nil
}

// UnsealKey reverses SealKey. A wrong kek, a zone or id other than the one
// used to seal, or tampered data give an error wrapping ErrSeal.
func UnsealKey(kek []byte, zone, id string, sealed []byte) ([]byte, error) {
	aead, err := newAEAD(kek)
	if err != nil {
		return nil, err
	}
	if len(sealed) < 1+nonceSize+aead.Overhead() || sealed[0] != sealVersion {
		return nil, fmt.Errorf("%w: key %s of zone %s: malformed sealed data", ErrSeal, id, zone)
	}
	pt, err := aead.Open(nil, sealed[1:1+nonceSize], sealed[1+nonceSize:], sealAAD(zone, id))
	if err != nil {
		return nil, fmt.Errorf("%w: key %s of zone %s: wrong key-encryption key or tampered data", ErrSeal, id, zone)
	}
	return pt, nil
}

func newAEAD(kek []byte) (cipher.AEAD, error) {
	if len(kek) != KEKSize {
		return nil, fmt.Errorf("%w: key-encryption key must be %d bytes, got %d", ErrSeal, KEKSize, len(kek))
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSeal, err)
	}
	return cipher.NewGCM(block)
}

func sealAAD(zone, id string) []byte { return []byte(zone + "/" + id) }
