package mxsign

import (
	"strconv"
	"sync"
	"time"

	"github.com/coredns/coredns/plugin"
	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/mxsign/mxsign/plugin/anscache"
	"github.com/mxsign/mxsign/signer"
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
		Help:      "What the key manager adds to the policy's propagation delays: the longest measured delay from a key command's proposal until every member applied it, or the age of a command still not applied everywhere (leader only).",
	})
	propagationFailures = promauto.NewCounter(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: subsystem,
		Name:      "rollover_propagation_failures_total",
		Help:      "Questions to a member about its applied index that failed while measuring propagation.",
	})
	propagationLagging = promauto.NewGauge(prometheus.GaugeOpts{
		Namespace: plugin.Namespace,
		Subsystem: subsystem,
		Name:      "rollover_propagation_lagging_members",
		Help:      "Members that have not applied (or cannot tell whether they applied) the oldest key command still pending; key rollover steps that depend on it wait (leader only).",
	})
)

// parentDSChecks counts the parental-agents checks of a parent zone's DS by result.
var parentDSChecks = promauto.NewCounterVec(prometheus.CounterOpts{
	Namespace: plugin.Namespace,
	Subsystem: subsystem,
	Name:      "parent_ds_checks_total",
	Help:      "Checks of a waiting parent-zone DS at the parental agents, by result: seen (every agent serves it), missing (an agent answered without it), error (an agent timed out, refused, did not answer authoritatively, or answered another question).",
}, []string{"result"})

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

	nsecSignatures, nsecRecords, nsecUnsigned *prometheus.Desc
}

var registerOnce sync.Once

func registerMetrics() {
	registerOnce.Do(func() {
		d := func(name, help string) *prometheus.Desc {
			return prometheus.NewDesc(prometheus.BuildFQName(plugin.Namespace, subsystem, name), help, nil, nil)
		}
		prometheus.MustRegister(newRolloverCollector(instanceViews))
		prometheus.MustRegister(newUDPCollector())
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

			nsecSignatures: d("nsec_signatures_total", "RRSIGs computed for the pre-signed NSEC chains of denial nsec (and the SOA of their negative answers), in the background or for an answer."),
			nsecRecords:    d("nsec_records", "NSEC records in the chains of denial nsec, as of the last background pass."),
			nsecUnsigned:   d("nsec_unsigned", "NSEC records (and negative-answer SOAs) of denial nsec still to be signed with the current keys or re-signed soon, as of the last background pass; an answer that needs one signs it."),
		})
	})
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.signatures, c.hits, c.misses, c.entries, c.hosts, c.shards,
		c.ansHits, c.ansMisses, c.ansEvictions, c.ansEntries, c.ansBytes, c.nsecSignatures, c.nsecRecords, c.nsecUnsigned} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	var sigs, hits, misses, entries, hosts, shards float64
	var ans anscache.Stats
	var nsecSigs, nsecRecords, nsecUnsigned float64
	instances.Lock()
	for _, inst := range instances.m {
		inst.nsecMu.Lock()
		if c := inst.nsec; c != nil {
			nsecSigs += float64(c.signed.Load())
			nsecRecords += float64(c.records.Load())
			nsecUnsigned += float64(c.unsigned.Load())
		}
		inst.nsecMu.Unlock()
		st := inst.signer.Stats()
		sigs += float64(st.Signatures)
		hits += float64(st.Hits)
		misses += float64(st.Misses)
		entries += float64(st.Entries)
		ans.Add(inst.answers.stats())
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
	ch <- prometheus.MustNewConstMetric(c.nsecSignatures, prometheus.CounterValue, nsecSigs)
	ch <- prometheus.MustNewConstMetric(c.nsecRecords, prometheus.GaugeValue, nsecRecords)
	ch <- prometheus.MustNewConstMetric(c.nsecUnsigned, prometheus.GaugeValue, nsecUnsigned)
}

// Label values of mxsign_keys, all reported (zero included) so that series do not vanish.
var (
	keyRoles  = []zonestore.KeyRole{zonestore.RoleKSK, zonestore.RoleZSK, zonestore.RoleCSK}
	keyStates = []zonestore.KeyState{zonestore.StateGenerated, zonestore.StatePublished, zonestore.StateActive, zonestore.StateRetired, zonestore.StateRemoved}
)

// rolloverView is one instance's share of the rollover metrics.
type rolloverView struct {
	stats  rolloverStats  // the scheduler's last step; zero unless this node leads and has a policy
	signer *signer.Signer // nil: no signature horizon to report
	now    time.Time
}

// rolloverCollector reports key rollover: the leader's scheduler as of its last step
// (keys, next step, zones waiting for a parent DS; followers report zeros) and every
// node's own signature expiry horizon, summed (or the minimum taken) over instances.
type rolloverCollector struct {
	keys, nextStep, waiting, horizon *prometheus.Desc
	views                            func() []rolloverView
}

func newRolloverCollector(views func() []rolloverView) *rolloverCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(plugin.Namespace, subsystem, name), help, labels, nil)
	}
	return &rolloverCollector{
		keys:     d("keys", "Key records by role (ksk, zsk, csk) and state (generated, published, active, retired, removed) over all zones, as of the leader's last rollover step; 0 on followers.", "role", "state"),
		nextStep: d("rollover_next_step_seconds", "Seconds until the earliest scheduled key rollover step or parent DS check over all zones; negative when overdue (the scheduler is failing); 0 on followers and when nothing is scheduled."),
		waiting:  d("rollover_waiting_parent_ds", "Zones whose KSK roll waits for its DS to be seen at the parent (parental-agents or mxctl ds seen), as of the leader's last rollover step; 0 on followers."),
		horizon:  d("signature_expiry_horizon_seconds", "Shortest remaining validity of any signature this node could hand out now: the earliest expiration among cached signatures still fit to be served (more than max(signature-refresh, TTL + skew) left), or that of a signature made now (validity less its 10% jitter). Computed by scanning the signature cache at each scrape."),
		views:    views,
	}
}

func (c *rolloverCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.keys, c.nextStep, c.waiting, c.horizon} {
		ch <- d
	}
}

func (c *rolloverCollector) Collect(ch chan<- prometheus.Metric) {
	views := c.views()
	counts := map[keyCount]int{}
	var waiting int
	var next, horizon time.Duration
	hasNext, hasHorizon := false, false
	for _, v := range views {
		for k, n := range v.stats.keys {
			counts[k] += n
		}
		waiting += v.stats.waiting
		if !v.stats.next.IsZero() {
			if d := v.stats.next.Sub(v.now); !hasNext || d < next {
				next, hasNext = d, true
			}
		}
		if v.signer != nil {
			if h := v.signer.ExpiryHorizon(v.now); !hasHorizon || h < horizon {
				horizon, hasHorizon = h, true
			}
		}
	}
	for _, role := range keyRoles {
		for _, state := range keyStates {
			ch <- prometheus.MustNewConstMetric(c.keys, prometheus.GaugeValue, float64(counts[keyCount{role, state}]), string(role), string(state))
		}
	}
	ch <- prometheus.MustNewConstMetric(c.nextStep, prometheus.GaugeValue, next.Seconds())
	ch <- prometheus.MustNewConstMetric(c.waiting, prometheus.GaugeValue, float64(waiting))
	if hasHorizon {
		ch <- prometheus.MustNewConstMetric(c.horizon, prometheus.GaugeValue, horizon.Seconds())
	}
}

// instanceViews is the rollover view of every open instance: a node reports its
// scheduler's stats only while it leads (a follower's are stale or empty).
func instanceViews() []rolloverView {
	now := time.Now()
	instances.Lock()
	defer instances.Unlock()
	views := make([]rolloverView, 0, len(instances.m))
	for _, inst := range instances.m {
		v := rolloverView{signer: inst.signer, now: now}
		if inst.ro != nil && inst.node.IsLeader() {
			v.stats = inst.ro.snapshot()
		}
		views = append(views, v)
	}
	return views
}
