package mxsign

import (
	"context"
	"crypto/rand"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mxsign/mxsign/signer"
	"github.com/mxsign/mxsign/zonestore"
)

// fakeAgent is a parental agent: a DNS server on 127.0.0.1 (UDP and TCP on one port)
// that answers `ZONE DS` with whatever DS set the test gives it.
type fakeAgent struct {
	addr string

	mu          sync.Mutex
	ds          []dns.RR
	rcode       int  // answer with this rcode (0: NOERROR with ds)
	truncateUDP bool // answer UDP with TC and nothing else
	silent      bool // never answer
	referral    bool // answer without AA and without the DS, like a server of another zone
	udp, tcp    int  // queries received per transport
	badFlags    int  // queries with RD or DO set
}

func startAgent(t *testing.T) *fakeAgent {
	t.Helper()
	a := &fakeAgent{}
	var pc net.PacketConn
	var ln net.Listener
	for range 20 { // the TCP port may be taken by someone else: pick another
		p, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		l, err := net.Listen("tcp", p.LocalAddr().String())
		if err == nil {
			pc, ln = p, l
			break
		}
		p.Close()
	}
	if pc == nil {
		t.Fatal("no free UDP+TCP port on 127.0.0.1")
	}
	a.addr = pc.LocalAddr().String()
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: a}, {Listener: ln, Handler: a}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go srv.ActivateAndServe()
		<-started
		t.Cleanup(func() { srv.Shutdown() })
	}
	return a
}

func (a *fakeAgent) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, udp := w.RemoteAddr().(*net.UDPAddr)
	if udp {
		a.udp++
	} else {
		a.tcp++
	}
	if opt := r.IsEdns0(); r.RecursionDesired || (opt != nil && opt.Do()) {
		a.badFlags++
	}
	if a.silent {
		return
	}
	m := new(dns.Msg)
	m.SetReply(r)
	switch {
	case a.rcode != 0:
		m.Rcode = a.rcode
	case a.referral:
		m.Ns = []dns.RR{&dns.NS{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 60}, Ns: "ns1.elsewhere.example."}}
	case udp && a.truncateUDP:
		m.Authoritative, m.Truncated = true, true
	default:
		m.Authoritative = true
		if r.Question[0].Qtype == dns.TypeDS {
			m.Answer = append(m.Answer, a.ds...)
		}
	}
	w.WriteMsg(m)
}

// serve makes the agent answer with ds (a copy).
func (a *fakeAgent) serve(ds ...*dns.DS) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ds = a.ds[:0]
	for _, d := range ds {
		c := *d
		a.ds = append(a.ds, &c)
	}
}

func (a *fakeAgent) set(f func(a *fakeAgent)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f(a)
}

func (a *fakeAgent) counts() (udp, tcp, badFlags int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.udp, a.tcp, a.badFlags
}

// TestParentDSCheck runs the check against real DNS servers on 127.0.0.1: a key's DS
// counts as seen only when every agent serves it, whatever the digest types present.
func TestParentDSCheck(t *testing.T) {
	const zone = "mx.example."
	dk, _, err := signer.GenerateKey(zone, dns.ECDSAP256SHA256, true, 3600, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	old, _, err := signer.GenerateKey(zone, dns.ECDSAP256SHA256, true, 3600, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	waiting := []zonestore.Key{{ID: "new", DNSKEY: dk.String()}}
	ds := func(k *dns.DNSKEY, digest uint8) *dns.DS {
		d := k.ToDS(digest)
		d.Hdr.Ttl = 3600
		return d
	}
	unknown := ds(dk, dns.SHA256)
	unknown.DigestType = 200
	both := []*dns.DS{ds(old, dns.SHA256), ds(dk, dns.SHA256)}

	tests := []struct {
		name    string
		a, b    func(a *fakeAgent)
		timeout time.Duration
		seen    bool
		result  string // parent_ds_checks_total label that must grow
	}{
		{name: "both agents serve the DS", a: func(a *fakeAgent) { a.ds = rrs(both...) }, b: func(a *fakeAgent) { a.ds = rrs(both...) }, seen: true, result: "seen"},
		{name: "one agent lacks it", a: func(a *fakeAgent) { a.ds = rrs(both...) }, b: func(a *fakeAgent) { a.ds = rrs(ds(old, dns.SHA256)) }, result: "missing"},
		{name: "neither has a DS", a: func(a *fakeAgent) {}, b: func(a *fakeAgent) {}, result: "missing"},
		{name: "SHA-384 and SHA-1 digests", a: func(a *fakeAgent) { a.ds = rrs(ds(dk, dns.SHA384)) }, b: func(a *fakeAgent) { a.ds = rrs(ds(old, dns.SHA256), ds(dk, dns.SHA1)) }, seen: true, result: "seen"},
		{name: "an unknown digest type is ignored", a: func(a *fakeAgent) { a.ds = rrs(both...) }, b: func(a *fakeAgent) { a.ds = rrs(ds(old, dns.SHA256), unknown) }, result: "missing"},
		{name: "REFUSED", a: func(a *fakeAgent) { a.ds = rrs(both...) }, b: func(a *fakeAgent) { a.rcode = dns.RcodeRefused }, result: "error"},
		{name: "referral", a: func(a *fakeAgent) { a.ds = rrs(both...) }, b: func(a *fakeAgent) { a.referral = true }, result: "error"},
		{name: "timeout", a: func(a *fakeAgent) { a.ds = rrs(both...) }, b: func(a *fakeAgent) { a.silent = true }, timeout: 300 * time.Millisecond, result: "error"},
		{name: "truncated over UDP, complete over TCP", a: func(a *fakeAgent) { a.ds, a.truncateUDP = rrs(both...), true }, b: func(a *fakeAgent) { a.ds = rrs(both...) }, seen: true, result: "seen"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := startAgent(t), startAgent(t)
			a.set(tc.a)
			b.set(tc.b)
			c := newParentDSCheck([]string{a.addr, b.addr}, time.Hour)
			if tc.timeout > 0 {
				c.timeout = tc.timeout
			}
			before := testutil.ToFloat64(parentDSChecks.WithLabelValues(tc.result))
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			start := time.Now()
			seen, due := c.check(context.Background(), zone, waiting, now)
			if took := time.Since(start); took > c.timeout+time.Second {
				t.Errorf("check took %v, timeout %v", took, c.timeout)
			}
			if seen["new"] != tc.seen {
				t.Errorf("seen = %v, want %v", seen, tc.seen)
			}
			if got := testutil.ToFloat64(parentDSChecks.WithLabelValues(tc.result)) - before; got != 1 {
				t.Errorf("parent_ds_checks_total{result=%q} grew by %v, want 1", tc.result, got)
			}
			if !due.Equal(now.Add(time.Hour)) {
				t.Errorf("next check at %v, want an interval later", due)
			}
			for _, ag := range []*fakeAgent{a, b} {
				udp, tcp, bad := ag.counts()
				if udp != 1 || bad != 0 {
					t.Errorf("agent %s: %d UDP queries, %d with RD or DO; want 1 and 0", ag.addr, udp, bad)
				}
				if ag.truncateUDP && tcp != 1 {
					t.Errorf("agent %s truncated over UDP: %d TCP queries, want 1", ag.addr, tcp)
				}
			}
			// Within the interval the agents are not asked again.
			if seen, due2 := c.check(context.Background(), zone, waiting, now.Add(time.Minute)); seen != nil || !due2.Equal(due) {
				t.Errorf("check within the interval: seen %v, due %v; want nothing and %v", seen, due2, due)
			}
			if udp, _, _ := a.counts(); udp != 1 {
				t.Errorf("agents asked again within the interval (%d queries)", udp)
			}
		})
	}
}

func rrs(ds ...*dns.DS) []dns.RR {
	out := make([]dns.RR, len(ds))
	for i, d := range ds {
		out[i] = d
	}
	return out
}

// registryDS is what one of the registry's servers (an agent) served over time, for
// the validator: a resolver may hold any DS set served within the DS TTL + propagation.
type registryDS struct {
	sets []struct {
		from, until time.Time // until zero: still served
		ds          []*dns.DS
	}
}

func (r *registryDS) publish(now time.Time, ds []*dns.DS) {
	if n := len(r.sets); n > 0 && sameDS(r.sets[n-1].ds, ds) {
		return
	}
	for i := range r.sets {
		if r.sets[i].until.IsZero() {
			r.sets[i].until = now
		}
	}
	r.sets = append(r.sets, struct {
		from, until time.Time
		ds          []*dns.DS
	}{from: now, ds: ds})
}

// cached returns every DS set a resolver may still hold at now.
func (r *registryDS) cached(now time.Time, keep time.Duration) [][]*dns.DS {
	var out [][]*dns.DS
	for _, s := range r.sets {
		if s.until.IsZero() || now.Before(s.until.Add(keep)) {
			out = append(out, s.ds)
		}
	}
	return out
}

func sameDS(a, b []*dns.DS) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].String() != b[i].String() {
			return false
		}
	}
	return true
}

// TestParentKSKRollWaitsForEveryParentalAgent runs the scheduler on the fake clock with
// the compressed policy and two parental agents: while one of them lacks the new DS the
// parent's KSK roll waits; once both serve it the roll continues and completes. Every
// second a validator holding any DS set the registry served within the DS TTL checks
// the answers from the trust anchor down.
func TestParentKSKRollWaitsForEveryParentalAgent(t *testing.T) {
	f := newRolloverFixture(t)
	ctx := context.Background()
	const parent = "mx.example."
	const interval = 10 * time.Second
	a, b := startAgent(t), startAgent(t)
	f.ro.parentDS = newParentDSCheck([]string{a.addr, b.addr}, interval)
	iv := f.policy.Intervals()
	keep := f.policy.ParentDSTTL + f.policy.ParentPropagationDelay

	anchor, err := f.st.DS(parent)
	if err != nil {
		t.Fatal(err)
	}
	var regA, regB registryDS // what each agent served, and when
	serve := func(ag *fakeAgent, reg *registryDS, now time.Time, ds []*dns.DS) {
		ag.serve(ds...)
		reg.publish(now, ds)
	}
	serve(a, &regA, f.clock, anchor)
	serve(b, &regB, f.clock, anchor)
	keys := func() []zonestore.Key {
		ks, err := f.st.Keys(parent)
		if err != nil {
			t.Fatal(err)
		}
		return ks
	}
	var oldKSK string
	for _, k := range keys() {
		if k.Role == zonestore.RoleKSK {
			oldKSK = k.ID
		}
	}
	checks := func(result string) float64 { return testutil.ToFloat64(parentDSChecks.WithLabelValues(result)) }
	missing0, seen0 := checks("missing"), checks("seen")
	views := func() []rolloverView { return []rolloverView{{stats: f.ro.snapshot(), now: f.clock}} }
	waitingGauge := func() float64 {
		return gatherValue(t, newRolloverCollector(views), "coredns_mxsign_rollover_waiting_parent_ds", nil)
	}

	var (
		newKSK                string    // the successor whose DS the roll waits for
		waitFrom, bothFrom    time.Time // the roll started waiting; both agents serve the DS
		seenAt, removedOldKSK time.Time
		validated             int
	)
	for i := 0; i < 900 && removedOldKSK.IsZero(); i++ {
		now := f.clock
		next, err := f.ro.step(ctx, now)
		if err != nil {
			t.Fatalf("%v: step: %v", now, err)
		}
		if !next.After(now) {
			t.Fatalf("%v: next step %v is not in the future", now, next)
		}
		cds, err := f.st.DS(parent) // what the parent zone asks the registry for (CDS)
		if err != nil {
			t.Fatal(err)
		}
		waiting := f.ro.snapshot().waiting == 1
		if waiting && next.After(now.Add(interval)) {
			t.Fatalf("%v: waiting for the DS, but the scheduler sleeps until %v, past the next check", now, next)
		}
		if got := waitingGauge(); got != map[bool]float64{true: 1, false: 0}[waiting] {
			t.Fatalf("%v: waiting gauge %v, scheduler waiting %v", now, got, waiting)
		}
		for _, k := range keys() {
			switch {
			case k.ID == oldKSK && !k.Removed.IsZero():
				removedOldKSK = now
			case k.Role == zonestore.RoleKSK && k.ID != oldKSK && !k.DSSubmitted.IsZero():
				newKSK = k.ID
				if k.DSSeen && seenAt.IsZero() {
					seenAt = now
					if bothFrom.IsZero() || !k.DSPublishedAt.Equal(now) {
						t.Fatalf("%v: DS of %s marked seen (published %v) before every agent served it (both from %v)", now, k.ID, k.DSPublishedAt, bothFrom)
					}
				}
			}
		}
		switch {
		case waitFrom.IsZero() && waiting:
			// The registry's first server publishes the new DS; the second lags.
			waitFrom = now
			serve(a, &regA, now, cds)
		case !waitFrom.IsZero() && bothFrom.IsZero() && now.Sub(waitFrom) >= 3*interval:
			if !waiting {
				t.Fatalf("%v: the roll stopped waiting while an agent lacked the DS", now)
			}
			bothFrom = now
			serve(b, &regB, now, cds)
		case !bothFrom.IsZero():
			// The registry follows CDS: the old DS goes once the old KSK is retired.
			serve(a, &regA, now, cds)
			serve(b, &regB, now, cds)
		}

		for _, ds := range append(regA.cached(now, keep), regB.cached(now, keep)...) {
			v := newValidator(t, "", parent, ds, now)
			v.ask = func(m *dns.Msg) (*dns.Msg, error) { resp, _ := f.r.respond(m, false); return resp, nil }
			for _, q := range []struct {
				name  string
				qtype uint16
			}{{parent, dns.TypeDNSKEY}, {parent, dns.TypeSOA}, {f.host, dns.TypeA}, {"_25._tcp." + f.host, dns.TypeTLSA}} {
				m, _ := v.query(q.name, q.qtype, true)
				if err := v.validatePositive(m); err != nil {
					t.Fatalf("%v: %s %s with DS set %v: %v", now, q.name, dns.TypeToString[q.qtype], ds, err)
				}
				validated++
			}
		}
		f.clock = f.clock.Add(time.Second)
	}
	switch {
	case waitFrom.IsZero():
		t.Fatal("the parent's KSK roll never waited for its DS")
	case seenAt.IsZero():
		t.Fatalf("the DS of %s was never seen (waiting since %v, both agents since %v)", newKSK, waitFrom, bothFrom)
	case seenAt.Sub(bothFrom) > interval:
		t.Errorf("seen at %v, more than a check interval after both agents served it (%v)", seenAt, bothFrom)
	case removedOldKSK.IsZero():
		t.Fatalf("the old KSK %s was never removed after the DS was seen at %v", oldKSK, seenAt)
	case removedOldKSK.Sub(seenAt) < iv.IpubP+iv.IretKSK:
		t.Errorf("old KSK removed %v after the DS was seen, before IpubP + IretKSK = %v", removedOldKSK.Sub(seenAt), iv.IpubP+iv.IretKSK)
	}
	if got := checks("missing") - missing0; got < 3 {
		t.Errorf("parent_ds_checks_total{result=missing} grew by %v while one agent lacked the DS, want >= 3", got)
	}
	if got := checks("seen") - seen0; got != 1 {
		t.Errorf("parent_ds_checks_total{result=seen} grew by %v, want 1", got)
	}
	// The roll is complete: only the new KSK's DS validates now.
	now := f.clock
	for _, tc := range []struct {
		name  string
		ds    []*dns.DS
		valid bool
	}{{"old anchor", anchor, false}, {"new DS", regB.cached(now, 0)[0], true}} {
		v := newValidator(t, "", parent, tc.ds, now)
		v.ask = func(m *dns.Msg) (*dns.Msg, error) { resp, _ := f.r.respond(m, false); return resp, nil }
		m, _ := v.query(parent, dns.TypeSOA, true)
		if err := v.validatePositive(m); (err == nil) != tc.valid {
			t.Errorf("%s: validation error %v, want valid=%v", tc.name, err, tc.valid)
		}
	}
	t.Logf("waited from %v; both agents from %v; seen %v; old KSK removed %v; %d answers validated",
		waitFrom.Sub(time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)), bothFrom.Sub(waitFrom), seenAt.Sub(bothFrom), removedOldKSK.Sub(seenAt), validated)
}

// gatherValue returns the value of the series name{labels} collected from c.
func gatherValue(t *testing.T, c prometheus.Collector, name string, labels map[string]string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if labels[lp.GetName()] != lp.GetValue() {
					continue metrics
				}
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no series %s%v", name, labels)
	return 0
}

// TestReloadRefusesParentalAgentsChange: the running scheduler keeps its check, so a
// reload that changes it must say a restart is needed rather than silently ignore it.
func TestReloadRefusesParentalAgentsChange(t *testing.T) {
	base := config{ParentalAgents: []string{"192.0.2.1:53"}, ParentDSCheckInterval: time.Hour}
	tests := []struct {
		name    string
		change  func(c *config)
		refused bool
	}{
		{name: "unchanged", change: func(c *config) {}},
		{name: "another agent", change: func(c *config) { c.ParentalAgents = append(c.ParentalAgents, "192.0.2.2:53") }, refused: true},
		{name: "no agents", change: func(c *config) { c.ParentalAgents, c.ParentDSCheckInterval = nil, 0 }, refused: true},
		{name: "another interval", change: func(c *config) { c.ParentDSCheckInterval = time.Minute }, refused: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old, cfg := base, base
			cfg.ParentalAgents = slices.Clone(base.ParentalAgents)
			tc.change(&cfg)
			err := reloadable(&old, &cfg)
			if (err != nil) != tc.refused || (err != nil && !strings.Contains(err.Error(), "parental-agents")) {
				t.Fatalf("reloadable = %v, want refused %v", err, tc.refused)
			}
		})
	}
}
