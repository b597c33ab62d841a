package mxsign

import (
	"encoding/binary"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/metrics"
	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mxsign/mxsign/plugin/anscache"
	"github.com/mxsign/mxsign/plugin/udpfront"
	"github.com/mxsign/mxsign/zonestore"
)

// Batched UDP serving (udpfront): the server block's UDP queries are read and answered
// in batches by `udp-workers` goroutines instead of one goroutine per query. Repeated
// questions are answered from the answer cache straight from the query's bytes (the
// raw path) when nothing before mxsign in the block needs to see them; the others go
// to the CoreDNS server as miekg/dns would hand them over.

// rawFront are the plugins that may run before mxsign and still let the raw path skip
// them: they only act on errors (errors), or set up what later plugins read (cancel,
// metadata). prometheus may too: the raw path records its metrics (udpprom.go). With
// any other one (log, acl...) every query goes through the chain, batched all the same.
var rawFront = []string{"errors", "cancel", "metadata"}

// inlineSafe are the plugins that never wait on the network or a lock held across a
// query: a block of only these is served on the reading goroutine. A block with any
// other plugin (forward, say) has each query served in a goroutine of its own.
var inlineSafe = []string{
	"mxsign", "errors", "cancel", "metadata", "log", "prometheus", "acl", "any", "chaos",
	"whoami", "nsid", "bufsize", "minimal", "header", "rewrite", "loadbalance", "cache",
	"local", "timeouts",
}

// setupUDPFront has the server block's addresses served by Fronts: reserved when the
// instance starts (a reload's new instance before the old one stops), attached when the
// CoreDNS server starts serving UDP, released when the instance stops.
func setupUDPFront(c *caddy.Controller, cfg *config) {
	if cfg.UDPWorkers == 0 {
		return
	}
	sc := dnsserver.GetConfig(c)
	switch {
	case sc.NumSockets > 1:
		log.Infof("batched UDP serving is off: multisocket opens sockets of its own")
		return
	case sc.ProxyProtoConnPolicy != nil:
		log.Infof("batched UDP serving is off: the PROXY protocol header is CoreDNS's socket's to read")
		return
	}
	var addrs []string
	for _, host := range sc.ListenHosts {
		addr, ok := frontAddr(host, sc.Port)
		if !ok {
			log.Infof("batched UDP serving is off for %q: it needs a bound address (bind) and a port", net.JoinHostPort(host, sc.Port))
			continue
		}
		addrs = append(addrs, addr)
	}
	if len(addrs) == 0 {
		return
	}
	var mu sync.Mutex
	held := make(map[string]*udpfront.Reservation)
	c.OnStartup(func() error {
		mu.Lock()
		defer mu.Unlock()
		for _, addr := range addrs {
			r := udpfront.Reserve(addr, cfg.UDPWorkers)
			held[addr] = r
			c.OnShutdown(r.Release)
		}
		return nil
	})
	prev := sc.UDPDecorateWriterFunc
	sc.UDPDecorateWriterFunc = func(s *dnsserver.Server) dns.DecorateWriter {
		mu.Lock()
		r := held[strings.TrimPrefix(s.Address(), "dns://")]
		mu.Unlock()
		switch {
		case r == nil:
		case prev != nil:
			// Another plugin (shed, say) decorates the server's UDP writes: our
			// writes would escape it.
			log.Infof("batched UDP serving is off for %s: another plugin decorates UDP writes", s.Address())
			r.Decline()
		case !attachFront(r, s, sc, cfg.Parent):
			r.Decline()
		}
		if prev != nil {
			return prev(s)
		}
		return nil
	}
}

// frontAddr is host:port for a Front: a specific address (a socket bound to a wildcard
// address would have to choose each answer's source address) and a fixed port.
func frontAddr(host, port string) (string, bool) {
	ip := net.ParseIP(host)
	if ip == nil || ip.IsUnspecified() || port == "" || port == "0" {
		return "", false
	}
	return net.JoinHostPort(ip.String(), port), true
}

// attachFront hands the started server and our raw answerer to the reserved Front; false
// if the server's UDP is not for a Front.
func attachFront(r *udpfront.Reservation, s *dnsserver.Server, sc *dnsserver.Config, parent string) bool {
	m, ok := sc.Handler("mxsign").(*Mxsign)
	if !ok {
		return false
	}
	view, ok := viewServer(s)
	if !ok {
		log.Warningf("batched UDP serving is off for %s: this CoreDNS server's blocks cannot be read", s.Address())
		return false
	}
	if reason := view.unsupported(); reason != "" {
		log.Infof("batched UDP serving is off for %s: %s", s.Address(), reason)
		return false
	}
	a := &rawAnswerer{m: m, parent: wireName(parent)}
	var prom *metrics.Metrics
	a.inline, a.raw, prom = chainKinds(sc)
	a.dsSpawn = view.hasAncestor(parent)
	if others := view.overlapping(sc, parent); others != "" {
		// Names under the parent may go to another block: leave them to CoreDNS's
		// routing, in goroutines of their own.
		log.Infof("answers without the plugin chain are off for %s: %s", s.Address(), others)
		a.inline, a.raw = false, false
	}
	if a.raw && prom != nil {
		// The raw path records what the prometheus plugin would have.
		a.prom = newPromRecorder(s, prom, parent, nextAfter(sc, "prometheus"))
		a.raw = a.prom != nil
	}
	if err := r.Attach(s, a, view.opcodes); err != nil {
		log.Warningf("batched UDP serving is off: %v", err)
		return false
	}
	log.Infof("UDP queries to %s read and answered in batches by %d goroutines (answers from the cache without the plugin chain: %v)",
		strings.TrimPrefix(s.Address(), "dns://"), r.Front().Workers(), a.raw)
	return true
}

// chainKinds says whether the block's queries may be served on the reading goroutine
// (inline) and answered from the cache without the chain (raw); prom is the block's
// prometheus plugin when it runs before mxsign (the raw path then records its metrics).
func chainKinds(sc *dnsserver.Config) (inline, raw bool, prom *metrics.Metrics) {
	inline, raw = true, sc.ViewName == "" && len(sc.FilterFuncs) == 0
	order := dnsserver.Directives
	ours := slices.Index(order, "mxsign")
	for _, h := range sc.Handlers() {
		name := h.Name()
		if !slices.Contains(inlineSafe, name) {
			inline = false
		}
		i := slices.Index(order, name)
		if name == "mxsign" || i >= 0 && i > ours || slices.Contains(rawFront, name) {
			continue
		}
		if m, ok := h.(*metrics.Metrics); ok && i >= 0 {
			prom = m
			continue
		}
		raw = false
	}
	return inline, raw && ours >= 0, prom
}

// nextAfter is the name of the plugin that runs right after the named one in the
// block: the one the prometheus plugin's responses_total names.
func nextAfter(sc *dnsserver.Config, name string) string {
	have := map[string]bool{}
	for _, h := range sc.Handlers() {
		have[h.Name()] = true
	}
	order := dnsserver.Directives
	for _, d := range order[slices.Index(order, name)+1:] {
		if have[d] {
			return d
		}
	}
	return "mxsign"
}

// wireName is the lower-case wire form of a fully qualified name.
func wireName(name string) []byte {
	w, _ := packName(strings.ToLower(dns.Fqdn(name)))
	return w
}

// rawAnswerer is the Fast answerer of a Front: cached answers patched from the query's
// bytes.
type rawAnswerer struct {
	m       *Mxsign
	parent  []byte        // the parent zone, lower-case wire form
	inline  bool          // the block's plugins never wait
	raw     bool          // the cache may answer without the chain
	dsSpawn bool          // DS queries may go to a block above the parent (CoreDNS's DS rule)
	prom    *promRecorder // the prometheus plugin's metrics of raw answers; nil without it
}

// Answer implements udpfront.Fast.
func (a *rawAnswerer) Answer(dst, query []byte) ([]byte, udpfront.Verdict) {
	var q anscache.Query
	h, ok := anscache.ParseQuery(query, &q)
	if !ok || !a.inline || !inZone(q.Key()[5:], a.parent) || a.dsSpawn && binary.BigEndian.Uint16(q.Key()[1:]) == dns.TypeDS {
		return dst, udpfront.Spawn
	}
	if binary.BigEndian.Uint16(q.Key()[3:]) != dns.ClassINET {
		return dst, udpfront.Inline // CoreDNS refuses other classes unless chaos is loaded
	}
	if !a.raw || a.m.cache == nil {
		return dst, udpfront.Inline
	}
	limit := dns.MinMsgSize
	if h.Flags&anscache.EDNS != 0 {
		limit = min(max(int(h.UDPSize), dns.MinMsgSize), int(a.m.r.bufSize))
	}
	t := a.m.r.now()
	rq := rawQuery{h: &h, q: &q, size: len(query), start: t}
	now := t.Unix()
	if wire, ok := a.m.cache.Get(q.Key(), now, limit); ok {
		return a.cached(dst, wire, &rq)
	}
	if wire, ok := a.m.neg.Get(q.Key(), now, limit); ok {
		return a.cached(dst, wire, &rq)
	}
	return a.nxdomain(dst, &rq, limit)
}

// rawQuery is a query the raw path answers.
type rawQuery struct {
	h     *anscache.Header
	q     *anscache.Query
	size  int       // the query's length
	start time.Time // when the raw path took it
}

// cached patches a copy of a cached answer for the query.
func (a *rawAnswerer) cached(dst, wire []byte, rq *rawQuery) ([]byte, udpfront.Verdict) {
	h, q := rq.h, rq.q
	dst = append(dst[:0], wire...)
	if !anscache.Patch(dst, h.ID, h.RD, h.CD, q) || !isResponse(dst, h.ID) {
		return dst[:0], udpfront.Inline // the message path says what went wrong
	}
	a.count(dst, rq)
	return dst, udpfront.Answered
}

// count counts a raw answer as the message path and the plugins before it would.
func (a *rawAnswerer) count(wire []byte, rq *rawQuery) {
	rcode, answers := anscache.Rcode(wire)
	do := rq.h.Flags&anscache.DO != 0
	countAnswer(rcode, answers, do)
	if a.prom != nil {
		a.prom.record(binary.BigEndian.Uint16(rq.q.Key()[1:]), do, rq.size, len(wire), rcode, rq.start)
	}
}

// nxdomain answers a question about a name that does not exist as ServeDNS would,
// from the query's bytes: from the zone's pre-signed chain with `denial nsec`, else
// as a compact denial. Anything else (a name that exists, a name that needs escapes,
// a class or type with rules of its own) is the chain's.
func (a *rawAnswerer) nxdomain(dst []byte, rq *rawQuery, limit int) ([]byte, udpfront.Verdict) {
	h, q, t := rq.h, rq.q, rq.start
	key := q.Key()
	qtype, qclass := binary.BigEndian.Uint16(key[1:]), binary.BigEndian.Uint16(key[3:])
	if qclass != dns.ClassINET || qtype == dns.TypeDS || specialType(qtype) || !plainName(key[5:]) {
		return dst, udpfront.Inline
	}
	epoch := a.m.cache.Epoch() // before the store is read: see anscache.Gens
	qname, _, err := dns.UnpackDomainName(key[5:], 0)
	if err != nil {
		return dst, udpfront.Inline
	}
	ans := a.m.r.lookup(qname, qtype)
	if ans.Rcode != zonestore.NXDomain {
		return dst, udpfront.Inline
	}
	nq := nxQuery{
		q: q, id: h.ID, rd: h.RD, cd: h.CD, qtype: qtype, qclass: qclass, limit: limit,
		edns: h.Flags&anscache.EDNS != 0, do: h.Flags&anscache.DO != 0, co: h.Flags&anscache.CO != 0,
	}
	wire, ok := a.m.nxWire(dst[:0], &nq, qname, &ans, t, epoch)
	if !ok || !isResponse(wire, h.ID) {
		return wire[:0], udpfront.Inline
	}
	a.count(wire, rq)
	return wire, udpfront.Answered
}

// inZone reports whether the lower-case wire name is zone or below it.
func inZone(name, zone []byte) bool {
	off := len(name) - len(zone)
	return len(zone) > 0 && off >= 0 && string(name[off:]) == string(zone) && labelStart(name, off)
}

// udpCollector exports the counters of batched UDP serving.
type udpCollector struct {
	datagrams, batches, writeErrs *prometheus.Desc
}

func newUDPCollector() *udpCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(plugin.Namespace, subsystem, name), help, labels, nil)
	}
	return &udpCollector{
		datagrams: d("udp_queries_total", "UDP queries read in batches (udp-workers), by path: cache (answered from the answer cache without the plugin chain), inline (served by the chain on the reading goroutine), spawned (served by the chain in a goroutine of its own).", "path"),
		batches:   d("udp_batches_total", "Batched UDP reads (recvmmsg) that returned queries; udp_queries_total over this is the mean batch."),
		writeErrs: d("udp_write_errors_total", "UDP answers the kernel refused to send."),
	}
}

func (c *udpCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.datagrams
	ch <- c.batches
	ch <- c.writeErrs
}

func (c *udpCollector) Collect(ch chan<- prometheus.Metric) {
	t := udpfront.Totals()
	ch <- prometheus.MustNewConstMetric(c.datagrams, prometheus.CounterValue, float64(t.Answered), "cache")
	ch <- prometheus.MustNewConstMetric(c.datagrams, prometheus.CounterValue, float64(t.Inline), "inline")
	ch <- prometheus.MustNewConstMetric(c.datagrams, prometheus.CounterValue, float64(t.Spawned), "spawned")
	ch <- prometheus.MustNewConstMetric(c.batches, prometheus.CounterValue, float64(t.Batches))
	ch <- prometheus.MustNewConstMetric(c.writeErrs, prometheus.CounterValue, float64(t.WriteErrs))
}
