package mxsign

import (
	"strconv"
	"sync"

	"github.com/coredns/coredns/plugin"
	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/mxsign/mxsign/plugin/anscache"
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

// countAnswer counts an answer with RCODE rcode and that many answer records.
func countAnswer(rcode, answers int, do bool) {
	d := 0
	if do {
		d = 1
	}
	switch rcode {
	case dns.RcodeSuccess:
		if answers == 0 {
			answerCounters[resultNoData][d].Inc() // includes compact-denial NXNAME answers
			return
		}
		answerCounters[resultNoError][d].Inc()
	case dns.RcodeNameError:
		answerCounters[resultNXDomain][d].Inc()
	case dns.RcodeRefused:
		answerCounters[resultRefused][d].Inc()
	case dns.RcodeFormatError:
		answerCounters[resultFormErr][d].Inc()
	case dns.RcodeServerFailure:
		answerCounters[resultServFail][d].Inc()
	case dns.RcodeNotImplemented:
		answerCounters[resultNotImp][d].Inc()
	default:
		queriesTotal.WithLabelValues(lower(dns.RcodeToString[rcode]), strconv.FormatBool(do)).Inc()
	}
}

// The results answers usually have, in answerCounters.
const (
	resultNoError = iota
	resultNoData
	resultNXDomain
	resultRefused
	resultFormErr
	resultServFail
	resultNotImp
	numResults
)

// answerCounters are queriesTotal's counters by result and dnssec (false, true),
// resolved once: WithLabelValues hashes its labels on every call.
var answerCounters = func() (c [numResults][2]prometheus.Counter) {
	names := [numResults]string{"noerror", "nodata", "nxdomain", "refused", "formerr", "servfail", "notimp"}
	for i, result := range names {
		c[i] = [2]prometheus.Counter{queriesTotal.WithLabelValues(result, "false"), queriesTotal.WithLabelValues(result, "true")}
	}
	return c
}()

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

	ansHits, ansMisses, ansEvictions, ansEntries, ansBytes *prometheus.Desc
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

			ansHits:      d("answer_cache_hits_total", "Answers served from the answer cache."),
			ansMisses:    d("answer_cache_misses_total", "Answer cache misses."),
			ansEvictions: d("answer_cache_evictions_total", "Answers evicted from the answer cache to make room."),
			ansEntries:   d("answer_cache_entries", "Answers held in the answer cache."),
			ansBytes:     d("answer_cache_bytes", "Bytes the answer cache holds, by its own accounting."),
		})
	})
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.signatures, c.hits, c.misses, c.entries, c.hosts, c.shards,
		c.ansHits, c.ansMisses, c.ansEvictions, c.ansEntries, c.ansBytes} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	var sigs, hits, misses, entries, hosts, shards float64
	var ans anscache.Stats
	instances.Lock()
	for _, inst := range instances.m {
		st := inst.signer.Stats()
		sigs += float64(st.Signatures)
		hits += float64(st.Hits)
		misses += float64(st.Misses)
		entries += float64(st.Entries)
		as := inst.answers.stats()
		ans.Hits += as.Hits
		ans.Misses += as.Misses
		ans.Evictions += as.Evictions
		ans.Entries += as.Entries
		ans.Bytes += as.Bytes
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
	ch <- prometheus.MustNewConstMetric(c.ansHits, prometheus.CounterValue, float64(ans.Hits))
	ch <- prometheus.MustNewConstMetric(c.ansMisses, prometheus.CounterValue, float64(ans.Misses))
	ch <- prometheus.MustNewConstMetric(c.ansEvictions, prometheus.CounterValue, float64(ans.Evictions))
	ch <- prometheus.MustNewConstMetric(c.ansEntries, prometheus.GaugeValue, float64(ans.Entries))
	ch <- prometheus.MustNewConstMetric(c.ansBytes, prometheus.GaugeValue, float64(ans.Bytes))
}
