package zonestore

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
)

func TestSealRoundTrip(t *testing.T) {
	kek, err := GenerateKEK(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if len(kek) != KEKSize {
		t.Fatalf("GenerateKEK: %d bytes", len(kek))
	}
	secret := []byte("pkcs8 der bytes")
	sealed, err := SealKey(kek, "1j2b.mx.example.", "00aa", secret, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, secret) {
		t.Fatal("sealed data contains the plaintext")
	}
	got, err := UnsealKey(kek, "1j2b.mx.example.", "00aa", sealed)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("UnsealKey = %q, %v", got, err)
	}

	other, _ := GenerateKEK(rand.Reader)
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	tests := []struct {
		name     string
		kek      []byte
		zone, id string
		sealed   []byte
	}{
		{name: "wrong kek", kek: other, zone: "1j2b.mx.example.", id: "00aa", sealed: sealed},
		{name: "other zone", kek: kek, zone: "zzzz.mx.example.", id: "00aa", sealed: sealed},
		{name: "other id", kek: kek, zone: "1j2b.mx.example.", id: "00ab", sealed: sealed},
		{name: "tampered", kek: kek, zone: "1j2b.mx.example.", id: "00aa", sealed: tampered},
		{name: "truncated", kek: kek, zone: "1j2b.mx.example.", id: "00aa", sealed: sealed[:10]},
		{name: "short kek", kek: kek[:16], zone: "1j2b.mx.example.", id: "00aa", sealed: sealed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := UnsealKey(tt.kek, tt.zone, tt.id, tt.sealed); !errors.Is(err, ErrSeal) {
				t.Fatalf("UnsealKey: %v, want ErrSeal", err)
			}
		})
	}
}

func TestSealNonceFromReader(t *testing.T) {
	a, err := SealKey(testKEK, "z.", "1", []byte("x"), bytes.NewReader(make([]byte, 12)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := SealKey(testKEK, "z.", "1", []byte("x"), bytes.NewReader(make([]byte, 12)))
	if err != nil || !bytes.Equal(a, b) {
		t.Fatalf("same nonce source gave different output: %v", err)
	}
	if _, err := SealKey(testKEK, "z.", "1", []byte("x"), bytes.NewReader(nil)); err == nil {
		t.Fatal("SealKey with an empty reader succeeded")
	}
}

func BenchmarkUnsealKey(b *testing.B) {
	sealed, _ := SealKey(testKEK, "z.", "1", make([]byte, 138), rand.Reader)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := UnsealKey(testKEK, "z.", "1", sealed); err != nil {
			b.Fatal(err)
		}
	}
}
