package keymgr

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// settle runs Next at now until it has nothing due, applying every action
// the way the wiring does (generated keys are named new1, new2, ...), and
// returns the actions taken ("kind id", "generate role"), the phase of the
// first round and the keys after.
func settle(t *testing.T, now time.Time, kind ZoneKind, p Policy, keys []KeyState) ([]string, string, []KeyState) {
	t.Helper()
	keys = slices.Clone(keys)
	var got []string
	phase := ""
	for round := range 8 {
		acts, _, st := Next(now, "1j2b.mx.example.", kind, p, keys)
		if round == 0 {
			phase = st.Phase
		}
		acts = slices.DeleteFunc(acts, func(a Action) bool { return a.Kind == WaitParentDS })
		if len(acts) == 0 {
			return got, phase, keys
		}
		for _, a := range acts {
			if a.Kind == Generate {
				id := fmt.Sprintf("new%d", len(keys))
				keys = append(keys, KeyState{ID: id, Role: a.Role, Algorithm: a.Algorithm, Created: now})
				got = append(got, "generate "+string(a.Role))
				continue
			}
			got = append(got, a.Kind.String()+" "+a.KeyID)
			i := slices.IndexFunc(keys, func(k KeyState) bool { return k.ID == a.KeyID })
			if i < 0 {
				t.Fatalf("action %s on unknown key", a)
			}
			k := &keys[i]
			switch a.Kind {
			case Publish:
				k.Published = now
			case Activate:
				k.Active = now
			case Retire:
				k.Retired = now
			case Remove:
				k.Removed = now
			case SubmitDS:
				k.DSSubmitted = now
				if kind == Shard {
					k.DSPublished = now
				}
			case WithdrawDS:
				k.DSWithdrawn = now
			}
		}
	}
	t.Fatalf("Next did not settle at %v", now)
	return nil, "", nil
}

func TestEmergencyRoll(t *testing.T) {
	p := DefaultPolicy()
	p.KSKLifetime = 365 * 24 * time.Hour
	csk := p
	csk.CSK = true
	now := t0.Add(10 * 24 * time.Hour)
	before := now.Add(-time.Hour)
	ksk := KeyState{ID: "k", Role: KSK, Algorithm: 13, Created: t0, Published: t0, Active: t0, DSSubmitted: t0, DSPublished: t0}
	parentKSK := ksk
	parentKSK.DSSeen = true
	zsk := KeyState{ID: "z", Role: ZSK, Algorithm: 13, Created: t0, Published: t0, Active: t0}
	cskKey := KeyState{ID: "c", Role: CSK, Algorithm: 13, Created: t0, Published: t0, Active: t0, DSSubmitted: t0, DSPublished: t0}
	base := []KeyState{ksk, zsk}

	// mark is RequestEmergencyRoll that must succeed.
	mark := func(t *testing.T, kind ZoneKind, keys []KeyState, role Role) []KeyState {
		t.Helper()
		out, err := RequestEmergencyRoll(now, kind, keys, role)
		if err != nil {
			t.Fatalf("RequestEmergencyRoll(%s): %v", role, err)
		}
		return out
	}
	tests := []struct {
		name      string
		kind      ZoneKind
		p         Policy
		keys      func(t *testing.T) []KeyState
		want      []string // every action taken at now
		wantPhase string   // of the first round
		gone      []string // keys done (removed, not signing, DS withdrawn) after
	}{
		{
			name: "shard zsk", kind: Shard, p: p, keys: func(t *testing.T) []KeyState { return mark(t, Shard, base, ZSK) },
			want:      []string{"generate zsk", "publish new2", "activate new2", "retire z", "remove z"},
			wantPhase: "zsk-emergency", gone: []string{"z"},
		},
		{
			name: "shard ksk swaps the DS in the same round", kind: Shard, p: p, keys: func(t *testing.T) []KeyState { return mark(t, Shard, base, KSK) },
			want:      []string{"generate ksk", "publish new2", "submit-ds new2", "activate new2", "retire k", "remove k", "withdraw-ds k"},
			wantPhase: "ksk-emergency", gone: []string{"k"},
		},
		{
			name: "shard csk", kind: Shard, p: csk, keys: func(t *testing.T) []KeyState { return mark(t, Shard, []KeyState{cskKey}, CSK) },
			want:      []string{"generate csk", "publish new1", "submit-ds new1", "activate new1", "retire c", "remove c", "withdraw-ds c"},
			wantPhase: "csk-emergency", gone: []string{"c"},
		},
		{
			name: "parent zsk", kind: Parent, p: p, keys: func(t *testing.T) []KeyState { return mark(t, Parent, []KeyState{parentKSK, zsk}, ZSK) },
			want:      []string{"generate zsk", "publish new2", "activate new2", "retire z", "remove z"},
			wantPhase: "zsk-emergency", gone: []string{"z"},
		},
		{
			name: "planned zsk roll: published successor reused", kind: Shard, p: p, keys: func(t *testing.T) []KeyState {
				z2 := KeyState{ID: "z2", Role: ZSK, Algorithm: 13, Created: before, Published: before}
				return mark(t, Shard, []KeyState{ksk, zsk, z2}, ZSK)
			},
			want: []string{"activate z2", "retire z", "remove z"}, wantPhase: "zsk-emergency", gone: []string{"z"},
		},
		{
			name: "planned zsk roll: generated successor published and reused", kind: Shard, p: p, keys: func(t *testing.T) []KeyState {
				z2 := KeyState{ID: "z2", Role: ZSK, Algorithm: 13, Created: before}
				return mark(t, Shard, []KeyState{ksk, zsk, z2}, ZSK)
			},
			want: []string{"publish z2", "activate z2", "retire z", "remove z"}, wantPhase: "zsk-emergency", gone: []string{"z"},
		},
		{
			name: "planned double-DS roll: successor with its DS reused", kind: Shard, p: p, keys: func(t *testing.T) []KeyState {
				k2 := KeyState{ID: "k2", Role: KSK, Algorithm: 13, Created: before, DSSubmitted: before, DSPublished: before}
				return mark(t, Shard, []KeyState{ksk, k2, zsk}, KSK)
			},
			want: []string{"publish k2", "activate k2", "retire k", "remove k", "withdraw-ds k"}, wantPhase: "ksk-emergency", gone: []string{"k"},
		},
		{
			name: "zsk emergency during a planned ksk roll leaves the ksk roll alone", kind: Shard, p: p, keys: func(t *testing.T) []KeyState {
				k2 := KeyState{ID: "k2", Role: KSK, Algorithm: 13, Created: before, DSSubmitted: before, DSPublished: before}
				return mark(t, Shard, []KeyState{ksk, k2, zsk}, ZSK)
			},
			want: []string{"generate zsk", "publish new3", "activate new3", "retire z", "remove z"}, wantPhase: "zsk-emergency", gone: []string{"z"},
		},
		{
			name: "repeated before Next ran: one successor", kind: Shard, p: p, keys: func(t *testing.T) []KeyState {
				return mark(t, Shard, mark(t, Shard, base, ZSK), ZSK)
			},
			want: []string{"generate zsk", "publish new2", "activate new2", "retire z", "remove z"}, wantPhase: "zsk-emergency", gone: []string{"z"},
		},
		{
			name: "repeated after the swap: the successor is replaced too", kind: Shard, p: p, keys: func(t *testing.T) []KeyState {
				_, _, keys := settle(t, now, Shard, p, mark(t, Shard, base, ZSK))
				return mark(t, Shard, keys, ZSK)
			},
			want: []string{"generate zsk", "publish new3", "activate new3", "retire new2", "remove new2"}, wantPhase: "zsk-emergency", gone: []string{"z", "new2"},
		},
		{
			name: "parent ksk marked anyway: rolled with the safe double-KSK timing", kind: Parent, p: p, keys: func(t *testing.T) []KeyState {
				k := parentKSK
				k.RollRequested, k.Emergency = now, true
				return []KeyState{k, zsk}
			},
			want: []string{"generate ksk", "publish new2", "activate new2"}, wantPhase: "ksk-roll",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, phase, keys := settle(t, now, tc.kind, tc.p, tc.keys(t))
			if !slices.Equal(got, tc.want) {
				t.Errorf("actions = %q\nwant      %q", got, tc.want)
			}
			if phase != tc.wantPhase {
				t.Errorf("phase = %q, want %q", phase, tc.wantPhase)
			}
			for _, k := range keys {
				if done := k.done(); done != slices.Contains(tc.gone, k.ID) {
					t.Errorf("key %s done = %t after the emergency: %+v", k.ID, done, k)
				}
			}
			// Exactly one key of each role signs again, none of them compromised.
			signing := map[Role]int{}
			for _, k := range keys {
				if k.signing() {
					signing[k.Role]++
					if k.Emergency && (tc.kind == Shard || !k.Role.hasDS()) {
						t.Errorf("compromised key %s still signs", k.ID)
					}
				}
			}
			for role, n := range signing {
				if n != 1 && !(tc.kind == Parent && role == KSK) {
					t.Errorf("%d %s keys sign", n, role)
				}
			}
			if _, _, st := Next(now, "1j2b.mx.example.", tc.kind, tc.p, keys); strings.HasSuffix(st.Phase, "-emergency") {
				t.Errorf("still in an emergency after settling: %+v", st)
			}
		})
	}
}

func TestRequestEmergencyRollRefused(t *testing.T) {
	ksk := KeyState{ID: "k", Role: KSK, Algorithm: 13, Created: t0, Published: t0, Active: t0, DSSubmitted: t0, DSPublished: t0, DSSeen: true}
	zsk := KeyState{ID: "z", Role: ZSK, Algorithm: 13, Created: t0, Published: t0, Active: t0}
	csk := KeyState{ID: "c", Role: CSK, Algorithm: 13, Created: t0, Published: t0, Active: t0, DSSubmitted: t0, DSPublished: t0, DSSeen: true}
	// An algorithm roll 13 -> 15 at step 2: the new keys sign, unpublished.
	zsk15 := KeyState{ID: "z15", Role: ZSK, Algorithm: 15, Created: t0, Active: t0.Add(time.Hour)}
	ksk15 := KeyState{ID: "k15", Role: KSK, Algorithm: 15, Created: t0, Active: t0.Add(time.Hour)}
	tests := []struct {
		name     string
		kind     ZoneKind
		keys     []KeyState
		role     Role
		want     error
		contains string
	}{
		{name: "parent ksk", kind: Parent, keys: []KeyState{ksk, zsk}, role: KSK, want: ErrEmergencyRefused, contains: "registry"},
		{name: "parent csk", kind: Parent, keys: []KeyState{csk}, role: CSK, want: ErrEmergencyRefused, contains: "registry"},
		{name: "algorithm roll in progress", kind: Shard, keys: []KeyState{ksk, zsk, ksk15, zsk15}, role: ZSK, want: ErrEmergencyRefused, contains: "algorithm rollover"},
		{name: "no key of the role", kind: Shard, keys: []KeyState{ksk, zsk}, role: CSK, want: ErrNoKey},
		{name: "no keys at all", kind: Shard, role: ZSK, want: ErrNoKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := RequestEmergencyRoll(t0, tc.kind, tc.keys, tc.role)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.contains) || out != nil {
				t.Fatalf("RequestEmergencyRoll = %v, %v; want %v containing %q", out, err, tc.want, tc.contains)
			}
		})
	}
	// The input is never modified, refused or not.
	keys := []KeyState{ksk, zsk}
	if _, err := RequestEmergencyRoll(t0, Shard, keys, ZSK); err != nil || keys[1].Emergency || !keys[1].RollRequested.IsZero() {
		t.Fatalf("RequestEmergencyRoll modified its input: %+v, %v", keys, err)
	}
}

func TestEmergencyWindow(t *testing.T) {
	p := DefaultPolicy() // Dprp 5m, DNSKEY TTL 1h, max zone TTL 1d, DprpP 1h, DS TTL 1d
	short := p
	short.MaxZoneTTL = 30 * time.Minute
	short.DNSKEYTTL = 10 * time.Minute
	short.SignatureRefresh = time.Hour
	tests := []struct {
		name   string
		p      Policy
		kind   ZoneKind
		role   Role
		want   time.Duration
		causes int
		says   string
	}{
		{name: "zsk: signatures by the old key", p: p, kind: Shard, role: ZSK, want: 24*time.Hour + 5*time.Minute, causes: 2, says: "max-zone-ttl 1d"},
		{name: "parent zsk", p: p, kind: Parent, role: ZSK, want: 24*time.Hour + 5*time.Minute, causes: 2, says: "dnskey-ttl 1h"},
		{name: "shard ksk: the old DS", p: p, kind: Shard, role: KSK, want: 25 * time.Hour, causes: 2, says: "parent-ds-ttl 1d"},
		{name: "shard csk: all three", p: p, kind: Shard, role: CSK, want: 25 * time.Hour, causes: 3, says: "= 1d5m"},
		{name: "short ttls", p: short, kind: Shard, role: ZSK, want: 35 * time.Minute, causes: 2, says: "propagation-delay 5m + dnskey-ttl 10m = 15m"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.p.EmergencyWindow(tc.kind, tc.role)
			if w.Duration != tc.want || len(w.Causes) != tc.causes || !strings.Contains(w.String(), tc.says) {
				t.Fatalf("EmergencyWindow = %v (%s), want %v with %d causes saying %q", w.Duration, w, tc.want, tc.causes, tc.says)
			}
		})
	}
}

// TestSimulateEmergency runs emergency rolls in the simulator: the check must
// flag instants inside the announced window and none after it, and the
// window it measures must be the one announced.
func TestSimulateEmergency(t *testing.T) {
	day := 24 * time.Hour
	def := DefaultPolicy()
	def.KSKLifetime = 180 * day
	csk := def
	csk.CSK = true
	aggr := aggressive()
	tests := []struct {
		name  string
		kind  ZoneKind
		p     Policy
		days  int
		tick  time.Duration
		reqs  []RollRequest
		exact bool // the measured window equals the announced one
	}{
		{name: "shard zsk", kind: Shard, p: def, days: 40, tick: time.Minute, reqs: []RollRequest{{At: t0.Add(10 * day), Role: ZSK, Now: true}}, exact: true},
		{name: "shard ksk", kind: Shard, p: def, days: 40, tick: time.Minute, reqs: []RollRequest{{At: t0.Add(10 * day), Role: KSK, Now: true}}, exact: true},
		{name: "shard csk", kind: Shard, p: csk, days: 40, tick: time.Minute, reqs: []RollRequest{{At: t0.Add(10 * day), Role: CSK, Now: true}}, exact: true},
		{name: "parent zsk", kind: Parent, p: def, days: 40, tick: time.Minute, reqs: []RollRequest{{At: t0.Add(10 * day), Role: ZSK, Now: true}}, exact: true},
		{name: "aggressive shard zsk and ksk", kind: Shard, p: aggr, days: 1, tick: time.Second, reqs: []RollRequest{
			{At: t0.Add(time.Hour + 7*time.Second), Role: ZSK, Now: true}, {At: t0.Add(2*time.Hour + 13*time.Second), Role: KSK, Now: true}}, exact: true},
		{name: "during a planned zsk roll", kind: Shard, p: def, days: 60, tick: time.Minute, reqs: []RollRequest{
			{At: t0.Add(29*day + 23*time.Hour + 30*time.Minute), Role: ZSK, Now: true}}},
		{name: "during a planned shard ksk roll", kind: Shard, p: def, days: 200, tick: time.Hour, reqs: []RollRequest{
			{At: t0.Add(179*day + 12*time.Hour), Role: KSK, Now: true}}},
		{name: "repeated within the window", kind: Shard, p: def, days: 40, tick: time.Minute, reqs: []RollRequest{
			{At: t0.Add(10 * day), Role: ZSK, Now: true}, {At: t0.Add(10*day + 2*time.Hour), Role: ZSK, Now: true}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tl, err := Simulate(t0, tc.days, "1j2b.mx.example.", tc.kind, tc.p, SimOptions{Tick: tc.tick, Requests: tc.reqs})
			if err != nil {
				t.Fatalf("Simulate: %v", err)
			}
			if len(tl.Emergencies) != len(tc.reqs) {
				t.Fatalf("%d emergencies reported, want %d", len(tl.Emergencies), len(tc.reqs))
			}
			for _, e := range tl.Emergencies {
				w := e.Announced.Duration
				if want := tc.p.EmergencyWindow(tc.kind, e.Role); w != want.Duration {
					t.Errorf("announced %v, EmergencyWindow says %v", w, want.Duration)
				}
				if e.Measured > w || tc.exact && e.Measured != w {
					t.Errorf("emergency %s at %v: measured %v, announced %v", e.Role, e.At, e.Measured, w)
				}
				if e.Flagged == 0 || !e.FirstFlagged.Equal(e.At) || !e.LastFlagged.Before(e.At.Add(e.Measured)) {
					t.Errorf("emergency %s at %v: %d instants flagged from %v to %v, window ends %v", e.Role, e.At, e.Flagged, e.FirstFlagged, e.LastFlagged, e.At.Add(e.Measured))
				}
				if tc.exact && e.LastFlagged.Before(e.At.Add(w-tc.tick)) {
					t.Errorf("emergency %s at %v: last instant flagged %v, more than a tick (%v) before the window ends at %v", e.Role, e.At, e.LastFlagged, tc.tick, e.At.Add(w))
				}
				t.Logf("emergency %s at %v: announced %s, measured %v, %d instants flagged", e.Role, e.At, e.Announced, e.Measured, e.Flagged)
			}
			if text := tl.Text(); !strings.Contains(text, "compromised") || !strings.Contains(text, "# emergency "+string(tc.reqs[0].Role)+" roll at") {
				t.Errorf("timeline lacks the emergency:\n%.3000s", text)
			}
		})
	}
}

// TestSimulateCatchesBrokenEmergency: an emergency roll whose failure window
// is longer than announced, or one that leaves the zone bogus for good, must
// be reported.
func TestSimulateCatchesBrokenEmergency(t *testing.T) {
	day := 24 * time.Hour
	p := DefaultPolicy()
	slowRaft := p
	slowRaft.PropagationDelay = 30 * time.Minute // measured far slower than the policy announces
	emergency := []RollRequest{{At: t0.Add(2 * day), Role: ZSK, Now: true}}
	tests := []struct {
		name     string
		opts     SimOptions
		contains string
	}{
		{name: "window longer than announced", opts: SimOptions{Requests: emergency, Actual: &slowRaft}, contains: "longer than the announced 1d5m"},
		{name: "successor signs unpublished", opts: SimOptions{Requests: emergency, Mutate: func(now time.Time, acts []Action) []Action {
			return slices.DeleteFunc(acts, func(a Action) bool { return a.Kind == Publish && strings.HasPrefix(a.Reason, "emergency") })
		}}, contains: "no RRSIG of algorithm 13"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Simulate(t0, 20, "1j2b.mx.example.", Shard, p, tc.opts)
			if !errors.Is(err, ErrBogus) || !strings.Contains(err.Error(), tc.contains) {
				t.Fatalf("Simulate error = %v, want ErrBogus saying %q", err, tc.contains)
			}
			t.Log(err)
		})
	}
	if _, err := Simulate(t0, 20, "mx.example.", Parent, p, SimOptions{Requests: []RollRequest{{At: t0.Add(day), Role: KSK, Now: true}}}); !errors.Is(err, ErrEmergencyRefused) {
		t.Fatalf("parent KSK emergency: Simulate error = %v, want ErrEmergencyRefused", err)
	}
}
