package mxsign

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxsign/mxsign/testzones"
)

// policyBlock is a Corefile policy block: the compressed policy with lines appended
// (a later line overrides an earlier one).
func policyBlock(lines ...string) string {
	return "policy {\n" + testzones.FastPolicy + strings.Join(lines, "\n") + "\n        }"
}

// TestReloadPolicy reloads a running server (caddy's Restart, what the reload plugin
// and SIGUSR1 do) through policy changes: the instance, its store and raft node are
// kept, the new policy drives the scheduler and the keys API, the new TTLs are served,
// and the old values are held for their holdover; a csk switch is refused; a policy can
// be removed and set again.
func TestReloadPolicy(t *testing.T) {
	dir := t.TempDir()
	slow := policyBlock("zsk-lifetime 120s", "dnskey-ttl 30s", "max-zone-ttl 40s", "parent-ds-ttl 40s")
	s := startServer(t, dir, 100, slow)
	mx, store, node := s.mx, s.mx.store, s.mx.node
	ctx := context.Background()
	abs, _ := filepath.Abs(dir)

	dnskeyTTL := func() uint32 {
		m := new(dns.Msg)
		m.SetQuestion("mx.example.", dns.TypeDNSKEY)
		m.SetEdns0(1232, true)
		r := s.exchange(t, m, "udp")
		if len(r.Answer) == 0 {
			t.Fatalf("no DNSKEY answer: %v", r)
		}
		return r.Answer[0].Header().Ttl
	}
	if got := dnskeyTTL(); got != 30 {
		t.Fatalf("DNSKEY TTL before the reload: %d, want 30", got)
	}

	tests := []struct {
		name    string
		policy  string // the new Corefile's policy block ("" = none)
		wantErr string
		check   func(t *testing.T, reloaded time.Time)
	}{
		{name: "lower the TTLs: served at once, held for the scheduler", policy: policyBlock(), check: func(t *testing.T, reloaded time.Time) {
			if got := dnskeyTTL(); got != 5 {
				t.Errorf("DNSKEY TTL served after the reload: %d, want 5", got)
			}
			p, holdEnds, managed := mx.policy.effective(time.Now())
			if !managed || p.DNSKEYTTL != 30*time.Second || p.MaxZoneTTL != 40*time.Second || p.ParentDSTTL != 40*time.Second {
				t.Errorf("the scheduler plans with %+v (managed %v), want the old TTLs held", p, managed)
			}
			if p.ZSKLifetime != time.Minute {
				t.Errorf("zsk-lifetime %v, want the new 60s", p.ZSKLifetime)
			}
			// The shortest hold: the old served TTLs (2s + 2m + 40s + 1s).
			if d := holdEnds.Sub(reloaded); d < 163*time.Second || d > 163*time.Second+10*time.Second {
				t.Errorf("hold ends %v after the reload, want about 2m43s", d)
			}
			if l, err := s.api.Keys(ctx, "mx.example."); err != nil || !l.Managed || l.NextStep == nil {
				t.Errorf("keys API after the reload: %+v %v", l, err)
			}
		}},
		{name: "switching to a csk is refused", policy: policyBlock("csk true"), wantErr: "csk changed", check: func(t *testing.T, _ time.Time) {
			if p, _, _ := mx.policy.effective(time.Now()); p.CSK {
				t.Error("the refused policy was installed")
			}
		}},
		{name: "policy removed: keys no longer managed", policy: "", check: func(t *testing.T, _ time.Time) {
			if _, _, managed := mx.policy.effective(time.Now()); managed {
				t.Error("still managed")
			}
			if got := dnskeyTTL(); got != 3600 {
				t.Errorf("DNSKEY TTL without a policy: %d, want the default 3600", got)
			}
			if l, err := s.api.Keys(ctx, "mx.example."); err != nil || l.Managed {
				t.Errorf("keys API without a policy: %+v %v", l, err)
			}
		}},
		{name: "policy set again: what was served unmanaged is held", policy: policyBlock(), check: func(t *testing.T, _ time.Time) {
			p, _, managed := mx.policy.effective(time.Now())
			if !managed || p.DNSKEYTTL != time.Hour || p.Intervals().Dsgn != 9*24*time.Hour {
				t.Errorf("the scheduler plans with dnskey-ttl %v, Dsgn %v (managed %v); want the unmanaged 1h and 9d held",
					p.DNSKEYTTL, p.Intervals().Dsgn, managed)
			}
			if got := dnskeyTTL(); got != 5 {
				t.Errorf("DNSKEY TTL served: %d, want 5", got)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reloaded := time.Now()
			ni, err := s.inst.Restart(caddyInput(corefile(dir, 100, tc.policy)))
			switch {
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("reload: %v, want an error containing %q", err, tc.wantErr)
				}
			case err != nil:
				t.Fatalf("reload: %v", err)
			default:
				s.inst = ni
				srv := ni.Servers()[0]
				s.udp, s.tcp = srv.LocalAddr().String(), srv.Addr().String()
			}
			instances.Lock()
			same := instances.m[abs] == mx
			instances.Unlock()
			if !same || mx.store != store || mx.node != node {
				t.Fatal("the reload replaced the instance, its store or its raft node")
			}
			tc.check(t, reloaded)
		})
	}
}
