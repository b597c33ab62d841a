package signer

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"testing"

	"github.com/miekg/dns"
)

func TestParseAlgorithm(t *testing.T) {
	tests := []struct {
		in   string
		want uint8
		err  error
	}{
		{in: "ecdsap256sha256", want: dns.ECDSAP256SHA256},
		{in: "ECDSAP256SHA256", want: dns.ECDSAP256SHA256},
		{in: "13", want: dns.ECDSAP256SHA256},
		{in: "ed25519", want: dns.ED25519},
		{in: "ED25519", want: dns.ED25519},
		{in: "15", want: dns.ED25519},
		{in: "rsasha256", err: ErrAlgorithm},
		{in: "8", err: ErrAlgorithm},
		{in: "", err: ErrAlgorithm},
		{in: "ed448", err: ErrAlgorithm},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseAlgorithm(tc.in)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if got != tc.want {
				t.Errorf("ParseAlgorithm(%q) = %d, want %d", tc.in, got, tc.want)
			}
		})
	}
}

func TestGenerateKeyRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		alg   uint8
		ksk   bool
		flags uint16
	}{
		{name: "ECDSA ZSK", alg: dns.ECDSAP256SHA256, flags: 256},
		{name: "ECDSA KSK", alg: dns.ECDSAP256SHA256, ksk: true, flags: 257},
		{name: "Ed25519 ZSK", alg: dns.ED25519, flags: 256},
		{name: "Ed25519 KSK", alg: dns.ED25519, ksk: true, flags: 257},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dk, priv, err := GenerateKey("Shard.MX.example.", tc.alg, tc.ksk, 1800, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			if dk.Hdr.Name != "shard.mx.example." || dk.Hdr.Class != dns.ClassINET || dk.Hdr.Rrtype != dns.TypeDNSKEY || dk.Hdr.Ttl != 1800 {
				t.Errorf("header %+v", dk.Hdr)
			}
			if dk.Flags != tc.flags || dk.Protocol != 3 || dk.Algorithm != tc.alg {
				t.Errorf("DNSKEY %v: want flags %d protocol 3 alg %d", dk, tc.flags, tc.alg)
			}
			// The DNSKEY text form parses back (the public key is valid base64 of the right size).
			if _, err := dns.NewRR(dk.String()); err != nil {
				t.Errorf("DNSKEY does not parse back: %v", err)
			}
			der, err := MarshalPrivateKey(priv)
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParsePrivateKey(der)
			if err != nil {
				t.Fatal(err)
			}
			der2, err := MarshalPrivateKey(back)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(der, der2) {
				t.Error("marshal(parse(marshal(k))) differs")
			}
			k, err := NewKey(dk, back)
			if err != nil {
				t.Fatalf("NewKey with the parsed key: %v", err)
			}
			if k.Tag != dk.KeyTag() {
				t.Errorf("Tag %d, want %d", k.Tag, dk.KeyTag())
			}
			set := rrs(t, "h.shard.mx.example. 300 IN A 192.0.2.1")
			sig, err := New(Options{}).Sign(set, k, "shard.mx.example.", t0)
			if err != nil {
				t.Fatal(err)
			}
			checkSig(t, sig, k, set, t0)
		})
	}
}

func TestGenerateKeyBadAlgorithm(t *testing.T) {
	if _, _, err := GenerateKey("x.", dns.RSASHA256, false, 60, rand.Reader); !errors.Is(err, ErrAlgorithm) {
		t.Errorf("err = %v, want ErrAlgorithm", err)
	}
}

func TestPrivateKeyErrors(t *testing.T) {
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := MarshalPrivateKey(p384); !errors.Is(err, ErrAlgorithm) {
		t.Errorf("Marshal P-384: err = %v, want ErrAlgorithm", err)
	}
	if _, err := MarshalPrivateKey(rsaKey); !errors.Is(err, ErrAlgorithm) {
		t.Errorf("Marshal RSA: err = %v, want ErrAlgorithm", err)
	}
	// A PKCS#8 key of a type we do not sign with.
	der, err := x509.MarshalPKCS8PrivateKey(p384)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParsePrivateKey(der); !errors.Is(err, ErrAlgorithm) {
		t.Errorf("Parse P-384: err = %v, want ErrAlgorithm", err)
	}
	if _, err := ParsePrivateKey([]byte("not DER")); err == nil {
		t.Error("Parse garbage: no error")
	}
}

func TestNewKey(t *testing.T) {
	dk13, priv13, err := GenerateKey(testZone, dns.ECDSAP256SHA256, false, 60, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, other13, err := GenerateKey(testZone, dns.ECDSAP256SHA256, false, 60, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dk15, priv15, err := GenerateKey(testZone, dns.ED25519, false, 60, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	mod := func(k *dns.DNSKEY, f func(*dns.DNSKEY)) *dns.DNSKEY {
		c := *k
		f(&c)
		return &c
	}
	_, other15, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dk   *dns.DNSKEY
		priv crypto.Signer
		want error
	}{
		{name: "ECDSA pair", dk: dk13, priv: priv13},
		{name: "Ed25519 pair", dk: dk15, priv: priv15},
		{name: "other ECDSA key", dk: dk13, priv: other13, want: ErrKey},
		{name: "other Ed25519 key", dk: dk15, priv: other15, want: ErrKey},
		{name: "algorithm swapped", dk: mod(dk15, func(k *dns.DNSKEY) { k.Algorithm = dns.ECDSAP256SHA256 }), priv: priv15, want: ErrKey},
		{name: "unsupported algorithm", dk: mod(dk13, func(k *dns.DNSKEY) { k.Algorithm = dns.RSASHA256 }), priv: priv13, want: ErrAlgorithm},
		{name: "not a zone key", dk: mod(dk13, func(k *dns.DNSKEY) { k.Flags = 0 }), priv: priv13, want: ErrKey},
		{name: "protocol not 3", dk: mod(dk13, func(k *dns.DNSKEY) { k.Protocol = 2 }), priv: priv13, want: ErrKey},
		{name: "bad base64", dk: mod(dk13, func(k *dns.DNSKEY) { k.PublicKey = "!!" }), priv: priv13, want: ErrKey},
		{name: "nil DNSKEY", dk: nil, priv: priv13, want: ErrKey},
		{name: "nil private key", dk: dk13, priv: nil, want: ErrKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := NewKey(tc.dk, tc.priv)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if (k == nil) != (tc.want != nil) {
				t.Errorf("key %v with err %v", k, err)
			}
		})
	}
}

func TestKeyIDStable(t *testing.T) {
	a := fixedEd25519Key(t, testZone)
	b := fixedEd25519Key(t, "1J2B.mx.example.")
	if a.id != b.id {
		t.Errorf("id depends on owner case: %x vs %x", a.id, b.id)
	}
	ksk := *a.DNSKEY
	ksk.Flags = 257
	c, err := NewKey(&ksk, a.Private)
	if err != nil {
		t.Fatal(err)
	}
	if c.id == a.id {
		t.Error("ZSK and KSK of the same key material share a cache id")
	}
}
