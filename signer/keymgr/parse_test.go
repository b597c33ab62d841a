package keymgr

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParsePolicy(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    func(*Policy)
		wantErr error
	}{
		{name: "empty is default", in: "", want: func(*Policy) {}},
		{name: "corefile block", in: "policy {\n  algorithm ed25519 # modern\n  zsk-lifetime 60d\n  ksk-lifetime 1w\n}\n",
			want: func(p *Policy) {
				p.Algorithm = 15
				p.ZSKLifetime = 60 * 24 * time.Hour
				p.KSKLifetime = 7 * 24 * time.Hour
			}},
		{name: "aggressive", in: `algorithm 13
dnskey-ttl 5s
max-zone-ttl 5s
propagation-delay 2s
zsk-lifetime 60s
ksk-lifetime 180s
parent-ds-ttl 5s
parent-propagation-delay 2s
publish-safety 1s
retire-safety 1s
signature-validity 10m
signature-refresh 8m
`, want: func(p *Policy) { *p = aggressive() }},
		{name: "mixed units and csk", in: "csk true\nzsk-lifetime 1d12h\nsignature-cache-max-age 90s", want: func(p *Policy) {
			p.CSK = true
			p.ZSKLifetime = 36 * time.Hour
			p.SignatureCacheMaxAge = 90 * time.Second
		}},
		{name: "unknown key", in: "zsk-life 30d", wantErr: ErrParse},
		{name: "missing value", in: "zsk-lifetime", wantErr: ErrParse},
		{name: "bad duration", in: "zsk-lifetime 30x", wantErr: ErrParse},
		{name: "bad algorithm", in: "algorithm rsasha1", wantErr: ErrParse},
		{name: "invalid policy", in: "zsk-lifetime 1h", wantErr: ErrInvalidPolicy},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePolicy(strings.NewReader(tc.in))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("ParsePolicy() error = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePolicy() error = %v", err)
			}
			want := DefaultPolicy()
			tc.want(&want)
			if got != want {
				t.Fatalf("ParsePolicy() =\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true}, {"90s", 90 * time.Second, true}, {"30d", 30 * 24 * time.Hour, true},
		{"1h30m", 90 * time.Minute, true}, {"2w", 14 * 24 * time.Hour, true}, {"500ms", 500 * time.Millisecond, true},
		{"", 0, false}, {"-1h", 0, false}, {"1", 0, false}, {"h", 0, false}, {"1y", 0, false},
		{"99999999999999999999d", 0, false}, {"200000d", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseDuration(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("ParseDuration(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
			}
		})
	}
}

func FuzzParsePolicy(f *testing.F) {
	for _, s := range []string{"", "policy {\nalgorithm 15\n}", "zsk-lifetime 30d # c", "dnskey-ttl 1h\nmax-zone-ttl 1d", "ksk-lifetime 1d12h30m5s", "a b c", "signature-refresh 99999999999w"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		p, err := ParsePolicy(strings.NewReader(in))
		if err != nil {
			if !errors.Is(err, ErrParse) && !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("error %v is neither ErrParse nor ErrInvalidPolicy", err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("ParsePolicy returned a policy Validate refuses: %v", err)
		}
	})
}
