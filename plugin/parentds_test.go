package mxsign

import (
	"cmp"
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
	"github.com/mxsign/mxsign/signer/keymgr"
	"github.com/mxsign/mxsign/zonestore"
)

// fakeAgent is a parental agent: a DNS server on 127.0.0.1 (UDP and TCP on one port)
// that answers `ZONE DS` with whatever DS set the test gives it.
type fakeAgent struct {
	addr string

	mu          sync.Mutex
	ds          []dns.RR
	rcode       int                   // answer with this rcode (0: NOERROR with ds)
	truncateUDP bool                  // answer UDP with TC and nothing else
	silent      bool                  // never answer
	dropUDP     int                   // leave this many UDP queries unanswered (lost packets)
	referral    bool                  // answer without AA and without the DS, like a server of another zone
	noAA        bool                  // answer with the DS but without AA, like a resolver's cache
	question    func(q *dns.Question) // rewrites the question of the answer
	onQuery     func()                // called before answering (with the agent unlocked)
	udp, tcp    int                   // queries received per transport
	badFlags    int                   // queries with RD or DO set
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
	onQuery := a.onQuery
	a.mu.Unlock()
	if onQuery != nil {
		onQuery()
	}
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
	if a.silent || (udp && a.udp <= a.dropUDP) {
		return
	}
	m := new(dns.Msg)
	m.SetReply(r)
	if a.question != nil {
		a.question(&m.Question[0])
	}
	switch {
	case a.rcode != 0:
		m.Rcode = a.rcode
	case a.referral:
		m.Ns = []dns.RR{&dns.NS{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 60}, Ns: "ns1.elsewhere.example."}}
	case udp && a.truncateUDP:
		m.Authoritative, m.Truncated = true, true
	default:
		m.Authoritative = !a.noAA
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
// counts as seen only when every agent serves it in an authoritative answer to the
// question asked, whatever the digest types present; a lost UDP packet is retried, and
// a failed check is repeated sooner than a clean "missing".
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
	elsewhere := ds(dk, dns.SHA256) // the key's DS, under another owner name
	elsewhere.Hdr.Name = "other.example."
	chaos := ds(dk, dns.SHA256)
	chaos.Hdr.Class = dns.ClassCHAOS

	tests := []struct {
		name      string
		a, b      func(a *fakeAgent)
		interval  time.Duration // parent-ds-check-interval (zero: 1h)
		timeout   time.Duration
		cancelled bool // the caller's context is cancelled already
		seen      bool
		result    string // parent_ds_checks_total label that must grow
		udp, tcp  int    // queries agent b receives (zero: one over UDP)
	}{
		{name: "both agents serve the DS", a: func(a *fakeAgent) { a.ds = rrs(both...) }, b: func(a *fakeAgent) { a.ds = rrs(both...) }, seen: true, result: "seen"},
		{name: "one agent lacks it", a: func(a *fakeAgent) { a.ds = rrs(both...) }, b: func(a *fakeAgent) { a.ds = rrs(ds(old, dns.SHA256)) }, result: "missing"},
		{name: "neither has a DS", a: func(a *fakeAgent) {}, b: func(a *fakeAgent) {}, result: "missing"},
		{name: "SHA-384 and SHA-1 digests", a: func(a *fakeAgent) { a.ds = rrs(ds(dk, dns.SHA384)) }, b: func(a *fakeAgent) { a.ds = rrs(ds(old, dns.SHA256), ds(dk, dns.SHA1)) }, seen: true, result: "seen"},
		{name: "an unknown digest type is ignored", a: func(a *fakeAgent) { a.ds = rrs(both...) }, b: func(a *fakeAgent) { a.ds = rrs(ds(old, dns.SHA256), unknown) }, result: "missing"},
		{name: "REFUSED", a: func(a *fakeAgent) { a.ds = rrs(both...) }, b: func(a *fakeAgent) { a.rcode = dns.RcodeRefused }, result: "error"},
		{name: "REFUSED, interval shorter than the retry", a: func(a *fakeAgent) { a.ds = rrs(both...) }, b: func(a *fakeAgent) { a.rcode = dns.RcodeRefused }, interval: 10 * time.Second, result: "error"},
		{name: "missing, interval shorter than the retry", a: func(a *fakeAgent) {}, b: func(a *fakeAgent) {}, interval: 10 * time.Second, result: "missing"},
		{name: "referral", a: func(a *fakeAgent) { a.ds = rrs(both...) }, b: func(a *fakeAgent) { a.referral = true }, result: "error"},
		{name: "the DS without AA", a: func(a *fakeAgent) { a.ds = rrs(both...) }, b: func(a *fakeAgent) { a.ds, a.noAA = rrs(both...), true }, result: "error"},
		{name: "an answer for another name", a: func(a *fakeAgent) { a.ds = rrs(both...) }, b: func(a *fakeAgent) {
			a.ds, a.question = rrs(both...), func(q *dns.Question) { q.Name = "other.example." }
		}, result: "error"},
		{name: "an answer for another type", a: func(a *fakeAgent) { a.ds = rrs(both...) }, b: func(a *fakeAgent) {
			a.ds, a.question = rrs(both...), func(q *dns.Question) { q.Qtype = dns.TypeDNSKEY }
		}, result: "error"},
		{name: "an answer for another class", a: func(a *fakeAgent) { a.ds = rrs(both...) }, b: func(a *fakeAgent) {
			a.ds, a.question = rrs(both...), func(q *dns.Question) { q.Qclass = dns.ClassCHAOS }
		}, result: "error"},
		{name: "a DS of another owner name", a: func(a *fakeAgent) { a.ds = rrs(both...) }, b: func(a *fakeAgent) { a.ds = rrs(ds(old, dns.SHA256), elsewhere) }, result: "error"},
		{name: "a DS of another class", a: func(a *fakeAgent) { a.ds = rrs(both...) }, b: func(a *fakeAgent) { a.ds = rrs(ds(old, dns.SHA256), chaos) }, result: "error"},
		{name: "timeout", a: func(a *fakeAgent) { a.ds = rrs(both...) }, b: func(a *fakeAgent) { a.silent = true }, timeout: 400 * time.Millisecond, result: "error", udp: 2, tcp: 1},
		{name: "truncated over UDP, complete over TCP", a: func(a *fakeAgent) { a.ds, a.truncateUDP = rrs(both...), true }, b: func(a *fakeAgent) { a.ds = rrs(both...) }, seen: true, result: "seen"},
		{name: "first UDP query lost", a: func(a *fakeAgent) { a.ds = rrs(both...) }, b: func(a *fakeAgent) { a.ds, a.dropUDP = rrs(both...), 1 }, timeout: time.Second, seen: true, result: "seen", udp: 2},
		{name: "both UDP queries lost, TCP answers", a: func(a *fakeAgent) { a.ds = rrs(both...) }, b: func(a *fakeAgent) { a.ds, a.dropUDP = rrs(both...), 2 }, timeout: time.Second, seen: true, result: "seen", udp: 2, tcp: 1},
		{name: "the caller's context is done", a: func(a *fakeAgent) { a.ds = rrs(both...) }, b: func(a *fakeAgent) { a.ds = rrs(both...) }, cancelled: true, seen: true, result: "seen"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := startAgent(t), startAgent(t)
			a.set(tc.a)
			b.set(tc.b)
			interval := cmp.Or(tc.interval, time.Hour)
			c := newParentDSCheck([]string{a.addr, b.addr}, interval)
			if tc.timeout > 0 {
				c.timeout = tc.timeout
			}
			ctx := context.Background()
			if tc.cancelled {
				cctx, cancel := context.WithCancel(ctx)
				cancel()
				ctx = cctx
			}
			before := testutil.ToFloat64(parentDSChecks.WithLabelValues(tc.result))
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			start := time.Now()
			seen, _, due := c.check(ctx, zone, waiting, now)
			if took := time.Since(start); took > c.timeout+time.Second {
				t.Errorf("check took %v, timeout %v", took, c.timeout)
			}
			if seen["new"] != tc.seen {
				t.Errorf("seen = %v, want %v", seen, tc.seen)
			}
			if got := testutil.ToFloat64(parentDSChecks.WithLabelValues(tc.result)) - before; got != 1 {
				t.Errorf("parent_ds_checks_total{result=%q} grew by %v, want 1", tc.result, got)
			}
			wantDue := now.Add(interval)
			if tc.result == "error" {
				wantDue = now.Add(min(interval, parentDSErrorRetry)) // an error is retried sooner
			}
			if !due.Equal(wantDue) {
				t.Errorf("next check at %v, want %v", due, wantDue)
			}
			for _, ag := range []*fakeAgent{a, b} {
				wantUDP, wantTCP := 1, 0
				if ag.truncateUDP {
					wantTCP = 1
				}
				if ag == b && tc.udp > 0 {
					wantUDP, wantTCP = tc.udp, tc.tcp
				}
				if udp, tcp, bad := ag.counts(); udp != wantUDP || tcp != wantTCP || bad != 0 {
					t.Errorf("agent %s: %d UDP and %d TCP queries, %d with RD or DO; want %d, %d and 0", ag.addr, udp, tcp, bad, wantUDP, wantTCP)
				}
			}
			// Before the next check is due the agents are not asked again.
			if seen, _, due2 := c.check(ctx, zone, waiting, due.Add(-time.Second)); seen != nil || !due2.Equal(due) {
				t.Errorf("check before it is due: seen %v, due %v; want nothing and %v", seen, due2, due)
			}
			if udp, _, _ := a.counts(); udp != 1 {
				t.Errorf("agents asked again before the next check was due (%d queries)", udp)
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
	f.ro.parentDS.clock = func() time.Time { return f.clock } // the agents answer at once
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

// TestParentDSCheckStampsWhenTheAgentsAnswered: the DS is stamped seen at now plus the
// time the agents took to answer, by the check's clock, not at the instant the step
// began: the registry may have published it only just before the agents answered.
func TestParentDSCheckStampsWhenTheAgentsAnswered(t *testing.T) {
	const zone = "mx.example."
	dk, _, err := signer.GenerateKey(zone, dns.ECDSAP256SHA256, true, 3600, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	a := startAgent(t)
	a.serve(dk.ToDS(dns.SHA256))
	c := newParentDSCheck([]string{a.addr}, time.Hour)
	const took = 1500 * time.Millisecond
	clock := []time.Time{time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	clock = append(clock, clock[0].Add(took))
	calls := 0
	c.clock = func() time.Time {
		calls++
		return clock[min(calls, len(clock))-1]
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	seen, at, _ := c.check(context.Background(), zone, []zonestore.Key{{ID: "new", DNSKEY: dk.String()}}, now)
	if !seen["new"] {
		t.Fatalf("seen = %v, want the key", seen)
	}
	if want := now.Add(took); !at.Equal(want) {
		t.Errorf("seen at %v, want now + the %v the agents took = %v", at, took, want)
	}
}

// TestRolloverParentDSCheckInStep runs the check inside the scheduler's step: the parent
// zone is checked before any shard is stepped; a key change written while the agents
// are asked (`mxctl key roll`) survives the "DS seen" write; and the DS is stamped seen
// at the step's instant plus the time the agents took.
func TestRolloverParentDSCheckInStep(t *testing.T) {
	f := newRolloverFixture(t)
	ctx := context.Background()
	const parent = "mx.example."
	newKSK := f.untilParentWaitsForDS(t)
	cds, err := f.st.DS(parent)
	if err != nil {
		t.Fatal(err)
	}

	var (
		mu     sync.Mutex
		events []string // "check", then the zone of each command, in order
	)
	event := func(e string) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
	}
	f.ro.applier = applierFunc(func(ctx context.Context, cmd *zonestore.Command) (*zonestore.Result, error) {
		if cmd.Keys != nil {
			event(cmd.Keys.Zone)
		}
		return f.applier.Apply(ctx, cmd)
	})
	// A shard has an action due at the same instant.
	now := f.untilShardActs(t, ctx)
	// While the agent is asked, an API write requests a roll of the waiting key.
	a := startAgent(t)
	a.serve(cds...)
	var once sync.Once
	a.set(func(a *fakeAgent) {
		a.onQuery = func() {
			once.Do(func() {
				event("check")
				k := f.key(t, parent, newKSK)
				k.RollRequested = now
				if _, err := f.applier.Apply(ctx, keysCommand(parent, 0, []zonestore.Key{k}, now)); err != nil {
					t.Errorf("API write during the check: %v", err)
				}
			})
		}
	})
	f.ro.parentDS = newParentDSCheck([]string{a.addr}, time.Minute)
	const took = 2 * time.Second // by the check's clock
	calls := 0
	f.ro.parentDS.clock = func() time.Time {
		calls++
		return now.Add(time.Duration(min(calls-1, 1)) * took)
	}

	if _, err := f.ro.step(ctx, now); err != nil {
		t.Fatalf("step: %v", err)
	}
	k := f.key(t, parent, newKSK)
	if !k.DSSeen {
		t.Fatalf("DS of %s not marked seen though the agent serves it", newKSK)
	}
	if k.RollRequested.IsZero() {
		t.Errorf("the roll requested of %s while the agents were asked was lost", newKSK)
	}
	if want := now.Add(took); !k.DSPublishedAt.Equal(want) {
		t.Errorf("DS of %s published at %v, want the step's instant + the %v the check took = %v", newKSK, k.DSPublishedAt, took, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if i := slices.Index(events, "check"); i < 0 || slices.Index(events, f.shard) < 0 || slices.Index(events, f.shard) < i {
		t.Errorf("events %v: want the parent's DS check before the shard's command", events)
	}
}

// applierFunc adapts a function to zonestore.Applier.
type applierFunc func(ctx context.Context, cmd *zonestore.Command) (*zonestore.Result, error)

func (f applierFunc) Apply(ctx context.Context, cmd *zonestore.Command) (*zonestore.Result, error) {
	return f(ctx, cmd)
}

// untilParentWaitsForDS steps the fixture a second at a time (without parental agents)
// until the parent's KSK roll waits for its DS, and returns the waiting key's ID.
func (f *rolloverFixture) untilParentWaitsForDS(t *testing.T) string {
	t.Helper()
	for range 900 {
		if _, err := f.ro.step(context.Background(), f.clock); err != nil {
			t.Fatalf("%v: step: %v", f.clock, err)
		}
		if f.ro.snapshot().waiting > 0 {
			keys, err := f.st.Keys("mx.example.")
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range keys {
				if !k.DSSubmitted.IsZero() && !k.DSSeen && k.DSWithdrawn.IsZero() {
					return k.ID
				}
			}
			t.Fatal("the parent waits, but no key's DS waits to be seen")
		}
		f.clock = f.clock.Add(time.Second)
	}
	t.Fatal("the parent's KSK roll never waited for its DS")
	return ""
}

// untilShardActs steps the fixture a second at a time (the parent still waiting for its
// DS, unchecked) until the shard has an action due, and returns that instant, not
// stepped yet.
func (f *rolloverFixture) untilShardActs(t *testing.T, ctx context.Context) time.Time {
	t.Helper()
	for range 300 {
		keys, err := f.st.Keys(f.shard)
		if err != nil {
			t.Fatal(err)
		}
		states := make([]keymgr.KeyState, len(keys))
		for i, k := range keys {
			states[i] = keyState(k, keymgr.Shard)
		}
		if actions, _, _ := keymgr.Next(f.clock, f.shard, keymgr.Shard, f.ro.policy, states); len(actions) > 0 {
			return f.clock
		}
		if _, err := f.ro.step(ctx, f.clock); err != nil {
			t.Fatalf("%v: step: %v", f.clock, err)
		}
		f.clock = f.clock.Add(time.Second)
	}
	t.Fatal("the shard had nothing to do for 300s")
	return time.Time{}
}

// key returns zone's key id from the store.
func (f *rolloverFixture) key(t *testing.T, zone, id string) zonestore.Key {
	t.Helper()
	keys, err := f.st.Keys(zone)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.ID == id {
			return k
		}
	}
	t.Fatalf("no key %s in %s", id, zone)
	return zonestore.Key{}
}
