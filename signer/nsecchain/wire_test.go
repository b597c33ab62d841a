package nsecchain

import (
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/mxsign/mxsign/signer"
)

// messageOf builds with dns.Msg the answer AppendNegative packs by hand.
func messageOf(t testing.TB, ch *Chain, q *WireQuery, qname string, rcode int, p Proof, sg Signing) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.Id, m.Response, m.Authoritative = q.ID, true, true
	m.RecursionDesired, m.CheckingDisabled = q.RD, q.CD
	m.Rcode = rcode
	m.Question = []dns.Question{{Name: qname, Qtype: q.Qtype, Qclass: q.Qclass}}
	var err error
	if m.Ns, _, err = ch.AppendDenial(nil, p, qname, q.DO, sg); err != nil {
		t.Fatal(err)
	}
	if q.OPT {
		m.SetEdns0(q.BufSize, q.DO)
	}
	return m
}

// sameMessage compares two messages record by record: headers, question, every RR's
// owner (ignoring case: compression may take the question's spelling), TTL and RDATA.
func sameMessage(t testing.TB, got, want *dns.Msg) {
	t.Helper()
	if got.MsgHdr != want.MsgHdr {
		t.Fatalf("header\n got %+v\nwant %+v", got.MsgHdr, want.MsgHdr)
	}
	gq, wq := got.Question, want.Question
	if len(gq) != 1 || len(wq) != 1 || string(wireOf(t, gq[0].Name)) != string(wireOf(t, wq[0].Name)) ||
		gq[0].Qtype != wq[0].Qtype || gq[0].Qclass != wq[0].Qclass {
		t.Fatalf("question %v, want %v", got.Question, want.Question)
	}
	for _, s := range []struct {
		name      string
		got, want []dns.RR
	}{{"answer", got.Answer, want.Answer}, {"authority", got.Ns, want.Ns}, {"additional", got.Extra, want.Extra}} {
		if len(s.got) != len(s.want) {
			t.Fatalf("%s: %d records, want %d:\n%v\n%v", s.name, len(s.got), len(s.want), got, want)
		}
		for i := range s.got {
			g, w := s.got[i], s.want[i]
			if _, ok := g.(*dns.OPT); ok {
				if g.String() != w.String() {
					t.Fatalf("OPT\n got %v\nwant %v", g, w)
				}
				continue
			}
			if !dns.IsDuplicate(g, w) || g.Header().Ttl != w.Header().Ttl ||
				!strings.EqualFold(string(wireOf(t, g.Header().Name)), string(wireOf(t, w.Header().Name))) {
				t.Fatalf("%s record %d:\n got %v\nwant %v", s.name, i, g, w)
			}
		}
	}
}

// TestAppendNegativeMatchesMsg: the hand-packed answer unpacks to the answer dns.Msg
// builds from AppendDenial, for NXDOMAIN and NODATA, with and without DO and EDNS, in
// 0x20 case, and its signatures verify.
func TestAppendNegativeMatchesMsg(t *testing.T) {
	ts := newTestSigning(t, shardApex, signer.Options{})
	ch := mustBuild(t, shardContent(9, "contoso-com", "fabrikam-com"), nil)
	tests := []struct {
		name   string
		qname  string
		qtype  uint16
		nodata bool
		q      WireQuery
	}{
		{name: "nxdomain DO", qname: "nothere." + shardApex, qtype: dns.TypeA, q: WireQuery{ID: 7, RD: true, OPT: true, DO: true, BufSize: 1232}},
		{name: "nxdomain 0x20 CD", qname: "NoThErE.1J2b.mx.EXAMPLE.", qtype: dns.TypeAAAA, q: WireQuery{ID: 8, CD: true, OPT: true, DO: true, BufSize: 1232}},
		{name: "nxdomain below a host", qname: "x.y.contoso-com." + shardApex, qtype: dns.TypeTXT, q: WireQuery{OPT: true, DO: true, BufSize: 4096}},
		{name: "nxdomain no DO", qname: "nothere." + shardApex, qtype: dns.TypeA, q: WireQuery{ID: 9, OPT: true, BufSize: 1232}},
		{name: "nxdomain no EDNS", qname: "nothere." + shardApex, qtype: dns.TypeA, q: WireQuery{ID: 10}},
		{name: "nodata", qname: "Contoso-Com." + shardApex, qtype: dns.TypeMX, nodata: true, q: WireQuery{OPT: true, DO: true, BufSize: 1232}},
		{name: "nodata ENT", qname: "_tcp.contoso-com." + shardApex, qtype: dns.TypeA, nodata: true, q: WireQuery{OPT: true, DO: true, BufSize: 1232}},
		{name: "nodata apex", qname: shardApex, qtype: dns.TypeMX, nodata: true, q: WireQuery{OPT: true, DO: true, BufSize: 1232}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p Proof
			var err error
			rcode := dns.RcodeNameError
			if tc.nodata {
				p, err = ch.NoData(tc.qname)
				rcode = dns.RcodeSuccess
			} else {
				p, err = ch.NXDomain(tc.qname)
			}
			if err != nil {
				t.Fatal(err)
			}
			q := tc.q
			q.Name, q.Qtype, q.Qclass = wireOf(t, tc.qname), tc.qtype, dns.ClassINET
			sg := ts.at(t0)
			wire, err := ch.AppendNegative([]byte("prefix"), &q, rcode, p, sg)
			if err != nil {
				t.Fatal(err)
			}
			if string(wire[:6]) != "prefix" {
				t.Fatal("AppendNegative overwrote dst")
			}
			got := new(dns.Msg)
			if err := got.Unpack(wire[6:]); err != nil {
				t.Fatalf("unpack: %v", err)
			}
			want := messageOf(t, ch, &q, tc.qname, rcode, p, sg)
			sameMessage(t, got, want)
			if packed, err := want.Pack(); err == nil && len(wire)-6 > len(packed)+32 {
				t.Errorf("hand-packed %d octets, dns.Msg %d: compression lost", len(wire)-6, len(packed))
			}
			// Every RRset in the authority section verifies.
			for _, typ := range []uint16{dns.TypeSOA, dns.TypeNSEC} {
				byOwner := map[string][]dns.RR{}
				for _, rr := range got.Ns {
					if rr.Header().Rrtype == typ {
						byOwner[strings.ToLower(rr.Header().Name)] = append(byOwner[strings.ToLower(rr.Header().Name)], rr)
					}
				}
				for _, rr := range got.Ns {
					sig, ok := rr.(*dns.RRSIG)
					if !ok || sig.TypeCovered != typ {
						continue
					}
					if err := sig.Verify(ts.keys[0].DNSKEY, byOwner[strings.ToLower(sig.Hdr.Name)]); err != nil {
						t.Fatalf("%s %s: %v", sig.Hdr.Name, dns.TypeToString[typ], err)
					}
				}
			}
		})
	}
}

// TestAppendNegativeOutsideZone: a question outside the zone is refused.
func TestAppendNegativeOutsideZone(t *testing.T) {
	ts := newTestSigning(t, shardApex, signer.Options{})
	ch := mustBuild(t, shardContent(9, "a"), nil)
	q := WireQuery{Name: wireOf(t, "x.x1j2b.mx.example."), Qtype: dns.TypeA, Qclass: dns.ClassINET}
	if _, err := ch.AppendNegative(nil, &q, dns.RcodeNameError, Proof{}, ts.at(t0)); err == nil {
		t.Fatal("answered a name outside the zone")
	}
}
