package mxsign

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxsign/mxsign/plugin/api"
	"github.com/mxsign/mxsign/signer/keymgr"
	"github.com/mxsign/mxsign/zonestore"
)

// TestEmergencyRoll requests an emergency roll (mxctl key roll --now) of a shard's ZSK
// and of its KSK on the fake clock: the answer announces the window the key manager
// computes, which the simulator, given the same policy, measures; one pass of a new
// scheduler (as after a leader change: the request lives in the store) at the same
// instant replaces the key; from then on no answer carries the compromised key
// (DNSKEY, RRSIG, and for the KSK the DS at the parent) and every answer validates
// from the trust anchor with a cold cache.
func TestEmergencyRoll(t *testing.T) {
	for _, role := range []keymgr.Role{keymgr.ZSK, keymgr.KSK} {
		t.Run(string(role), func(t *testing.T) {
			f := newRolloverFixture(t)
			ctx := context.Background()
			svc := &keyService{store: f.st, applier: f.applier, policy: &f.policy, now: func() time.Time { return f.clock }}
			run := func(d time.Duration, each func()) {
				t.Helper()
				for end := f.clock.Add(d); f.clock.Before(end); f.clock = f.clock.Add(time.Second) {
					if _, err := f.ro.step(ctx, f.clock); err != nil {
						t.Fatalf("%v: step: %v", f.clock, err)
					}
					if each != nil {
						each()
					}
				}
			}
			run(20*time.Second, nil)
			old := signingKey(t, f.st, f.shard, role)

			list, err := svc.Rollover(ctx, strings.TrimSuffix(f.shard, "."), api.RolloverRequest{Role: string(role), Now: true})
			if err != nil {
				t.Fatal(err)
			}
			want := f.policy.EmergencyWindow(keymgr.Shard, role)
			e := list.Emergency
			if e == nil || e.Role != string(role) || !e.Start.Equal(f.clock) || !e.Until.Equal(f.clock.Add(want.Duration)) ||
				e.Seconds != int64(want.Duration/time.Second) || !slices.Equal(e.Causes, want.Causes) {
				t.Fatalf("announced window %+v, want %v from %v", e, want, f.clock)
			}
			// The simulator, running the same policy, measures the window announced.
			tl, err := keymgr.Simulate(f.clock, 1, f.shard, keymgr.Shard, f.policy, keymgr.SimOptions{Tick: time.Second,
				Requests: []keymgr.RollRequest{{At: f.clock.Add(time.Hour), Role: role, Now: true}}})
			if err != nil || len(tl.Emergencies) != 1 || tl.Emergencies[0].Measured != time.Duration(e.Seconds)*time.Second {
				t.Fatalf("simulator: %v, %+v; the API announced %ds", err, tl.Emergencies, e.Seconds)
			}
			marked := false
			for _, k := range list.Keys {
				marked = marked || k.ID == old.ID && k.Emergency && k.RollRequested != nil
			}
			if !marked {
				t.Fatalf("the compromised key %s is not marked: %+v", old.ID, list.Keys)
			}

			// One scheduler pass at the same instant replaces the key. It is a new
			// scheduler, as after a leader change: the mark is in the store.
			swap := f.clock
			leader := &rollover{store: f.st, applier: f.applier, keys: f.ro.keys, policy: f.policy}
			if _, err := leader.step(ctx, swap); err != nil {
				t.Fatal(err)
			}
			after := storedKey(t, f.st, f.shard, old.ID)
			if !after.Retired.Equal(swap) || !after.Removed.Equal(swap) || role == keymgr.KSK && !after.DSWithdrawn.Equal(swap) {
				t.Fatalf("compromised key after the scheduler ran: %+v", after)
			}
			if now := signingKey(t, f.st, f.shard, role); now.ID == old.ID || !now.Published.Equal(swap) || !now.Activated.Equal(swap) {
				t.Fatalf("successor %+v", now)
			}

			anchor, err := f.st.DS("mx.example.")
			if err != nil {
				t.Fatal(err)
			}
			answers := 0
			run(4*want.Duration, func() {
				answers += checkColdAndWithout(t, f, anchor, old.Tag)
			})
			if l, err := svc.Keys(ctx, f.shard); err != nil || l.Emergency != nil {
				t.Fatalf("after the window the key list still announces %+v (%v)", l.Emergency, err)
			}
			t.Logf("emergency %s roll at %v: window %s; %d answers validated cold without key %d", role, swap, want, answers, old.Tag)
		})
	}
	t.Run("parent ksk refused", func(t *testing.T) {
		f := newRolloverFixture(t)
		svc := &keyService{store: f.st, applier: f.applier, policy: &f.policy, now: func() time.Time { return f.clock }}
		if _, err := f.ro.step(context.Background(), f.clock); err != nil {
			t.Fatal(err)
		}
		_, err := svc.Rollover(context.Background(), "mx.example.", api.RolloverRequest{Role: "ksk", Now: true})
		if !errors.Is(err, api.ErrInvalid) || !strings.Contains(err.Error(), "registry") || !strings.Contains(err.Error(), "mxctl ds seen mx.example.") {
			t.Fatalf("got %v, want ErrInvalid telling to roll without now and confirm with ds seen", err)
		}
		ks, _ := f.st.Keys("mx.example.")
		for _, k := range ks {
			if k.Emergency || !k.RollRequested.IsZero() {
				t.Fatalf("a refused request marked key %+v", k)
			}
		}
	})
}

// checkColdAndWithout validates what the shard serves at the fixture's clock with a
// new validator (a cold cache) and fails if the key with tag is in any DNSKEY or DS
// set or made any signature. It returns the number of answers checked.
func checkColdAndWithout(t *testing.T, f *rolloverFixture, anchor []*dns.DS, tag uint16) int {
	t.Helper()
	v := newValidator(t, "", "mx.example.", anchor, f.clock)
	v.ask = func(m *dns.Msg) (*dns.Msg, error) {
		resp, _ := f.r.respond(m, false)
		return resp, nil
	}
	n := 0
	for _, q := range []struct {
		name  string
		qtype uint16
	}{{f.host, dns.TypeA}, {"_25._tcp." + f.host, dns.TypeTLSA}, {f.shard, dns.TypeDNSKEY}, {f.shard, dns.TypeDS}, {f.shard, dns.TypeCDS}} {
		m, _ := v.query(q.name, q.qtype, true)
		if err := v.validatePositive(m); err != nil {
			t.Fatalf("%v: %s %s: %v\n%v", f.clock, q.name, dns.TypeToString[q.qtype], err, m)
		}
		n++
		for _, rr := range m.Answer {
			var got uint16
			switch rr := rr.(type) {
			case *dns.RRSIG:
				got = rr.KeyTag
			case *dns.DNSKEY:
				got = rr.KeyTag()
			case *dns.DS:
				got = rr.KeyTag
			case *dns.CDS:
				got = rr.KeyTag
			default:
				continue
			}
			if got == tag {
				t.Fatalf("%v: %s %s still carries the compromised key %d: %v", f.clock, q.name, dns.TypeToString[q.qtype], tag, rr)
			}
		}
	}
	m, _ := v.query("nothere."+f.shard, dns.TypeA, true)
	if err := v.validateDenial(m, "nothere."+f.shard, dns.TypeA, true); err != nil {
		t.Fatalf("%v: denial: %v", f.clock, err)
	}
	for _, rr := range m.Ns {
		if sig, ok := rr.(*dns.RRSIG); ok && sig.KeyTag == tag {
			t.Fatalf("%v: denial signed by the compromised key %d", f.clock, tag)
		}
	}
	return n + 1
}

// signingKey returns the one key of role that signs zone.
func signingKey(t *testing.T, st *zonestore.Store, zone string, role keymgr.Role) zonestore.Key {
	t.Helper()
	ks, err := st.Keys(zone)
	if err != nil {
		t.Fatal(err)
	}
	var out []zonestore.Key
	for _, k := range ks {
		if string(k.Role) == string(role) && k.Signs() {
			out = append(out, k)
		}
	}
	if len(out) != 1 {
		t.Fatalf("%d %s keys sign %s: %+v", len(out), role, zone, out)
	}
	return out[0]
}

// storedKey returns the key id of zone.
func storedKey(t *testing.T, st *zonestore.Store, zone, id string) zonestore.Key {
	t.Helper()
	ks, err := st.Keys(zone)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range ks {
		if k.ID == id {
			return k
		}
	}
	t.Fatalf("no key %s in %s", id, zone)
	return zonestore.Key{}
}
