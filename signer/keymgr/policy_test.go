package keymgr

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// aggressive is the compressed real-time policy of the end-to-end run.
func aggressive() Policy {
	return Policy{
		Algorithm:   13,
		ZSKLifetime: 60 * time.Second, KSKLifetime: 180 * time.Second,
		DNSKEYTTL: 5 * time.Second, MaxZoneTTL: 5 * time.Second,
		PropagationDelay: 2 * time.Second,
		ParentDSTTL:      5 * time.Second, ParentPropagationDelay: 2 * time.Second,
		PublishSafety: time.Second, RetireSafety: time.Second,
		SignatureValidity: 10 * time.Minute, SignatureRefresh: 8 * time.Minute,
	}
}

func TestValidate(t *testing.T) {
	mod := func(f func(*Policy)) Policy { p := DefaultPolicy(); f(&p); return p }
	tests := []struct {
		name    string
		p       Policy
		wantErr string // substring; empty = valid
	}{
		{name: "default", p: DefaultPolicy()},
		{name: "aggressive", p: aggressive()},
		{name: "ed25519 csk", p: mod(func(p *Policy) { p.Algorithm = 15; p.CSK = true })},
		{name: "bad algorithm", p: mod(func(p *Policy) { p.Algorithm = 8 }), wantErr: "algorithm 8"},
		{name: "zsk shorter than Ipub", p: mod(func(p *Policy) { p.ZSKLifetime = 2 * time.Hour }), wantErr: "zsk-lifetime 2h is shorter than Ipub = 2h5m (propagation-delay 5m + dnskey-ttl 1h + publish-safety 1h)"},
		{name: "ksk shorter than IpubC+IpubP", p: mod(func(p *Policy) { p.KSKLifetime = 24 * time.Hour }), wantErr: "ksk-lifetime 1d is shorter than IpubC+IpubP = 1d4h5m"},
		{name: "csk shorter than IpubC+IpubP", p: mod(func(p *Policy) { p.CSK = true; p.ZSKLifetime = 3 * time.Hour }), wantErr: "of a csk is shorter"},
		{name: "zero dnskey ttl", p: mod(func(p *Policy) { p.DNSKEYTTL = 0 }), wantErr: "dnskey-ttl 0s must be at least 1s"},
		{name: "negative safety", p: mod(func(p *Policy) { p.RetireSafety = -time.Second }), wantErr: "retire-safety"},
		{name: "dnskey ttl above max", p: mod(func(p *Policy) { p.DNSKEYTTL = 48 * time.Hour }), wantErr: "longer than max-zone-ttl"},
		{name: "refresh not below validity", p: mod(func(p *Policy) { p.SignatureRefresh = p.SignatureValidity }), wantErr: "must be shorter than signature-validity"},
		{name: "refresh below max ttl", p: mod(func(p *Policy) { p.SignatureRefresh = time.Hour }), wantErr: "longer than max-zone-ttl"},
		{name: "cache age above validity", p: mod(func(p *Policy) { p.SignatureCacheMaxAge = 15 * 24 * time.Hour }), wantErr: "signature-cache-max-age"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidPolicy) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate() = %v, want ErrInvalidPolicy containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestIntervals(t *testing.T) {
	tests := []struct {
		name string
		p    Policy
		want Intervals
	}{
		{name: "default", p: DefaultPolicy(), want: Intervals{
			Dsgn: 9 * 24 * time.Hour,
			Ipub: 2*time.Hour + 5*time.Minute, Iret: 10*24*time.Hour + time.Hour + 5*time.Minute,
			IpubC: 2*time.Hour + 5*time.Minute, IpubP: 26 * time.Hour,
			IretDS: 2*time.Hour + 5*time.Minute, IretKSK: 26 * time.Hour,
			IretCSK: 9*24*time.Hour + 2*time.Hour + 5*time.Minute,
			IsigAlg: 10*24*time.Hour + time.Hour + 5*time.Minute, IremAlg: 2*time.Hour + 5*time.Minute,
		}},
		{name: "aggressive", p: aggressive(), want: Intervals{
			Dsgn: 2 * time.Minute, Ipub: 8 * time.Second, Iret: 128 * time.Second,
			IpubC: 8 * time.Second, IpubP: 8 * time.Second, IretDS: 8 * time.Second, IretKSK: 8 * time.Second,
			IretCSK: 128 * time.Second, IsigAlg: 128 * time.Second, IremAlg: 8 * time.Second,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.Intervals(); got != tc.want {
				t.Fatalf("Intervals() =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}
