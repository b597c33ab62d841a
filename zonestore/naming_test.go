package zonestore

import (
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestNormalizeDomain(t *testing.T) {
	tests := []struct {
		name, in, want string
		err            error
	}{
		{name: "plain", in: "contoso.com", want: "contoso.com"},
		{name: "upper case and trailing dot", in: "Contoso.COM.", want: "contoso.com"},
		{name: "idn", in: "bücher.de", want: "xn--bcher-kva.de"},
		{name: "idn upper", in: "BÜCHER.de", want: "xn--bcher-kva.de"},
		{name: "a-label kept", in: "xn--bcher-kva.de", want: "xn--bcher-kva.de"},
		{name: "hyphen inside", in: "my-shop.co.uk", want: "my-shop.co.uk"},
		{name: "empty", in: "", err: ErrInvalidDomain},
		{name: "only dot", in: ".", err: ErrInvalidDomain},
		{name: "single label", in: "localhost", err: ErrInvalidDomain},
		{name: "wildcard", in: "*.contoso.com", err: ErrInvalidDomain},
		{name: "underscore", in: "_dmarc.contoso.com", err: ErrInvalidDomain},
		{name: "leading hyphen", in: "-a.com", err: ErrInvalidDomain},
		{name: "trailing hyphen", in: "a-.com", err: ErrInvalidDomain},
		{name: "empty label", in: "a..com", err: ErrInvalidDomain},
		{name: "two trailing dots", in: "a.com..", err: ErrInvalidDomain},
		{name: "space", in: "a b.com", err: ErrInvalidDomain},
		{name: "label too long", in: strings.Repeat("a", 64) + ".com", err: ErrInvalidDomain},
		{name: "name too long", in: strings.Repeat(strings.Repeat("a", 60)+".", 5) + "com", err: ErrInvalidDomain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeDomain(tt.in)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("NormalizeDomain(%q) = %q, %v; want error %v", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("NormalizeDomain(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestHostLabel(t *testing.T) {
	long := strings.Repeat("a", 40) + "." + strings.Repeat("b", 30) + ".com" // plain form 76 octets
	tests := []struct {
		name, in, want string
		hashed         bool
	}{
		{name: "plain", in: "contoso.com", want: "contoso-com"},
		{name: "hyphen doubled", in: "my-shop.co.uk", want: "my--shop-co-uk"},
		{name: "idn", in: "bücher.de", want: "xn----bcher--kva-de"},
		{name: "two hyphens", in: "a--b.com", want: "a----b-com"},
		{name: "exactly 63", in: strings.Repeat("a", 59) + ".com", want: strings.Repeat("a", 59) + "-com"},
		{name: "hashed", in: long, hashed: true},
		{name: "hashed cut at hyphen", in: strings.Repeat("a", 45) + "." + strings.Repeat("b", 30) + ".com", hashed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := HostLabel(tt.in)
			if err != nil {
				t.Fatalf("HostLabel(%q): %v", tt.in, err)
			}
			if len(got) > 63 {
				t.Fatalf("HostLabel(%q) = %q: %d octets", tt.in, got, len(got))
			}
			if tt.hashed {
				if !strings.Contains(got, "---") || strings.HasSuffix(strings.Split(got, "---")[0], "-") {
					t.Fatalf("HostLabel(%q) = %q, want a hashed label", tt.in, got)
				}
				if _, err := DomainFromLabel(got); !errors.Is(err, ErrInvalidDomain) {
					t.Fatalf("DomainFromLabel(%q) = %v, want ErrInvalidDomain", got, err)
				}
				return
			}
			if got != tt.want {
				t.Fatalf("HostLabel(%q) = %q, want %q", tt.in, got, tt.want)
			}
			d, _ := NormalizeDomain(tt.in)
			if back, err := DomainFromLabel(got); err != nil || back != d {
				t.Fatalf("DomainFromLabel(%q) = %q, %v; want %q", got, back, err, d)
			}
		})
	}
}

func TestHostLabelHashedDistinct(t *testing.T) {
	a := strings.Repeat("a", 50) + ".example.com"
	b := strings.Repeat("a", 50) + ".example.net"
	la, _ := HostLabel(a)
	lb, _ := HostLabel(b)
	if la == lb {
		t.Fatalf("HostLabel(%q) == HostLabel(%q) == %q", a, b, la)
	}
	if la[:46] != lb[:46] {
		t.Fatalf("prefixes differ: %q %q", la, lb)
	}
}

func TestDomainFromLabelErrors(t *testing.T) {
	for _, label := range []string{"", "contoso", "-contoso-com", "contoso-com-", "a---bcdefgh", "a-----b-com", "a-_-com", strings.Repeat("a", 64)} {
		t.Run(label, func(t *testing.T) {
			if d, err := DomainFromLabel(label); !errors.Is(err, ErrInvalidDomain) {
				t.Fatalf("DomainFromLabel(%q) = %q, %v; want ErrInvalidDomain", label, d, err)
			}
		})
	}
}

// FuzzHostLabel checks that every normalized domain gets a valid label that
// is either reversible or hashed, and that normalization is idempotent.
func FuzzHostLabel(f *testing.F) {
	for _, s := range []string{
		"contoso.com", "bücher.de", "a--b.c-d.e", "xn--bcher-kva.de", "A.B.",
		strings.Repeat("a", 40) + "." + strings.Repeat("b", 30) + ".com", "1.2", "ß.de", "例え.テスト",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		d, err := NormalizeDomain(in)
		if err != nil {
			if !errors.Is(err, ErrInvalidDomain) {
				t.Fatalf("NormalizeDomain(%q): error %v does not wrap ErrInvalidDomain", in, err)
			}
			return
		}
		if d2, err := NormalizeDomain(d); err != nil || d2 != d {
			t.Fatalf("NormalizeDomain not idempotent: %q -> %q -> %q, %v", in, d, d2, err)
		}
		label := hostLabel(d)
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			t.Fatalf("hostLabel(%q) = %q is not a valid label", d, label)
		}
		if err := checkLDH(label + ".x"); err != nil {
			t.Fatalf("hostLabel(%q) = %q: %v", d, label, err)
		}
		back, err := DomainFromLabel(label)
		if len(plainLabel(d)) > 63 {
			if err == nil {
				t.Fatalf("hashed label %q of %q reversed to %q", label, d, back)
			}
			return
		}
		if err != nil || back != d {
			t.Fatalf("DomainFromLabel(hostLabel(%q) = %q) = %q, %v", d, label, back, err)
		}
	})
}

// orderDomains are normalized domains where the plain form's order is easy to
// get wrong: '-' < '.' < digits < letters, doubled hyphens, prefixes.
var orderDomains = []string{
	"a.com", "a-b.com", "a--b.com", "a.b.com", "a.bc", "a0.com", "ab.com", "a-0.com", "a.0.com",
	"a.com.de", "a.co", "xn--bcher-kva.de", "xn--bcher-kva.de.example", "x-y.z", "x.y-z", "x.y.z",
	"0.a", "0-0.a", "z--z--z.a", "a.a-a", "a.a.a", "a.aa",
}

func TestPlainFormOrder(t *testing.T) {
	for _, a := range orderDomains {
		if err := checkLDH(a); err != nil {
			t.Fatalf("test domain %q: %v", a, err)
		}
		p := plainLabel(a)
		if back := domainFromPlain(p); back != a {
			t.Errorf("domainFromPlain(%q) = %q, want %q", p, back, a)
		}
		if plainLen(a) != len(p) {
			t.Errorf("plainLen(%q) = %d, want %d", a, plainLen(a), len(p))
		}
		if got := appendPlain([]byte("x"), []byte(a)); string(got) != "x"+p {
			t.Errorf("appendPlain(x, %q) = %q, want x%q", a, got, p)
		}
		for _, b := range orderDomains {
			if got, want := strings.Compare(p, plainLabel(b)), strings.Compare(a, b); got != want {
				t.Errorf("plain forms of %q and %q compare %d, the domains %d", a, b, got, want)
			}
		}
		// comparePlain against any string, normalized or not.
		for _, x := range append(slices.Clone(orderDomains), "", "a", "a-", "a.", "a-.", "-", ".", "~", "a.-b", "A.COM", a+"\x00") {
			if got, want := comparePlain(p, x), strings.Compare(a, x); got != want {
				t.Errorf("comparePlain(%q, %q) = %d, want %d", p, x, got, want)
			}
		}
	}
}

// FuzzPlainFormOrder checks that plainLabel keeps the order of normalized
// domains and that domainFromPlain and comparePlain reverse it.
func FuzzPlainFormOrder(f *testing.F) {
	for i, a := range orderDomains {
		f.Add(a, orderDomains[(i+1)%len(orderDomains)])
	}
	f.Add(strings.Repeat("a-", 40)+"b.com", strings.Repeat("a-", 40)+"b.co")
	f.Fuzz(func(t *testing.T, a, b string) {
		a, errA := NormalizeDomain(a)
		b, errB := NormalizeDomain(b)
		if errA != nil || errB != nil {
			return
		}
		pa, pb := plainLabel(a), plainLabel(b)
		if got, want := strings.Compare(pa, pb), strings.Compare(a, b); got != want {
			t.Fatalf("plain forms of %q and %q compare %d, the domains %d", a, b, got, want)
		}
		if back := domainFromPlain(pa); back != a {
			t.Fatalf("domainFromPlain(%q) = %q, want %q", pa, back, a)
		}
		if got, want := comparePlain(pa, b), strings.Compare(a, b); got != want {
			t.Fatalf("comparePlain(%q, %q) = %d, want %d", pa, b, got, want)
		}
		if isHashed(a) != (len(pa) > maxLabel) {
			t.Fatalf("isHashed(%q) = %v for a plain form of %d octets", a, isHashed(a), len(pa))
		}
	})
}

// TestHostLabelHash pins the hashed label to its definition: the first 13
// characters of the unpadded lower-case base32 of the whole SHA-256.
func TestHostLabelHash(t *testing.T) {
	for _, d := range []string{
		strings.Repeat("a", 60) + ".example.com",
		strings.Repeat("a-", 30) + "b.example.com",
		strings.Repeat("x", 63) + "." + strings.Repeat("y", 63) + ".com",
	} {
		sum := sha256.Sum256([]byte(d))
		enc := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:]))
		want := strings.TrimRight(plainLabel(d)[:hashedPrefix], "-") + hashedSentinel + enc[:hashedDigest]
		if got := hostLabel(d); got != want {
			t.Errorf("hostLabel(%q) = %q, want %q", d, got, want)
		}
	}
}
