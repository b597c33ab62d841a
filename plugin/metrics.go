package mxsign

import (
	"sync"

	"github.com/coredns/coredns/plugin"
	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/mxsign/mxsign/zonestore"
)

const subsystem = "mxsign"

// queriesTotal counts answers by outcome and by whether DNSSEC records were asked for.
// No zone label: there are thousands of shards.
var queriesTotal = promauto.NewCounterVec(prometheus.CounterOpts{
	Namespace: plugin.Namespace,
	Subsystem: subsystem,
	Name:      "queries_total",
	Help:      "Answers given by mxsign, by result (noerror, nodata, nxdomain, refused, formerr, servfail, notimp) and dnssec (true when DO was set).",
}, []string{"result", "dnssec"})

// propagationSeconds and propagationFailures report the key manager's measurement of
// Raft commit and apply on every member (propagation.go).
var (
	propagationSeconds = promauto.NewGauge(prometheus.GaugeOpts{
		Namespace: plugin.Namespace,
		Subsystem: subsystem,
		Name:      "rollover_propagation_seconds",
		Help:      "Longest measured delay from a key command's proposal until every member applied it, added to the policy's propagation-delay (leader only).",
	})
	propagationFailures = promauto.NewCounter(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: subsystem,
		Name:      "rollover_propagation_failures_total",
		Help:      "Members that could not be asked, or had not applied a key command within the wait, while measuring propagation.",
	})
)

func countAnswer(resp *dns.Msg, do bool) {
	result := "noerror"
	switch resp.Rcode {
	case dns.RcodeSuccess:
		if len(resp.Answer) == 0 {
			result = "nodata" // includes compact-denial NXNAME answers
		}
	default:
		result = dns.RcodeToString[resp.Rcode]
	}
	d := "false"
	if do {
		d = "true"
	}
	queriesTotal.WithLabelValues(lower(result), d).Inc()
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// collector reports signer and store figures summed over the live instances.
type collector struct {
	signatures, hits, misses, entries, hosts, shards *prometheus.Desc
}

var registerOnce sync.Once

func registerMetrics() {
	registerOnce.Do(func() {
		d := func(name, help string) *prometheus.Desc {
			return prometheus.NewDesc(prometheus.BuildFQName(plugin.Namespace, subsystem, name), help, nil, nil)
		}
		prometheus.MustRegister(&collector{
			signatures: d("signatures_total", "RRSIGs computed (cache misses that were signed)."),
			hits:       d("signature_cache_hits_total", "Signatures served from the signature cache."),
			misses:     d("signature_cache_misses_total", "Signature cache misses."),
			entries:    d("signature_cache_entries", "Signatures held in the cache."),
			hosts:      d("hosts", "Hosts (accepted domains) served."),
			shards:     d("shards", "Shard zones served."),
		})
	})
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.signatures, c.hits, c.misses, c.entries, c.hosts, c.shards} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	var sigs, hits, misses, entries, hosts, shards float64
	instances.Lock()
	for _, inst := range instances.m {
		st := inst.signer.Stats()
		sigs += float64(st.Signatures)
		hits += float64(st.Hits)
		misses += float64(st.Misses)
		entries += float64(st.Entries)
		for _, z := range inst.store.Zones() {
			if z.Kind == zonestore.KindShard {
				shards++
				hosts += float64(z.Hosts)
			}
		}
	}
	instances.Unlock()
	ch <- prometheus.MustNewConstMetric(c.signatures, prometheus.CounterValue, sigs)
	ch <- prometheus.MustNewConstMetric(c.hits, prometheus.CounterValue, hits)
	ch <- prometheus.MustNewConstMetric(c.misses, prometheus.CounterValue, misses)
	ch <- prometheus.MustNewConstMetric(c.entries, prometheus.GaugeValue, entries)
	ch <- prometheus.MustNewConstMetric(c.hosts, prometheus.GaugeValue, hosts)
	ch <- prometheus.MustNewConstMetric(c.shards, prometheus.GaugeValue, shards)
}
