package keymgr

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestHoldover(t *testing.T) {
	p := aggressive() // Dprp 2s, Dsgn 2m, TTLsig 5s; DprpP 2s, TTLds 5s; safeties 1s
	if got, want := p.Holdover(), 2*time.Second+2*time.Minute+5*time.Second+time.Second; got != want {
		t.Fatalf("aggressive Holdover = %v, want %v", got, want)
	}
	p.ParentDSTTL = time.Hour // the DS outlives the zone's signatures
	if got, want := p.Holdover(), 2*time.Second+time.Hour+time.Second; got != want {
		t.Fatalf("Holdover with a 1h DS TTL = %v, want %v", got, want)
	}
	d := DefaultPolicy() // 5m + 9d + 1d vs 1h + 1d, + 1h
	if got, want := d.Holdover(), 5*time.Minute+9*24*time.Hour+24*time.Hour+time.Hour; got != want {
		t.Fatalf("default Holdover = %v, want %v", got, want)
	}
}

func TestEffective(t *testing.T) {
	long := DefaultPolicy()
	short := aggressive()
	short.ZSKLifetime = 7 * 24 * time.Hour
	at := t0
	ch := []PolicyChange{Switched(long, at)}
	tests := []struct {
		name    string
		now     time.Time
		changes []PolicyChange
		want    func(Policy) Policy
	}{
		{name: "no change", now: at, want: func(p Policy) Policy { return p }},
		{name: "held: every wait at least the old one", now: at.Add(time.Hour), changes: ch, want: func(p Policy) Policy {
			p.DNSKEYTTL, p.MaxZoneTTL, p.PropagationDelay = long.DNSKEYTTL, long.MaxZoneTTL, long.PropagationDelay
			p.ParentDSTTL, p.ParentPropagationDelay = long.ParentDSTTL, long.ParentPropagationDelay
			p.PublishSafety, p.RetireSafety = long.PublishSafety, long.RetireSafety
			p.SignatureCacheMaxAge = long.SignatureValidity - long.SignatureRefresh
			return p
		}},
		{name: "just before the end of the hold", now: ch[0].Until.Add(-time.Nanosecond), changes: ch, want: func(p Policy) Policy {
			return Effective(at, p, ch)
		}},
		{name: "hold over", now: ch[0].Until, changes: ch, want: func(p Policy) Policy { return p }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Effective(tc.now, short, tc.changes)
			if want := tc.want(short); got != want {
				t.Fatalf("Effective:\n got %+v\nwant %+v", got, want)
			}
			// Lifetimes and algorithm always come from the new policy.
			if got.ZSKLifetime != short.ZSKLifetime || got.Algorithm != short.Algorithm || got.SignatureValidity != short.SignatureValidity {
				t.Fatalf("Effective changed what decides when a roll starts: %+v", got)
			}
			iv, ivShort := got.Intervals(), short.Intervals()
			if iv.Ipub < ivShort.Ipub || iv.Iret < ivShort.Iret || iv.IpubP < ivShort.IpubP || iv.IretDS < ivShort.IretDS {
				t.Fatalf("an interval shrank below the new policy's: %+v < %+v", iv, ivShort)
			}
		})
	}
	if held, next := Holding(at.Add(time.Hour), ch); len(held) != 1 || !next.Equal(ch[0].Until) {
		t.Fatalf("Holding during the hold = %v, %v", held, next)
	}
	if held, next := Holding(ch[0].Until, ch); len(held) != 0 || !next.IsZero() {
		t.Fatalf("Holding after the hold = %v, %v", held, next)
	}
}

// TestSimulatePolicySwitch switches the policy mid-run (a Corefile reload) at
// instants spread over ZSK and KSK rolls. With the old values held for their
// holdover no resolver can see a bogus answer; planning with the new values
// at once (naive) is caught.
func TestSimulatePolicySwitch(t *testing.T) {
	day := 24 * time.Hour
	long := aggressive() // TTLs of 30-40s, delays of 5s
	long.DNSKEYTTL, long.MaxZoneTTL, long.ParentDSTTL = 30*time.Second, 40*time.Second, 30*time.Second
	long.PropagationDelay, long.ParentPropagationDelay = 5*time.Second, 5*time.Second
	long.ZSKLifetime = 120 * time.Second
	short := aggressive() // TTLs of 5s, delays of 2s
	mid := long
	mid.DNSKEYTTL, mid.MaxZoneTTL = 10*time.Second, 15*time.Second
	shortAlg := short
	shortAlg.Algorithm = 15
	lowDS, lowDprp, lowDsgn := long, long, long
	lowDS.ParentDSTTL = 5 * time.Second
	lowDprp.PropagationDelay = time.Second
	lowDsgn.SignatureRefresh = 9*time.Minute + 30*time.Second
	def := DefaultPolicy()
	def.KSKLifetime = 90 * day
	defShort := def
	defShort.DNSKEYTTL, defShort.MaxZoneTTL, defShort.ParentDSTTL = 5*time.Minute, time.Hour, time.Hour

	type step struct {
		after time.Duration // after the sweep instant
		p     Policy
	}
	tests := []struct {
		name      string
		kind      ZoneKind
		from      Policy
		to        []step
		days      int
		start     time.Duration // first switch instant, from t0
		sweep     time.Duration // ... then one run per sweep step up to start+span
		span      time.Duration
		naive     bool
		wantBogus bool // at least one instant of the sweep is caught
	}{
		{name: "lower ttls and delays, held, shard", kind: Shard, from: long, to: []step{{p: short}}, days: 1, start: 10 * time.Minute, sweep: 19 * time.Second, span: 150 * time.Second},
		{name: "lower ttls and delays, held, parent", kind: Parent, from: long, to: []step{{p: short}}, days: 1, start: 10 * time.Minute, sweep: 19 * time.Second, span: 150 * time.Second},
		{name: "lower ttls and delays, naive", kind: Shard, from: long, to: []step{{p: short}}, days: 1, start: 10 * time.Minute, sweep: 19 * time.Second, span: 150 * time.Second, naive: true, wantBogus: true},
		{name: "lower the DS TTL, naive", kind: Shard, from: long, to: []step{{p: lowDS}}, days: 1, start: 11*time.Minute + 20*time.Second, sweep: 3 * time.Second, span: time.Minute, naive: true, wantBogus: true},
		{name: "lower the propagation delay, naive", kind: Shard, from: long, to: []step{{p: lowDprp}}, days: 1, start: 10 * time.Minute, sweep: 19 * time.Second, span: 150 * time.Second, naive: true, wantBogus: true},
		{name: "shorten signature reuse, naive", kind: Shard, from: long, to: []step{{p: lowDsgn}}, days: 1, start: 10 * time.Minute, sweep: 19 * time.Second, span: 150 * time.Second, naive: true, wantBogus: true},
		{name: "raise ttls needs no hold", kind: Shard, from: short, to: []step{{p: long}}, days: 1, start: 10 * time.Minute, sweep: 19 * time.Second, span: 150 * time.Second, naive: true},
		{name: "two switches within the holdover, held", kind: Shard, from: long, to: []step{{p: mid}, {after: 20 * time.Second, p: short}}, days: 1, start: 10 * time.Minute, sweep: 29 * time.Second, span: 150 * time.Second},
		{name: "two switches within the holdover, naive", kind: Shard, from: long, to: []step{{p: mid}, {after: 20 * time.Second, p: short}}, days: 1, start: 10 * time.Minute, sweep: 29 * time.Second, span: 150 * time.Second, naive: true, wantBogus: true},
		{name: "lower ttls with an algorithm roll, held", kind: Shard, from: long, to: []step{{p: shortAlg}}, days: 1, start: 10 * time.Minute, sweep: 37 * time.Second, span: 150 * time.Second},
		{name: "default policy, lower ttls mid-roll, held", kind: Shard, from: def, to: []step{{p: defShort}}, days: 60, start: 29 * day, sweep: 11 * time.Hour, span: 2 * day},
		{name: "default policy, lower ttls mid-roll, naive", kind: Shard, from: def, to: []step{{p: defShort}}, days: 60, start: 29 * day, sweep: 11 * time.Hour, span: 2 * day, naive: true, wantBogus: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runs, bogus := 0, 0
			var first error
			for off := time.Duration(0); off <= tc.span; off += tc.sweep {
				at := t0.Add(tc.start + off)
				var sw []PolicySwitch
				for _, s := range tc.to {
					sw = append(sw, PolicySwitch{At: at.Add(s.after), Policy: s.p, Naive: tc.naive})
				}
				tl, err := Simulate(t0, tc.days, "1j2b.mx.example.", tc.kind, tc.from, SimOptions{Tick: time.Minute, RegistryDelay: 3 * time.Second, Switches: sw})
				runs++
				switch {
				case errors.Is(err, ErrBogus):
					if !strings.Contains(err.Error(), " at 2026-") {
						t.Fatalf("bogus without the instant: %v", err)
					}
					bogus++
					if first == nil {
						first = err
					}
					if !tc.wantBogus {
						t.Fatalf("switch at %s: %v", at.Format(time.RFC3339), err)
					}
				case err != nil:
					t.Fatal(err)
				case tl.Generated[ZSK]+tl.Generated[KSK] < 4:
					t.Fatalf("switch at %s: too few keys generated: %v", at.Format(time.RFC3339), tl.Generated)
				}
				if tc.wantBogus && bogus > 0 {
					break
				}
			}
			if tc.wantBogus && bogus == 0 {
				t.Fatalf("%d switch instants, none caught", runs)
			}
			t.Logf("%d switch instants; bogus %d (%v)", runs, bogus, first)
		})
	}
}
