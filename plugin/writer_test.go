package mxsign

import (
	"bytes"
	"context"
	golog "log"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coredns/coredns/plugin"
	_ "github.com/coredns/coredns/plugin/log"
	"github.com/coredns/coredns/plugin/metrics"
	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/request"
	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// unknownWrapper is a plugin's ResponseWriter that the answer writer does not know: it
// must be handed the answer through WriteMsg (it could be adding an option, like nsid).
type unknownWrapper struct {
	dns.ResponseWriter
	got *dns.Msg
}

func (u *unknownWrapper) WriteMsg(m *dns.Msg) error {
	u.got = m
	return u.ResponseWriter.WriteMsg(m)
}

// middleware wraps the writer and calls next the way a CoreDNS plugin does.
func middleware(wrap func(dns.ResponseWriter) dns.ResponseWriter, next plugin.Handler) plugin.Handler {
	return plugin.HandlerFunc(func(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
		return plugin.NextOrFailure("test", next, ctx, wrap(w), r)
	})
}

// TestWriterChain: behind the wrappers CoreDNS's log and prometheus plugins put around
// the writer, a packed answer still reaches the client as bytes, and the wrappers
// record its rcode (and log its message) as if it had been written with WriteMsg.
// Behind a wrapper it does not know, the answer goes through WriteMsg.
func TestWriterChain(t *testing.T) {
	f := newMixFixture(t, 1, 2, 1)
	h := f.handler(1 << 20)
	_, shard, _ := strings.Cut(f.hosts[0], ".")
	nx := new(dns.Msg)
	nx.SetQuestion("nothere."+shard, dns.TypeA)
	queries := []*dns.Msg{nx, signedQuery(f.hosts[0], dns.TypeA), signedQuery(f.hosts[0], dns.TypeA)} // the second from the cache

	type chain struct {
		prom    *metrics.Recorder
		log     *dnstest.Recorder
		unknown *unknownWrapper
	}
	tests := []struct {
		name   string
		layers []string // outermost first, as the plugins run
		viaMsg bool
	}{
		{name: "no plugin before mxsign"},
		{name: "prometheus", layers: []string{"prometheus"}},
		{name: "log", layers: []string{"log"}},
		{name: "prometheus and log", layers: []string{"prometheus", "log"}},
		{name: "an unknown wrapper", layers: []string{"unknown"}, viaMsg: true},
		{name: "prometheus, log and an unknown wrapper", layers: []string{"prometheus", "log", "unknown"}, viaMsg: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, q := range queries {
				var c chain
				var next plugin.Handler = h
				for i := len(tc.layers) - 1; i >= 0; i-- {
					switch tc.layers[i] {
					case "prometheus":
						next = middleware(func(w dns.ResponseWriter) dns.ResponseWriter { c.prom = metrics.NewRecorder(w); return c.prom }, next)
					case "log":
						next = middleware(func(w dns.ResponseWriter) dns.ResponseWriter { c.log = dnstest.NewRecorder(w); return c.log }, next)
					case "unknown":
						next = middleware(func(w dns.ResponseWriter) dns.ResponseWriter {
							c.unknown = &unknownWrapper{ResponseWriter: w}
							return c.unknown
						}, next)
					}
				}
				fw := newFakeWriter("udp")
				if _, err := next.ServeDNS(context.Background(), request.NewScrubWriter(q, fw), q); err != nil {
					t.Fatal(err)
				}
				if fw.writes != 1 || (fw.msgs == 1) != tc.viaMsg {
					t.Fatalf("%d writes, %d through WriteMsg; want one, through WriteMsg: %v", fw.writes, fw.msgs, tc.viaMsg)
				}
				got := unpack(t, fw.wire)
				if got.Id != q.Id {
					t.Fatalf("answer %v", got)
				}
				if c.prom != nil && (c.prom.Rcode != got.Rcode || c.prom.Len == 0 || c.prom.Plugin == "") {
					t.Errorf("prometheus recorded rcode %d, %d bytes, plugin %q; the answer has rcode %d", c.prom.Rcode, c.prom.Len, c.prom.Plugin, got.Rcode)
				}
				if c.log != nil {
					if c.log.Rcode != got.Rcode || c.log.Msg == nil || c.log.Len == 0 {
						t.Fatalf("log recorded rcode %d, %d bytes, message %v; the answer has rcode %d", c.log.Rcode, c.log.Len, c.log.Msg, got.Rcode)
					}
					if err := sameRRs(c.log.Msg, got); err != nil || c.log.Msg.Id != q.Id {
						t.Errorf("log recorded another message: %v\n%v", err, c.log.Msg)
					}
				}
				if !tc.viaMsg && c.log != nil && c.log.Len != len(fw.wire) {
					t.Errorf("log recorded %d bytes, %d were written", c.log.Len, len(fw.wire))
				}
				if c.unknown != nil {
					if c.unknown.got == nil {
						t.Fatal("the unknown wrapper was not given the message")
					}
					if err := sameRRs(c.unknown.got, got); err != nil {
						t.Errorf("the unknown wrapper was given another message: %v", err)
					}
				}
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for the log package's concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// responses returns CoreDNS's coredns_dns_responses_total for rcode. (Its plugin label
// names the plugin after prometheus, whichever wrote the answer.)
func responses(t *testing.T, rcode string) float64 {
	t.Helper()
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() != "coredns_dns_responses_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["rcode"] == rcode {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n
}

// TestServerLogAndPrometheus runs a real server with the log and prometheus plugins in
// front of mxsign: they log and count the right rcode for answers written as bytes,
// from the cache or not.
func TestServerLogAndPrometheus(t *testing.T) {
	var logs syncBuffer
	golog.SetOutput(&logs)
	t.Cleanup(func() { golog.SetOutput(os.Stderr) })
	dir := t.TempDir()
	text := strings.Replace(corefile(dir, 10, ""), "    bind 127.0.0.1\n", "    bind 127.0.0.1\n    prometheus 127.0.0.1:0\n    log\n", 1)
	s := startCorefile(t, dir, text)
	d, err := s.api.AddDomain(context.Background(), "contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	nxBefore, okBefore := responses(t, "NXDOMAIN"), responses(t, "NOERROR")
	nx := new(dns.Msg)
	nx.SetQuestion("nothere."+d.Shard, dns.TypeA)
	if r := s.exchange(t, nx, "udp"); r.Rcode != dns.RcodeNameError {
		t.Fatalf("rcode %s, want NXDOMAIN", dns.RcodeToString[r.Rcode])
	}
	for range 2 { // the second from the cache
		r := s.exchange(t, signedQuery(d.MailExchange, dns.TypeA), "udp")
		if r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 {
			t.Fatalf("answer %v", r)
		}
	}
	if hits := s.mx.answers.stats().Hits; hits == 0 {
		t.Fatal("no answer came from the cache")
	}
	// The prometheus and log plugins record an answer after it is sent: poll briefly.
	deadline := time.Now().Add(5 * time.Second)
	count := func(rcode string, before, want float64) float64 {
		got := responses(t, rcode) - before
		for ; got < want && time.Now().Before(deadline); got = responses(t, rcode) - before {
			time.Sleep(10 * time.Millisecond)
		}
		return got
	}
	if got := count("NXDOMAIN", nxBefore, 1); got != 1 {
		t.Errorf("prometheus counted %v NXDOMAIN answers, want 1", got)
	}
	if got := count("NOERROR", okBefore, 2); got != 2 {
		t.Errorf("prometheus counted %v NOERROR answers, want 2", got)
	}
	for time.Now().Before(deadline) && strings.Count(logs.String(), d.MailExchange) < 2 {
		time.Sleep(10 * time.Millisecond)
	}
	out := logs.String()
	if !strings.Contains(out, `"A IN nothere.`+d.Shard) || !strings.Contains(out, "NXDOMAIN qr,aa") {
		t.Errorf("no log line for the NXDOMAIN answer:\n%s", out)
	}
	if n := strings.Count(out, "NOERROR qr,aa"); n != 2 {
		t.Errorf("%d log lines with NOERROR qr,aa, want 2:\n%s", n, out)
	}
}

// rawExchange sends q over UDP to addr and returns the answer's bytes as received.
func rawExchange(t *testing.T, addr string, q *dns.Msg) []byte {
	t.Helper()
	b, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}

// TestServerWritesPackedAnswers: a real server sends the answer mxsign packed, owner
// names compressed to the question, with or without plugins in front, from the cache
// or not.
func TestServerWritesPackedAnswers(t *testing.T) {
	for _, tc := range []struct{ name, plugins string }{
		{name: "mxsign alone"},
		{name: "behind log and errors", plugins: "    log\n    errors\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := startCorefile(t, dir, strings.Replace(corefile(dir, 10, ""), "    bind 127.0.0.1\n", "    bind 127.0.0.1\n"+tc.plugins, 1))
			d, err := s.api.AddDomain(context.Background(), "contoso.com")
			if err != nil {
				t.Fatal(err)
			}
			qname := mixCase(d.MailExchange)
			for i := range 2 {
				q := signedQuery(qname, dns.TypeA)
				wire := rawExchange(t, s.udp, q)
				m := unpack(t, wire)
				if m.Id != q.Id || m.Question[0].Name != qname || len(m.Answer) != 3 { // two A and their RRSIG
					t.Fatalf("answer %d: %v", i, m)
				}
				for _, o := range rawOwners(t, wire) {
					if strings.EqualFold(o.name, qname) && !o.toQuestion {
						t.Fatalf("answer %d: owner %q is not a pointer to the question: not the bytes mxsign packed", i, o.name)
					}
				}
			}
			if s.mx.answers.stats().Hits == 0 {
				t.Fatal("no answer came from the cache")
			}
		})
	}
}
