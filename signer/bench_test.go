package signer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"testing"

	"github.com/miekg/dns"
)

// BenchmarkRawSign measures raw RRSIG signing of one A RRset, no cache: the
// rate an online signer sustains on a random-subdomain flood. "miekg" is
// dns.RRSIG.Sign for comparison; "signer" is Sign with the cache disabled;
// "nxname" is SignNXNAME, the wire path of a compact denial, over distinct names.
// "bare" is the signature alone over data of the same size: for ECDSA, SHA-256
// and ecdsa.SignASN1 with crypto/rand (Go's hedged nonce, as the peers'
// microbenchmark), and "bare-rfc6979" the deterministic nonce that signer uses;
// for Ed25519, ed25519.Sign.
func BenchmarkRawSign(b *testing.B) {
	for _, a := range algs {
		k := testKey(b, testZone, a.alg, false)
		set := rrs(b, "contoso-com.1j2b.mx.example. 300 IN A 192.0.2.1")
		b.Run(a.name+"/miekg", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sig := &dns.RRSIG{Hdr: dns.RR_Header{Ttl: 300}, KeyTag: k.Tag, SignerName: testZone, Algorithm: a.alg,
					Inception: uint32(t0.Unix()), Expiration: uint32(t0.Unix()) + 86400}
				if err := sig.Sign(k.Private, set); err != nil {
					b.Fatal(err)
				}
			}
			reportRate(b)
		})
		b.Run(a.name+"/signer", func(b *testing.B) {
			s := New(Options{CacheSize: -1})
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Sign(set, k, testZone, t0); err != nil {
					b.Fatal(err)
				}
			}
			reportRate(b)
		})
		b.Run(a.name+"/nxname", func(b *testing.B) {
			s := New(Options{})
			owners := make([][]byte, 1024)
			for i := range owners {
				owners[i] = wireName(b, fmt.Sprintf("nx%d-q7x2k.%s", i, testZone))
			}
			var buf []byte
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				var err error
				if buf, err = s.SignNXNAME(buf[:0], owners[i%len(owners)], 60, k, testZone, t0); err != nil {
					b.Fatal(err)
				}
				i++
			}
			reportRate(b)
		})
		// The data an A RRSIG signs: RRSIG RDATA with the signer name, then the RR.
		data := make([]byte, 18+len(testZone)+1+len("contoso-com.")+len(testZone)+1+14)
		switch a.alg {
		case dns.ED25519:
			priv := k.Private.(ed25519.PrivateKey)
			b.Run(a.name+"/bare", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					ed25519.Sign(priv, data)
				}
				reportRate(b)
			})
		default:
			priv := k.Private.(*ecdsa.PrivateKey)
			b.Run(a.name+"/bare", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					d := sha256.Sum256(data)
					if _, err := ecdsa.SignASN1(rand.Reader, priv, d[:]); err != nil {
						b.Fatal(err)
					}
				}
				reportRate(b)
			})
			b.Run(a.name+"/bare-rfc6979", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					d := sha256.Sum256(data)
					if _, err := priv.Sign(nil, d[:], crypto.SHA256); err != nil {
						b.Fatal(err)
					}
				}
				reportRate(b)
			})
		}
	}
}

// reportRate reports the operations per second of a finished benchmark loop.
func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sigs/s")
}

// BenchmarkSignHit measures a cache hit: canonical form, hash, lookup, copy.
func BenchmarkSignHit(b *testing.B) {
	for _, a := range algs {
		k := testKey(b, testZone, a.alg, false)
		for _, tc := range []struct {
			name string
			set  []dns.RR
		}{
			{"A", rrs(b, "contoso-com.1j2b.mx.example. 300 IN A 192.0.2.1")},
			{"0x20-A", rrs(b, "CoNtOsO-CoM.1j2b.MX.example. 300 IN A 192.0.2.1")},
			{"AAAAx2", rrs(b, "contoso-com.1j2b.mx.example. 300 IN AAAA 2001:db8::2", "contoso-com.1j2b.mx.example. 300 IN AAAA 2001:db8::1")},
			{"SOA", rrs(b, "1j2b.mx.example. 60 IN SOA ns1.mx.example. hostmaster.mx.example. 7 3600 600 86400 60")},
		} {
			b.Run(a.name+"/"+tc.name, func(b *testing.B) {
				s := New(Options{})
				if _, err := s.Sign(tc.set, k, testZone, t0); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := s.Sign(tc.set, k, testZone, t0); err != nil {
						b.Fatal(err)
					}
				}
				if st := s.Stats(); st.Signatures != 1 {
					b.Fatalf("%d signatures: not all hits", st.Signatures)
				}
			})
		}
	}
}

// BenchmarkSignHitParallel measures cache hits from all Ps on many RRsets.
func BenchmarkSignHitParallel(b *testing.B) {
	k := testKey(b, testZone, dns.ECDSAP256SHA256, false)
	s := New(Options{})
	sets := make([][]dns.RR, 1024)
	for i := range sets {
		sets[i] = rrs(b, fmt.Sprintf("h%d.1j2b.mx.example. 300 IN A 192.0.2.1", i))
		if _, err := s.Sign(sets[i], k, testZone, t0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := s.Sign(sets[i%len(sets)], k, testZone, t0); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// BenchmarkSignMiss measures a cache miss: lookup, sign, insert with eviction.
// The RRsets (compact NSECs, as a random-subdomain flood makes) cycle through
// more names than the cache holds, so every call misses.
func BenchmarkSignMiss(b *testing.B) {
	sets := make([][]dns.RR, 1<<14)
	for i := range sets {
		sets[i] = []dns.RR{CompactNSEC(fmt.Sprintf("rnd%d.1j2b.mx.example.", i), 60, nil, dns.TypeA, true)}
	}
	for _, a := range algs {
		k := testKey(b, testZone, a.alg, false)
		b.Run(a.name, func(b *testing.B) {
			s := New(Options{CacheSize: 1024})
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := s.Sign(sets[i%len(sets)], k, testZone, t0); err != nil {
					b.Fatal(err)
				}
				i++
			}
			if st := s.Stats(); st.Hits != 0 {
				b.Fatalf("%d hits", st.Hits)
			}
		})
	}
}

func BenchmarkCompactNSEC(b *testing.B) {
	types := []uint16{dns.TypeA, dns.TypeAAAA}
	b.ReportAllocs()
	for b.Loop() {
		CompactNSEC("Contoso-com.1j2b.mx.example.", 60, types, dns.TypeMX, false)
	}
}
