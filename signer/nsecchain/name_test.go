package nsecchain

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// canonicalCompare is the canonical order of RFC 4034 §6.1 written from the text,
// independently of the keys: labels compared right to left as lower-cased octet
// strings, a missing label (an ancestor) first.
func canonicalCompare(a, b string) int {
	la, lb := wireLabels(a), wireLabels(b)
	for i := 1; i <= len(la) || i <= len(lb); i++ {
		switch {
		case i > len(la):
			return -1
		case i > len(lb):
			return 1
		}
		if c := bytes.Compare(asciiLower(la[len(la)-i]), asciiLower(lb[len(lb)-i])); c != 0 {
			return c
		}
	}
	return 0
}

// asciiLower lower-cases A-Z only (RFC 4034 §6.2; bytes.ToLower would fold Unicode).
func asciiLower(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

// wireLabels returns the labels of a name as octet strings, escapes resolved.
func wireLabels(name string) [][]byte {
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(dns.Fqdn(name), buf, 0, nil, false)
	if err != nil {
		panic(err)
	}
	var out [][]byte
	for off := 0; buf[off] != 0; off += 1 + int(buf[off]) {
		out = append(out, buf[off+1:off+1+int(buf[off])])
	}
	_ = n
	return out
}

func keyFor(t testing.TB, name, apex string) string {
	t.Helper()
	var b [256]byte
	w, err := packName(name, b[:])
	if err != nil {
		t.Fatal(err)
	}
	k, ok := appendKey(nil, w, dns.CountLabel(apex))
	if !ok {
		t.Fatalf("no key for %s", name)
	}
	return string(k)
}

// TestKeyOrderRFC4034: the example of RFC 4034 §6.1, in its order, sorts the same by
// key, and by the independent comparison.
func TestKeyOrderRFC4034(t *testing.T) {
	names := []string{
		"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.", "zABC.a.EXAMPLE.",
		"z.example.", `\001.z.example.`, "*.z.example.", `\200.z.example.`,
	}
	keys := make([]string, len(names))
	for i, n := range names {
		keys[i] = keyFor(t, n, "example.")
	}
	if !slices.IsSorted(keys) {
		t.Fatalf("keys not in RFC 4034 order: %q", keys)
	}
	for i := 1; i < len(names); i++ {
		if canonicalCompare(names[i-1], names[i]) >= 0 {
			t.Fatalf("reference comparison disagrees at %s, %s", names[i-1], names[i])
		}
	}
}

// TestKeyHelpers: labels, common ancestors, prefixes and the wire form back, on names
// with escapes and zero octets.
func TestKeyHelpers(t *testing.T) {
	const apex = "zone.test."
	tests := []struct {
		a, b   string
		common int
	}{
		{a: "x.zone.test.", b: "y.zone.test.", common: 0},
		{a: "a.x.zone.test.", b: "b.x.zone.test.", common: 1},
		{a: "_25._tcp.h.zone.test.", b: "_tcp.h.zone.test.", common: 2},
		{a: `a\000.zone.test.`, b: "a.zone.test.", common: 0},
		{a: `\000.a.zone.test.`, b: `\000\000.a.zone.test.`, common: 1},
		{a: "zone.test.", b: "q.zone.test.", common: 0},
		{a: "A.B.zone.test.", b: "c.b.zone.test.", common: 1},
	}
	for _, tc := range tests {
		ka, kb := keyFor(t, tc.a, apex), keyFor(t, tc.b, apex)
		if got := commonLabels(ka, kb); got != tc.common {
			t.Errorf("commonLabels(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.common)
		}
		if got := keyLabels(ka); got != dns.CountLabel(tc.a)-2 {
			t.Errorf("keyLabels(%s) = %d", tc.a, got)
		}
		if p := keyPrefix(ka, tc.common); p != keyPrefix(kb, tc.common) || keyLabels(p) != tc.common {
			t.Errorf("keyPrefix(%s, %d) = %q, of %s %q", tc.a, tc.common, p, tc.b, keyPrefix(kb, tc.common))
		}
		w := appendWire(nil, ka)
		w = append(w, wireOf(t, apex)...)
		back, _, err := dns.UnpackDomainName(w, 0)
		if err != nil || !strings.EqualFold(back, tc.a) {
			t.Errorf("appendWire(key(%s)) = %q, %v", tc.a, back, err)
		}
		if c := strings.Compare(ka, kb); sign(c) != sign(canonicalCompare(tc.a, tc.b)) {
			t.Errorf("keys of %s, %s compare %d, the RFC order %d", tc.a, tc.b, c, canonicalCompare(tc.a, tc.b))
		}
	}
}

func wireOf(t testing.TB, name string) []byte {
	t.Helper()
	var b [256]byte
	w, err := packName(name, b[:])
	if err != nil {
		t.Fatal(err)
	}
	return slices.Clone(w)
}

func sign(c int) int {
	switch {
	case c < 0:
		return -1
	case c > 0:
		return 1
	}
	return 0
}
