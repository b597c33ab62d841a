package testzones

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDomainsDeterministic(t *testing.T) {
	tests := []struct {
		name string
		seed string
		n    int
	}{
		{name: "small", seed: "e2e", n: 50},
		{name: "bench", seed: "mxbench-v1", n: 5000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Domains(tt.seed, tt.n)
			b := Domains(tt.seed, tt.n)
			if !slices.Equal(a, b) {
				t.Fatal("same seed gave different lists")
			}
			if len(a) != tt.n {
				t.Fatalf("len = %d, want %d", len(a), tt.n)
			}
			if prefix := Domains(tt.seed, tt.n/2); !slices.Equal(prefix, a[:tt.n/2]) {
				t.Error("shorter list is not a prefix of the longer one")
			}
			if other := Domains(tt.seed+"x", tt.n); slices.Equal(other, a) {
				t.Error("different seeds gave the same list")
			}
		})
	}
}

func TestDomainsGolden(t *testing.T) {
	// Pinned so that scripts and recorded benchmark results stay comparable.
	// Regenerate only on purpose.
	got := Domains("golden", 3)
	want := []string{"globexbank.nl", "wingtip-tailspin-bank.us", "initechcapital.com"}
	if !slices.Equal(got, want) {
		t.Errorf("Domains(\"golden\", 3) = %q, want %q", got, want)
	}
}

func TestDomainsEdgeCases(t *testing.T) {
	tests := []struct {
		name string
		n    int
		want int
	}{
		{name: "zero", n: 0, want: 0},
		{name: "negative", n: -1, want: 0},
		{name: "one", n: 1, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := len(Domains("x", tt.n)); got != tt.want {
				t.Errorf("len(Domains(x, %d)) = %d, want %d", tt.n, got, tt.want)
			}
		})
	}
}

func TestDomainsValidAndMixed(t *testing.T) {
	const n = 32000
	ds := Domains("mxbench-v1", n)
	seen := make(map[string]bool, n)
	seenASCII := make(map[string]bool, n)
	var idn, long, hyphen, multi int
	for _, d := range ds {
		if seen[d] {
			t.Fatalf("duplicate %q", d)
		}
		seen[d] = true
		a, err := ToASCII(d)
		if err != nil {
			t.Fatalf("%q: %v", d, err)
		}
		if seenASCII[a] {
			t.Fatalf("duplicate A-label form %q", a)
		}
		seenASCII[a] = true
		if d != strings.ToLower(d) || strings.HasSuffix(d, ".") || strings.Count(d, ".") < 1 {
			t.Fatalf("%q: not a lower-case relative domain name", d)
		}
		switch {
		case !isASCII(d):
			idn++
		case len(d) >= 240:
			long++
		case strings.Count(d, ".") >= 2:
			multi++
		case strings.Contains(d, "-"):
			hyphen++
		}
	}
	// Expected shares (see Kind) with generous slack.
	checks := []struct {
		name     string
		got      int
		min, max float64
	}{
		{name: "idn", got: idn, min: 0.09, max: 0.15},
		{name: "long", got: long, min: 0.02, max: 0.06},
		{name: "multi-label", got: multi, min: 0.10, max: 0.18},
		{name: "hyphenated", got: hyphen, min: 0.15, max: 0.26},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			share := float64(c.got) / n
			if share < c.min || share > c.max {
				t.Errorf("share %.3f outside [%.2f, %.2f]", share, c.min, c.max)
			}
		})
	}
}

func TestLongDomainLength(t *testing.T) {
	r := newRand("long", "test")
	for i := range 2000 {
		d := longDomain(r)
		if len(d) < 240 || len(d) > 253 {
			t.Fatalf("#%d: len(%q) = %d, want 240..253", i, d, len(d))
		}
		if _, err := ToASCII(d); err != nil {
			t.Fatalf("#%d: %v", i, err)
		}
	}
}

func TestTagFirstLabel(t *testing.T) {
	long := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 57) + ".com"
	tests := []struct {
		name, in string
		tag      int
		want     string
	}{
		{name: "short", in: "contoso.com", tag: 7, want: "contoso7.com"},
		{name: "full label", in: long, tag: 12, want: strings.Repeat("a", 61) + "12" + long[63:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tagFirstLabel(tt.in, tt.tag)
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if _, err := ToASCII(got); err != nil {
				t.Error(err)
			}
		})
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func BenchmarkDomains(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Domains("bench", 1000)
	}
}
