package mxsign

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxsign/mxsign/zonestore"
)

// TestRolloverShardCreatedMidRoll provisions domains into new shards (shard-size 1)
// while the parent and an older shard roll their keys: one new shard for every
// combination of the two zones' phases (ZSK roll, KSK roll, idle) that occurs, the
// parent's own rolls changing its DNSKEY RRset (ZSK pre-publication, KSK double-KSK
// with the registry confirming the DS) and the older shard's its DS at the parent.
// Every second of fake time a validator with an empty cache checks, from the
// registry's DS down, answers for hosts in every shard: A, TLSA, DNSKEY and a denial.
// At the end every new shard's keys are timed and have rolled on schedule.
func TestRolloverShardCreatedMidRoll(t *testing.T) {
	f := newRolloverFixture(t, func(c *config) { c.Zone.ShardSize = 1 })
	ctx := context.Background()
	now := func() time.Time { return f.clock }
	svc := &keyService{store: f.st, applier: f.applier, policy: &f.policy, now: now}
	reg := newRegistry(t, f.st, 3*time.Second)
	ask := func(m *dns.Msg) (*dns.Msg, error) {
		resp, _ := f.r.respond(m, false)
		return resp, nil
	}
	phase := func(zone string) string {
		l, err := svc.Keys(ctx, zone)
		if err != nil {
			t.Fatal(err)
		}
		return l.Phase
	}
	type shardRun struct {
		host, shard string
		created     time.Time
		during      string
		zsk, ksk    map[uint16]bool // key tags that signed its answers
	}
	shards := []*shardRun{{host: f.host, shard: f.shard, created: f.clock, during: "the start", zsk: map[uint16]bool{}, ksk: map[uint16]bool{}}}
	during := map[string]bool{}
	parentDNSKEYs := map[string]bool{}
	const seconds, lastCreation = 720, 480
	checks := 0
	for i := range seconds {
		clock := f.clock
		if _, err := f.ro.step(ctx, clock); err != nil {
			t.Fatalf("%v: step: %v", clock, err)
		}
		reg.tick(t, clock, f.st, svc)
		pp, sp := phase("mx.example."), phase(f.shard)
		if key := "parent " + pp + ", shard " + sp; (pp != "idle" || sp != "idle") && !during[key] && i < lastCreation {
			during[key] = true
			s := addShard(t, f, fmt.Sprintf("new%d.example", len(shards)), key)
			shards = append(shards, &shardRun{host: s.Name(), shard: s.Shard, created: clock, during: key, zsk: map[uint16]bool{}, ksk: map[uint16]bool{}})
		}
		keys, err := f.st.Keys("mx.example.")
		if err != nil {
			t.Fatal(err)
		}
		parentDNSKEYs[servedDNSKEYs(keys)] = true

		v := newValidator(t, "", "mx.example.", reg.anchor, clock)
		v.ask = ask
		for _, s := range shards {
			if err := checkAnswers(v, s.host, s.shard, s.zsk, s.ksk); err != nil {
				t.Fatalf("%v (+%ds), shard %s made during %s: %v", clock, i, s.shard, s.during, err)
			}
			checks += 4
		}
		f.clock = f.clock.Add(time.Second)
	}
	for _, want := range []string{"parent zsk-roll", "parent ksk-roll", "shard zsk-roll", "shard ksk-roll"} {
		found := false
		for k := range during {
			found = found || strings.Contains(k, want)
		}
		if !found {
			t.Errorf("no shard was created during a %s (phases seen: %v)", want, during)
		}
	}
	if reg.seen == 0 || len(parentDNSKEYs) < 8 {
		t.Errorf("the parent's keys hardly rolled: %d DS confirmations, %d DNSKEY RRsets", reg.seen, len(parentDNSKEYs))
	}

	pol, iv := f.policy, f.policy.Intervals()
	end := f.clock
	for _, s := range shards[1:] {
		t.Run(s.shard, func(t *testing.T) {
			keys, err := f.st.Keys(s.shard)
			if err != nil {
				t.Fatal(err)
			}
			zsks, ksks := byRole(keys, zonestore.RoleZSK), byRole(keys, zonestore.RoleKSK)
			for _, k := range keys {
				if !k.Timed {
					t.Errorf("key %s (%s) is still untimed", k.ID, k.Role)
				}
			}
			// The shard's first keys sign from its creation and its first DS is in the
			// parent from then on, with no boot wait: addHosts writes the shard, its
			// DNSKEYs and its DS in one command, so no resolver can hold anything of
			// the shard but the parent's signed denial of its name.
			if first := ksks[0]; !first.Activated.Equal(s.created) || !first.DSPublishedAt.Equal(s.created) || !zsks[0].Activated.Equal(s.created) {
				t.Errorf("first keys: KSK active %v, DS %v, ZSK active %v; want all at creation %v", first.Activated, first.DSPublishedAt, zsks[0].Activated, s.created)
			}
			// ZSK pre-publication every zsk-lifetime (plus jitter), delayed at most by
			// a KSK roll in progress (one roll at a time).
			checkGaps(t, "ZSK activations", zsks, pol.ZSKLifetime, pol.ZSKLifetime+iv.IpubP+2*time.Second)
			// Double-DS: the KSK swap follows its DS by IpubP; the old DS goes IretDS
			// after the old DNSKEY.
			checkGaps(t, "KSK swaps", ksks, pol.KSKLifetime, pol.KSKLifetime+iv.Ipub+2*time.Second)
			for i, k := range ksks[1:] {
				if d := k.Published.Sub(k.DSPublishedAt); d < iv.IpubP {
					t.Errorf("KSK %d published %v after its DS, want at least IpubP %v", i+1, d, iv.IpubP)
				}
			}
			for _, k := range ksks {
				if !k.DSWithdrawn.IsZero() && k.DSWithdrawn.Sub(k.Removed) < iv.IretDS {
					t.Errorf("KSK %s: DS withdrawn %v after its DNSKEY, want at least IretDS %v", k.ID, k.DSWithdrawn.Sub(k.Removed), iv.IretDS)
				}
			}
			age := end.Sub(s.created)
			minZSK := 1 + int(age/(pol.ZSKLifetime+iv.IpubP+2*time.Second))
			minKSK := 1 + int(age/(pol.KSKLifetime+iv.Ipub+2*time.Second))
			if len(s.zsk) < minZSK || len(s.ksk) < minKSK {
				t.Errorf("made %v ago during %s: %d ZSKs and %d KSKs signed its answers, want at least %d and %d", age, s.during, len(s.zsk), len(s.ksk), minZSK, minKSK)
			}
		})
	}
	t.Logf("%d answers validated over %d s; %d shards created mid-roll; parent DNSKEY RRsets %d, registry confirmations %d",
		checks, seconds, len(shards)-1, len(parentDNSKEYs), reg.seen)
}

// addShard provisions domain, which must land in a new shard, and checks that the
// shard's DS is in the parent at once and points at its KSK.
func addShard(t *testing.T, f *rolloverFixture, domain, during string) zonestore.Host {
	t.Helper()
	before := len(f.st.Zones())
	res, err := f.prov.AddDomains(context.Background(), []string{domain})
	if err != nil || res[0].Err != nil {
		t.Fatalf("add %s during %s: %v %v", domain, during, err, res)
	}
	h := *res[0].Host
	if len(f.st.Zones()) != before+1 {
		t.Fatalf("%s did not land in a new shard (%s)", domain, h.Shard)
	}
	ds, err := f.st.DS(h.Shard)
	if err != nil || len(ds) != 1 {
		t.Fatalf("DS of the new shard %s: %v %v", h.Shard, ds, err)
	}
	keys, err := f.st.Keys(h.Shard)
	if err != nil {
		t.Fatal(err)
	}
	ksk := byRole(keys, zonestore.RoleKSK)[0]
	rr, err := dns.NewRR(ksk.DNSKEY)
	if err != nil {
		t.Fatal(err)
	}
	if !matchesDS(rr.(*dns.DNSKEY), ds) {
		t.Fatalf("the DS of %s does not match its KSK", h.Shard)
	}
	return h
}

// byRole returns the keys of role in the order they started signing.
func byRole(keys []zonestore.Key, role zonestore.KeyRole) []zonestore.Key {
	var out []zonestore.Key
	for _, k := range keys {
		if k.Role == role && !k.Activated.IsZero() {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(a, b zonestore.Key) int { return a.Activated.Compare(b.Activated) })
	return out
}

// checkGaps checks that successive keys started signing between lo and hi apart.
func checkGaps(t *testing.T, what string, keys []zonestore.Key, lo, hi time.Duration) {
	t.Helper()
	for i := 1; i < len(keys); i++ {
		if d := keys[i].Activated.Sub(keys[i-1].Activated); d < lo || d > hi {
			t.Errorf("%s %d and %d are %v apart, want %v..%v", what, i-1, i, d, lo, hi)
		}
	}
}

// servedDNSKEYs names the keys in a zone's DNSKEY RRset.
func servedDNSKEYs(keys []zonestore.Key) string {
	var ids []string
	for _, k := range keys {
		if k.InDNSKEY() {
			ids = append(ids, k.ID)
		}
	}
	slices.Sort(ids)
	return strings.Join(ids, " ")
}
