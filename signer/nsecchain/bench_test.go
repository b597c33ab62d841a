package nsecchain

import (
	"fmt"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxsign/mxsign/signer"
)

// benchChain is a presigned shard of n hosts and random names below it.
func benchChain(b *testing.B, n int) (*Chain, *testSigning, []string) {
	b.Helper()
	labels := make([]string, n)
	for i := range labels {
		labels[i] = fmt.Sprintf("customer%06d-example-com", i*7919%n)
	}
	ts := newTestSigning(b, shardApex, signer.Options{})
	ch := mustBuild(b, shardContent(1, labels...), nil)
	if _, err := ch.Presign(ts.at(t0), time.Hour, 0); err != nil {
		b.Fatal(err)
	}
	qnames := make([]string, 4096)
	for i := range qnames {
		qnames[i] = fmt.Sprintf("r%08x.%s", uint32(i)*2654435761, shardApex)
	}
	return ch, ts, qnames
}

// BenchmarkNXDomainWire: the proof and the packed answer of a random-subdomain query in
// a presigned 10,000-host shard. No signature is made (reported as sigs/op).
func BenchmarkNXDomainWire(b *testing.B) {
	ch, ts, qnames := benchChain(b, 10000)
	wires := make([][]byte, len(qnames))
	for i, q := range qnames {
		wires[i] = wireOf(b, q)
	}
	var signed countingUint64
	sg := ts.at(t0)
	sg.Signed = &signed.Uint64
	buf := make([]byte, 0, 1232)
	q := WireQuery{Qtype: dns.TypeA, Qclass: dns.ClassINET, OPT: true, DO: true, BufSize: 1232}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % len(qnames)
		p, err := ch.NXDomain(qnames[j])
		if err != nil {
			b.Fatal(err)
		}
		q.Name = wires[j]
		if buf, err = ch.AppendNegative(buf[:0], &q, dns.RcodeNameError, p, sg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(signed.Load())/float64(b.N), "sigs/op")
}

// BenchmarkNXDomainMsg: the same answer built as records and packed by dns.Msg.
func BenchmarkNXDomainMsg(b *testing.B) {
	ch, ts, qnames := benchChain(b, 10000)
	var signed countingUint64
	sg := ts.at(t0)
	sg.Signed = &signed.Uint64
	buf := make([]byte, 0, 1232)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		qname := qnames[i%len(qnames)]
		p, err := ch.NXDomain(qname)
		if err != nil {
			b.Fatal(err)
		}
		m := new(dns.Msg)
		m.SetQuestion(qname, dns.TypeA)
		m.Response, m.Authoritative, m.Rcode, m.Compress = true, true, dns.RcodeNameError, true
		if m.Ns, _, err = ch.AppendDenial(m.Ns, p, qname, true, sg); err != nil {
			b.Fatal(err)
		}
		m.SetEdns0(1232, true)
		if buf, err = m.PackBuffer(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(signed.Load())/float64(b.N), "sigs/op")
}

// BenchmarkBuild: building the chain of a 10,000-host shard from the previous version
// with one host more (what a host add costs besides the few signatures).
func BenchmarkBuild(b *testing.B) {
	ch, _, _ := benchChain(b, 10000)
	labels := make([]string, 10001)
	for i := range 10000 {
		labels[i] = fmt.Sprintf("customer%06d-example-com", i)
	}
	labels[10000] = "new-example-com"
	c := shardContent(2, labels...)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Build(c, ch); err != nil {
			b.Fatal(err)
		}
	}
}
