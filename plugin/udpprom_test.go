package mxsign

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coredns/coredns/plugin/metrics/vars"
	"github.com/coredns/coredns/request"
	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/mxsign/mxsign/plugin/udpfront"
)

// TestPromMonitoredMatchesCoreDNS keeps promMonitored in step with the QTYPEs the
// prometheus plugin labels by name (vars.Report): every other type counts as "other".
func TestPromMonitoredMatchesCoreDNS(t *testing.T) {
	const server = "dns://monitored-types-test:53"
	other := vars.RequestCount.WithLabelValues(server, ".", "", "udp", "1", "other")
	for qtype := range uint16(300) {
		m := new(dns.Msg)
		m.SetQuestion("example.", qtype)
		before := testutil.ToFloat64(other)
		vars.Report(server, request.Request{W: newFakeWriter("udp"), Req: m}, ".", "", "NOERROR", "mxsign", 100, time.Time{})
		labelledOther := testutil.ToFloat64(other) > before
		if labelledOther == slices.Contains(promMonitored, qtype) {
			t.Errorf("%s: CoreDNS counts it as other: %v; promMonitored says the opposite", dns.Type(qtype), labelledOther)
		}
	}
}

// promSnapshot is what the prometheus plugin recorded for one server, by series.
func promSnapshot(t *testing.T, server string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, c := range []prometheus.Collector{vars.RequestCount, vars.RequestDo, vars.ResponseRcode, vars.RequestSize, vars.ResponseSize, vars.RequestDuration} {
		ch := make(chan prometheus.Metric, 1024)
		c.Collect(ch)
		close(ch)
		for m := range ch {
			var pb dto.Metric
			if err := m.Write(&pb); err != nil {
				t.Fatal(err)
			}
			var labels []string
			mine := false
			for _, l := range pb.GetLabel() {
				if l.GetName() == "server" {
					mine = l.GetValue() == server
					continue
				}
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			if !mine {
				continue
			}
			key := m.Desc().String() + strings.Join(labels, ",")
			switch {
			case pb.Counter != nil:
				out[key] = pb.Counter.GetValue()
			case pb.Histogram != nil:
				out[key] = float64(pb.Histogram.GetSampleCount())
				if !strings.Contains(key, "duration") { // sizes are the same either way
					out[key+" sum"] = pb.Histogram.GetSampleSum()
				}
			}
		}
	}
	return out
}

// TestServerRawPathPrometheus: with `prometheus` before mxsign, the raw path answers
// (cached answers and names that do not exist skip the chain) and the prometheus
// plugin's metrics move exactly as they do when every query goes through the chain
// (udp-workers 0): the same series, counts and sizes.
func TestServerRawPathPrometheus(t *testing.T) {
	dir := t.TempDir()
	text := corefile(dir, 3, "udp-workers 0")
	// errors runs between prometheus and mxsign: responses_total names it, not mxsign.
	text = strings.Replace(text, "    mxsign {", fmt.Sprintf("    prometheus 127.0.0.1:%d\n    errors\n    mxsign {", freeDNSPort()), 1)
	s := startCorefile(t, dir, text)
	server := "dns://" + s.udp
	d, err := s.api.AddDomain(context.Background(), "contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	_, shard, _ := strings.Cut(d.MailExchange, ".")
	ask := func() {
		for i := range 3 {
			for _, q := range []struct {
				name  string
				qtype uint16
			}{{d.MailExchange, dns.TypeA}, {d.MailExchange, dns.TypeMX}, {"_25._tcp." + d.MailExchange, dns.TypeTLSA}, {shard, dns.TypeDNSKEY}, {fmt.Sprintf("nx%d.%s", i, shard), dns.TypeAAAA}} {
				for _, do := range []bool{false, true} {
					m := new(dns.Msg)
					m.SetQuestion(mixCase(q.name), q.qtype)
					m.SetEdns0(1232, do)
					s.exchange(t, m, "udp")
				}
			}
		}
	}
	delta := func(before, after map[string]float64) map[string]float64 {
		out := map[string]float64{}
		for k, v := range after {
			if d := v - before[k]; d != 0 {
				out[k] = d
			}
		}
		return out
	}
	// The prometheus plugin counts a query after its answer is written: wait until
	// it counted every query asked so far (30 per round) before reading.
	asked := 0
	settled := func() map[string]float64 {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			snap := promSnapshot(t, server)
			n, done := 0.0, 0.0 // the first and the last series vars.Report moves
			for k, v := range snap {
				switch {
				case strings.Contains(k, `"coredns_dns_requests_total"`):
					n += v
				case strings.Contains(k, `"coredns_dns_responses_total"`):
					done += v
				}
			}
			if int(n) == asked && int(done) == asked {
				return snap
			}
			if time.Now().After(deadline) {
				t.Fatalf("the prometheus plugin counted %v queries, %d asked", n, asked)
			}
			runtime.Gosched()
		}
	}
	round := func() { ask(); asked += 30 }
	round() // warm: the caches hold what they will hold
	b := settled()
	round()
	chain := delta(b, settled())

	ni, err := s.inst.Restart(caddyInput(strings.Replace(text, "udp-workers 0", "udp-workers 1", 1)))
	if err != nil {
		t.Fatal(err)
	}
	s.inst = ni
	round() // the same again (the caches survive a reload)
	raw0 := udpfront.Totals().Answered
	b = settled()
	round()
	raw := delta(b, settled())
	if n := udpfront.Totals().Answered - raw0; n < 20 {
		t.Fatalf("%d answers from the raw path with prometheus before mxsign; want most of 30", n)
	}
	if len(chain) < 10 {
		t.Fatalf("the prometheus plugin recorded only %v", chain)
	}
	t.Logf("%d series moved the same way", len(chain))
	for k, v := range chain {
		if raw[k] != v {
			t.Errorf("%s: %v through the chain, %v from the raw path", k, v, raw[k])
		}
	}
	for k, v := range raw {
		if _, ok := chain[k]; !ok {
			t.Errorf("%s: %v from the raw path only", k, v)
		}
	}
}
