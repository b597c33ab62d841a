package mxsign

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxsign/mxsign/zonestore"
)

// newNSECFixture is a mix fixture answering with `denial nsec`, its chains built and
// pre-signed by one background pass.
func newNSECFixture(t testing.TB, shards, perShard int) (*mixFixture, *nsecChains) {
	t.Helper()
	f := newMixFixture(t, shards, perShard, 1)
	c := newNSECChains(f.st, f.r.signer)
	f.r.nsec = c
	presignAll(t, c, f.clock)
	return f, c
}

// presignAll runs background passes until the chains are built and signed.
func presignAll(t testing.TB, c *nsecChains, now time.Time) {
	t.Helper()
	for {
		more, _, err := c.pass(now)
		if err != nil {
			t.Fatal(err)
		}
		if !more {
			return
		}
	}
}

// nsecKind is one kind of answer in `denial nsec` mode and how the validator checks it.
type nsecKind struct {
	name  string
	qname string
	qtype uint16
	check string // positive, nodata, nx, nsec
}

func nsecKinds(f *mixFixture) []nsecKind {
	host := f.hosts[0]
	_, shard, _ := strings.Cut(host, ".")
	return []nsecKind{
		{name: "host A", qname: host, qtype: dns.TypeA, check: "positive"},
		{name: "TLSA", qname: "_25._tcp." + host, qtype: dns.TypeTLSA, check: "positive"},
		{name: "shard DS", qname: shard, qtype: dns.TypeDS, check: "positive"},
		{name: "host MX nodata", qname: host, qtype: dns.TypeMX, check: "nodata"},
		{name: "TLSA name A nodata", qname: "_25._tcp." + host, qtype: dns.TypeA, check: "nodata"},
		{name: "apex TXT nodata", qname: shard, qtype: dns.TypeTXT, check: "nodata"},
		{name: "ENT nodata", qname: "_tcp." + host, qtype: dns.TypeTXT, check: "nodata"},
		{name: "ENT NSEC nodata", qname: "_tcp." + host, qtype: dns.TypeNSEC, check: "nodata"},
		{name: "parent apex DS nodata", qname: "mx.example.", qtype: dns.TypeDS, check: "nodata"},
		{name: "glue MX nodata", qname: "ns1.mx.example.", qtype: dns.TypeMX, check: "nodata"},
		{name: "host NSEC", qname: host, qtype: dns.TypeNSEC, check: "nsec"},
		{name: "apex NSEC", qname: shard, qtype: dns.TypeNSEC, check: "nsec"},
		{name: "nx in shard", qname: "nothere." + shard, qtype: dns.TypeA, check: "nx"},
		{name: "nx before every host", qname: "0." + shard, qtype: dns.TypeA, check: "nx"},
		{name: "nx after every host", qname: "zzzz." + shard, qtype: dns.TypeA, check: "nx"},
		{name: "nx below host", qname: "x.y." + host, qtype: dns.TypeAAAA, check: "nx"},
		{name: "nx below ENT", qname: "_26._tcp." + host, qtype: dns.TypeTLSA, check: "nx"},
		{name: "nx below TLSA name", qname: "a._25._tcp." + host, qtype: dns.TypeTLSA, check: "nx"},
		{name: "nx in parent", qname: "zz-no-shard.mx.example.", qtype: dns.TypeA, check: "nx"},
		{name: "nx NSEC type", qname: "nothere." + shard, qtype: dns.TypeNSEC, check: "nx"},
	}
}

// check validates m, the answer to qname/qtype, as kind k says.
func (v *validator) checkNSEC(m *dns.Msg, k nsecKind, qname string) error {
	switch k.check {
	case "positive":
		return v.validatePositive(m)
	case "nodata":
		return v.validateNoDataNSEC(m, qname, k.qtype)
	case "nsec":
		return v.validateNSECAnswer(m, qname)
	}
	return v.validateNXDomainNSEC(m, qname)
}

// TestNSECAnswersValidate asks every kind of answer of `denial nsec` through the wire
// path (ServeDNS, with and without the answer cache, UDP and TCP) and the message path
// (respond), in lower and mixed case, and has the independent validator check each
// classic NSEC proof. Once the chains are pre-signed no answer signs an NSEC, and the
// wire and message paths give the same records.
func TestNSECAnswersValidate(t *testing.T) {
	f, c := newNSECFixture(t, 2, 3)
	anchor, err := f.st.DS("mx.example.")
	if err != nil {
		t.Fatal(err)
	}
	paths := []struct {
		name string
		ask  func(m *dns.Msg) *dns.Msg
	}{
		{name: "wire/udp", ask: func(m *dns.Msg) *dns.Msg { return unpack(t, serve(t, f.handler(0), m, "udp")) }},
		{name: "wire/tcp/cache", ask: func(m *dns.Msg) *dns.Msg { return unpack(t, serve(t, f.handler(1<<20), m, "tcp")) }},
		{name: "message", ask: func(m *dns.Msg) *dns.Msg {
			resp, ok := f.r.respond(m, false)
			if !ok {
				t.Fatal("respond: not ours")
			}
			return resp
		}},
	}
	signed := c.signed.Load()
	for _, k := range nsecKinds(f) {
		for _, qname := range []string{k.qname, mixCase(k.qname)} {
			var answers []*dns.Msg
			for _, p := range paths {
				t.Run(k.name+"/"+p.name+"/"+qname, func(t *testing.T) {
					v := newValidator(t, "", "mx.example.", anchor, f.clock)
					v.ask = func(m *dns.Msg) (*dns.Msg, error) { return p.ask(m), nil }
					m, err := v.query(qname, k.qtype, true)
					if err != nil {
						t.Fatal(err)
					}
					if err := v.checkNSEC(m, k, qname); err != nil {
						t.Fatalf("%v\n%v", err, m)
					}
					if o := m.IsEdns0(); o == nil || o.Hdr.Ttl&ednsFlagCO != 0 || !o.Do() {
						t.Fatalf("OPT %v: want DO echoed and no CO", o)
					}
					answers = append(answers, m)

					// Without DO: the same rcode, no NSEC or RRSIG, but for the NSEC
					// RRset asked for by type.
					plain := new(dns.Msg)
					plain.SetQuestion(qname, k.qtype)
					plain.SetEdns0(1232, false)
					pm := p.ask(plain)
					if pm.Rcode != m.Rcode {
						t.Fatalf("without DO rcode %s, with DO %s", dns.RcodeToString[pm.Rcode], dns.RcodeToString[m.Rcode])
					}
					for _, rr := range append(slices.Clone(pm.Answer), pm.Ns...) {
						if rr.Header().Rrtype == dns.TypeRRSIG || (rr.Header().Rrtype == dns.TypeNSEC && k.check != "nsec") {
							t.Fatalf("without DO: %v", rr)
						}
					}
				})
			}
			if k.check == "nx" || k.check == "nodata" || k.check == "nsec" {
				for i := 1; i < len(answers); i++ {
					if err := sameRRs(answers[i], answers[0]); err != nil {
						t.Fatalf("%s %s: %s and %s differ: %v", k.name, qname, paths[i].name, paths[0].name, err)
					}
				}
			}
		}
	}
	if n := c.signed.Load() - signed; n != 0 {
		t.Fatalf("answers made %d chain signatures after pre-signing", n)
	}
}

// TestNSECValidatorRejects: the validator's classic NSEC checks fail on answers that do
// not prove what they claim: a proof without its wildcard NSEC, one for another name,
// an empty non-terminal taken for a name that does not exist, a compact denial.
func TestNSECValidatorRejects(t *testing.T) {
	f, _ := newNSECFixture(t, 1, 3)
	host := f.hosts[0]
	_, shard, _ := strings.Cut(host, ".")
	anchor, err := f.st.DS("mx.example.")
	if err != nil {
		t.Fatal(err)
	}
	v := newValidator(t, "", "mx.example.", anchor, f.clock)
	v.ask = func(m *dns.Msg) (*dns.Msg, error) { resp, _ := f.r.respond(m, false); return resp, nil }
	nx, _ := v.query("nothere."+shard, dns.TypeA, true)
	if err := v.validateNXDomainNSEC(nx, "nothere."+shard); err != nil {
		t.Fatalf("the genuine proof: %v", err)
	}
	withoutWildcard := nx.Copy()
	withoutWildcard.Ns = slices.DeleteFunc(withoutWildcard.Ns, func(rr dns.RR) bool {
		return strings.EqualFold(rr.Header().Name, shard) && rr.Header().Rrtype != dns.TypeSOA &&
			!(rr.Header().Rrtype == dns.TypeRRSIG && rr.(*dns.RRSIG).TypeCovered == dns.TypeSOA)
	})
	ent, _ := v.query("_tcp."+host, dns.TypeA, true)
	compact := &responder{store: f.st, signer: f.r.signer, keys: f.r.keys, now: f.r.now, bufSize: 1232, log: log}
	cm := new(dns.Msg)
	cm.SetQuestion("nothere."+shard, dns.TypeA)
	cm.SetEdns0(1232, true)
	compactNX, _ := compact.respond(cm, false)
	tests := []struct {
		name string
		err  error
	}{
		{name: "no wildcard NSEC", err: v.validateNXDomainNSEC(withoutWildcard, "nothere."+shard)},
		{name: "proof of another name", err: v.validateNXDomainNSEC(nx, host)},
		{name: "ENT is not NXDOMAIN", err: v.validateNXDomainNSEC(ent, "_tcp."+host)},
		{name: "NXDOMAIN is not NODATA", err: v.validateNoDataNSEC(nx, "nothere."+shard, dns.TypeA)},
		{name: "NODATA for a type present", err: v.validateNoDataNSEC(ent, "_tcp."+host, dns.TypeA)},
		{name: "compact denial", err: v.validateNoDataNSEC(compactNX, "nothere."+shard, dns.TypeA)},
	}
	for _, tc := range tests {
		if tc.name == "NODATA for a type present" {
			// The ENT's proof does hold: instead ask the host for a type it has.
			m, _ := v.query(host, dns.TypeMX, true)
			tc.err = v.validateNoDataNSEC(m, host, dns.TypeA)
		}
		if tc.err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}

// TestNSECInsecureDelegation: a shard whose DS is not (or no longer) in the parent is
// an insecure delegation; DS at it is NODATA with the parent's NSEC of the delegation,
// NS set, DS and SOA clear (RFC 4035 §5.2).
func TestNSECInsecureDelegation(t *testing.T) {
	f, c := newNSECFixture(t, 2, 3)
	_, shard, _ := strings.Cut(f.hosts[0], ".")
	keys, gen, err := f.st.KeysGen(shard)
	if err != nil {
		t.Fatal(err)
	}
	for i := range keys {
		keys[i].DSPublished = false // and no DSPublishedAt: the parent holds no DS
	}
	cmd := &zonestore.Command{V: zonestore.CommandVersion, Op: zonestore.OpKeys, Time: f.clock,
		Keys: &zonestore.KeysCmd{Zone: shard, Keys: keys, KeyGen: gen}}
	if _, err := zonestore.NewLocalApplier(f.st).Apply(context.Background(), cmd); err != nil {
		t.Fatal(err)
	}
	if ds, _ := f.st.DS(shard); len(ds) != 0 {
		t.Fatalf("the parent still holds %v", ds)
	}
	presignAll(t, c, f.clock)
	anchor, _ := f.st.DS("mx.example.")
	v := newValidator(t, "", "mx.example.", anchor, f.clock)
	v.ask = func(m *dns.Msg) (*dns.Msg, error) { return unpack(t, serve(t, f.handler(0), m, "udp")), nil }
	m, err := v.query(shard, dns.TypeDS, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.validateNoDataNSEC(m, shard, dns.TypeDS); err != nil {
		t.Fatalf("%v\n%v", err, m)
	}
	nsecs, _ := split(m.Ns, dns.TypeNSEC)
	if want := []uint16{dns.TypeNS, dns.TypeRRSIG, dns.TypeNSEC}; len(nsecs) != 1 || !slices.Equal(nsecs[0].(*dns.NSEC).TypeBitMap, want) {
		t.Fatalf("delegation NSEC %v, want bitmap %v", nsecs, want)
	}
}

// TestNSECIncrementalSignatures: adding or deleting a host re-signs only the NSECs
// around it (and the SOA of the shard's negative answers); other shards keep every
// signature. A change the background has not seen yet is built on the spot by the
// first answer that needs it.
func TestNSECIncrementalSignatures(t *testing.T) {
	f, c := newNSECFixture(t, 2, 4)
	ctx := context.Background()
	anchor, _ := f.st.DS("mx.example.")
	h := f.handler(0)
	validateNX := func(qname string) {
		t.Helper()
		v := newValidator(t, "", "mx.example.", anchor, f.clock)
		v.ask = func(m *dns.Msg) (*dns.Msg, error) { return unpack(t, serve(t, h, m, "udp")), nil }
		if _, err := v.queryDenialNSEC(qname, dns.TypeA, true); err != nil {
			t.Fatal(err)
		}
	}
	_, shard, _ := strings.Cut(f.hosts[0], ".")
	// Delete a host: its shard's SOA and the NSEC before it.
	before := c.signed.Load()
	if _, err := f.prov.DeleteDomains(ctx, []string{f.domains[0]}); err != nil {
		t.Fatal(err)
	}
	validateNX(f.hosts[0]) // before any background pass: built for this answer
	presignAll(t, c, f.clock)
	if n := c.signed.Load() - before; n < 1 || n > 2 {
		t.Fatalf("a deletion made %d signatures, want the SOA and at most one NSEC", n)
	}
	// Add one back: the shard with room gets it; its SOA, the NSEC before it, its own two.
	before = c.signed.Load()
	res, err := f.prov.AddDomains(ctx, []string{"newcomer.example"})
	if err != nil || res[0].Err != nil {
		t.Fatalf("add: %v %v", err, res)
	}
	if res[0].Host.Shard != shard {
		t.Fatalf("the new host went to %s, not the shard with room %s", res[0].Host.Shard, shard)
	}
	presignAll(t, c, f.clock)
	if n := c.signed.Load() - before; n < 3 || n > 4 {
		t.Fatalf("an addition made %d signatures, want 3 or 4", n)
	}
	validateNX("x." + res[0].Host.Name())
	validateNX("zz-none." + shard)
	if c.unsigned.Load() != 0 {
		t.Fatalf("%d left unsigned after a pass", c.unsigned.Load())
	}
}

// TestNSECThroughZSKRoll runs the key manager on a fake clock through several ZSK rolls
// and a shard KSK roll with `denial nsec` and validates, every second, the proofs of a
// name that does not exist, of an empty non-terminal and of a missing type. The
// background pass runs every third second: in between, answers sign what a new key
// still lacks.
func TestNSECThroughZSKRoll(t *testing.T) {
	f := newRolloverFixture(t)
	c := newNSECChains(f.st, f.r.signer)
	f.r.nsec = c
	ctx := context.Background()
	anchor, err := f.st.DS("mx.example.")
	if err != nil {
		t.Fatal(err)
	}
	ask := func(m *dns.Msg) (*dns.Msg, error) {
		resp, _ := f.r.respond(m, false)
		return resp, nil
	}
	zskTags := map[uint16]bool{}
	onDemand := uint64(0)
	for i := 0; i < 240; i++ {
		if _, err := f.ro.step(ctx, f.clock); err != nil {
			t.Fatalf("%v: step: %v", f.clock, err)
		}
		if i%3 == 0 {
			if _, _, err := c.pass(f.clock); err != nil {
				t.Fatal(err)
			}
		}
		afterPass := c.signed.Load()
		v := newValidator(t, "", "mx.example.", anchor, f.clock)
		v.ask = ask
		for _, q := range []struct {
			qname string
			qtype uint16
			nx    bool
		}{
			{qname: "nothere." + f.shard, qtype: dns.TypeA, nx: true},
			{qname: "a.b." + f.host, qtype: dns.TypeA, nx: true},
			{qname: "_tcp." + f.host, qtype: dns.TypeA},
			{qname: f.host, qtype: dns.TypeMX},
			{qname: "nope.mx.example.", qtype: dns.TypeA, nx: true},
		} {
			m, err := v.queryDenialNSEC(q.qname, q.qtype, q.nx)
			if err != nil {
				t.Fatalf("%v (+%ds): %v", f.clock, i, err)
			}
			for _, rr := range m.Ns {
				if sig, ok := rr.(*dns.RRSIG); ok && sig.TypeCovered == dns.TypeNSEC {
					zskTags[sig.KeyTag] = true
				}
			}
		}
		onDemand += c.signed.Load() - afterPass
		f.clock = f.clock.Add(time.Second)
	}
	if len(zskTags) < 3 {
		t.Fatalf("NSEC signatures by %d ZSKs: the rolls did not happen", len(zskTags))
	}
	if onDemand == 0 {
		t.Fatal("no answer signed on demand: the fallback was not exercised")
	}
	t.Logf("%d ZSKs signed NSECs over 4 simulated minutes; %d signatures made for answers", len(zskTags), onDemand)
}

// TestNSECAnswersRightAfterChanges: a chain is rebuilt for the version of the zone an
// answer looked up, never used for another: answers stay valid right after changes the
// background has not seen, in every zone touched (new shards and the parent included).
func TestNSECAnswersRightAfterChanges(t *testing.T) {
	f, _ := newNSECFixture(t, 2, 3)
	anchor, _ := f.st.DS("mx.example.")
	var added []string
	for i := range 3 {
		res, err := f.prov.AddDomains(context.Background(), []string{fmt.Sprintf("late%d.example", i)})
		if err != nil || res[0].Err != nil {
			t.Fatalf("add: %v %v", err, res)
		}
		added = append(added, res[0].Host.Name())
	}
	v := newValidator(t, "", "mx.example.", anchor, f.clock)
	v.ask = func(m *dns.Msg) (*dns.Msg, error) { return unpack(t, serve(t, f.handler(0), m, "tcp")), nil }
	for _, h := range added {
		_, shard, _ := strings.Cut(h, ".")
		for _, q := range []string{"_tcp." + h, "x." + h, "zzz." + shard, "nope.mx.example."} {
			if _, err := v.queryDenialNSEC(q, dns.TypeA, !strings.HasPrefix(q, "_tcp.")); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestServerDenialNSECReload runs CoreDNS with `denial nsec` and answers over the
// network, validated from the parent's trust anchor; a reload to `denial compact` stops
// the chains and answers with compact denial; a reload back answers from chains again.
func TestServerDenialNSECReload(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, 100, "denial nsec")
	ctx := context.Background()
	d, err := s.api.AddDomain(ctx, "contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	host, shard := d.MailExchange, d.Shard
	classic := func(t *testing.T) {
		t.Helper()
		v := newValidator(t, s.tcp, "mx.example.", s.anchor(t), time.Now())
		for _, q := range []struct {
			qname string
			qtype uint16
			nx    bool
		}{{qname: "nothere." + shard, qtype: dns.TypeA, nx: true}, {qname: "_tcp." + host, qtype: dns.TypeTLSA}, {qname: host, qtype: dns.TypeMX}} {
			if _, err := v.queryDenialNSEC(q.qname, q.qtype, q.nx); err != nil {
				t.Fatal(err)
			}
		}
	}
	classic(t)
	chains := func() *nsecChains {
		s.mx.nsecMu.Lock()
		defer s.mx.nsecMu.Unlock()
		return s.mx.nsec
	}
	if chains() == nil {
		t.Fatal("no chains with denial nsec")
	}
	reload := func(extra string) {
		t.Helper()
		ni, err := s.inst.Restart(caddyInput(corefile(dir, 100, extra)))
		if err != nil {
			t.Fatalf("reload: %v", err)
		}
		s.inst = ni
		srv := ni.Servers()[0]
		s.udp, s.tcp = srv.LocalAddr().String(), srv.Addr().String()
	}
	reload("denial compact")
	if chains() != nil {
		t.Fatal("the chains outlived a reload to compact denial")
	}
	v := newValidator(t, s.tcp, "mx.example.", s.anchor(t), time.Now())
	m, err := v.query("nothere."+shard, dns.TypeA, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.validateDenial(m, "nothere."+shard, dns.TypeA, true); err != nil {
		t.Fatalf("compact denial after the reload: %v\n%v", err, m)
	}
	reload("denial nsec")
	classic(t)
}

// FuzzServeDNSNSEC feeds arbitrary queries to a `denial nsec` handler: nothing panics,
// every answer unpacks and has the records the message path gives, and every NXDOMAIN
// with DO carries a proof the validator accepts.
func FuzzServeDNSNSEC(f *testing.F) {
	fx, _ := newNSECFixture(f, 2, 3)
	h := fx.handler(1 << 20)
	host := fx.hosts[0]
	_, shard, _ := strings.Cut(host, ".")
	for _, q := range []struct {
		name  string
		qtype uint16
		edns  uint16
		do    bool
	}{
		{"nothere." + shard, dns.TypeA, 1232, true}, {mixCase("x._tcp." + host), dns.TypeTLSA, 1232, true},
		{"_tcp." + host, dns.TypeA, 1232, true}, {host, dns.TypeNSEC, 1232, false}, {"zz.mx.example.", dns.TypeA, 0, false},
		{"nothere." + shard, dns.TypeA, 512, true}, {`a\.b.` + shard, dns.TypeA, 1232, true}, {`\000.` + host, dns.TypeMX, 1232, true},
		{shard, dns.TypeDS, 1232, true}, {"mx.example.", dns.TypeDS, 1232, true}, {"nothere." + shard, 128, 1232, true},
	} {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.qtype)
		if q.edns != 0 {
			m.SetEdns0(q.edns, q.do)
		}
		b, _ := m.Pack()
		f.Add(b, false)
		f.Add(b, true)
	}
	anchor, err := fx.st.DS("mx.example.")
	if err != nil {
		f.Fatal(err)
	}
	v := newValidator(f, "", "mx.example.", anchor, fx.clock)
	v.ask = func(m *dns.Msg) (*dns.Msg, error) { resp, _ := fx.r.respond(m, false); return resp, nil }
	f.Fuzz(func(t *testing.T, wire []byte, tcp bool) {
		m := new(dns.Msg)
		if err := m.Unpack(wire); err != nil {
			return
		}
		network := "udp"
		if tcp {
			network = "tcp"
		}
		got := unpack(t, serve(t, h, m, network))
		want, ok := fx.r.respond(m, !tcp)
		if !ok {
			return
		}
		if m.Opcode == dns.OpcodeQuery && len(m.Question) == 1 {
			if err := sameRRs(got, want); err != nil {
				t.Fatalf("wire and message paths differ: %v\n%v\n%v", err, got, want)
			}
		}
		if opt := m.IsEdns0(); got.Rcode == dns.RcodeNameError && opt != nil && opt.Do() && !got.Truncated && len(m.Question) == 1 {
			if err := v.validateNXDomainNSEC(got, m.Question[0].Name); err != nil {
				t.Fatalf("%v\n%v", err, got)
			}
		}
	})
}
