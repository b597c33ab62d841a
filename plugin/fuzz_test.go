package mxsign

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxsign/mxsign/signer"
	"github.com/mxsign/mxsign/zonestore"
)

// newTestResponder opens a real store in a temp dir with a parent zone and one host.
func newTestResponder(tb testing.TB) (*responder, string) {
	tb.Helper()
	dir := tb.TempDir()
	kek, err := zonestore.GenerateKEK(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	st, err := zonestore.Open(zonestore.Options{Path: filepath.Join(dir, "mxsign.db"), KEK: kek})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	cfg := zonestore.Config{
		Parent:      "mx.example.",
		NameServers: []zonestore.NameServer{{Name: "ns1.mx.example.", A: []string{"192.0.2.53"}}},
	}.WithDefaults()
	prof := zonestore.Profile{TTL: 300, A: []string{"192.0.2.25"}, AAAA: []string{"2001:db8::25"}, TLSA: []string{testTLSA}}
	clock := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	prov := &zonestore.Provisioner{
		Store: st, Applier: zonestore.NewLocalApplier(st), Keys: keyFactory(kek, 3600),
		Now: func() time.Time { return clock }, Rand: rand.Reader,
	}
	ctx := context.Background()
	if err := prov.Init(ctx, cfg, prof); err != nil {
		tb.Fatal(err)
	}
	res, err := prov.AddDomains(ctx, []string{"contoso.com"})
	if err != nil || res[0].Err != nil {
		tb.Fatalf("add: %v %v", err, res)
	}
	return &responder{
		store: st, signer: signer.New(signer.Options{}), keys: newKeyring(st),
		now: func() time.Time { return clock }, bufSize: 1232, log: log,
	}, res[0].Host.Name()
}

// FuzzResponder feeds arbitrary wire messages to the query handler's core: it must never
// panic, and every answer must pack.
func FuzzResponder(f *testing.F) {
	r, host := newTestResponder(f)
	for _, q := range []struct {
		name  string
		qtype uint16
		do    bool
	}{
		{host, dns.TypeA, true}, {"_25._tcp." + host, dns.TypeTLSA, true}, {"nx.mx.example.", dns.TypeA, true},
		{"MX.example.", dns.TypeDNSKEY, false}, {host, 128, true}, {host, dns.TypeANY, true}, {"mx.example.", dns.TypeDS, false},
	} {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.qtype)
		m.SetEdns0(1232, q.do)
		b, _ := m.Pack()
		f.Add(b, true)
	}
	f.Fuzz(func(t *testing.T, wire []byte, udp bool) {
		m := new(dns.Msg)
		if err := m.Unpack(wire); err != nil {
			return
		}
		resp, ok := r.respond(m, udp)
		if !ok {
			return
		}
		if _, err := resp.Pack(); err != nil {
			t.Fatalf("answer does not pack: %v\n%v", err, resp)
		}
	})
}

func BenchmarkRespondSignedHit(b *testing.B) {
	r, host := newTestResponder(b)
	m := new(dns.Msg)
	m.SetQuestion(host, dns.TypeA)
	m.SetEdns0(1232, true)
	r.respond(m, true)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		resp, _ := r.respond(m, true)
		if _, err := resp.Pack(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRespondCompactDenial(b *testing.B) {
	r, _ := newTestResponder(b)
	m := new(dns.Msg)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		m.SetQuestion("nx"+strconv.Itoa(i)+".mx.example.", dns.TypeA)
		m.SetEdns0(1232, true)
		resp, _ := r.respond(m, true)
		if _, err := resp.Pack(); err != nil {
			b.Fatal(err)
		}
	}
}
