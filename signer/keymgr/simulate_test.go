package keymgr

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestSimulate(t *testing.T) {
	day := 24 * time.Hour
	def := DefaultPolicy()
	defKSK := def
	defKSK.KSKLifetime = 180 * day
	csk := defKSK
	csk.CSK = true
	aggr := aggressive()
	aggrCSK := aggr
	aggrCSK.CSK = true
	aggrCSK.ZSKLifetime = 5 * time.Minute
	tests := []struct {
		name     string
		kind     ZoneKind
		p        Policy
		days     int
		opts     SimOptions
		minZSK   int
		minKSK   int
		minCSK   int
		wantAlgs []uint8 // algorithms that must appear
	}{
		{name: "default shard 2y", kind: Shard, p: def, days: 730, minZSK: 24, minKSK: 1},
		{name: "default shard ksk 2y", kind: Shard, p: defKSK, days: 730, minZSK: 20, minKSK: 4},
		{name: "default parent ksk 2y", kind: Parent, p: defKSK, days: 730, minZSK: 20, minKSK: 4},
		{name: "default parent slow registry", kind: Parent, p: defKSK, days: 730, opts: SimOptions{RegistryDelay: 5 * day}, minZSK: 20, minKSK: 4},
		{name: "default csk shard 2y", kind: Shard, p: csk, days: 730, minCSK: 20},
		{name: "default csk parent 2y", kind: Parent, p: csk, days: 730, minCSK: 20},
		{name: "aggressive shard 7d", kind: Shard, p: aggr, days: 7, opts: SimOptions{Tick: time.Minute}, minZSK: 7000, minKSK: 3000},
		{name: "aggressive parent 7d", kind: Parent, p: aggr, days: 7, opts: SimOptions{RegistryDelay: 3 * time.Second}, minZSK: 7000, minKSK: 2000},
		{name: "aggressive csk shard 7d", kind: Shard, p: aggrCSK, days: 7, minCSK: 1500},
		{name: "algorithm roll shard 13-15-13", kind: Shard, p: defKSK, days: 400, opts: SimOptions{Requests: []RollRequest{
			{At: t0.Add(100 * day), Algorithm: 15}, {At: t0.Add(250 * day), Algorithm: 13}}}, minZSK: 10, minKSK: 3, wantAlgs: []uint8{13, 15}},
		{name: "algorithm roll parent", kind: Parent, p: defKSK, days: 200, opts: SimOptions{Requests: []RollRequest{{At: t0.Add(50 * day), Algorithm: 15}}}, minZSK: 6, minKSK: 2, wantAlgs: []uint8{13, 15}},
		{name: "algorithm roll csk", kind: Shard, p: csk, days: 200, opts: SimOptions{Requests: []RollRequest{{At: t0.Add(50 * day), Algorithm: 15}}}, minCSK: 6, wantAlgs: []uint8{13, 15}},
		{name: "aggressive algorithm rolls", kind: Shard, p: aggr, days: 1, opts: SimOptions{Requests: []RollRequest{
			{At: t0.Add(time.Hour), Algorithm: 15}, {At: t0.Add(2 * time.Hour), Algorithm: 13}}}, minZSK: 1000, minKSK: 400, wantAlgs: []uint8{13, 15}},
		{name: "manual rolls mid-roll", kind: Shard, p: defKSK, days: 120, opts: SimOptions{Requests: []RollRequest{
			{At: t0.Add(29*day + 23*time.Hour), Role: KSK}, {At: t0.Add(30 * day), Role: ZSK}, {At: t0.Add(31 * day), Role: ZSK}}}, minZSK: 5, minKSK: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tl, err := Simulate(t0, tc.days, "1j2b.mx.example.", tc.kind, tc.p, tc.opts)
			if err != nil {
				t.Fatalf("Simulate: %v", err)
			}
			if tl.Generated[ZSK] < tc.minZSK || tl.Generated[KSK] < tc.minKSK || tl.Generated[CSK] < tc.minCSK {
				t.Fatalf("generated %v, want at least zsk %d ksk %d csk %d", tl.Generated, tc.minZSK, tc.minKSK, tc.minCSK)
			}
			if tl.Steps < tc.days*24 || tl.Combinations < tl.Steps/2 {
				t.Fatalf("checked %d instants, %d combinations: too few", tl.Steps, tl.Combinations)
			}
			for _, a := range tc.wantAlgs {
				found := false
				for _, k := range tl.Keys {
					found = found || (k.Algorithm == a && !k.Active.IsZero())
				}
				if !found {
					t.Fatalf("no key of algorithm %d was ever active", a)
				}
			}
			t.Logf("%s: %d instants checked, %d combinations validated, keys %v", tc.name, tl.Steps, tl.Combinations, tl.Generated)
		})
	}
}

func TestSimulateCatchesBrokenRollover(t *testing.T) {
	day := 24 * time.Hour
	p := DefaultPolicy()
	p.KSKLifetime = 180 * day
	lying := p
	lying.MaxZoneTTL = 3 * time.Hour // Next believes TTLs are capped at 3h ...
	lying.DNSKEYTTL = time.Hour
	served := p // ... but the zone serves 1d
	shortDNSKEY := p
	shortDNSKEY.DNSKEYTTL = time.Minute
	shortDNSKEY.PublishSafety = 0
	servedKey := p
	slowRaft := p
	slowRaft.PropagationDelay = 2 * time.Hour // Raft apply measured far slower than configured
	tests := []struct {
		name string
		kind ZoneKind
		p    Policy
		opts SimOptions
	}{
		{name: "remove at retire", kind: Shard, p: p, opts: SimOptions{BrokenRetire: true}},
		{name: "max zone ttl understated", kind: Shard, p: lying, opts: SimOptions{Actual: &served}},
		{name: "dnskey ttl understated", kind: Parent, p: shortDNSKEY, opts: SimOptions{Actual: &servedKey}},
		{name: "propagation delay understated", kind: Shard, p: p, opts: SimOptions{Actual: &slowRaft}},
		{name: "algorithm: DNSKEY before signatures", kind: Shard, p: p, opts: SimOptions{
			Requests: []RollRequest{{At: t0.Add(60 * day), Algorithm: 15}},
			Mutate: func(now time.Time, acts []Action) []Action {
				// Publish the new algorithm's DNSKEYs with their first
				// signatures instead of IsigAlg later (RFC 6781 §4.1.4 broken).
				var out []Action
				for _, a := range acts {
					if a.Kind == Publish && a.Algorithm == 15 && a.Role != KSK {
						continue
					}
					out = append(out, a)
					if a.Kind == Activate && a.Algorithm == 15 && a.Role == ZSK {
						out = append(out, Action{Kind: Publish, KeyID: a.KeyID, Role: a.Role, Algorithm: 15})
					}
				}
				return out
			}}},
		{name: "shard ds withdrawn at swap", kind: Shard, p: p, opts: SimOptions{Mutate: func(now time.Time, acts []Action) []Action {
			for _, a := range acts {
				if a.Kind == Remove && a.Role == KSK {
					return append(acts, Action{Kind: WithdrawDS, KeyID: a.KeyID, Role: KSK})
				}
				if a.Kind == WithdrawDS {
					return nil
				}
			}
			return acts
		}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Simulate(t0, 400, "1j2b.mx.example.", tc.kind, tc.p, tc.opts)
			if !errors.Is(err, ErrBogus) || !strings.Contains(err.Error(), " at 2026-") {
				t.Fatalf("Simulate error = %v, want ErrBogus naming the instant", err)
			}
			t.Log(err)
		})
	}
}

func TestTimelineOutput(t *testing.T) {
	p := DefaultPolicy()
	p.KSKLifetime = 60 * 24 * time.Hour
	tl, err := Simulate(t0, 70, "1j2b.mx.example.", Shard, p, SimOptions{})
	if err != nil {
		t.Fatal(err)
	}
	text := tl.Text()
	for _, want := range []string{"ksk-1", "ds-published", "zsk-2", "retired", "removed", "ds-withdrawn", "instants checked"} {
		if !strings.Contains(text, want) {
			t.Errorf("Text() lacks %q:\n%s", want, text)
		}
	}
	svg := tl.SVG()
	if !strings.HasPrefix(svg, "<svg") || !strings.HasSuffix(svg, "</svg>\n") || strings.Count(svg, "<rect") < 2*len(tl.Keys) {
		t.Errorf("SVG() malformed or missing bars:\n%s", svg)
	}
	if dir := os.Getenv("KEYMGR_TIMELINE_DIR"); dir != "" {
		_ = os.WriteFile(dir+"/timeline.txt", []byte(text), 0o644)
		_ = os.WriteFile(dir+"/timeline.svg", []byte(svg), 0o644)
	}
}

// TestSimulateLong runs the aggressive policy for two years (about 1.4
// million keys, 9.5 million instants; ~50 s). Set KEYMGR_LONG=1.
func TestSimulateLong(t *testing.T) {
	if os.Getenv("KEYMGR_LONG") == "" {
		t.Skip("set KEYMGR_LONG=1 to simulate two years of the aggressive policy")
	}
	for _, kind := range []ZoneKind{Shard, Parent} {
		tl, err := Simulate(t0, 730, "1j2b.mx.example.", kind, aggressive(), SimOptions{RegistryDelay: 3 * time.Second, MaxEvents: 1000})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d instants, %d combinations, keys %v", kind, tl.Steps, tl.Combinations, tl.Generated)
	}
}

func BenchmarkSimulateDefault(b *testing.B) {
	p := DefaultPolicy()
	p.KSKLifetime = 180 * 24 * time.Hour
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Simulate(t0, 365, "1j2b.mx.example.", Shard, p, SimOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
