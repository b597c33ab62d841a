package mxsign

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxsign/mxsign/signer"
	"github.com/mxsign/mxsign/signer/keymgr"
	"github.com/mxsign/mxsign/testzones"
	"github.com/mxsign/mxsign/zonestore"
)

// cachingResolver is a validating resolver with a cache, for the policy-change tests:
// it keeps every validated RRset (DS, DNSKEY, answers) for its TTL and validates what
// it fetches against the keys it holds, as a real resolver does. A resolver holding a
// DNSKEY RRset from before a ZSK was published sees answers signed by that ZSK as
// bogus: the failure a shortened wait causes, which an empty-cache validator cannot
// see. The parent's DS is the registry's current set, never cached.
type cachingResolver struct {
	anchor func() []*dns.DS
	ask    func(*dns.Msg) (*dns.Msg, error)
	cache  map[string]cachedSet
	misses int // RRsets fetched and validated
}

type cachedSet struct {
	rrs     []dns.RR
	expires time.Time
}

func newCachingResolver(anchor func() []*dns.DS, ask func(*dns.Msg) (*dns.Msg, error)) *cachingResolver {
	return &cachingResolver{anchor: anchor, ask: ask, cache: map[string]cachedSet{}}
}

// fetch asks for name/qtype and returns the RRset, its RRSIGs and its TTL.
func (c *cachingResolver) fetch(name string, qtype uint16) ([]dns.RR, []*dns.RRSIG, time.Duration, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.SetEdns0(1232, true)
	r, err := c.ask(m)
	if err != nil {
		return nil, nil, 0, err
	}
	set, sigs := split(r.Answer, qtype)
	if len(set) == 0 || len(sigs) == 0 {
		return nil, nil, 0, fmt.Errorf("%s %s: no signed answer: %v", name, dns.TypeToString[qtype], r)
	}
	ttl := set[0].Header().Ttl
	for _, s := range sigs {
		ttl = min(ttl, s.Hdr.Ttl, s.OrigTtl)
	}
	return set, sigs, time.Duration(ttl) * time.Second, nil
}

// lookup returns the validated RRset name/qtype of zone, from the cache while fresh.
func (c *cachingResolver) lookup(now time.Time, name string, qtype uint16, zone string) ([]dns.RR, error) {
	key := strings.ToLower(name) + "/" + dns.TypeToString[qtype]
	if e, ok := c.cache[key]; ok && now.Before(e.expires) {
		return e.rrs, nil
	}
	var keys []*dns.DNSKEY
	if qtype == dns.TypeDNSKEY {
		// The DNSKEY RRset must be signed by a key a DS points at.
		ds, err := c.ds(now, zone)
		if err != nil {
			return nil, err
		}
		set, sigs, ttl, err := c.fetch(name, qtype)
		if err != nil {
			return nil, err
		}
		for _, rr := range set {
			if k := rr.(*dns.DNSKEY); matchesDS(k, ds) {
				keys = append(keys, k)
			}
		}
		return c.keep(now, key, set, sigs, keys, ttl)
	}
	dnskeys, err := c.lookup(now, zone, dns.TypeDNSKEY, zone)
	if err != nil {
		return nil, err
	}
	for _, rr := range dnskeys {
		keys = append(keys, rr.(*dns.DNSKEY))
	}
	set, sigs, ttl, err := c.fetch(name, qtype)
	if err != nil {
		return nil, err
	}
	return c.keep(now, key, set, sigs, keys, ttl)
}

// keep validates set with one of keys and caches it for ttl.
func (c *cachingResolver) keep(now time.Time, key string, set []dns.RR, sigs []*dns.RRSIG, keys []*dns.DNSKEY, ttl time.Duration) ([]dns.RR, error) {
	c.misses++
	for _, sig := range sigs {
		for _, k := range keys {
			if k.KeyTag() == sig.KeyTag && k.Algorithm == sig.Algorithm && sig.Verify(k, set) == nil && sig.ValidityPeriod(now) {
				c.cache[key] = cachedSet{rrs: set, expires: now.Add(ttl)}
				return set, nil
			}
		}
	}
	tags := make([]uint16, len(keys))
	for i, k := range keys {
		tags[i] = k.KeyTag()
	}
	sigTags := make([]uint16, len(sigs))
	for i, s := range sigs {
		sigTags[i] = s.KeyTag
	}
	return nil, fmt.Errorf("bogus %s: signed by %v, the cached keys are %v", key, sigTags, tags)
}

// ds returns the validated DS set of zone (the anchor for the parent).
func (c *cachingResolver) ds(now time.Time, zone string) ([]*dns.DS, error) {
	if strings.EqualFold(zone, "mx.example.") {
		return c.anchor(), nil
	}
	set, err := c.lookup(now, zone, dns.TypeDS, "mx.example.")
	if err != nil {
		return nil, err
	}
	out := make([]*dns.DS, len(set))
	for i, rr := range set {
		out[i] = rr.(*dns.DS)
	}
	return out, nil
}

// TestRolloverPolicyChange reloads the policy in the middle of a ZSK roll and in the
// middle of a shard's KSK double-DS roll, lowering every TTL and delay (30-40s TTLs
// to 5s), the way acquire does: the policy state first, then the new settings are
// served (TTL cap) and the signer is replaced. Forty caching resolvers, started a
// second apart so that their caches expire at every phase, resolve a host, its TLSA
// and its shard's DNSKEY every second. With the old values held for their holdover no
// resolver ever sees a bogus answer, and once the hold ends the keys roll at the new
// pace; switching the scheduler to the new values at once (naive) is caught.
func TestRolloverPolicyChange(t *testing.T) {
	fast, err := keymgr.ParsePolicy(strings.NewReader(testzones.FastPolicy))
	if err != nil {
		t.Fatal(err)
	}
	slow := fast
	slow.ZSKLifetime = 120 * time.Second
	// A DS TTL other than the DNSKEY TTL, so that resolvers hold DS sets fetched
	// at other times than their DNSKEY RRsets.
	slow.DNSKEYTTL, slow.MaxZoneTTL, slow.ParentDSTTL = 30*time.Second, 40*time.Second, 40*time.Second
	if err := slow.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		mid       func(shard []zonestore.Key) bool // the roll in progress when the policy changes
		naive     bool
		wantBogus bool
	}{
		{name: "mid ZSK roll, held", mid: zskPrePublished},
		{name: "mid ZSK roll, naive", mid: zskPrePublished, naive: true, wantBogus: true},
		{name: "mid KSK roll, held", mid: kskDSFirst},
		{name: "mid KSK roll, naive", mid: kskDSFirst, naive: true, wantBogus: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newRolloverFixture(t, func(c *config) { c.Policy = &slow })
			ctx := context.Background()
			now := func() time.Time { return f.clock }
			svc := &keyService{store: f.st, applier: f.applier, policy: &f.policy, now: now}
			reg := newRegistry(t, f.st, 3*time.Second)
			ps := newPolicyState(f.cfg.Policy, f.cfg.Signer)
			ask := func(m *dns.Msg) (*dns.Msg, error) {
				resp, _ := f.r.respond(m, false)
				return resp, nil
			}
			var resolvers []*cachingResolver
			var switched, holdEnds time.Time
			zsksAfterHold := map[uint16]bool{}
			const seconds = 420
			for i := range seconds {
				clock := f.clock
				zc, prof, _ := f.st.Config()
				ps.observe(clock, zc, prof)
				eff, _, _ := ps.effective(clock)
				if tc.naive && !switched.IsZero() {
					eff = fast // the scheduler forgets the old policy at once
				}
				f.ro.policy = eff
				if _, err := f.ro.step(ctx, clock); err != nil {
					t.Fatalf("%v: step: %v", clock, err)
				}
				reg.tick(t, clock, f.st, svc)
				shardKeys, err := f.st.Keys(f.shard)
				if err != nil {
					t.Fatal(err)
				}
				if switched.IsZero() && i > 60 && tc.mid(shardKeys) {
					// The reload, in acquire's order.
					cfg2 := *f.cfg
					cfg2.Policy = &fast
					applyPolicy(&cfg2)
					ps.set(clock, &fast, cfg2.Signer)
					if err := f.prov.Init(ctx, cfg2.Zone, cfg2.Profile); err != nil {
						t.Fatal(err)
					}
					zc, prof, _ := f.st.Config()
					ps.observe(clock, zc, prof)
					holdEnds = ps.heldUntil(clock)
					f.r.signer = signer.New(cfg2.Signer)
					switched = clock
					t.Logf("%v: policy changed; old values held until %v", clock, holdEnds)
				}
				if len(resolvers) < 40 {
					resolvers = append(resolvers, newCachingResolver(func() []*dns.DS { return reg.anchor }, ask))
				}
				for j, r := range resolvers {
					for _, q := range []struct {
						name  string
						qtype uint16
					}{{f.host, dns.TypeA}, {"_25._tcp." + f.host, dns.TypeTLSA}, {f.shard, dns.TypeDNSKEY}} {
						_, err := r.lookup(clock, q.name, q.qtype, f.shard)
						switch {
						case err != nil && tc.wantBogus:
							t.Logf("caught at %v (+%v after the change), resolver %d: %v", clock, clock.Sub(switched), j, err)
							return
						case err != nil:
							t.Fatalf("%v (+%ds, policy changed at %v): resolver %d: %v", clock, i, switched, j, err)
						}
					}
				}
				if !holdEnds.IsZero() && clock.After(holdEnds) {
					for _, k := range byRole(shardKeys, zonestore.RoleZSK) {
						if k.Activated.After(holdEnds) {
							zsksAfterHold[k.Tag] = true
						}
					}
				}
				f.clock = f.clock.Add(time.Second)
			}
			if tc.wantBogus {
				t.Fatalf("no resolver saw a bogus answer after the naive policy change at %v", switched)
			}
			if switched.IsZero() || holdEnds.IsZero() {
				t.Fatal("the roll to change the policy in never came")
			}
			// The new settings are served, and after the hold the keys roll at the
			// new pace: a ZSK every minute instead of every two.
			m := new(dns.Msg)
			m.SetQuestion(f.host, dns.TypeA)
			m.SetEdns0(1232, true)
			resp, _ := f.r.respond(m, false)
			if ttl := resp.Answer[0].Header().Ttl; ttl != uint32(fast.MaxZoneTTL/time.Second) {
				t.Errorf("A TTL %d after the change, want max-zone-ttl %v", ttl, fast.MaxZoneTTL)
			}
			if eff, _, _ := ps.effective(f.clock); eff != fast {
				t.Errorf("effective policy after the hold: %+v, want the new one", eff)
			}
			if want := int(f.clock.Sub(holdEnds)/(fast.ZSKLifetime+10*time.Second)) - 1; len(zsksAfterHold) < want {
				t.Errorf("%d ZSKs activated in the %v after the hold, want at least %d", len(zsksAfterHold), f.clock.Sub(holdEnds), want)
			}
			misses := 0
			for _, r := range resolvers {
				misses += r.misses
			}
			t.Logf("policy changed at %v, held until %v; %d resolvers validated %d RRsets; %d ZSKs after the hold",
				switched, holdEnds, len(resolvers), misses, len(zsksAfterHold))
		})
	}
}

// zskPrePublished: the shard's ZSK successor is published, not yet active.
func zskPrePublished(keys []zonestore.Key) bool {
	return find(keys, func(k zonestore.Key) bool {
		return k.Role == zonestore.RoleZSK && !k.Published.IsZero() && k.Activated.IsZero()
	}) != nil
}

// kskDSFirst: the shard's KSK successor has its DS at the parent, not yet its DNSKEY.
func kskDSFirst(keys []zonestore.Key) bool {
	return find(keys, func(k zonestore.Key) bool {
		return k.Role == zonestore.RoleKSK && !k.DSPublishedAt.IsZero() && k.Published.IsZero()
	}) != nil
}
