package mxsign

import (
	"context"
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
