package mxsign

import (
	"strconv"
	"testing"

	"github.com/miekg/dns"
)

// newTestResponder returns a responder over a real store with a parent zone and one host.
func newTestResponder(tb testing.TB) (*responder, string) {
	tb.Helper()
	f := newMixFixture(tb, 1, 1, 1)
	return f.r, f.hosts[0]
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
