package mxsign

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/whoami"
	"github.com/miekg/dns"

	"github.com/mxsign/mxsign/plugin/api"
	"github.com/mxsign/mxsign/plugin/api/client"
)

const testTLSA = "3 1 1 8d02536c887482bc34ff54e41d2ba659bf85b341a0a20afadb5813dcfbcf286d"

func TestMain(m *testing.M) {
	dnsserver.Directives = Directives(dnsserver.Directives)
	caddy.Quiet = true
	dnsserver.Quiet = true
	os.Exit(m.Run())
}

// testServer is a real CoreDNS instance with the mxsign plugin on 127.0.0.1, ports
// chosen by the kernel.
type testServer struct {
	t        testing.TB
	dir      string
	inst     *caddy.Instance
	udp, tcp string
	mx       *instance
	api      *client.Client
}

func corefile(dir string, shardSize int, extra string) string {
	return corefileWith(dir, shardSize, extra, "192.0.2.25 192.0.2.26")
}

func corefileWith(dir string, shardSize int, extra, addrs string) string {
	return fmt.Sprintf(`mx.example.:%d {
    bind 127.0.0.1
    mxsign {
        data %s
        api 127.0.0.1:0
        nameserver ns1.mx.example. 127.0.0.1 ::1
        nameserver ns2.provider.example.
        shard-size %d
        %s
        profile {
            ttl 300
            a %s
            aaaa 2001:db8::25
            tlsa %s
        }
    }
}
`, freeDNSPort(), dir, shardSize, extra, addrs, testTLSA)
}

func startServer(t testing.TB, dir string, shardSize int, extra string) *testServer {
	t.Helper()
	return startCorefile(t, dir, corefile(dir, shardSize, extra))
}

func startCorefile(t testing.TB, dir, text string) *testServer {
	t.Helper()
	inst, err := caddy.Start(caddyInput(text))
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	s := &testServer{t: t, dir: dir, inst: inst}
	srv := inst.Servers()[0]
	s.udp, s.tcp = srv.LocalAddr().String(), srv.Addr().String()
	abs, _ := filepath.Abs(dir)
	instances.Lock()
	s.mx = instances.m[abs]
	instances.Unlock()
	if s.mx == nil {
		t.Fatalf("no mxsign instance for %s", abs)
	}
	s.api = client.New(s.mx.APIAddr(), s.mx.apiToken())
	t.Cleanup(s.stop)
	return s
}

func (s *testServer) stop() {
	if s.inst == nil {
		return
	}
	s.inst.Stop()
	s.inst.ShutdownCallbacks()
	s.inst = nil
}

type caddyInput string

func (c caddyInput) Body() []byte       { return []byte(c) }
func (c caddyInput) Path() string       { return "Corefile" }
func (c caddyInput) ServerType() string { return "dns" }

func (s *testServer) exchange(t testing.TB, m *dns.Msg, network string) *dns.Msg {
	t.Helper()
	addr := s.udp
	if network == "tcp" {
		addr = s.tcp
	}
	c := &dns.Client{Net: network, Timeout: 5 * time.Second, UDPSize: 65535}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %s over %s: %v", m.Question[0].Name, dns.TypeToString[m.Question[0].Qtype], network, err)
	}
	return r
}

func (s *testServer) anchor(t testing.TB) []*dns.DS {
	t.Helper()
	list, err := s.api.DS(context.Background(), "mx.example.")
	if err != nil {
		t.Fatal(err)
	}
	var out []*dns.DS
	for _, d := range list.DS {
		rr, err := dns.NewRR(d)
		if err != nil {
			t.Fatalf("DS %q: %v", d, err)
		}
		out = append(out, rr.(*dns.DS))
	}
	if len(out) == 0 {
		t.Fatal("no DS for the parent")
	}
	return out
}

// mixCase returns name with every other letter upper-cased (0x20 style).
func mixCase(name string) string {
	b := []byte(name)
	for i := range b {
		if i%2 == 0 && b[i] >= 'a' && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}

func TestServerAnswers(t *testing.T) {
	s := startServer(t, t.TempDir(), 3, "")
	ctx := context.Background()
	domains := []string{"contoso.com", "fabrikam.co.uk", "a-b.example.org", "bücher.de", "northwind.net"}
	hosts := map[string]api.Domain{}
	for _, d := range domains {
		got, err := s.api.AddDomain(ctx, d)
		if err != nil {
			t.Fatalf("add %s: %v", d, err)
		}
		hosts[d] = got
	}
	if _, err := s.api.AddDomain(ctx, "contoso.com"); err == nil || !strings.Contains(err.Error(), "409") {
		t.Fatalf("second add: want 409, got %v", err)
	}
	zones, err := s.api.Zones(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(zones.Zones) != 3 { // parent + 2 shards of 3
		t.Fatalf("want parent + 2 shards, got %+v", zones.Zones)
	}
	host := hosts["contoso.com"].MailExchange
	shard := hosts["contoso.com"].Shard
	if !strings.HasPrefix(host, "contoso-com.") || !strings.HasSuffix(host, ".mx.example.") {
		t.Fatalf("host name %q", host)
	}
	idn := hosts["bücher.de"].MailExchange
	if !strings.HasPrefix(idn, "xn----bcher--kva-de.") {
		t.Fatalf("IDN host %q", idn)
	}
	tcp := "_25._tcp." + host

	type want int
	const (
		positive want = iota
		nodata
		nxdomain
		ent
	)
	tests := []struct {
		name   string
		qname  string
		qtype  uint16
		want   want
		rrtype uint16 // expected answer type for positive
		count  int    // expected RRs of rrtype, 0 = any
	}{
		{name: "host A", qname: host, qtype: dns.TypeA, want: positive, rrtype: dns.TypeA, count: 2},
		{name: "host AAAA", qname: host, qtype: dns.TypeAAAA, want: positive, rrtype: dns.TypeAAAA, count: 1},
		{name: "TLSA", qname: tcp, qtype: dns.TypeTLSA, want: positive, rrtype: dns.TypeTLSA, count: 1},
		{name: "mixed case A", qname: mixCase(host), qtype: dns.TypeA, want: positive, rrtype: dns.TypeA, count: 2},
		{name: "mixed case TLSA", qname: mixCase(tcp), qtype: dns.TypeTLSA, want: positive, rrtype: dns.TypeTLSA, count: 1},
		{name: "IDN host A", qname: idn, qtype: dns.TypeA, want: positive, rrtype: dns.TypeA, count: 2},
		{name: "host MX nodata", qname: host, qtype: dns.TypeMX, want: nodata},
		{name: "host unknown type nodata", qname: host, qtype: 65280, want: nodata},
		{name: "host TLSA nodata", qname: host, qtype: dns.TypeTLSA, want: nodata},
		{name: "TLSA name A nodata", qname: tcp, qtype: dns.TypeA, want: nodata},
		{name: "ENT _tcp", qname: "_tcp." + host, qtype: dns.TypeTXT, want: ent},
		{name: "nx in shard", qname: "nothere." + shard, qtype: dns.TypeA, want: nxdomain},
		{name: "nx mixed case", qname: mixCase("nothere." + shard), qtype: dns.TypeAAAA, want: nxdomain},
		{name: "nx below host", qname: "x.y." + host, qtype: dns.TypeA, want: nxdomain},
		{name: "nx in parent", qname: "zz-no-shard.mx.example.", qtype: dns.TypeA, want: nxdomain},
		{name: "shard SOA", qname: shard, qtype: dns.TypeSOA, want: positive, rrtype: dns.TypeSOA, count: 1},
		{name: "shard NS", qname: shard, qtype: dns.TypeNS, want: positive, rrtype: dns.TypeNS, count: 2},
		{name: "shard DNSKEY", qname: shard, qtype: dns.TypeDNSKEY, want: positive, rrtype: dns.TypeDNSKEY, count: 2},
		{name: "shard CDS", qname: shard, qtype: dns.TypeCDS, want: positive, rrtype: dns.TypeCDS, count: 1},
		{name: "shard CDNSKEY", qname: shard, qtype: dns.TypeCDNSKEY, want: positive, rrtype: dns.TypeCDNSKEY, count: 1},
		{name: "shard DS from parent", qname: shard, qtype: dns.TypeDS, want: positive, rrtype: dns.TypeDS, count: 1},
		{name: "shard MX nodata", qname: shard, qtype: dns.TypeMX, want: nodata},
		{name: "parent SOA", qname: "mx.example.", qtype: dns.TypeSOA, want: positive, rrtype: dns.TypeSOA, count: 1},
		{name: "parent NS", qname: "mx.example.", qtype: dns.TypeNS, want: positive, rrtype: dns.TypeNS, count: 2},
		{name: "parent DNSKEY", qname: "MX.Example.", qtype: dns.TypeDNSKEY, want: positive, rrtype: dns.TypeDNSKEY, count: 2},
		{name: "parent CDS", qname: "mx.example.", qtype: dns.TypeCDS, want: positive, rrtype: dns.TypeCDS, count: 1},
		{name: "glue A", qname: "ns1.mx.example.", qtype: dns.TypeA, want: positive, rrtype: dns.TypeA, count: 1},
		{name: "glue AAAA", qname: "ns1.mx.example.", qtype: dns.TypeAAAA, want: positive, rrtype: dns.TypeAAAA, count: 1},
		{name: "glue MX nodata", qname: "ns1.mx.example.", qtype: dns.TypeMX, want: nodata},
	}
	v := newValidator(t, s.tcp, "mx.example.", s.anchor(t), time.Now())
	for _, tc := range tests {
		for _, network := range []string{"udp", "tcp"} {
			for _, do := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/do=%v", tc.name, network, do), func(t *testing.T) {
					m := new(dns.Msg)
					m.SetQuestion(tc.qname, tc.qtype)
					m.RecursionDesired = false
					m.SetEdns0(1232, do)
					r := s.exchange(t, m, network)
					if !r.Authoritative {
						t.Errorf("AA not set")
					}
					if r.Truncated {
						t.Fatalf("unexpected TC")
					}
					if r.Question[0].Name != tc.qname {
						t.Errorf("question %q, want %q", r.Question[0].Name, tc.qname)
					}
					opt := r.IsEdns0()
					if opt == nil || opt.UDPSize() != 1232 || opt.Do() != do {
						t.Errorf("OPT %v, want size 1232 do=%v", opt, do)
					}
					hasSig := false
					for _, rr := range append(append([]dns.RR{}, r.Answer...), r.Ns...) {
						if rr.Header().Rrtype == dns.TypeRRSIG || rr.Header().Rrtype == dns.TypeNSEC {
							hasSig = true
						}
					}
					if hasSig != do {
						t.Errorf("DNSSEC records present=%v with do=%v", hasSig, do)
					}
					switch tc.want {
					case positive:
						if r.Rcode != dns.RcodeSuccess {
							t.Fatalf("rcode %s", dns.RcodeToString[r.Rcode])
						}
						set, _ := split(r.Answer, tc.rrtype)
						if len(set) == 0 || (tc.count > 0 && len(set) != tc.count) {
							t.Fatalf("want %d %s, got %v", tc.count, dns.TypeToString[tc.rrtype], r.Answer)
						}
						for _, rr := range set {
							if rr.Header().Name != tc.qname {
								t.Errorf("owner %q, want the query's spelling %q", rr.Header().Name, tc.qname)
							}
						}
						if do {
							if err := v.validatePositive(r); err != nil {
								t.Fatalf("validation: %v", err)
							}
						}
					default:
						wantRcode := dns.RcodeSuccess
						if tc.want == nxdomain && !do {
							wantRcode = dns.RcodeNameError
						}
						if r.Rcode != wantRcode {
							t.Fatalf("rcode %s, want %s", dns.RcodeToString[r.Rcode], dns.RcodeToString[wantRcode])
						}
						if len(r.Answer) != 0 {
							t.Fatalf("answer section not empty: %v", r.Answer)
						}
						soa, _ := split(r.Ns, dns.TypeSOA)
						if len(soa) != 1 {
							t.Fatalf("want SOA in authority, got %v", r.Ns)
						}
						if do {
							if err := v.validateDenial(r, tc.qname, tc.qtype, tc.want == nxdomain); err != nil {
								t.Fatalf("denial: %v\n%v", err, r)
							}
							if tc.want == ent {
								nsec, _ := split(r.Ns, dns.TypeNSEC)
								if bm := nsec[0].(*dns.NSEC).TypeBitMap; len(bm) != 2 {
									t.Errorf("ENT bitmap %v, want RRSIG NSEC only", bm)
								}
							}
						}
					}
				})
			}
		}
	}
}

func TestServerSpecialQueries(t *testing.T) {
	s := startServer(t, t.TempDir(), 10, "")
	ctx := context.Background()
	d, err := s.api.AddDomain(ctx, "contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	host := d.MailExchange
	v := newValidator(t, s.tcp, "mx.example.", s.anchor(t), time.Now())

	t.Run("CO flag gives NXDOMAIN with compact denial", func(t *testing.T) {
		m := new(dns.Msg)
		m.SetQuestion("nothere."+d.Shard, dns.TypeA)
		m.SetEdns0(1232, true)
		m.IsEdns0().Hdr.Ttl |= ednsFlagCO
		r := s.exchange(t, m, "udp")
		if r.Rcode != dns.RcodeNameError {
			t.Fatalf("rcode %s, want NXDOMAIN", dns.RcodeToString[r.Rcode])
		}
		if r.IsEdns0() == nil || r.IsEdns0().Hdr.Ttl&ednsFlagCO == 0 {
			t.Fatalf("CO not echoed")
		}
		if err := v.validateDenial(r, "nothere."+d.Shard, dns.TypeA, true); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a flood of non-existent names takes no signature cache slots", func(t *testing.T) {
		before := s.mx.signer.Stats()
		for i := range 50 {
			name := fmt.Sprintf("flood%d.%s", i, d.Shard)
			m := new(dns.Msg)
			m.SetQuestion(name, dns.TypeA)
			m.SetEdns0(1232, true)
			if err := v.validateDenial(s.exchange(t, m, "udp"), name, dns.TypeA, true); err != nil {
				t.Fatal(err)
			}
		}
		after := s.mx.signer.Stats()
		if after.Entries != before.Entries {
			t.Fatalf("cache grew from %d to %d entries during the flood", before.Entries, after.Entries)
		}
		if after.Signatures-before.Signatures != 50 {
			t.Fatalf("%d signatures for 50 denials, want one each (the SOA's from cache)", after.Signatures-before.Signatures)
		}
	})
	t.Run("qtype NXNAME is FORMERR with EDE 30", func(t *testing.T) {
		m := new(dns.Msg)
		m.SetQuestion(host, 128)
		m.SetEdns0(1232, true)
		r := s.exchange(t, m, "udp")
		if r.Rcode != dns.RcodeFormatError {
			t.Fatalf("rcode %s", dns.RcodeToString[r.Rcode])
		}
		var ede *dns.EDNS0_EDE
		for _, o := range r.IsEdns0().Option {
			if e, ok := o.(*dns.EDNS0_EDE); ok {
				ede = e
			}
		}
		if ede == nil || ede.InfoCode != dns.ExtendedErrorCodeInvalidQueryType {
			t.Fatalf("want EDE 30, got %v", r.IsEdns0())
		}
	})
	t.Run("ANY is minimal", func(t *testing.T) {
		m := new(dns.Msg)
		m.SetQuestion(host, dns.TypeANY)
		m.SetEdns0(1232, true)
		r := s.exchange(t, m, "tcp")
		if r.Rcode != dns.RcodeSuccess {
			t.Fatalf("rcode %s", dns.RcodeToString[r.Rcode])
		}
		types := map[uint16]bool{}
		for _, rr := range r.Answer {
			if rr.Header().Rrtype != dns.TypeRRSIG {
				types[rr.Header().Rrtype] = true
			}
		}
		if len(types) != 1 {
			t.Fatalf("ANY returned %d RRsets, want 1 (RFC 8482): %v", len(types), r.Answer)
		}
		if err := v.validatePositive(r); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("no EDNS gets no OPT and fits 512", func(t *testing.T) {
		m := new(dns.Msg)
		m.SetQuestion(host, dns.TypeA)
		r := s.exchange(t, m, "udp")
		if r.IsEdns0() != nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 2 {
			t.Fatalf("got %v", r)
		}
	})
	t.Run("DS at the parent apex is an authoritative NODATA from the child", func(t *testing.T) {
		m := new(dns.Msg)
		m.SetQuestion("mx.example.", dns.TypeDS)
		m.SetEdns0(1232, true)
		r := s.exchange(t, m, "udp")
		if r.Rcode != dns.RcodeSuccess || !r.Authoritative || len(r.Answer) != 0 {
			t.Fatalf("want AA NODATA (RFC 4035 3.1.4.1), got %v", r)
		}
		if err := v.validateDenial(r, "mx.example.", dns.TypeDS, false); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("NSEC bitmaps always list RRSIG and NSEC, even when asked for", func(t *testing.T) {
		for _, qt := range []uint16{dns.TypeRRSIG, dns.TypeNSEC} {
			m := new(dns.Msg)
			m.SetQuestion(host, qt)
			m.SetEdns0(1232, true)
			r := s.exchange(t, m, "tcp")
			for _, rr := range append(append([]dns.RR{}, r.Answer...), r.Ns...) {
				if n, ok := rr.(*dns.NSEC); ok {
					if !slices.Contains(n.TypeBitMap, dns.TypeRRSIG) || !slices.Contains(n.TypeBitMap, dns.TypeNSEC) {
						t.Fatalf("qtype %s: bitmap %v", dns.TypeToString[qt], n.TypeBitMap)
					}
				}
			}
		}
	})
	t.Run("out of zone is refused", func(t *testing.T) {
		m := new(dns.Msg)
		m.SetQuestion("example.com.", dns.TypeA)
		r := s.exchange(t, m, "udp")
		if r.Rcode != dns.RcodeRefused {
			t.Fatalf("rcode %s, want REFUSED", dns.RcodeToString[r.Rcode])
		}
	})
	t.Run("deleted host denies securely", func(t *testing.T) {
		if err := s.api.DeleteDomain(ctx, "contoso.com"); err != nil {
			t.Fatal(err)
		}
		m := new(dns.Msg)
		m.SetQuestion(host, dns.TypeA)
		m.SetEdns0(1232, true)
		r := s.exchange(t, m, "udp")
		if err := v.validateDenial(r, host, dns.TypeA, true); err != nil {
			t.Fatalf("%v\n%v", err, r)
		}
	})
}

func TestServerRestartKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, 2, "")
	ctx := context.Background()
	var names []string
	for i := range 5 {
		d, err := s.api.AddDomain(ctx, fmt.Sprintf("customer%d.example.net", i))
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, d.MailExchange)
	}
	ds := s.anchor(t)
	zones, err := s.api.Zones(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.stop()

	s2 := startServer(t, dir, 2, "")
	ds2 := s2.anchor(t)
	if fmt.Sprint(ds) != fmt.Sprint(ds2) {
		t.Fatalf("DS changed across restart:\n%v\n%v", ds, ds2)
	}
	zones2, err := s2.api.Zones(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(zones) != fmt.Sprint(zones2) {
		t.Fatalf("zones changed across restart:\n%+v\n%+v", zones, zones2)
	}
	v := newValidator(t, s2.tcp, "mx.example.", ds2, time.Now())
	for _, n := range names {
		m := new(dns.Msg)
		m.SetQuestion(n, dns.TypeA)
		m.SetEdns0(1232, true)
		r := s2.exchange(t, m, "udp")
		if err := v.validatePositive(r); err != nil {
			t.Fatalf("%s after restart: %v", n, err)
		}
	}
}

// TestCorefileExampleRuns starts the shipped Corefile.example for real, with its fixed
// ports and data directory swapped for ones the test owns, and provisions one domain.
func TestCorefileExampleRuns(t *testing.T) {
	b, err := os.ReadFile("../Corefile.example")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	text := strings.NewReplacer(
		"mx.example.:1053", fmt.Sprintf("mx.example.:%d", freeDNSPort()),
		"api 127.0.0.1:8053", "api 127.0.0.1:0",
		"data data", "data "+dir,
		"token-file data/token", "token-file "+filepath.Join(dir, "token"),
	).Replace(string(b))
	inst, err := caddy.Start(caddyInput(text))
	if err != nil {
		t.Fatalf("Corefile.example: %v", err)
	}
	s := &testServer{t: t, dir: dir, inst: inst}
	t.Cleanup(s.stop)
	srv := inst.Servers()[0]
	s.udp, s.tcp = srv.LocalAddr().String(), srv.Addr().String()
	instances.Lock()
	s.mx = instances.m[dir]
	instances.Unlock()
	tok, err := api.TokenFromFile(filepath.Join(dir, "token"))
	if err != nil {
		t.Fatal(err)
	}
	s.api = client.New(s.mx.APIAddr(), tok)
	d, err := s.api.AddDomain(context.Background(), "contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	m := new(dns.Msg)
	m.SetQuestion("_25._tcp."+d.MailExchange, dns.TypeTLSA)
	m.SetEdns0(1232, true)
	r := s.exchange(t, m, "udp")
	v := newValidator(t, s.tcp, "mx.example.", s.anchor(t), time.Now())
	if err := v.validatePositive(r); err != nil {
		t.Fatal(err)
	}
}

// TestServerTruncation: an answer larger than the client's buffer is truncated over UDP
// (TC set, never a partial RRset that would fail validation) and complete over TCP.
func TestServerTruncation(t *testing.T) {
	var addrs []string
	for i := range 60 {
		addrs = append(addrs, fmt.Sprintf("192.0.2.%d", i+1))
	}
	dir := t.TempDir()
	s := startCorefile(t, dir, corefileWith(dir, 10, "", strings.Join(addrs, " ")))
	d, err := s.api.AddDomain(context.Background(), "contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	v := newValidator(t, s.tcp, "mx.example.", s.anchor(t), time.Now())
	tests := []struct {
		name    string
		edns    uint16 // 0 = no EDNS
		do      bool
		network string
		wantTC  bool
	}{
		{name: "no EDNS 512", network: "udp", wantTC: true},
		{name: "EDNS 512", edns: 512, do: true, network: "udp", wantTC: true},
		{name: "EDNS 4096 capped at 1232", edns: 4096, do: true, network: "udp", wantTC: false},
		{name: "TCP", edns: 512, do: true, network: "tcp", wantTC: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := new(dns.Msg)
			m.SetQuestion(d.MailExchange, dns.TypeA)
			if tc.edns != 0 {
				m.SetEdns0(tc.edns, tc.do)
			}
			r := s.exchange(t, m, tc.network)
			if r.Truncated != tc.wantTC {
				t.Fatalf("TC=%v, want %v (%d bytes, %d answers)", r.Truncated, tc.wantTC, r.Len(), len(r.Answer))
			}
			limit := 512
			if tc.edns > 512 {
				limit = 1232
			}
			r.Compress = true
			if tc.network == "udp" && r.Len() > limit {
				t.Fatalf("%d bytes over UDP, limit %d", r.Len(), limit)
			}
			if !tc.wantTC {
				set, _ := split(r.Answer, dns.TypeA)
				if len(set) != len(addrs) {
					t.Fatalf("%d A records, want %d", len(set), len(addrs))
				}
				if tc.do {
					if err := v.validatePositive(r); err != nil {
						t.Fatal(err)
					}
				}
			}
		})
	}
}
