package mxsign

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxsign/mxsign/plugin/api"
	"github.com/mxsign/mxsign/signer"
	"github.com/mxsign/mxsign/signer/keymgr"
	"github.com/mxsign/mxsign/testzones"
	"github.com/mxsign/mxsign/zonestore"
)

// rolloverFixture is a store with a parent, one host, a responder and the scheduler,
// all on a fake clock.
type rolloverFixture struct {
	clock       time.Time
	st          *zonestore.Store
	applier     zonestore.Applier
	prov        *zonestore.Provisioner
	cfg         *config
	r           *responder
	ro          *rollover
	policy      keymgr.Policy
	host, shard string
}

// newRolloverFixture builds the fixture with the compressed policy; opts may change
// the settings (before the policy is applied to them).
func newRolloverFixture(t *testing.T, opts ...func(*config)) *rolloverFixture {
	t.Helper()
	p, err := keymgr.ParsePolicy(strings.NewReader(testzones.FastPolicy))
	if err != nil {
		t.Fatal(err)
	}
	f := &rolloverFixture{clock: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), policy: p}
	now := func() time.Time { return f.clock }
	kek, err := zonestore.GenerateKEK(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	st, err := zonestore.Open(zonestore.Options{Path: filepath.Join(t.TempDir(), "mxsign.db"), KEK: kek})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := &config{
		Zone: zonestore.Config{Parent: "mx.example.",
			NameServers: []zonestore.NameServer{{Name: "ns1.mx.example.", A: []string{"192.0.2.53"}}}}.WithDefaults(),
		Profile: zonestore.Profile{TTL: 300, A: []string{"192.0.2.25"}, TLSA: []string{testTLSA}},
		Policy:  &p,
	}
	for _, o := range opts {
		o(cfg)
	}
	p, f.policy = *cfg.Policy, *cfg.Policy
	applyPolicy(cfg)
	applier := zonestore.NewLocalApplier(st)
	prov := &zonestore.Provisioner{Store: st, Applier: applier, Keys: keyFactory(kek, cfg.Zone.DNSKEYTTL), Now: now, Rand: rand.Reader}
	ctx := context.Background()
	if err := prov.Init(ctx, cfg.Zone, cfg.Profile); err != nil {
		t.Fatal(err)
	}
	res, err := prov.AddDomains(ctx, []string{"contoso.com"})
	if err != nil || res[0].Err != nil {
		t.Fatalf("add: %v %v", err, res)
	}
	f.st, f.applier, f.prov, f.cfg = st, applier, prov, cfg
	f.host, f.shard = res[0].Host.Name(), res[0].Host.Shard
	f.r = &responder{store: st, signer: signer.New(cfg.Signer), keys: newKeyring(st), now: now, bufSize: 1232, log: log}
	f.ro = &rollover{store: st, applier: applier, keys: prov.Keys, policy: p}
	return f
}

// TestRolloverServesValidAnswersThroughout runs the key manager on a fake clock for ten
// minutes of the compressed policy (ZSK rolls every minute, a shard KSK roll by double-DS
// every three) and, every second, validates what the server answers from the parent's
// trust anchor down, like a resolver with an empty cache would.
func TestRolloverServesValidAnswersThroughout(t *testing.T) {
	f := newRolloverFixture(t)
	ctx := context.Background()
	st, r, ro, host, shard := f.st, f.r, f.ro, f.host, f.shard
	ask := func(m *dns.Msg) (*dns.Msg, error) {
		resp, _ := r.respond(m, false)
		return resp, nil
	}
	anchorDS, err := st.DS("mx.example.")
	if err != nil {
		t.Fatal(err)
	}

	zskTags, kskTags := map[uint16]bool{}, map[uint16]bool{}
	checks := 0
	for i := 0; i < 600; i++ {
		clock := f.clock
		if _, err := ro.step(ctx, clock); err != nil {
			t.Fatalf("%v: step: %v", clock, err)
		}
		v := newValidator(t, "", "mx.example.", anchorDS, clock)
		v.ask = ask
		for _, q := range []struct {
			name  string
			qtype uint16
		}{{host, dns.TypeA}, {"_25._tcp." + host, dns.TypeTLSA}, {shard, dns.TypeDNSKEY}, {shard, dns.TypeSOA}} {
			m, _ := v.query(q.name, q.qtype, true)
			if err := v.validatePositive(m); err != nil {
				t.Fatalf("%v (+%ds): %s %s: %v\n%v", clock, i, q.name, dns.TypeToString[q.qtype], err, m)
			}
			checks++
			for _, rr := range m.Answer {
				if sig, ok := rr.(*dns.RRSIG); ok {
					if sig.TypeCovered == dns.TypeDNSKEY {
						kskTags[sig.KeyTag] = true
					} else {
						zskTags[sig.KeyTag] = true
					}
				}
			}
		}
		m, _ := v.query("nothere."+shard, dns.TypeA, true)
		if err := v.validateDenial(m, "nothere."+shard, dns.TypeA, true); err != nil {
			t.Fatalf("%v: denial: %v", clock, err)
		}
		checks++
		f.clock = f.clock.Add(time.Second)
	}
	// Ten minutes: ~10 ZSKs and ~3 shard KSKs should have signed answers.
	if len(zskTags) < 8 || len(kskTags) < 3 {
		t.Fatalf("rolls did not happen: %d ZSK tags, %d KSK tags signed answers", len(zskTags), len(kskTags))
	}
	t.Logf("%d answers validated over 10 simulated minutes; %d ZSKs and %d KSKs signed them", checks, len(zskTags), len(kskTags))
}

func TestKeyService(t *testing.T) {
	f := newRolloverFixture(t)
	ctx := context.Background()
	svc := &keyService{store: f.st, applier: f.applier, policy: &f.policy, now: func() time.Time { return f.clock }}
	step := func(d time.Duration) {
		t.Helper()
		end := f.clock.Add(d)
		for ; f.clock.Before(end); f.clock = f.clock.Add(time.Second) {
			if _, err := f.ro.step(ctx, f.clock); err != nil {
				t.Fatal(err)
			}
		}
	}
	step(10 * time.Second)
	list, err := svc.Keys(ctx, strings.TrimSuffix(f.shard, "."))
	if err != nil {
		t.Fatal(err)
	}
	if !list.Managed || list.NextStep == nil || len(list.Keys) < 2 {
		t.Fatalf("keys of %s: %+v", f.shard, list)
	}
	zsks := func() int {
		l, err := svc.Keys(ctx, f.shard)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, k := range l.Keys {
			if k.Role == "zsk" {
				n++
			}
		}
		return n
	}
	before := zsks()
	got, err := svc.Rollover(ctx, f.shard, api.RolloverRequest{Role: "zsk"})
	if err != nil {
		t.Fatal(err)
	}
	requested := false
	for _, k := range got.Keys {
		requested = requested || k.RollRequested != nil
	}
	if !requested {
		t.Fatalf("no key marked for a roll: %+v", got.Keys)
	}
	step(3 * time.Second)
	if zsks() <= before {
		t.Fatalf("a requested ZSK roll generated no new ZSK (%d before, %d after)", before, zsks())
	}

	tests := []struct {
		name string
		err  error
		call func() error
	}{
		{name: "bad role", err: api.ErrInvalid, call: func() error { _, err := svc.Rollover(ctx, f.shard, api.RolloverRequest{Role: "big"}); return err }},
		{name: "algorithm other than the policy's", err: api.ErrInvalid, call: func() error {
			_, err := svc.Rollover(ctx, f.shard, api.RolloverRequest{Role: "zsk", Algorithm: 15})
			return err
		}},
		{name: "unknown zone", err: api.ErrNotFound, call: func() error { _, err := svc.Keys(ctx, "nope.mx.example."); return err }},
		{name: "ds seen on a shard", err: api.ErrInvalid, call: func() error { return svc.DSSeen(ctx, f.shard) }},
		{name: "ds seen with nothing waiting", err: api.ErrConflict, call: func() error { return svc.DSSeen(ctx, "mx.example.") }},
		{name: "unmanaged", err: api.ErrConflict, call: func() error {
			_, err := (&keyService{store: f.st, applier: f.applier, now: time.Now}).Rollover(ctx, f.shard, api.RolloverRequest{Role: "zsk"})
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, tc.err) {
				t.Fatalf("got %v, want %v", err, tc.err)
			}
		})
	}
}

// registry plays the registry of the parent zone's parent in the fake-clock tests: a
// delay after the parent's DS set (the store's, from CDS/CDNSKEY) changes, it
// publishes it and confirms it with `ds seen`, as an operator would. What it publishes
// is the validators' trust anchor.
type registry struct {
	delay  time.Duration
	anchor []*dns.DS // published
	want   []*dns.DS // the store's set as last seen
	at     time.Time // when want gets published; zero: it is
	seen   int       // DS confirmations made
}

func newRegistry(t testing.TB, st *zonestore.Store, delay time.Duration) *registry {
	t.Helper()
	ds, err := st.DS("mx.example.")
	if err != nil {
		t.Fatal(err)
	}
	return &registry{delay: delay, anchor: ds, want: ds}
}

// tick follows the store's DS set at now and publishes it once the delay passed.
func (g *registry) tick(t testing.TB, now time.Time, st *zonestore.Store, svc *keyService) {
	t.Helper()
	ds, err := st.DS("mx.example.")
	if err != nil {
		t.Fatal(err)
	}
	if !sameDS(ds, g.want) {
		g.want, g.at = ds, now.Add(g.delay)
	}
	if g.at.IsZero() || now.Before(g.at) {
		return
	}
	g.anchor, g.at = g.want, time.Time{}
	switch err := svc.DSSeen(context.Background(), "mx.example."); {
	case err == nil:
		g.seen++
	case !errors.Is(err, api.ErrConflict): // a withdrawal: nothing waits to be seen
		t.Fatalf("%v: ds seen: %v", now, err)
	}
}

// checkAnswers validates, with v, the A and TLSA answers of host, its shard's DNSKEY
// RRset and a denial in the shard, and records the key tags that signed them.
func checkAnswers(v *validator, host, shard string, zsk, ksk map[uint16]bool) error {
	for _, q := range []struct {
		name  string
		qtype uint16
	}{{host, dns.TypeA}, {"_25._tcp." + host, dns.TypeTLSA}, {shard, dns.TypeDNSKEY}} {
		m, err := v.query(q.name, q.qtype, true)
		if err != nil {
			return err
		}
		if err := v.validatePositive(m); err != nil {
			return fmt.Errorf("%s %s: %w\n%v", q.name, dns.TypeToString[q.qtype], err, m)
		}
		for _, rr := range m.Answer {
			if sig, ok := rr.(*dns.RRSIG); ok && sig.TypeCovered == dns.TypeDNSKEY {
				ksk[sig.KeyTag] = true
			} else if ok {
				zsk[sig.KeyTag] = true
			}
		}
	}
	m, err := v.query("nothere."+shard, dns.TypeA, true)
	if err != nil {
		return err
	}
	if err := v.validateDenial(m, "nothere."+shard, dns.TypeA, true); err != nil {
		return fmt.Errorf("denial in %s: %w\n%v", shard, err, m)
	}
	return nil
}
