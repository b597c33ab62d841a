package mxsign

import (
	"net"
	"strings"
	"time"

	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/metrics"
	"github.com/coredns/coredns/plugin/metrics/vars"
	"github.com/coredns/coredns/plugin/pkg/rcode"
	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// promRecorder records, for each answer of the raw path, what the prometheus plugin
// records for a query it sees (metrics.Metrics.ServeDNS, vars.Report): so that
// `prometheus` before mxsign does not send every query through the chain. The
// series' children are looked up once: per answer it costs a few atomic adds.
type promRecorder struct {
	do                          prometheus.Counter
	requests                    map[uint16]prometheus.Counter // by QTYPE; others under 0
	duration, respSize, reqSize prometheus.Observer
	rcodes                      [16]prometheus.Counter
}

// promMonitored are the QTYPEs the prometheus plugin gives a label of their own
// (vars.qTypeString); the others are "other". TestPromRecorderMatchesPlugin keeps the
// list in step with CoreDNS.
var promMonitored = []uint16{
	dns.TypeAAAA, dns.TypeA, dns.TypeCNAME, dns.TypeDNSKEY, dns.TypeDS, dns.TypeMX,
	dns.TypeNSEC3, dns.TypeNSEC, dns.TypeNS, dns.TypePTR, dns.TypeRRSIG, dns.TypeSOA,
	dns.TypeSRV, dns.TypeTXT, dns.TypeHTTPS, dns.TypeSVCB, dns.TypeIXFR, dns.TypeAXFR, dns.TypeANY,
}

// newPromRecorder returns the recorder for the raw answers of server s, whose parent
// zone is parent, when m is the block's prometheus plugin and next the plugin after it
// (which responses_total names: the plugin the metrics recorder's writer hands the
// answer to); nil when the plugin would label them by a zone below the parent.
func newPromRecorder(s *dnsserver.Server, m *metrics.Metrics, parent, next string) *promRecorder {
	zones := m.ZoneNames()
	for _, z := range zones {
		if dns.IsSubDomain(parent, z) && !strings.EqualFold(dns.Fqdn(z), dns.Fqdn(parent)) {
			return nil
		}
	}
	zone := plugin.Zones(zones).Matches(parent)
	if zone == "" {
		zone = "."
	}
	server, view := s.Address(), ""
	fam := "1"
	if host, _, err := net.SplitHostPort(strings.TrimPrefix(server, "dns://")); err == nil {
		if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
			fam = "2"
		}
	}
	p := &promRecorder{
		do:       vars.RequestDo.WithLabelValues(server, zone, view),
		requests: map[uint16]prometheus.Counter{0: vars.RequestCount.WithLabelValues(server, zone, view, "udp", fam, "other")},
		duration: vars.RequestDuration.WithLabelValues(server, zone, view),
		respSize: vars.ResponseSize.WithLabelValues(server, zone, view, "udp"),
		reqSize:  vars.RequestSize.WithLabelValues(server, zone, view, "udp"),
	}
	for _, t := range promMonitored {
		p.requests[t] = vars.RequestCount.WithLabelValues(server, zone, view, "udp", fam, dns.Type(t).String())
	}
	for rc := range p.rcodes {
		p.rcodes[rc] = vars.ResponseRcode.WithLabelValues(server, zone, view, rcode.ToString(rc), next)
	}
	return p
}

// record counts one raw answer.
func (p *promRecorder) record(qtype uint16, do bool, reqLen, respLen, rc int, start time.Time) {
	if do {
		p.do.Inc()
	}
	c, ok := p.requests[qtype]
	if !ok {
		c = p.requests[0]
	}
	c.Inc()
	p.duration.Observe(time.Since(start).Seconds())
	p.respSize.Observe(float64(respLen))
	p.reqSize.Observe(float64(reqLen))
	p.rcodes[rc&0xf].Inc()
}
