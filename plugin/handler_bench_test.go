package mxsign

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/coredns/coredns/request"
	"github.com/miekg/dns"
)

// BenchmarkServeDNSMix measures the whole query path, ServeDNS through CoreDNS's
// ScrubWriter to packed bytes, over the peers' warm query mix (60 % A, 20 % TLSA,
// 10 % AAAA, 5 % names that do not exist, 5 % shard apex) with DO set, with and
// without the answer cache. The names that do not exist are signed on every query.
func BenchmarkServeDNSMix(b *testing.B) {
	f := newMixFixture(b, 4, 250, 1)
	qs := f.queries(b, 20000)
	for _, bc := range []struct {
		name string
		size int
	}{{"cache=off", 0}, {"cache=on", defaultAnswerCache}} {
		b.Run(bc.name, func(b *testing.B) {
			benchServe(b, f.handler(bc.size), qs)
		})
	}
}

// BenchmarkServeDNSHit is one warm signed A query answered from the answer cache.
func BenchmarkServeDNSHit(b *testing.B) {
	f := newMixFixture(b, 1, 10, 1)
	m := new(dns.Msg)
	m.SetQuestion(f.hosts[0], dns.TypeA)
	m.SetEdns0(4096, true)
	benchServe(b, f.handler(defaultAnswerCache), []*dns.Msg{m})
}

func benchServe(b *testing.B, h *Mxsign, qs []*dns.Msg) {
	w := newFakeWriter("udp")
	ctx := context.Background()
	for _, q := range qs { // warm the caches
		h.ServeDNS(ctx, request.NewScrubWriter(q, w), q)
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		q := qs[i%len(qs)]
		i++
		if _, err := h.ServeDNS(ctx, request.NewScrubWriter(q, w), q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkServeDNSNXFloodNSEC is a random-subdomain flood (a new name that does not
// exist in every query, DO set) with `denial nsec`: the whole ServeDNS path, answered
// from the zone's pre-signed chain in wire form. sigs/op counts the signatures made
// (the chain's and the signer's): 0 once the chains are signed.
func BenchmarkServeDNSNXFloodNSEC(b *testing.B) {
	f, c := newNSECFixture(b, 4, 2500)
	_, shard, _ := strings.Cut(f.hosts[0], ".")
	qs := make([]*dns.Msg, 1<<16)
	for i := range qs {
		qs[i] = new(dns.Msg)
		qs[i].SetQuestion(fmt.Sprintf("r%08x.%s", uint32(i)*2654435761, shard), dns.TypeA)
		qs[i].SetEdns0(4096, true)
	}
	h := f.handler(defaultAnswerCache)
	signed := func() uint64 { return c.signed.Load() + f.r.signer.Stats().Signatures }
	before := signed()
	benchServe(b, h, qs)
	b.ReportMetric(float64(signed()-before)/float64(b.N), "sigs/op")
}
