package mxsign

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mxsign/mxsign/signer"
	"github.com/mxsign/mxsign/zonestore"
)

// TestRolloverMetrics runs the scheduler on the fake clock with the compressed policy
// and checks that the rollover metrics follow it: key counts per role and state agree
// with the store and move through the rolls, the next step counts down, the parent's
// KSK roll shows up as waiting for its DS (no parental agents here), and the signature
// horizon never exceeds what the served signatures have left.
func TestRolloverMetrics(t *testing.T) {
	f := newRolloverFixture(t)
	ctx := context.Background()
	c := newRolloverCollector(func() []rolloverView {
		return []rolloverView{{stats: f.ro.snapshot(), signer: f.r.signer, now: f.clock}}
	})
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", err, problems)
	}
	if n := testutil.CollectAndCount(c); n != len(keyRoles)*len(keyStates)+3 {
		t.Fatalf("%d series, want %d", n, len(keyRoles)*len(keyStates)+3)
	}
	value := func(name string, labels map[string]string) float64 {
		return gatherValue(t, c, "coredns_mxsign_"+name, labels)
	}
	keysOf := func(role zonestore.KeyRole, state zonestore.KeyState) float64 {
		return value("keys", map[string]string{"role": string(role), "state": string(state)})
	}
	// Before the first step nothing is known; the horizon is that of a fresh signature.
	for _, name := range []string{"rollover_next_step_seconds", "rollover_waiting_parent_ds"} {
		if got := value(name, nil); got != 0 {
			t.Fatalf("%s = %v before the first step, want 0", name, got)
		}
	}
	if got := keysOf(zonestore.RoleKSK, zonestore.StateActive); got != 0 {
		t.Fatalf("keys{ksk,active} = %v before the first step, want 0", got)
	}
	validity, refresh := f.policy.SignatureValidity, f.policy.SignatureRefresh
	if got, want := value("signature_expiry_horizon_seconds", nil), (validity - validity/10).Seconds(); got != want {
		t.Fatalf("horizon with an empty cache %v, want %v", got, want)
	}

	seen := map[string]bool{}
	horizons := map[float64]bool{}
	for i := 0; i < 250; i++ {
		now := f.clock
		next, err := f.ro.step(ctx, now)
		if err != nil {
			t.Fatalf("%v: step: %v", now, err)
		}
		// Key counts agree with the store.
		want := map[keyCount]int{}
		for _, z := range f.st.Zones() {
			ks, err := f.st.Keys(z.Name)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range ks {
				want[keyCount{k.Role, k.DeriveState()}]++
			}
		}
		for _, role := range keyRoles {
			for _, state := range keyStates {
				got := keysOf(role, state)
				if got != float64(want[keyCount{role, state}]) {
					t.Fatalf("%v: keys{%s,%s} = %v, store has %d", now, role, state, got, want[keyCount{role, state}])
				}
				if got > 0 {
					seen[fmt.Sprintf("%s/%s", role, state)] = true
				}
			}
		}
		if got := value("rollover_next_step_seconds", nil); got != next.Sub(now).Seconds() || got <= 0 {
			t.Fatalf("%v: next step in %vs, scheduler says %v", now, got, next.Sub(now))
		}
		if value("rollover_waiting_parent_ds", nil) == 1 {
			seen["waiting"] = true
		}
		// The horizon bounds every signature served now.
		var answers []*dns.Msg
		for _, q := range []struct {
			name  string
			qtype uint16
		}{{f.host, dns.TypeA}, {"_25._tcp." + f.host, dns.TypeTLSA}, {f.shard, dns.TypeDNSKEY}, {"mx.example.", dns.TypeDNSKEY}} {
			m := new(dns.Msg)
			m.SetQuestion(q.name, q.qtype)
			m.SetEdns0(1232, true)
			resp, _ := f.r.respond(m, false)
			answers = append(answers, resp)
		}
		h := value("signature_expiry_horizon_seconds", nil)
		if h <= refresh.Seconds() || h > validity.Seconds() {
			t.Fatalf("%v: horizon %vs outside (refresh %v, validity %v]", now, h, refresh, validity)
		}
		horizons[h] = true
		for _, resp := range answers {
			for _, rr := range resp.Answer {
				if sig, ok := rr.(*dns.RRSIG); ok {
					if left := time.Unix(int64(sig.Expiration), 0).Sub(now).Seconds(); left < h {
						t.Fatalf("%v: served an RRSIG with %vs left, below the horizon %vs", now, left, h)
					}
				}
			}
		}
		// Between steps the next step comes closer with the clock.
		f.clock = f.clock.Add(time.Second)
		if got := value("rollover_next_step_seconds", nil); got != next.Sub(f.clock).Seconds() {
			t.Fatalf("%v: next step in %vs after a second without a step, want %v", f.clock, got, next.Sub(f.clock))
		}
	}
	for _, want := range []string{"zsk/published", "zsk/retired", "zsk/removed", "ksk/generated", "ksk/removed", "waiting"} {
		if !seen[want] {
			t.Errorf("never reported %s over the run (saw %v)", want, seen)
		}
	}
	if len(horizons) < 2 {
		t.Errorf("the signature horizon never changed: %v", horizons)
	}
}

// TestRolloverCollectorInstances checks how instances add up: counts and waiting zones
// are summed, the next step is the earliest, and a follower (no stats) adds nothing.
func TestRolloverCollectorInstances(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	views := []rolloverView{
		{now: now, stats: rolloverStats{next: now.Add(10 * time.Second), waiting: 1,
			keys: map[keyCount]int{{zonestore.RoleKSK, zonestore.StateActive}: 1, {zonestore.RoleZSK, zonestore.StateActive}: 1}}},
		{now: now}, // a follower
		{now: now, stats: rolloverStats{next: now.Add(5 * time.Second),
			keys: map[keyCount]int{{zonestore.RoleKSK, zonestore.StateActive}: 2, {zonestore.RoleZSK, zonestore.StateRetired}: 3}}},
	}
	tests := []struct {
		name              string
		views             []rolloverView
		kskActive, zskRet float64
		next, waiting     float64
	}{
		{name: "summed over instances", views: views, kskActive: 3, zskRet: 3, next: 5, waiting: 1},
		{name: "follower only", views: views[1:2]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newRolloverCollector(func() []rolloverView { return tc.views })
			for _, g := range []struct {
				name   string
				labels map[string]string
				want   float64
			}{
				{"keys", map[string]string{"role": "ksk", "state": "active"}, tc.kskActive},
				{"keys", map[string]string{"role": "zsk", "state": "retired"}, tc.zskRet},
				{"keys", map[string]string{"role": "csk", "state": "active"}, 0},
				{"rollover_next_step_seconds", nil, tc.next},
				{"rollover_waiting_parent_ds", nil, tc.waiting},
			} {
				if got := gatherValue(t, c, "coredns_mxsign_"+g.name, g.labels); got != g.want {
					t.Errorf("%s%v = %v, want %v", g.name, g.labels, got, g.want)
				}
			}
			if n := testutil.CollectAndCount(c, "coredns_mxsign_signature_expiry_horizon_seconds"); n != 0 {
				t.Errorf("horizon reported without a signer")
			}
		})
	}
	// With signers the horizon is the smallest of the instances'.
	short := signer.New(signer.Options{Validity: time.Hour, Refresh: 30 * time.Minute})
	c := newRolloverCollector(func() []rolloverView {
		return []rolloverView{{now: now, signer: signer.New(signer.Options{})}, {now: now, signer: short}}
	})
	if got, want := gatherValue(t, c, "coredns_mxsign_signature_expiry_horizon_seconds", nil), (time.Hour - time.Hour/10).Seconds(); got != want {
		t.Errorf("horizon %v, want the shorter signer's %v", got, want)
	}
}

// TestREADMEDocumentsRolloverMetrics keeps the README's Metrics section in step with the
// rollover metrics.
func TestREADMEDocumentsRolloverMetrics(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, metrics, ok := strings.Cut(string(readme), "## Metrics")
	if !ok {
		t.Fatal("README.md has no Metrics section")
	}
	ch := make(chan *prometheus.Desc, 16)
	newRolloverCollector(nil).Describe(ch)
	parentDSChecks.Describe(ch)
	propagationSeconds.Describe(ch)
	propagationLagging.Describe(ch)
	propagationFailures.Describe(ch)
	close(ch)
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	n := 0
	for d := range ch {
		m := fqName.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("no name in %v", d)
		}
		n++
		if !strings.Contains(metrics, "`"+m[1]) {
			t.Errorf("README.md Metrics does not document %s", m[1])
		}
	}
	if n != 8 {
		t.Errorf("%d rollover metrics described, want 8", n)
	}
}
