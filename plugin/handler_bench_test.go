package mxsign

import (
	"context"
	"crypto"
	cryptorand "crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coredns/coredns/request"
	"github.com/miekg/dns"

	"github.com/mxsign/mxsign/plugin/udpfront"
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
			benchServe(b, f.handler(bc.size), qs, len(qs))
		})
	}
}

// BenchmarkServeDNSHit is one warm signed A query answered from the answer cache.
func BenchmarkServeDNSHit(b *testing.B) {
	f := newMixFixture(b, 1, 10, 1)
	m := new(dns.Msg)
	m.SetQuestion(f.hosts[0], dns.TypeA)
	m.SetEdns0(4096, true)
	benchServe(b, f.handler(defaultAnswerCache), []*dns.Msg{m}, 1)
}

// benchServe answers the queries qs in turn, the first warm of them once before the
// timer starts (to fill the caches), and returns the CPU time of the process during the
// timed loop.
func benchServe(b *testing.B, h *Mxsign, qs []*dns.Msg, warm int) time.Duration {
	w := newFakeWriter("udp")
	ctx := context.Background()
	for _, q := range qs[:warm] {
		h.ServeDNS(ctx, request.NewScrubWriter(q, w), q)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU(b)
	i := warm
	for b.Loop() {
		q := qs[i%len(qs)]
		i++
		if _, err := h.ServeDNS(ctx, request.NewScrubWriter(q, w), q); err != nil {
			b.Fatal(err)
		}
	}
	return processCPU(b) - cpu
}

// BenchmarkServeDNSNXFlood measures a random-subdomain flood: every query asks for a
// distinct name that does not exist, with DO set, so that every answer is a compact
// denial (RFC 9824) whose NSEC is signed afresh. It runs, per algorithm, first the bare
// signatures of the same key over data of the same size ("raw-*": crypto only), then
// the whole query path ("serve"), and reports answers/s and their ratio to each raw
// rate ("x-raw-*"). The ratios are of rates per CPU second of the process (GC
// included), which other load on the machine disturbs much less than the wall-clock
// ns/op. For ECDSA, raw-hedged is Go's default randomized nonce, what the
// peers' microbenchmark measures; raw-rfc6979 the deterministic nonce the signer uses.
func BenchmarkServeDNSNXFlood(b *testing.B) {
	for _, a := range []struct {
		name string
		alg  uint8
	}{{"ECDSAP256SHA256", dns.ECDSAP256SHA256}, {"ED25519", dns.ED25519}} {
		f := newMixFixtureAlg(b, 4, 50, 1, a.alg)
		// Every name once: a name asked for again may come from the cache of denials,
		// so each run gets a handler of its own, and more names than it asks for.
		qs := floodQueries(b, f, 1<<17)
		rates := map[string]float64{} // per CPU second
		var names []string
		for _, raw := range rawSigners(b, f, qs[0].Question[0].Name) {
			names = append(names, raw.name)
			b.Run(a.name+"/"+raw.name, func(b *testing.B) {
				b.ReportAllocs()
				cpu := processCPU(b)
				for b.Loop() {
					raw.sign()
				}
				rates[raw.name] = float64(b.N) / (processCPU(b) - cpu).Seconds()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sigs/s")
				b.ReportMetric(rates[raw.name], "sigs/cpu-s")
			})
		}
		b.Run(a.name+"/serve", func(b *testing.B) {
			rate := float64(b.N) / benchServe(b, f.handler(defaultAnswerCache), qs, 16).Seconds() // the zones' parts made
			report(b, rate, names, rates)
		})
		// As miekg/dns's server does: each query in a goroutine of its own, whose stack
		// starts small; on one P, as the server pinned to one CPU runs.
		b.Run(a.name+"/serve-goroutine", func(b *testing.B) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
			h := f.handler(defaultAnswerCache)
			w := newFakeWriter("udp")
			ctx := context.Background()
			done := make(chan struct{})
			b.ReportAllocs()
			cpu := processCPU(b)
			i := 0
			for b.Loop() {
				q := qs[i%len(qs)]
				i++
				go func() {
					if _, err := h.ServeDNS(ctx, request.NewScrubWriter(q, w), q); err != nil {
						b.Error(err)
					}
					done <- struct{}{}
				}()
				<-done
			}
			report(b, float64(b.N)/(processCPU(b)-cpu).Seconds(), names, rates)
		})
	}
}

// report reports a benchmark's answers per second and per CPU second (rate), and the
// ratio of rate to each of rates.
func report(b *testing.B, rate float64, names []string, rates map[string]float64) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "answers/s")
	b.ReportMetric(rate, "answers/cpu-s")
	for _, n := range names {
		if rates[n] > 0 {
			b.ReportMetric(rate/rates[n], "x-"+n)
		}
	}
}

// floodQueries returns n queries, DO set, for distinct random names under the
// fixture's shards and its parent, as a random-subdomain flood sends them.
func floodQueries(tb testing.TB, f *mixFixture, n int) []*dns.Msg {
	tb.Helper()
	var zones []string
	seen := map[string]bool{}
	for _, h := range f.hosts {
		_, shard, _ := strings.Cut(h, ".")
		if !seen[shard] {
			seen[shard] = true
			zones = append(zones, shard)
		}
	}
	zones = append(zones, "mx.example.")
	rnd := rand.New(rand.NewPCG(1, 2))
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	qs := make([]*dns.Msg, n)
	label := make([]byte, 12)
	for i := range qs {
		for j := range label {
			label[j] = alphabet[rnd.IntN(len(alphabet))]
		}
		m := new(dns.Msg)
		m.SetQuestion(string(label)+"."+zones[i%len(zones)], dns.TypeA)
		m.RecursionDesired = false
		m.SetEdns0(4096, true)
		qs[i] = m
	}
	return qs
}

// processCPU returns the CPU time the process has used, user and system.
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rawSigners returns functions that each make one bare signature with the ZSK of the
// zone of name over data the size of a compact-denial NSEC's signed data: SHA-256 and
// ecdsa's Sign with crypto/rand (hedged) and without (RFC 6979), or ed25519.Sign.
// Nothing else: the rates a signer cannot exceed.
func rawSigners(tb testing.TB, f *mixFixture, name string) []struct {
	name string
	sign func()
} {
	tb.Helper()
	ans := f.st.Lookup(name, dns.TypeA)
	zk, err := f.r.keys.get(ans.Zone, ans.KeyGen)
	if err != nil {
		tb.Fatal(err)
	}
	k := zk.zsk[0]
	data := make([]byte, 18+len(ans.Zone)+2*(len(name)+2)+16)
	sign := func(rnd io.Reader, opts crypto.SignerOpts) func() {
		return func() {
			msg := data
			if opts.HashFunc() == crypto.SHA256 {
				d := sha256.Sum256(data)
				msg = d[:]
			}
			if _, err := k.Private.Sign(rnd, msg, opts); err != nil {
				tb.Fatal(err)
			}
		}
	}
	type raw = struct {
		name string
		sign func()
	}
	if k.DNSKEY.Algorithm == dns.ED25519 {
		return []raw{{"raw", sign(nil, crypto.Hash(0))}}
	}
	return []raw{{"raw-hedged", sign(cryptorand.Reader, crypto.SHA256)}, {"raw-rfc6979", sign(nil, crypto.SHA256)}}
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
	benchServe(b, h, qs, len(qs))
	b.ReportMetric(float64(signed()-before)/float64(b.N), "sigs/op")
}

// BenchmarkRawAnswer is the raw path of batched UDP serving (udp.go): a query's bytes to
// its answer's bytes, without the plugin chain: a warm signed A query from the answer
// cache, the warm mix, and names that do not exist with `denial nsec` (from the chain,
// no signature) and compact denial (one signature each).
func BenchmarkRawAnswer(b *testing.B) {
	pack := func(b *testing.B, qs []*dns.Msg) [][]byte {
		out := make([][]byte, len(qs))
		for i, q := range qs {
			var err error
			if out[i], err = q.Pack(); err != nil {
				b.Fatal(err)
			}
		}
		return out
	}
	run := func(b *testing.B, h *Mxsign, qs []*dns.Msg, warm int) {
		a := &rawAnswerer{m: h, parent: wireName("mx.example."), inline: true, raw: true}
		wires := pack(b, qs)
		w := newFakeWriter("udp")
		for _, q := range qs[:warm] {
			h.ServeDNS(context.Background(), request.NewScrubWriter(q, w), q)
		}
		dst := make([]byte, 0, 4096)
		b.ReportAllocs()
		i, answered := warm, 0
		for b.Loop() {
			var v udpfront.Verdict
			dst, v = a.Answer(dst[:0], wires[i%len(wires)])
			i++
			if v == udpfront.Answered {
				answered++
			}
		}
		b.ReportMetric(float64(answered)/float64(b.N), "raw/op")
	}
	b.Run("hit", func(b *testing.B) {
		f := newMixFixture(b, 1, 10, 1)
		m := new(dns.Msg)
		m.SetQuestion(f.hosts[0], dns.TypeA)
		m.SetEdns0(4096, true)
		run(b, f.handler(defaultAnswerCache), []*dns.Msg{m}, 1)
	})
	b.Run("mix", func(b *testing.B) {
		f := newMixFixture(b, 4, 250, 1)
		qs := f.queries(b, 20000)
		run(b, f.handler(defaultAnswerCache), qs, len(qs))
	})
	b.Run("nx-nsec", func(b *testing.B) {
		f, _ := newNSECFixture(b, 4, 250)
		run(b, f.handler(defaultAnswerCache), floodQueries(b, f, 1<<16), 16)
	})
	b.Run("nx-compact", func(b *testing.B) {
		f := newMixFixture(b, 4, 50, 1)
		run(b, f.handler(defaultAnswerCache), floodQueries(b, f, 1<<17), 16)
	})
}
