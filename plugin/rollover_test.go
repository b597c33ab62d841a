package mxsign

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxsign/mxsign/signer"
	"github.com/mxsign/mxsign/signer/keymgr"
	"github.com/mxsign/mxsign/zonestore"
)

// fastPolicy is the compressed-time policy of the rollover end-to-end run.
const fastPolicy = `
zsk-lifetime 60s
ksk-lifetime 180s
dnskey-ttl 5s
max-zone-ttl 5s
propagation-delay 2s
parent-ds-ttl 5s
parent-propagation-delay 2s
publish-safety 1s
retire-safety 1s
signature-validity 10m
signature-refresh 8m
`

// TestRolloverServesValidAnswersThroughout runs the key manager on a fake clock for ten
// minutes of the compressed policy (ZSK rolls every minute, a shard KSK roll by double-DS
// every three) and, every second, validates what the server answers from the parent's
// trust anchor down, like a resolver with an empty cache would.
func TestRolloverServesValidAnswersThroughout(t *testing.T) {
	p, err := keymgr.ParsePolicy(strings.NewReader(fastPolicy))
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
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
	host := res[0].Host.Name()
	shard := res[0].Host.Shard
	r := &responder{store: st, signer: signer.New(cfg.Signer), keys: newKeyring(st), now: now, bufSize: 1232, log: log}
	ro := &rollover{store: st, applier: applier, keys: prov.Keys, policy: p}
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
		clock = clock.Add(time.Second)
	}
	// Ten minutes: ~10 ZSKs and ~3 shard KSKs should have signed answers.
	if len(zskTags) < 8 || len(kskTags) < 3 {
		t.Fatalf("rolls did not happen: %d ZSK tags, %d KSK tags signed answers", len(zskTags), len(kskTags))
	}
	t.Logf("%d answers validated over 10 simulated minutes; %d ZSKs and %d KSKs signed them", checks, len(zskTags), len(kskTags))
}
