package signer

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/miekg/dns"
)

// rfcKey builds a Key from an RFC example DNSKEY and its BIND private key.
func rfcKey(t *testing.T, dnskey, private string) *Key {
	t.Helper()
	dk := mustRR(t, dnskey).(*dns.DNSKEY)
	p, err := dk.NewPrivateKey(private)
	if err != nil {
		t.Fatal(err)
	}
	var k *Key
	switch p := p.(type) {
	case *ecdsa.PrivateKey:
		k, err = NewKey(dk, p)
	case ed25519.PrivateKey:
		k, err = NewKey(dk, p)
	default:
		t.Fatalf("key type %T", p)
	}
	if err != nil {
		t.Fatalf("NewKey: %v", err)
	}
	return k
}

// signFixed signs rrset through the same path as Sign, with fixed times.
func signFixed(t *testing.T, k *Key, rrset []dns.RR, inception, expiration string) *dns.RRSIG {
	t.Helper()
	inc, err := dns.StringToTime(inception)
	if err != nil {
		t.Fatal(err)
	}
	exp, err := dns.StringToTime(expiration)
	if err != nil {
		t.Fatal(err)
	}
	sc := &scratch{}
	off, err := sc.canonicalize(rrset, k.id, rrset[0].Header().Ttl)
	if err != nil {
		t.Fatal(err)
	}
	canon := sc.key[off:]
	f := sigFields{typeCovered: rrset[0].Header().Rrtype, labels: labelCount(canon),
		origTTL: rrset[0].Header().Ttl, expiration: exp, inception: inc}
	b64, _, err := signCanonical(k, f, canon, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := rrset[0].Header()
	return &dns.RRSIG{
		Hdr:         dns.RR_Header{Name: h.Name, Rrtype: dns.TypeRRSIG, Class: h.Class, Ttl: h.Ttl},
		TypeCovered: h.Rrtype, Algorithm: k.DNSKEY.Algorithm, Labels: f.labels, OrigTtl: h.Ttl,
		Expiration: exp, Inception: inc, KeyTag: k.Tag, SignerName: k.signerName, Signature: b64,
	}
}

// TestRFC8080Vectors reproduces the RFC 8080 §6 examples exactly (Ed25519 is
// deterministic) and checks their DS records.
func TestRFC8080Vectors(t *testing.T) {
	const (
		dnskey = `example.com. 3600 IN DNSKEY 257 3 15 l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=`
		priv   = "Private-key-format: v1.2\nAlgorithm: 15 (ED25519)\nPrivateKey: ODIyNjAzODQ2MjgwODAxMjI2NDUxOTAyMDQxNDIyNjI=\n"
		ds     = `example.com. 3600 IN DS 3613 15 2 3aa5ab37efce57f737fc1627013fee07bdf241bd10f3b1964ab55c78e79a304b`
	)
	tests := []struct {
		name  string
		rr    string
		rrsig string
	}{
		{
			name:  "example 1",
			rr:    `example.com. 3600 IN MX 10 mail.example.com.`,
			rrsig: `example.com. 3600 IN RRSIG MX 15 2 3600 1440021600 1438207200 3613 example.com. oL9krJun7xfBOIWcGHi7mag5/hdZrKWw15jPGrHpjQeRAvTdszaPD+QLs3fx8A4M3e23mRZ9VrbpMngwcrqNAg==`,
		},
		{
			name:  "example 1, 0x20 owner and MX target",
			rr:    `EXAMPLE.com. 3600 IN MX 10 Mail.Example.COM.`,
			rrsig: `EXAMPLE.com. 3600 IN RRSIG MX 15 2 3600 1440021600 1438207200 3613 example.com. oL9krJun7xfBOIWcGHi7mag5/hdZrKWw15jPGrHpjQeRAvTdszaPD+QLs3fx8A4M3e23mRZ9VrbpMngwcrqNAg==`,
		},
	}
	k := rfcKey(t, dnskey, priv)
	if got, want := DS(k.DNSKEY, 3600), mustRR(t, ds).(*dns.DS); got.String() != want.String() {
		t.Errorf("DS = %v, want %v", got, want)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := mustRR(t, tc.rrsig).(*dns.RRSIG)
			set := rrs(t, tc.rr)
			got := signFixed(t, k, set, "20150729220000", "20150819220000")
			if got.String() != want.String() {
				t.Errorf("RRSIG\n got %v\nwant %v", got, want)
			}
			if err := got.Verify(k.DNSKEY, set); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

// TestRFC6605Vector checks the RFC 6605 §6.1 P-256 example: the DS matches,
// the published RRSIG verifies, and ours (the RFC's was made with a random
// nonce, ours with RFC 6979's) has the same fields and verifies.
func TestRFC6605Vector(t *testing.T) {
	k := rfcKey(t, `example.net. 3600 IN DNSKEY 257 3 13 GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==`,
		"Private-key-format: v1.2\nAlgorithm: 13 (ECDSAP256SHA256)\nPrivateKey: GU6SnQ/Ou+xC5RumuIUIuJZteXT2z0O/ok1s38Et6mQ=\n")
	wantDS := mustRR(t, `example.net. 3600 IN DS 55648 13 2 b4c8c1fe2e7477127b27115656ad6256f424625bf5c1e2770ce6d6e37df61d17`).(*dns.DS)
	if got := DS(k.DNSKEY, 3600); got.String() != wantDS.String() {
		t.Errorf("DS = %v, want %v", got, wantDS)
	}
	set := rrs(t, `www.example.net. 3600 IN A 192.0.2.1`)
	spec := mustRR(t, `www.example.net. 3600 IN RRSIG A 13 3 3600 20100909100439 20100812100439 55648 example.net. qx6wLYqmh+l9oCKTN6qIc+bw6ya+KJ8oMz0YP107epXAyGmt+3SNruPFKG7tZoLBLlUzGGus7ZwmwWep666VCw==`).(*dns.RRSIG)
	if err := spec.Verify(k.DNSKEY, set); err != nil {
		t.Fatalf("spec RRSIG does not verify: %v", err)
	}
	got := signFixed(t, k, set, "20100812100439", "20100909100439")
	if err := got.Verify(k.DNSKEY, set); err != nil {
		t.Errorf("our RRSIG does not verify: %v", err)
	}
	if sig, _ := base64.StdEncoding.DecodeString(got.Signature); len(sig) != 64 {
		t.Errorf("signature is %d octets, want 64 (r | s)", len(sig))
	}
	got.Signature, spec.Signature = "", ""
	if got.String() != spec.String() {
		t.Errorf("RRSIG fields\n got %v\nwant %v", got, spec)
	}
}

func TestECDSARaw(t *testing.T) {
	r32 := bytes.Repeat([]byte{0x7f}, 32)
	tests := []struct {
		name string
		der  []byte
		want []byte
		err  bool
	}{
		{name: "short ints are padded", der: []byte{0x30, 6, 2, 1, 5, 2, 1, 6},
			want: append(append(make([]byte, 31), 5), append(make([]byte, 31), 6)...)},
		{name: "leading zero stripped", der: append(append([]byte{0x30, 70, 2, 33, 0}, r32...), append([]byte{2, 33, 0}, r32...)...),
			want: append(append([]byte{}, r32...), r32...)},
		{name: "long-form length", der: []byte{0x30, 0x81, 6, 2, 1, 5, 2, 1, 6},
			want: append(append(make([]byte, 31), 5), append(make([]byte, 31), 6)...)},
		{name: "too long integer", der: append(append([]byte{0x30, 70, 2, 33, 1}, r32...), append([]byte{2, 33, 0}, r32...)...), err: true},
		{name: "not a sequence", der: []byte{0x31, 6, 2, 1, 5, 2, 1, 6}, err: true},
		{name: "truncated", der: []byte{0x30, 6, 2, 1, 5, 2}, err: true},
		{name: "trailing data", der: []byte{0x30, 6, 2, 1, 5, 2, 1, 6, 0}, err: true},
		{name: "one integer", der: []byte{0x30, 3, 2, 1, 5}, err: true},
		{name: "empty", der: nil, err: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ecdsaRaw(tc.der, nil, 32)
			if tc.err {
				if !errors.Is(err, errECDSASignature) {
					t.Fatalf("err = %v, want errECDSASignature", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("got %x\nwant %x", got, tc.want)
			}
		})
	}
}
