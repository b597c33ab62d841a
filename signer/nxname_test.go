package signer

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// rdata returns the RDATA of rr packed uncompressed.
func rdata(tb testing.TB, rr dns.RR) []byte {
	tb.Helper()
	buf := make([]byte, 1024)
	off, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		tb.Fatalf("PackRR(%v): %v", rr, err)
	}
	_, end, err := dns.UnpackDomainName(buf, 0)
	if err != nil {
		tb.Fatal(err)
	}
	return buf[end+10 : off]
}

// wireName packs a presentation name.
func wireName(tb testing.TB, name string) []byte {
	tb.Helper()
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(name, buf, 0, nil, false)
	if err != nil {
		tb.Fatalf("PackDomainName(%q): %v", name, err)
	}
	return buf[:n]
}

// lowerWire returns a copy of the wire name w lower-cased as RFC 4034 §6.2 says:
// A-Z only.
func lowerWire(tb testing.TB, w []byte) []byte {
	tb.Helper()
	c := bytes.Clone(w)
	if _, err := lowerName(c, 0); err != nil {
		tb.Fatal(err)
	}
	return c
}

// checkNXNAMEMatches signs the compact-denial NSEC of owner both ways, the wire path
// (AppendNXNAMEData, SignNXNAME) and the record path (CompactNSEC, SignTransient), and
// fails unless they give the same bytes, the signature verifies, and each counts one
// signature.
func checkNXNAMEMatches(t *testing.T, s *Signer, k *Key, owner string, now time.Time) {
	t.Helper()
	const ttl = 60
	nsec := CompactNSEC(owner, ttl, nil, dns.TypeA, true)
	before := s.Stats()
	sig, err := s.SignTransient([]dns.RR{nsec}, k, testZone, now)
	if err != nil {
		t.Fatalf("SignTransient: %v", err)
	}
	if err := sig.Verify(k.DNSKEY, []dns.RR{nsec}); err != nil {
		t.Fatalf("record path signature does not verify: %v", err)
	}
	ow := wireName(t, owner)
	if got, want := AppendNXNAMEData(nil, lowerWire(t, ow)), rdata(t, nsec); !bytes.Equal(got, want) {
		t.Fatalf("NSEC RDATA\n%x\nwant\n%x", got, want)
	}
	mid := s.Stats()
	got, err := s.SignNXNAME([]byte("prefix"), ow, ttl, k, testZone, now)
	if err != nil {
		t.Fatalf("SignNXNAME: %v", err)
	}
	if !bytes.HasPrefix(got, []byte("prefix")) {
		t.Fatal("SignNXNAME did not append to dst")
	}
	if want := rdata(t, sig); !bytes.Equal(got[len("prefix"):], want) {
		t.Fatalf("RRSIG RDATA\n%x\nwant\n%x", got[len("prefix"):], want)
	}
	after := s.Stats()
	if mid.Signatures-before.Signatures != 1 || after.Signatures-mid.Signatures != 1 || after.Entries != before.Entries {
		t.Fatalf("stats %+v -> %+v -> %+v: want one signature each, nothing cached", before, mid, after)
	}
}

// TestSignNXNAMEMatchesRecords: the wire path makes, byte for byte, the NSEC and RRSIG
// RDATA that the record path makes, for owners in any case and with escapes, up to the
// longest owner it takes.
func TestSignNXNAMEMatchesRecords(t *testing.T) {
	long := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 43) + "." + testZone
	if n := len(wireName(t, long)); n != MaxNXNAMEOwner {
		t.Fatalf("long owner has %d octets, want %d", n, MaxNXNAMEOwner)
	}
	owners := []string{
		"nope." + testZone,
		"NoPe.X7Q." + strings.ToUpper(testZone),
		`a\.b\000\255.` + testZone,
		"*.wild." + testZone,
		long,
	}
	for _, a := range algs {
		k := testKey(t, testZone, a.alg, false)
		s := New(Options{})
		for _, owner := range owners {
			t.Run(a.name+"/"+owner, func(t *testing.T) {
				checkNXNAMEMatches(t, s, k, owner, t0)
			})
		}
	}
}

func TestSignNXNAMEErrors(t *testing.T) {
	k := testKey(t, testZone, dns.ED25519, false)
	other := testKey(t, "other.example.", dns.ED25519, false)
	tooLong := wireName(t, strings.Repeat("a", 63)+"."+strings.Repeat("b", 63)+"."+strings.Repeat("c", 63)+"."+strings.Repeat("d", 44)+"."+testZone)
	tests := []struct {
		name  string
		owner []byte
		k     *Key
		zone  string
		want  error
	}{
		{name: "owner too long for \\000", owner: tooLong, k: k, zone: testZone, want: ErrRRset},
		{name: "owner outside the zone", owner: wireName(t, "nope.other.example."), k: k, zone: testZone, want: ErrZone},
		{name: "key of another zone", owner: wireName(t, "nope."+testZone), k: other, zone: testZone, want: ErrKey},
		{name: "nil key", owner: wireName(t, "nope."+testZone), zone: testZone, want: ErrKey},
		{name: "not a wire name", owner: []byte{5, 'a', 'b'}, k: k, zone: testZone, want: ErrRRset},
		{name: "trailing octets", owner: append(wireName(t, "nope."+testZone), 1), k: k, zone: testZone, want: ErrRRset},
	}
	s := New(Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte{1, 2, 3}
			got, err := s.SignNXNAME(dst, tc.owner, 60, tc.k, tc.zone, t0)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !bytes.Equal(got, dst) {
				t.Fatalf("dst changed on error: %x", got)
			}
		})
	}
	if st := s.Stats(); st.Signatures != 0 {
		t.Fatalf("%d signatures counted for failures", st.Signatures)
	}
}

// TestECDSARFC6979 checks that ECDSA signatures are the deterministic ones of RFC 6979
// with the vector of its appendix A.2.5 (P-256, SHA-256, message "sample"), and that
// they verify: no entropy is read, and distinct data get distinct nonces.
func TestECDSARFC6979(t *testing.T) {
	d, _ := new(big.Int).SetString("C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721", 16)
	priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d.FillBytes(make([]byte, 32)))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := publicKeyBytes(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	dk := &dns.DNSKEY{Hdr: dns.RR_Header{Name: testZone, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
		Flags: dns.ZONE, Protocol: 3, Algorithm: dns.ECDSAP256SHA256, PublicKey: base64.StdEncoding.EncodeToString(pub)}
	k, err := NewKey(dk, priv)
	if err != nil {
		t.Fatal(err)
	}
	got, err := appendSignature(nil, k, []byte("sample"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := hex.DecodeString("EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716" +
		"F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8")
	if !bytes.Equal(got, want) {
		t.Fatalf("signature of \"sample\"\n%X\nwant RFC 6979 A.2.5\n%X", got, want)
	}
	other, err := appendSignature(nil, k, []byte("test"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(other[:32], got[:32]) {
		t.Fatal("two messages signed with the same r: nonce reused")
	}
}

// FuzzSignNXNAME: for any owner name in the zone short enough for the \000 successor,
// the wire path equals the record path; for any other bytes it fails cleanly.
func FuzzSignNXNAME(f *testing.F) {
	f.Add([]byte("nope"), []byte("X7q"))
	f.Add([]byte("*"), []byte{})
	f.Add([]byte{0, '.', 0xff}, []byte("A-b_C"))
	f.Add([]byte(strings.Repeat("z", 63)), []byte(strings.Repeat("Y", 63)))
	k := fixedEd25519Key(f, testZone)
	s := New(Options{CacheSize: 128})
	f.Fuzz(func(t *testing.T, l1, l2 []byte) {
		owner := make([]byte, 0, 256)
		for _, l := range [][]byte{l1, l2} {
			if len(l) > 0 {
				owner = append(owner, byte(len(l)))
				owner = append(owner, l...)
			}
		}
		owner = append(owner, wireName(t, testZone)...)
		if len(owner) > MaxNXNAMEOwner || len(l1) > 63 || len(l2) > 63 {
			if _, err := s.SignNXNAME(nil, owner, 60, k, testZone, t0); err == nil && len(owner) > MaxNXNAMEOwner {
				t.Fatalf("owner of %d octets signed", len(owner))
			}
			return
		}
		name, _, err := dns.UnpackDomainName(owner, 0)
		if err != nil {
			t.Fatalf("owner %x does not unpack: %v", owner, err)
		}
		checkNXNAMEMatches(t, s, k, name, t0)
	})
}

// TestNXNAMEBitmap: the constant bitmap is miekg's packing of {RRSIG, NSEC, NXNAME}.
func TestNXNAMEBitmap(t *testing.T) {
	rd := rdata(t, CompactNSEC("x.", 60, nil, 0, true))
	if _, off, err := dns.UnpackDomainName(rd, 0); err != nil || !bytes.Equal(rd[off:], nxnameBitmap[:]) {
		t.Fatalf("bitmap %x (%v), want %x", rd, err, nxnameBitmap)
	}
}
