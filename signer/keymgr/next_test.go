package keymgr

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// midRoll is a parent zone with a KSK successor whose DS is not yet seen.
func midRoll() []KeyState {
	return []KeyState{
		{ID: "ksk-1", Role: KSK, Algorithm: 13, Created: t0, Published: t0, Active: t0, DSSubmitted: t0.Add(26 * time.Hour), DSPublished: t0.Add(27 * time.Hour), DSSeen: true},
		{ID: "zsk-2", Role: ZSK, Algorithm: 13, Created: t0, Published: t0, Active: t0},
		{ID: "zsk-0", Role: ZSK, Algorithm: 13, Created: t0.Add(-40 * 24 * time.Hour), Published: t0.Add(-40 * 24 * time.Hour), Active: t0.Add(-40 * 24 * time.Hour), Retired: t0, Removed: t0.Add(11 * 24 * time.Hour)},
		{ID: "ksk-3", Role: KSK, Algorithm: 13, Created: t0.Add(400 * 24 * time.Hour), Published: t0.Add(400 * 24 * time.Hour), Active: t0.Add(400 * 24 * time.Hour), DSSubmitted: t0.Add(401 * 24 * time.Hour)},
	}
}

func TestNextDeterministic(t *testing.T) {
	p := DefaultPolicy()
	p.KSKLifetime = 365 * 24 * time.Hour
	now := t0.Add(402 * 24 * time.Hour)
	a1, n1, s1 := Next(now, "mx.example.", Parent, p, midRoll())
	for i := range 20 {
		keys := midRoll()
		for j := range keys { // a deterministic shuffle
			k := (j*7 + i) % len(keys)
			keys[j], keys[k] = keys[k], keys[j]
		}
		a2, n2, s2 := Next(now, "mx.example.", Parent, p, keys)
		if !reflect.DeepEqual(a1, a2) || !n1.Equal(n2) || s1 != s2 {
			t.Fatalf("shuffle %d: Next differs:\n%v %v %+v\n%v %v %+v", i, a1, n1, s1, a2, n2, s2)
		}
	}
}

func TestNextSteps(t *testing.T) {
	p := DefaultPolicy()
	p.KSKLifetime = 365 * 24 * time.Hour
	iv := p.Intervals()
	tests := []struct {
		name      string
		kind      ZoneKind
		now       time.Time
		keys      []KeyState
		want      []string // "kind id" of the actions
		wantNext  time.Time
		wantPhase string
		waiting   string
	}{
		{name: "empty zone bootstraps", kind: Shard, now: t0, want: []string{"generate ", "generate "}, wantPhase: "bootstrap"},
		{name: "parent waits for DS", kind: Parent, now: t0.Add(402 * 24 * time.Hour), keys: midRoll(),
			want: []string{"wait-parent-ds ksk-3"}, wantNext: time.Time{}, wantPhase: "ksk-roll", waiting: "waiting for parent DS of key ksk-3 to be seen"},
		{name: "zsk idle until lifetime", kind: Shard, now: t0.Add(24 * time.Hour), keys: []KeyState{
			{ID: "k", Role: KSK, Algorithm: 13, Created: t0, Published: t0, Active: t0, DSSubmitted: t0, DSPublished: t0},
			{ID: "z", Role: ZSK, Algorithm: 13, Created: t0, Published: t0, Active: t0},
		}, wantNext: t0.Add(p.ZSKLifetime - iv.Ipub + Jitter("s.mx.example.", p.ZSKLifetime)), wantPhase: "idle"},
		{name: "zsk activate after Ipub", kind: Shard, now: t0.Add(30 * 24 * time.Hour), keys: []KeyState{
			{ID: "k", Role: KSK, Algorithm: 13, Created: t0, Published: t0, Active: t0, DSSubmitted: t0, DSPublished: t0},
			{ID: "z", Role: ZSK, Algorithm: 13, Created: t0, Published: t0, Active: t0},
			{ID: "z2", Role: ZSK, Algorithm: 13, Created: t0.Add(29 * 24 * time.Hour), Published: t0.Add(30*24*time.Hour - iv.Ipub)},
		}, want: []string{"activate z2", "retire z"}, wantPhase: "zsk-roll"},
		{name: "shard ksk double-DS swap", kind: Shard, now: t0.Add(400*24*time.Hour + iv.IpubP), keys: []KeyState{
			{ID: "k", Role: KSK, Algorithm: 13, Created: t0, Published: t0, Active: t0, DSSubmitted: t0, DSPublished: t0},
			{ID: "k2", Role: KSK, Algorithm: 13, Created: t0.Add(400 * 24 * time.Hour), DSSubmitted: t0.Add(400 * 24 * time.Hour), DSPublished: t0.Add(400 * 24 * time.Hour)},
			{ID: "z", Role: ZSK, Algorithm: 13, Created: t0.Add(399 * 24 * time.Hour), Published: t0.Add(399 * 24 * time.Hour), Active: t0.Add(399 * 24 * time.Hour)},
		}, want: []string{"publish k2", "activate k2", "retire k", "remove k"}, wantPhase: "ksk-roll"},
		{name: "old DS withdrawn after IretDS", kind: Shard, now: t0.Add(time.Hour + iv.IretDS), keys: []KeyState{
			{ID: "k", Role: KSK, Algorithm: 13, Created: t0, Published: t0, Active: t0, DSSubmitted: t0, DSPublished: t0, Retired: t0.Add(time.Hour), Removed: t0.Add(time.Hour)},
			{ID: "k2", Role: KSK, Algorithm: 13, Created: t0, Published: t0.Add(time.Hour), Active: t0.Add(time.Hour), DSSubmitted: t0, DSPublished: t0},
			{ID: "z", Role: ZSK, Algorithm: 13, Created: t0, Published: t0, Active: t0},
		}, want: []string{"withdraw-ds k"}, wantPhase: "idle"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			zone := "s.mx.example."
			acts, next, st := Next(tc.now, zone, tc.kind, p, tc.keys)
			var got []string
			for _, a := range acts {
				got = append(got, a.Kind.String()+" "+a.KeyID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("actions = %q, want %q", got, tc.want)
			}
			if tc.want == nil && !next.Equal(tc.wantNext) {
				t.Errorf("next = %v, want %v", next, tc.wantNext)
			}
			if st.Phase != tc.wantPhase || !strings.Contains(st.Waiting, tc.waiting) || !st.NextStep.Equal(next) {
				t.Errorf("status = %+v, want phase %q waiting %q", st, tc.wantPhase, tc.waiting)
			}
		})
	}
}

func TestRequestRoll(t *testing.T) {
	keys := []KeyState{
		{ID: "k", Role: KSK, Algorithm: 13, Created: t0, Published: t0, Active: t0, DSSubmitted: t0, DSPublished: t0},
		{ID: "z", Role: ZSK, Algorithm: 13, Created: t0, Published: t0, Active: t0},
	}
	now := t0.Add(5 * 24 * time.Hour)
	got, err := RequestRoll(now, keys, ZSK)
	if err != nil || !got[1].RollRequested.Equal(now) || !got[0].RollRequested.IsZero() || !keys[1].RollRequested.IsZero() {
		t.Fatalf("RequestRoll = %+v, %v", got, err)
	}
	acts, _, st := Next(now, "z.mx.example.", Shard, DefaultPolicy(), got)
	if len(acts) != 1 || acts[0].Kind != Generate || acts[0].Role != ZSK || st.Phase != "zsk-roll" {
		t.Fatalf("after RequestRoll Next = %v %+v, want one zsk generate", acts, st)
	}
	if _, err := RequestRoll(now, keys, CSK); !errors.Is(err, ErrNoKey) {
		t.Fatalf("RequestRoll(csk) error = %v, want ErrNoKey", err)
	}
}

func TestJitterSpreads(t *testing.T) {
	life := 30 * 24 * time.Hour
	seen := map[time.Duration]bool{}
	var buckets [10]int
	for i := range 1000 {
		j := Jitter(fmt.Sprintf("%04x.mx.example.", i*7919), life)
		if j < 0 || j >= maxJitter {
			t.Fatalf("jitter %v out of [0, 1h)", j)
		}
		seen[j] = true
		buckets[j*10/maxJitter]++
	}
	if len(seen) < 995 {
		t.Fatalf("only %d distinct offsets for 1000 zones", len(seen))
	}
	for i, n := range buckets {
		if n < 50 || n > 150 {
			t.Fatalf("bucket %d holds %d of 1000 zones, want about 100: %v", i, n, buckets)
		}
	}
	if Jitter("A.mx.example.", life) != Jitter("a.mx.example.", life) {
		t.Fatal("jitter depends on case")
	}
	if j := Jitter("a.mx.example.", 60*time.Second); j >= 600*time.Millisecond {
		t.Fatalf("jitter %v exceeds 1%% of a 60s lifetime", j)
	}
}

func BenchmarkNext(b *testing.B) {
	p := DefaultPolicy()
	p.KSKLifetime = 365 * 24 * time.Hour
	keys := midRoll()
	now := t0.Add(402 * 24 * time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		Next(now, "mx.example.", Parent, p, keys)
	}
}
