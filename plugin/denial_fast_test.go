package mxsign

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxsign/mxsign/plugin/anscache"
	"github.com/mxsign/mxsign/signer"
	"github.com/mxsign/mxsign/zonestore"
)

// msgPathWire is the answer ServeDNS sends for q when the fast path does not take it:
// the record path (responder.answer) for the lower-cased question, packed, truncated
// to the client's buffer, patched to the query.
func msgPathWire(tb testing.TB, h *Mxsign, q *dns.Msg, network string) []byte {
	tb.Helper()
	opt := q.IsEdns0()
	resp, _, ok := h.r.answer(q, opt, strings.ToLower(q.Question[0].Name))
	if !ok {
		tb.Fatalf("%s: not ours", q.Question[0].Name)
	}
	wire, err := resp.Pack()
	if err != nil {
		tb.Fatal(err)
	}
	if limit := h.r.udpSize(opt); network == "udp" && len(wire) > limit {
		resp.Truncate(limit)
		resp.Compress = true
		if wire, err = resp.Pack(); err != nil {
			tb.Fatal(err)
		}
	}
	var aq anscache.Query
	if !aq.Set(q.Question[0].Name, q.Question[0].Qtype, q.Question[0].Qclass, queryFlags(opt)) ||
		!anscache.Patch(wire, q.Id, q.RecursionDesired, q.CheckingDisabled, &aq) {
		tb.Fatalf("%s: cannot patch", q.Question[0].Name)
	}
	return wire
}

// fastWire asks the fast path alone (compactNX, after the lookup ServeDNS makes);
// handled is false when it leaves q to the record path, which it must do without
// signing (the SOA's signature of the zone must be in the cache already).
func fastWire(tb testing.TB, h *Mxsign, q *dns.Msg, network string) (wire []byte, handled bool) {
	tb.Helper()
	opt := q.IsEdns0()
	var aq anscache.Query
	if !aq.Set(q.Question[0].Name, q.Question[0].Qtype, q.Question[0].Qclass, queryFlags(opt)) {
		return nil, false
	}
	limit := dns.MaxMsgSize
	if network == "udp" {
		limit = h.r.udpSize(opt)
	}
	if specialType(q.Question[0].Qtype) {
		return nil, false
	}
	ans := h.r.lookup(strings.ToLower(q.Question[0].Name), q.Question[0].Qtype)
	if ans.Rcode != zonestore.NXDomain {
		return nil, false
	}
	before := h.r.signer.Stats().Signatures
	nq := newNXQuery(q, opt, &aq, limit)
	wire, _, handled = h.compactNX(nil, &nq, &ans, h.r.now())
	if signed := h.r.signer.Stats().Signatures - before; !handled && signed != 0 {
		tb.Fatalf("%s: %d signatures made for an answer left to the record path", q.Question[0].Name, signed)
	}
	return wire, handled
}

// nxQueryMsg builds a query with the given EDNS buffer (0: no EDNS) and flags.
func nxQueryMsg(name string, qtype, qclass uint16, edns uint16, flags anscache.Flags, id uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.Question[0].Qclass = qclass
	m.Id, m.RecursionDesired, m.CheckingDisabled = id, id%2 == 0, id%3 == 0
	if edns != 0 {
		m.SetEdns0(edns, flags&anscache.DO != 0)
		if flags&anscache.CO != 0 {
			m.IsEdns0().Hdr.Ttl |= ednsFlagCO
		}
	}
	return m
}

// TestNXFastMatchesMsgPath asks for names that do not exist in every variant a query
// can have (DO, CO, EDNS or none, small UDP buffers, TCP, mixed case, other types and
// classes) and checks that the fast path, where it answers, sends the bytes the record
// path sends, signatures included (both algorithms sign deterministically), that
// ServeDNS sends them too, and that every signed answer validates as a compact denial.
// The names exercise the SOA's name compression: a question ending in the MNAME, equal
// to the RNAME, sharing only labels in other places.
func TestNXFastMatchesMsgPath(t *testing.T) {
	for _, alg := range []uint8{dns.ECDSAP256SHA256, dns.ED25519} {
		t.Run(dns.AlgorithmToString[alg], func(t *testing.T) { testNXFastMatches(t, alg) })
	}
}

func testNXFastMatches(t *testing.T, alg uint8) {
	f := newMixFixtureAlg(t, 2, 3, 1, alg)
	h := f.handler(1 << 20)
	host := f.hosts[0]
	_, shard, _ := strings.Cut(host, ".")
	v := f.validator(t, h)

	// 253 octets on the wire: the longest the fast path takes; one more does not.
	longest := func(extra int) string {
		rest := 253 + extra - (len(shard) + 1) - 3*64 - 1
		return strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", rest) + "." + shard
	}
	names := []struct {
		name string
		fast bool // the fast path takes it (when the answer fits)
	}{
		{"nothere." + shard, true},
		{mixCase("x7Q-z9.nothere." + shard), true},
		{"x.y." + host, true},
		{"zz-no-shard.mx.example.", true},
		{"X.NS1.mx.example.", true},      // mixed case: the MNAME compresses only against the lower-cased question
		{"x.ns1.mx.example.", true},      // the MNAME is a suffix of the question
		{"hostmaster.mx.example.", true}, // the RNAME is the question
		{"b.hostmaster.mx.example.", true},
		{"ns1.hostmaster." + shard, true}, // labels shared, suffixes not
		{"mx.example.mx.example.", true},
		{longest(0), true},
		{longest(1), false},
		{`a\.b.` + shard, false},
		{`\000.` + shard, false},
	}
	qtypes := []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeMX, dns.TypeDS, dns.TypeANY}
	transports := []struct {
		name    string
		network string
		edns    uint16
	}{
		{"udp", "udp", 1232}, {"udp-512", "udp", 512}, {"udp-no-edns", "udp", 0}, {"tcp", "tcp", 1232}, {"tcp-no-edns", "tcp", 0},
	}
	fast, fell := 0, 0
	id := uint16(0)
	for _, n := range names {
		for i, qtype := range qtypes {
			qclass := uint16(dns.ClassINET)
			if i == len(qtypes)-1 {
				qclass = dns.ClassCHAOS // answered as IN, the class echoed
			}
			for _, tr := range transports {
				for _, flags := range []anscache.Flags{0, anscache.DO, anscache.CO, anscache.DO | anscache.CO} {
					if tr.edns == 0 && flags != 0 {
						continue
					}
					id++
					q := nxQueryMsg(n.name, qtype, qclass, tr.edns, flags, id)
					label := fmt.Sprintf("%s/%s/%s/flags=%d", n.name, dns.TypeToString[qtype], tr.name, flags)
					want := msgPathWire(t, h, q, tr.network)
					got, handled := fastWire(t, h, q, tr.network)
					if handled && !n.fast {
						t.Fatalf("%s: the fast path took it", label)
					}
					if served := serve(t, h, q, tr.network); !bytes.Equal(served, want) {
						t.Fatalf("%s: ServeDNS sent\n%v\nthe record path\n%v", label, unpack(t, served), unpack(t, want))
					}
					if !handled {
						fell++
						if n.fast && !unpack(t, want).Truncated {
							t.Fatalf("%s: an answer that fits left to the record path", label)
						}
						continue
					}
					fast++
					if !bytes.Equal(got, want) {
						t.Fatalf("%s: fast path\n%x\n%v\nrecord path\n%x\n%v", label, got, unpack(t, got), want, unpack(t, want))
					}
					m := unpack(t, got)
					if flags&anscache.DO == 0 {
						continue
					}
					if err := v.validateDenial(m, q.Question[0].Name, qtype, true); err != nil {
						t.Fatalf("%s: %v\n%v", label, err, m)
					}
				}
			}
		}
	}
	if fast < 500 || fell < 50 {
		t.Fatalf("%d answers from the fast path, %d left to the record path: the matrix does not test what it should", fast, fell)
	}
	t.Logf("%d answers from the fast path, %d left to the record path", fast, fell)
}

// TestNXFastSignsOnce: once a zone has answered, each compact denial with DO costs
// exactly one signature, that of its NSEC: the SOA's comes from the cache every time,
// on the fast path and on the record path.
// The signatures are not cached (a flood takes no cache slot) and the SOA's RRSIG is
// the same in every answer.
func TestNXFastSignsOnce(t *testing.T) {
	f := newMixFixture(t, 1, 2, 1)
	h := f.handler(1 << 20)
	_, shard, _ := strings.Cut(f.hosts[0], ".")
	serve(t, h, signedQuery("warm."+shard, dns.TypeA), "udp")
	before := f.r.signer.Stats()
	cache := h.cache.Stats()
	var soaSig string
	const n = 50
	for i := range n {
		q := signedQuery(fmt.Sprintf("flood%d-%d.%s", i, i*7919, shard), dns.TypeA)
		got, handled := fastWire(t, h, q, "udp")
		if !handled {
			t.Fatalf("%s: not answered by the fast path", q.Question[0].Name)
		}
		_, sigs := split(unpack(t, got).Ns, dns.TypeSOA)
		if len(sigs) != 1 {
			t.Fatalf("%d SOA RRSIGs", len(sigs))
		}
		if i > 0 && sigs[0].String() != soaSig {
			t.Fatalf("answer %d: the SOA's RRSIG changed:\n%s\nwas\n%s", i, sigs[0], soaSig)
		}
		soaSig = sigs[0].String()
		if got := f.r.signer.Stats().Signatures - before.Signatures; got != uint64(i+1) {
			t.Fatalf("after %d answers, %d signatures", i+1, got)
		}
	}
	// The record path, for names too long for the fast path, signs once per answer too.
	long := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "."
	long += strings.Repeat("d", 254-len(long)-len(shard)-1) + "." + shard
	for i := range 5 {
		q := signedQuery(fmt.Sprintf("%d%s", i, long[1:]), dns.TypeA)
		if _, handled := fastWire(t, h, q, "tcp"); handled {
			t.Fatalf("a name of %d octets taken by the fast path", len(long)+1)
		}
		mid := f.r.signer.Stats().Signatures
		m := unpack(t, serve(t, h, q, "tcp"))
		if got := f.r.signer.Stats().Signatures - mid; got != 1 || len(m.Ns) != 4 {
			t.Fatalf("record path: %d signatures for an answer with %d authority records", got, len(m.Ns))
		}
	}
	after := f.r.signer.Stats()
	if after.Entries != before.Entries {
		t.Fatalf("the flood took signature cache slots: %d -> %d", before.Entries, after.Entries)
	}
	if c := h.cache.Stats(); c.Entries != cache.Entries || c.Inserts != cache.Inserts {
		t.Fatalf("the flood took answer cache slots: %+v -> %+v", cache, c)
	}
}

// TestNXFastFollowsChanges: the fast path's per-zone part follows the zone: a host
// deleted from the shard (a new serial), the SOA's signature reaching the end of its
// serving time. After each, its answers are the record path's.
func TestNXFastFollowsChanges(t *testing.T) {
	f := newMixFixture(t, 1, 5, 1)
	h := f.handler(0)
	_, shard, _ := strings.Cut(f.hosts[0], ".")
	ask := func(stage string) *dns.Msg {
		t.Helper()
		q := signedQuery("nothere."+shard, dns.TypeA)
		got, handled := fastWire(t, h, q, "udp")
		if !handled {
			t.Fatalf("%s: not answered by the fast path", stage)
		}
		if want := msgPathWire(t, h, q, "udp"); !bytes.Equal(got, want) {
			t.Fatalf("%s: fast path\n%v\nrecord path\n%v", stage, unpack(t, got), unpack(t, want))
		}
		return unpack(t, got)
	}
	soaOf := func(m *dns.Msg) (*dns.SOA, *dns.RRSIG) {
		set, sigs := split(m.Ns, dns.TypeSOA)
		if len(set) != 1 || len(sigs) != 1 {
			t.Fatalf("authority %v", m.Ns)
		}
		return set[0].(*dns.SOA), sigs[0]
	}
	soa0, sig0 := soaOf(ask("first"))

	res, err := f.prov.DeleteDomains(context.Background(), []string{f.domains[0]})
	if err != nil || res[0].Err != nil {
		t.Fatalf("delete: %v %v", err, res)
	}
	soa1, sig1 := soaOf(ask("after the delete"))
	if soa1.Serial == soa0.Serial || sig1.Signature == sig0.Signature {
		t.Fatalf("the SOA did not change with the zone: serial %d -> %d", soa0.Serial, soa1.Serial)
	}

	until := f.r.signer.ServeUntil(sig1, f.clock)
	f.clock = time.Unix(until-1, 0)
	if _, sig := soaOf(ask("last second")); sig.Inception != sig1.Inception {
		t.Fatal("the SOA was re-signed before its serving time ended")
	}
	f.clock = time.Unix(until, 0)
	if _, sig := soaOf(ask("at the deadline")); sig.Inception == sig1.Inception {
		t.Fatal("the SOA's signature was not renewed at the end of its serving time")
	}
}

// TestNXFastThroughRollover runs ten minutes of the compressed rollover policy (a ZSK
// roll every minute, KSK rolls, signatures refreshed after two minutes) and, every
// second, checks that the fast path's compact denial is the record path's and
// validates from the parent's trust anchor.
func TestNXFastThroughRollover(t *testing.T) {
	f := newRolloverFixture(t)
	ctx := context.Background()
	h := &Mxsign{r: f.r}
	anchor, err := f.st.DS("mx.example.")
	if err != nil {
		t.Fatal(err)
	}
	tags := map[uint16]bool{}
	for i := range 600 {
		if _, err := f.ro.step(ctx, f.clock); err != nil {
			t.Fatalf("%v: step: %v", f.clock, err)
		}
		for j, name := range []string{fmt.Sprintf("nx%d.%s", i, f.shard), fmt.Sprintf("nx%d.mx.example.", i)} {
			q := signedQuery(name, dns.TypeA)
			got, handled := fastWire(t, h, q, "tcp")
			if !handled {
				t.Fatalf("+%ds: %s: not answered by the fast path", i, name)
			}
			if want := msgPathWire(t, h, q, "tcp"); !bytes.Equal(got, want) {
				t.Fatalf("+%ds: fast path\n%v\nrecord path\n%v", i, unpack(t, got), unpack(t, want))
			}
			if j > 0 && i%10 != 0 {
				continue // the parent's keys do not roll: validate it now and then
			}
			v := newValidator(t, "", "mx.example.", anchor, f.clock)
			v.ask = func(m *dns.Msg) (*dns.Msg, error) { return unpack(t, serve(t, h, m, "tcp")), nil }
			m := unpack(t, got)
			if err := v.validateDenial(m, name, dns.TypeA, true); err != nil {
				t.Fatalf("+%ds: %v\n%v", i, err, m)
			}
			for _, rr := range m.Ns {
				if sig, ok := rr.(*dns.RRSIG); ok {
					tags[sig.KeyTag] = true
				}
			}
		}
		f.clock = f.clock.Add(time.Second)
	}
	if len(tags) < 5 {
		t.Fatalf("only %d keys signed the denials: the rolls did not happen", len(tags))
	}
}

// FuzzNXFast asks for arbitrary names in a shard and the parent with arbitrary EDNS
// flags and buffer sizes: nothing panics, and whatever the fast path answers is the
// record path's answer to the byte.
func FuzzNXFast(f *testing.F) {
	fx := newMixFixture(f, 1, 2, 1)
	h := fx.handler(0)
	_, shard, _ := strings.Cut(fx.hosts[0], ".")
	for _, zone := range []string{shard, "mx.example."} {
		serve(f, h, signedQuery("warm."+zone, dns.TypeA), "udp") // the SOAs signed
	}
	f.Add([]byte("nothere"), []byte("X"), false, uint16(1232), uint8(anscache.DO), uint16(dns.TypeA))
	f.Add([]byte("ns1"), []byte{}, true, uint16(512), uint8(anscache.DO|anscache.CO), uint16(dns.TypeMX))
	f.Add([]byte("HostMaster"), []byte("mx"), true, uint16(0), uint8(0), uint16(dns.TypeANY))
	f.Add([]byte{0, '.', 0xff}, []byte("a b"), false, uint16(4096), uint8(anscache.DO), uint16(dns.TypeNSEC))
	f.Add([]byte(strings.Repeat("q", 63)), []byte(strings.Repeat("Z", 63)), false, uint16(600), uint8(anscache.CO), uint16(signer.TypeNXNAME))
	f.Fuzz(func(t *testing.T, l1, l2 []byte, parent bool, edns uint16, flags uint8, qtype uint16) {
		zone := shard
		if parent {
			zone = "mx.example."
		}
		wire := make([]byte, 0, 300)
		for _, l := range [][]byte{l1, l2} {
			if len(l) > 0 && len(l) < 64 {
				wire = append(wire, byte(len(l)))
				wire = append(wire, l...)
			}
		}
		zw, _ := packName(zone)
		wire = append(wire, zw...)
		name, _, err := dns.UnpackDomainName(wire, 0)
		if err != nil || len(wire) > 255 {
			return
		}
		if edns != 0 {
			edns = max(edns, 512)
		}
		q := nxQueryMsg(name, qtype, dns.ClassINET, edns, anscache.Flags(flags)&(anscache.DO|anscache.CO), 7)
		if edns == 0 {
			q.Extra = nil
		}
		for _, network := range []string{"udp", "tcp"} {
			got, handled := fastWire(t, h, q, network)
			if !handled {
				continue
			}
			if want := msgPathWire(t, h, q, network); !bytes.Equal(got, want) {
				t.Fatalf("%s %s: fast path\n%v\nrecord path\n%v", name, network, unpack(t, got), unpack(t, want))
			}
		}
	})
}

// checkSOAPacking packs a message of one question and one SOA in its authority section
// with miekg/dns, compressed, and fails unless nxZone.appendSOA writes the same bytes
// after the same header and question. ok is false when the names do not make such a
// message (the zone not a suffix of the question, names that do not pack) or the zone
// is the root, whose name cannot be a pointer.
func checkSOAPacking(t *testing.T, qname, zone, mname, rname string, dst []byte) (ok bool) {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(qname, dns.TypeA)
	m.Ns = []dns.RR{&dns.SOA{Hdr: dns.RR_Header{Name: zone, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 60},
		Ns: mname, Mbox: rname, Serial: 1, Refresh: 2, Retry: 3, Expire: 4, Minttl: 5}}
	m.Compress = true
	want, err := m.Pack()
	if err != nil {
		return false
	}
	lq, ok1 := packName(qname)
	apex, ok2 := packName(zone)
	mw, ok3 := packName(mname)
	rw, ok4 := packName(rname)
	apexOff := len(lq) - len(apex)
	if !ok1 || !ok2 || !ok3 || !ok4 || zone == "." || apexOff < 0 || !bytes.Equal(lq[apexOff:], apex) || !labelStart(lq, apexOff) {
		return false
	}
	z := &nxZone{apex: apex, class: dns.ClassINET, ttl: 60, mname: mw, rname: rw,
		tail: [20]byte{3: 1, 7: 2, 11: 3, 15: 4, 19: 5}}
	qEnd := headerLen + len(lq) + 4
	start := len(dst)
	dst = append(dst, want[:qEnd]...)
	got := z.appendSOA(dst, start, lq, headerLen+apexOff)[start:]
	if !bytes.Equal(got, want) {
		t.Fatalf("q %s zone %s mname %s rname %s:\n%x\nwant miekg's\n%x", qname, zone, mname, rname, got, want)
	}
	return true
}

// TestSOACompression: the SOA's names are compressed as miekg compresses them, against
// the question and, for the RNAME, against the MNAME's own labels; at any offset of the
// message in the buffer.
func TestSOACompression(t *testing.T) {
	tests := []struct{ qname, zone, mname, rname string }{
		{"nx.1j2b.mx.example.", "1j2b.mx.example.", "ns1.mx.example.", "hostmaster.mx.example."},
		{"x.ns1.mx.example.", "mx.example.", "ns1.mx.example.", "hostmaster.mx.example."},
		{"hostmaster.mx.example.", "mx.example.", "ns1.mx.example.", "hostmaster.mx.example."},
		{"nx.mx.example.", "mx.example.", "ns1.provider.net.", "dns.provider.net."},          // RNAME into the MNAME
		{"nx.mx.example.", "mx.example.", "a.b.provider.net.", "c.b.provider.net."},          // two labels of the MNAME
		{"nx.mx.example.", "mx.example.", "provider.net.", "provider.net."},                  // the RNAME is the MNAME
		{"nx.mx.example.", "mx.example.", "ns.other.example.", "h.mx.example."},              // MNAME partly in the question
		{"nx.mx.example.", "mx.example.", "ns.mx.example.", "h.ns.mx.example."},              // RNAME below the MNAME
		{"ns.nx.mx.example.", "mx.example.", "ns.mx.example.", "ns.nx.mx.example."},          // labels equal, not suffixes
		{"nx.mx.example.", "mx.example.", ".", "."},                                          // root names
		{"example.mx.example.", "mx.example.", "mx.example.mx.example.", "example.example."}, // repeated labels
		{"NX.Mx.Example.", "Mx.Example.", "ns1.mx.example.", "hostmaster.Mx.Example."},       // case counts, as for miekg
		{"nx.mx.example.", "mx.example.", "ns1.mx.example.", "hostmaster.example."},          // a shorter suffix
	}
	for _, pad := range []int{0, 7} {
		for _, tc := range tests {
			if !checkSOAPacking(t, tc.qname, tc.zone, tc.mname, tc.rname, make([]byte, pad)) {
				t.Fatalf("%+v does not make a message", tc)
			}
		}
	}
}

// FuzzSOACompression: the same against miekg for arbitrary names built from a few
// labels, so that suffixes are often shared.
func FuzzSOACompression(f *testing.F) {
	f.Add(uint32(0x01020304), uint32(0x0203), uint32(0x0102), uint8(2))
	f.Add(uint32(0x00000001), uint32(0x0100), uint32(0x0001), uint8(1))
	f.Add(uint32(0x04030201), uint32(0x030201), uint32(0x0201), uint8(3))
	labels := []string{"mx", "example", "ns1", "hostmaster", "a", "Mx", "provider"}
	name := func(v uint32) string {
		var b strings.Builder
		for ; v != 0; v >>= 4 {
			b.WriteString(labels[int(v&0xf)%len(labels)])
			b.WriteByte('.')
		}
		if b.Len() == 0 {
			return "."
		}
		return b.String()
	}
	f.Fuzz(func(t *testing.T, q, mname, rname uint32, zoneLabels uint8) {
		qname := name(q)
		zone := qname
		for range zoneLabels % 8 {
			if _, rest, ok := strings.Cut(zone, "."); ok && rest != "" {
				zone = rest
			}
		}
		checkSOAPacking(t, qname, zone, name(mname), name(rname), nil)
	})
}

// TestNXFastNegativeCache: a fast-path denial asked for twice goes to the cache of
// denials as the record path's would, served until the first second at which one of its
// signatures may no longer be handed out, and not at that second. The name is one whose
// NSEC signature ends first (the jitter of its expiration is larger than the SOA's).
func TestNXFastNegativeCache(t *testing.T) {
	f := newMixFixture(t, 1, 2, 1)
	h := f.handler(1 << 20)
	_, shard, _ := strings.Cut(f.hosts[0], ".")
	var q *dns.Msg
	var first []byte
	var deadline int64
	for i := 0; q == nil; i++ {
		if i == 64 {
			t.Fatal("no name whose NSEC signature ends before the SOA's")
		}
		m := signedQuery(fmt.Sprintf("twice%d.%s", i, shard), dns.TypeA)
		wire, handled := fastWire(t, h, m, "udp")
		if !handled {
			t.Fatal("not a fast-path answer")
		}
		var soa, nsec int64
		for _, rr := range unpack(t, wire).Ns {
			if sig, ok := rr.(*dns.RRSIG); ok && sig.TypeCovered == dns.TypeSOA {
				soa = f.r.signer.ServeUntil(sig, f.clock)
			} else if ok {
				nsec = f.r.signer.ServeUntil(sig, f.clock)
			}
		}
		if nsec < soa {
			q, deadline = m, nsec
		}
	}
	first = serve(t, h, q, "udp")
	if second := serve(t, h, q, "udp"); !bytes.Equal(second, first) || h.neg.Stats().Inserts != 1 {
		t.Fatalf("second sighting: same bytes %v, %d denials cached", bytes.Equal(second, first), h.neg.Stats().Inserts)
	}
	hits := h.neg.Stats().Hits
	f.clock = time.Unix(deadline-1, 0)
	if got := serve(t, h, q, "udp"); !bytes.Equal(got, first) || h.neg.Stats().Hits != hits+1 {
		t.Fatal("the denial was not served from the cache in its last second")
	}
	f.clock = time.Unix(deadline, 0)
	if serve(t, h, q, "udp"); h.neg.Stats().Hits != hits+1 {
		t.Fatal("the denial was served from the cache at its deadline")
	}
}
