package mxsign

import (
	"strings"
	"testing"
	"time"

	"github.com/mxsign/mxsign/signer"
	"github.com/mxsign/mxsign/signer/keymgr"
	"github.com/mxsign/mxsign/testzones"
	"github.com/mxsign/mxsign/zonestore"
)

// servedBy is the zone settings a config with policy p would have the store serve.
func servedBy(p *keymgr.Policy) (zonestore.Config, zonestore.Profile, signer.Options) {
	cfg := &config{Zone: zonestore.Config{}.WithDefaults(), Profile: zonestore.Profile{TTL: defaultHostTTL}, Policy: p}
	if p != nil {
		applyPolicy(cfg)
	}
	return cfg.Zone, cfg.Profile, cfg.Signer
}

func TestPolicyState(t *testing.T) {
	fast, err := keymgr.ParsePolicy(strings.NewReader(testzones.FastPolicy)) // TTLs 5s
	if err != nil {
		t.Fatal(err)
	}
	slow := fast // TTLs of 30-40s, longer delays
	slow.DNSKEYTTL, slow.MaxZoneTTL, slow.ParentDSTTL = 30*time.Second, 40*time.Second, 30*time.Second
	slow.PropagationDelay = 5 * time.Second
	longerZSK := fast
	longerZSK.ZSKLifetime = 2 * time.Hour
	t0 := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	sec := time.Second

	tests := []struct {
		name string
		run  func(t *testing.T) *policyState
		at   time.Duration // when effective is asked, after t0
		// want: the effective policy's TTLs and delay, or unmanaged.
		unmanaged                  bool
		dnskey, maxTTL, dprp, dsgn time.Duration
		holdEnds                   time.Duration // 0: nothing held
	}{
		{name: "steady", run: func(t *testing.T) *policyState {
			s := newPolicyState(&fast, signer.Options{})
			servePolicy(s, t0, &fast)
			return s
		}, at: time.Hour, dnskey: 5 * sec, maxTTL: 5 * sec, dprp: 2 * sec, dsgn: 2 * time.Minute},
		{name: "the store serves longer TTLs than the policy says", run: func(t *testing.T) *policyState {
			s := newPolicyState(&fast, signer.Options{})
			servePolicy(s, t0, nil) // another member's settings, no cap: 3600s
			return s
		}, at: time.Hour, dnskey: 3600 * sec, maxTTL: 3600 * sec, dprp: 2 * sec, dsgn: 2 * time.Minute},
		// Two holds: the reload's (slow, 2m46s) and the served TTLs' (fast with the
		// old TTLs: 2s + 2m + 40s + 1s); effective reports the earlier end.
		{name: "reload lowers the values: held", run: reloadTo(t0, &slow, &fast), at: 10 * sec,
			dnskey: 30 * sec, maxTTL: 40 * sec, dprp: 5 * sec, dsgn: 2 * time.Minute, holdEnds: 163 * sec},
		{name: "reload lowers the values: hold over", run: reloadTo(t0, &slow, &fast), at: slow.Holdover(),
			dnskey: 5 * sec, maxTTL: 5 * sec, dprp: 2 * sec, dsgn: 2 * time.Minute},
		{name: "reload raises the values: nothing to hold", run: reloadTo(t0, &fast, &slow), at: 10 * sec,
			dnskey: 30 * sec, maxTTL: 40 * sec, dprp: 5 * sec, dsgn: 2 * time.Minute},
		{name: "reload changes a lifetime only: nothing to hold", run: reloadTo(t0, &fast, &longerZSK), at: 10 * sec,
			dnskey: 5 * sec, maxTTL: 5 * sec, dprp: 2 * sec, dsgn: 2 * time.Minute},
		{name: "the served TTLs drop later (proposed by the leader after the reload)", run: func(t *testing.T) *policyState {
			s := newPolicyState(&slow, signer.Options{})
			servePolicy(s, t0.Add(-time.Hour), &slow)
			_, _, sig := servedBy(&fast)
			s.set(t0, &fast, sig)
			// The reload's hold is over by the time the lower TTLs are served: the
			// old served TTLs hold from then on.
			servePolicy(s, t0.Add(time.Hour), &fast)
			return s
		}, at: time.Hour + 10*sec, dnskey: 30 * sec, maxTTL: 40 * sec, dprp: 2 * sec, dsgn: 2 * time.Minute, holdEnds: time.Hour + 163*sec},
		{name: "policy turned on: what was served unmanaged is held", run: reloadTo(t0, nil, &fast), at: time.Minute,
			dnskey: 3600 * sec, maxTTL: 3600 * sec, dprp: 2 * sec, dsgn: 9 * 24 * time.Hour,
			holdEnds: 2*sec + 2*time.Minute + 3600*sec + sec},
		// The unmanaged state is held as a whole for its holdover, which the old
		// signer's reuse (14d - 5d) makes long: conservative, never short.
		{name: "policy turned on: held as long as the old signer's reuse", run: reloadTo(t0, nil, &fast), at: 2 * time.Hour,
			dnskey: 3600 * sec, maxTTL: 3600 * sec, dprp: 2 * sec, dsgn: 9 * 24 * time.Hour,
			holdEnds: 2*sec + 9*24*time.Hour + 3600*sec + sec},
		{name: "policy turned off", run: reloadTo(t0, &fast, nil), at: time.Minute, unmanaged: true},
		{name: "unchanged reload holds nothing", run: reloadTo(t0, &fast, &fast), at: 10 * sec,
			dnskey: 5 * sec, maxTTL: 5 * sec, dprp: 2 * sec, dsgn: 2 * time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.run(t)
			p, holdEnds, managed := s.effective(t0.Add(tc.at))
			if managed == tc.unmanaged {
				t.Fatalf("managed = %v", managed)
			}
			if tc.unmanaged {
				return
			}
			iv := p.Intervals()
			if p.DNSKEYTTL != tc.dnskey || p.MaxZoneTTL != tc.maxTTL || p.PropagationDelay != tc.dprp || iv.Dsgn != tc.dsgn {
				t.Fatalf("effective dnskey-ttl %v max-zone-ttl %v propagation-delay %v Dsgn %v; want %v %v %v %v",
					p.DNSKEYTTL, p.MaxZoneTTL, p.PropagationDelay, iv.Dsgn, tc.dnskey, tc.maxTTL, tc.dprp, tc.dsgn)
			}
			want := time.Time{}
			if tc.holdEnds != 0 {
				want = t0.Add(tc.holdEnds)
			}
			if !holdEnds.Equal(want) {
				t.Fatalf("hold ends %v, want %v", holdEnds, want)
			}
		})
	}
}

// reloadTo runs an instance on policy from (nil: unmanaged), serving its settings,
// and reloads it at t0 to policy to, the way acquire does: the policy first, then the
// new settings are served.
func reloadTo(t0 time.Time, from, to *keymgr.Policy) func(t *testing.T) *policyState {
	return func(t *testing.T) *policyState {
		_, _, sig := servedBy(from)
		s := newPolicyState(from, sig)
		servePolicy(s, t0.Add(-time.Hour), from)
		_, _, sig = servedBy(to)
		s.set(t0, to, sig)
		servePolicy(s, t0, to)
		return s
	}
}

// serve has s observe, at at, the settings policy p puts in the store.
func servePolicy(s *policyState, at time.Time, p *keymgr.Policy) {
	zc, prof, _ := servedBy(p)
	s.observe(at, zc, prof)
}
