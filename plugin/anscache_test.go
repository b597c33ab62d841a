package mxsign

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coredns/coredns/request"
	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mxsign/mxsign/plugin/anscache"
)

// serve answers q through h the way CoreDNS hands it a query (behind its ScrubWriter)
// and returns the bytes written.
func serve(tb testing.TB, h *Mxsign, q *dns.Msg, network string) []byte {
	tb.Helper()
	w := newFakeWriter(network)
	if _, err := h.ServeDNS(context.Background(), request.NewScrubWriter(q, w), q); err != nil {
		tb.Fatalf("ServeDNS: %v", err)
	}
	if w.writes != 1 {
		tb.Fatalf("%d answers written", w.writes)
	}
	return bytes.Clone(w.wire)
}

func unpack(tb testing.TB, wire []byte) *dns.Msg {
	tb.Helper()
	m := new(dns.Msg)
	if err := m.Unpack(wire); err != nil {
		tb.Fatalf("answer does not unpack: %v", err)
	}
	return m
}

// rawOwner is how one RR's owner name is written in a packed message.
type rawOwner struct {
	name       string
	toQuestion bool // a single compression pointer to the question name
}

// rawOwners walks the RRs of a packed message.
func rawOwners(tb testing.TB, wire []byte) []rawOwner {
	tb.Helper()
	_, off, err := dns.UnpackDomainName(wire, 12)
	if err != nil {
		tb.Fatal(err)
	}
	off += 4 // QTYPE, QCLASS
	n := int(binary.BigEndian.Uint16(wire[6:])) + int(binary.BigEndian.Uint16(wire[8:])) + int(binary.BigEndian.Uint16(wire[10:]))
	var out []rawOwner
	for range n {
		ptr := wire[off] == 0xc0 && wire[off+1] == 12
		name, end, err := dns.UnpackDomainName(wire, off)
		if err != nil {
			tb.Fatal(err)
		}
		off = end + 10 + int(binary.BigEndian.Uint16(wire[end+8:]))
		out = append(out, rawOwner{name: name, toQuestion: ptr})
	}
	return out
}

// sameRRs reports whether two messages carry the same header and records, names
// compared without case.
func sameRRs(a, b *dns.Msg) error {
	if a.Rcode != b.Rcode || a.Authoritative != b.Authoritative || a.Truncated != b.Truncated {
		return fmt.Errorf("header %+v, want %+v", a.MsgHdr, b.MsgHdr)
	}
	for i, s := range [][2][]dns.RR{{a.Answer, b.Answer}, {a.Ns, b.Ns}, {a.Extra, b.Extra}} {
		if len(s[0]) != len(s[1]) {
			return fmt.Errorf("section %d: %d records, want %d", i, len(s[0]), len(s[1]))
		}
		for j := range s[0] {
			if x, y := s[0][j].String(), s[1][j].String(); !strings.EqualFold(x, y) {
				return fmt.Errorf("section %d record %d:\n%s\nwant\n%s", i, j, x, y)
			}
		}
	}
	return nil
}

// TestAnswerCacheMatchesUncached asks every kind of answer in every variant a query can
// ask for: DO, CO, EDNS or none, a small UDP buffer that truncates, TCP, and in lower
// and mixed case. The cache is filled by the lower-case query with other flags and ID;
// the mixed-case query must then get, from the cache, exactly the bytes the server
// without a cache sends, with its own ID, RD, CD and spelling, every owner name equal to
// the question a pointer to it; the same records as the message path (respond) built
// for the query's spelling; and answers that validate.
func TestAnswerCacheMatchesUncached(t *testing.T) {
	f := newMixFixture(t, 2, 3, 40)
	host := f.hosts[0]
	_, shard, _ := strings.Cut(host, ".")
	cached, plain := f.handler(1<<20), f.handler(0)
	v := f.validator(t, cached)

	kinds := []struct {
		name      string
		qname     string
		qtype     uint16
		cacheable bool
		nx        bool // the name does not exist
	}{
		{name: "host A", qname: host, qtype: dns.TypeA, cacheable: true},
		{name: "host AAAA", qname: host, qtype: dns.TypeAAAA, cacheable: true},
		{name: "TLSA", qname: "_25._tcp." + host, qtype: dns.TypeTLSA, cacheable: true},
		{name: "host ANY", qname: host, qtype: dns.TypeANY, cacheable: true},
		{name: "host MX nodata", qname: host, qtype: dns.TypeMX, cacheable: true},
		{name: "host NSEC", qname: host, qtype: dns.TypeNSEC, cacheable: true},
		{name: "ENT", qname: "_tcp." + host, qtype: dns.TypeTXT, cacheable: true},
		{name: "shard SOA", qname: shard, qtype: dns.TypeSOA, cacheable: true},
		{name: "shard NS", qname: shard, qtype: dns.TypeNS, cacheable: true},
		{name: "shard DNSKEY", qname: shard, qtype: dns.TypeDNSKEY, cacheable: true},
		{name: "shard CDS", qname: shard, qtype: dns.TypeCDS, cacheable: true},
		{name: "shard CDNSKEY", qname: shard, qtype: dns.TypeCDNSKEY, cacheable: true},
		{name: "shard DS", qname: shard, qtype: dns.TypeDS, cacheable: true},
		{name: "parent DNSKEY", qname: "mx.example.", qtype: dns.TypeDNSKEY, cacheable: true},
		{name: "parent DS nodata", qname: "mx.example.", qtype: dns.TypeDS, cacheable: true},
		{name: "glue A", qname: "ns1.mx.example.", qtype: dns.TypeA, cacheable: true},
		{name: "nx in shard", qname: "nothere." + shard, qtype: dns.TypeA, nx: true},
		{name: "nx below host", qname: "x.y." + host, qtype: dns.TypeAAAA, nx: true},
		{name: "nx in parent", qname: "zz-no-shard.mx.example.", qtype: dns.TypeA, nx: true},
		{name: "NXNAME formerr", qname: host, qtype: 128},
		{name: "AXFR refused", qname: shard, qtype: dns.TypeAXFR},
	}
	transports := []struct {
		name    string
		network string
		edns    uint16 // 0: no EDNS
	}{
		{"udp", "udp", 1232}, {"udp-512", "udp", 512}, {"udp-no-edns", "udp", 0}, {"tcp", "tcp", 1232}, {"tcp-no-edns", "tcp", 0},
	}
	hits, truncated := 0, 0
	id := uint16(1)
	for _, k := range kinds {
		for _, tr := range transports {
			for _, flags := range []anscache.Flags{0, anscache.DO, anscache.CO, anscache.DO | anscache.CO} {
				if tr.edns == 0 && flags != 0 {
					continue
				}
				for _, qname := range []string{k.qname, mixCase(k.qname)} {
					do := flags&anscache.DO != 0
					name := fmt.Sprintf("%s/%s/do=%v/co=%v/%s", k.name, tr.name, do, flags&anscache.CO != 0, qname)
					t.Run(name, func(t *testing.T) {
						query := func(qname string, rd, cd bool) *dns.Msg {
							m := new(dns.Msg)
							m.SetQuestion(qname, k.qtype)
							id++
							m.Id, m.RecursionDesired, m.CheckingDisabled = id, rd, cd
							if tr.edns != 0 {
								m.SetEdns0(tr.edns, do)
								if flags&anscache.CO != 0 {
									m.IsEdns0().Hdr.Ttl |= ednsFlagCO
								}
							}
							return m
						}
						serve(t, cached, query(strings.ToLower(qname), false, false), tr.network)
						q := query(qname, true, do)
						before := cached.cache.Stats().Hits
						got := serve(t, cached, q, tr.network)
						hit := cached.cache.Stats().Hits > before
						want := serve(t, plain, q, tr.network)
						if !bytes.Equal(got, want) { // signatures are deterministic: made afresh, they are the same too
							t.Fatalf("answer differs from the uncached one:\n%v\nwant\n%v", unpack(t, got), unpack(t, want))
						}
						m := unpack(t, got)
						if wantHit := k.cacheable && !m.Truncated; hit != wantHit {
							t.Fatalf("served from the cache: %v, want %v", hit, wantHit)
						}
						if hit {
							hits++
						}
						if m.Truncated {
							truncated++
						}
						if m.Id != q.Id || m.RecursionDesired != q.RecursionDesired || m.CheckingDisabled != q.CheckingDisabled {
							t.Fatalf("header %+v for query %+v", m.MsgHdr, q.MsgHdr)
						}
						if m.Question[0].Name != qname {
							t.Fatalf("question %q, want the query's spelling %q", m.Question[0].Name, qname)
						}
						for _, o := range rawOwners(t, got) {
							if strings.EqualFold(o.name, qname) && (o.name != qname || !o.toQuestion) {
								t.Fatalf("owner %q: want %q written as a pointer to the question", o.name, qname)
							}
						}
						ref, ok := f.r.respond(q, tr.network == "udp")
						if !ok {
							t.Fatal("respond: not ours")
						}
						if !m.Truncated && !ref.Truncated {
							if err := sameRRs(m, ref); err != nil {
								t.Fatalf("differs from the message path: %v", err)
							}
						}
						if !do || m.Truncated || m.Rcode != dns.RcodeSuccess {
							return
						}
						var err error
						if len(m.Answer) > 0 {
							err = v.validatePositive(m)
						} else {
							err = v.validateDenial(m, qname, k.qtype, k.nx)
						}
						if err != nil {
							t.Fatalf("validation: %v\n%v", err, m)
						}
					})
				}
			}
		}
	}
	if hits < 100 || truncated == 0 {
		t.Fatalf("%d answers from the cache and %d truncated: the matrix does not test what it should", hits, truncated)
	}
	t.Logf("%d answers from the cache, %d truncated", hits, truncated)
}

// askAll serves each query through the cached and the uncached handler and fails on
// any difference; it returns how many came from the cache. Answers made afresh are the
// same to the byte too: signatures are deterministic (Ed25519, ECDSA with RFC 6979).
func askAll(t *testing.T, stage string, cached, plain *Mxsign, qs []*dns.Msg) (hits int) {
	t.Helper()
	for _, q := range qs {
		before := cached.cache.Stats().Hits
		got := serve(t, cached, q, "udp")
		hit := cached.cache.Stats().Hits > before
		if hit {
			hits++
		}
		want := serve(t, plain, q, "udp")
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: %s %s (from the cache: %v): the answer\n%v\nwant\n%v", stage, q.Question[0].Name, dns.TypeToString[q.Question[0].Qtype], hit, unpack(t, got), unpack(t, want))
		}
	}
	return hits
}

func signedQuery(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.SetEdns0(1232, true)
	return m
}

// TestAnswerCacheInvalidation: adding and deleting hosts changes what the cache serves
// for their shard at once (the SOA serial, the host's answers), and leaves the cached
// answers of the other shard in place.
func TestAnswerCacheInvalidation(t *testing.T) {
	f := newMixFixture(t, 2, 3, 1)
	cached, plain := f.handler(1<<20), f.handler(0)
	ctx := context.Background()
	gone, kept := f.hosts[0], f.hosts[len(f.hosts)-1]
	_, shard, _ := strings.Cut(gone, ".")
	_, other, _ := strings.Cut(kept, ".")
	if shard == other {
		t.Fatal("the fixture's first and last hosts share a shard")
	}
	changed := []*dns.Msg{
		signedQuery(gone, dns.TypeA), signedQuery("_25._tcp."+gone, dns.TypeTLSA), signedQuery(gone, dns.TypeMX),
		signedQuery(shard, dns.TypeSOA), signedQuery(shard, dns.TypeDNSKEY),
	}
	untouched := []*dns.Msg{signedQuery(kept, dns.TypeA), signedQuery(other, dns.TypeSOA), signedQuery("mx.example.", dns.TypeDNSKEY)}
	all := append(append([]*dns.Msg{}, changed...), untouched...)
	askAll(t, "cold", cached, plain, all)
	if n := askAll(t, "warm", cached, plain, all); n != len(all) {
		t.Fatalf("warm: %d of %d answers from the cache", n, len(all))
	}

	res, err := f.prov.DeleteDomains(ctx, []string{f.domains[0]})
	if err != nil || res[0].Err != nil {
		t.Fatalf("delete: %v %v", err, res)
	}
	if n := askAll(t, "after the delete", cached, plain, untouched); n != len(untouched) {
		t.Fatalf("a delete in %s dropped cached answers of other zones: %d of %d from the cache", shard, n, len(untouched))
	}
	if n := askAll(t, "after the delete", cached, plain, changed); n != 0 {
		t.Fatalf("%d answers of %s served from before the delete", n, shard)
	}
	if m := unpack(t, serve(t, cached, changed[0], "udp")); len(m.Answer) != 0 {
		t.Fatalf("the deleted host still answers: %v", m)
	}

	askAll(t, "warm again", cached, plain, changed)
	res, err = f.prov.AddDomains(ctx, []string{"newcomer.example"})
	if err != nil || res[0].Err != nil {
		t.Fatalf("add: %v %v", err, res)
	}
	if res[0].Host.Shard != shard {
		t.Fatalf("the new host went to %s, not to %s where there is room", res[0].Host.Shard, shard)
	}
	if n := askAll(t, "after the add", cached, plain, changed); n != 0 {
		t.Fatalf("%d answers of %s served from before the add", n, shard)
	}
	added := signedQuery(res[0].Host.Name(), dns.TypeA)
	askAll(t, "the new host", cached, plain, []*dns.Msg{added})
	if m := unpack(t, serve(t, cached, added, "udp")); len(m.Answer) == 0 {
		t.Fatalf("the new host does not answer: %v", m)
	}
}

// TestAnswerCacheThroughRollover runs ten minutes of the compressed rollover policy on a
// fake clock (ZSK rolls every minute, shard KSK rolls by double-DS, signatures refreshed
// after two minutes) and, every second, asks through the cache and without it: the
// answers must be the same, so the cache never serves a key set, a DS set or a signature
// the signer would not; and every answer validates from the parent's trust anchor.
func TestAnswerCacheThroughRollover(t *testing.T) {
	f := newRolloverFixture(t)
	ctx := context.Background()
	cached, plain := newAnswerCaches(f.st, "mx.example.").handler(f.r, 1<<20), &Mxsign{r: f.r}
	anchor, err := f.st.DS("mx.example.")
	if err != nil {
		t.Fatal(err)
	}
	positive := []*dns.Msg{
		signedQuery(f.host, dns.TypeA), signedQuery("_25._tcp."+f.host, dns.TypeTLSA), signedQuery(f.shard, dns.TypeDNSKEY),
		signedQuery(f.shard, dns.TypeSOA), signedQuery(f.shard, dns.TypeDS), signedQuery("mx.example.", dns.TypeDNSKEY),
	}
	nodata := signedQuery(f.host, dns.TypeMX)
	all := append(append([]*dns.Msg{}, positive...), nodata)
	hits, asked := 0, 0
	keyTags := map[uint16]bool{}
	for i := range 600 {
		if _, err := f.ro.step(ctx, f.clock); err != nil {
			t.Fatalf("%v: step: %v", f.clock, err)
		}
		hits += askAll(t, fmt.Sprintf("+%ds", i), cached, plain, all)
		asked += len(all)
		v := newValidator(t, "", "mx.example.", anchor, f.clock)
		v.ask = func(m *dns.Msg) (*dns.Msg, error) { return unpack(t, serve(t, cached, m, "tcp")), nil }
		for _, q := range positive {
			m := unpack(t, serve(t, cached, q, "udp"))
			if err := v.validatePositive(m); err != nil {
				t.Fatalf("+%ds: %s %s: %v\n%v", i, q.Question[0].Name, dns.TypeToString[q.Question[0].Qtype], err, m)
			}
			for _, rr := range m.Answer {
				if sig, ok := rr.(*dns.RRSIG); ok {
					keyTags[sig.KeyTag] = true
				}
			}
		}
		if err := v.validateDenial(unpack(t, serve(t, cached, nodata, "udp")), f.host, dns.TypeMX, false); err != nil {
			t.Fatalf("+%ds: nodata: %v", i, err)
		}
		f.clock = f.clock.Add(time.Second)
	}
	if len(keyTags) < 10 {
		t.Fatalf("only %d keys signed answers: the rolls did not happen", len(keyTags))
	}
	if hits < asked/2 {
		t.Fatalf("only %d of %d answers came from the cache", hits, asked)
	}
	t.Logf("%d of %d answers from the cache; %d keys signed them", hits, asked, len(keyTags))
}

// TestAnswerCacheDeadline: a cached answer is served until the first second at which
// the signer would re-sign one of its signatures, and not at that second.
func TestAnswerCacheDeadline(t *testing.T) {
	f := newMixFixture(t, 1, 2, 1)
	cached := f.handler(1 << 20)
	q := signedQuery(f.hosts[0], dns.TypeA)
	first := serve(t, cached, q, "udp")
	_, sigs := split(unpack(t, first).Answer, dns.TypeA)
	if len(sigs) != 1 {
		t.Fatalf("%d RRSIGs", len(sigs))
	}
	until := f.r.signer.ServeUntil(sigs[0], f.clock)

	f.clock = time.Unix(until-1, 0)
	before := cached.cache.Stats().Hits
	if got := serve(t, cached, q, "udp"); !bytes.Equal(got, first) || cached.cache.Stats().Hits != before+1 {
		t.Fatal("the answer was not served from the cache in its last second")
	}

	f.clock = time.Unix(until, 0)
	got := serve(t, cached, q, "udp")
	if cached.cache.Stats().Hits != before+1 {
		t.Fatal("the answer was served from the cache at its deadline")
	}
	_, fresh := split(unpack(t, got).Answer, dns.TypeA)
	if len(fresh) != 1 || fresh[0].Inception == sigs[0].Inception {
		t.Fatalf("at the deadline the signature was not renewed: %v", fresh)
	}
	if again := serve(t, cached, q, "udp"); !bytes.Equal(again, got) || cached.cache.Stats().Hits != before+2 {
		t.Fatal("the renewed answer was not cached")
	}
}

// TestAnswerCacheFloodKeepsHotAnswers: a random-subdomain flood, with and without DO and
// CO, inserts nothing into the answer cache and evicts none of the hot answers.
func TestAnswerCacheFloodKeepsHotAnswers(t *testing.T) {
	f := newMixFixture(t, 2, 3, 1)
	cached := f.handler(64 << 10)
	var hot []*dns.Msg
	for _, h := range f.hosts {
		hot = append(hot, signedQuery(h, dns.TypeA), signedQuery(h, dns.TypeAAAA), signedQuery("_25._tcp."+h, dns.TypeTLSA))
	}
	for _, q := range hot {
		serve(t, cached, q, "udp")
	}
	before := cached.cache.Stats()
	_, shard, _ := strings.Cut(f.hosts[0], ".")
	for i := range 600 {
		q := new(dns.Msg)
		q.SetQuestion(fmt.Sprintf("flood%d.%s", i, shard), dns.TypeA)
		if i%3 != 0 {
			q.SetEdns0(1232, i%3 == 1)
			if i%2 == 0 {
				q.IsEdns0().Hdr.Ttl |= ednsFlagCO
			}
		}
		serve(t, cached, q, "udp")
	}
	after := cached.cache.Stats()
	if after.Inserts != before.Inserts || after.Evictions != before.Evictions || after.Entries != before.Entries {
		t.Fatalf("the flood changed the cache: before %+v, after %+v", before, after)
	}
	for _, q := range hot {
		serve(t, cached, q, "udp")
	}
	if got := cached.cache.Stats().Hits - after.Hits; got != uint64(len(hot)) {
		t.Fatalf("%d of %d hot answers still cached after the flood", got, len(hot))
	}
}

// FuzzServeDNSCached feeds arbitrary queries to the handler with an answer cache, twice
// (the second may come from the cache), and to one without: nothing panics, every
// answer unpacks, and an answer from the cache is the uncached answer to the byte.
func FuzzServeDNSCached(f *testing.F) {
	fx := newMixFixture(f, 1, 3, 1)
	cached, plain := fx.handler(1<<20), fx.handler(0)
	host := fx.hosts[0]
	for _, q := range []struct {
		name  string
		qtype uint16
		edns  bool
		do    bool
	}{
		{host, dns.TypeA, true, true}, {mixCase("_25._tcp." + host), dns.TypeTLSA, true, true}, {"nx.mx.example.", dns.TypeA, true, false},
		{"MX.example.", dns.TypeDNSKEY, false, false}, {host, 128, true, true}, {host, dns.TypeANY, true, true}, {"mx.example.", dns.TypeDS, true, true},
		{`a\.b.mx.example.`, dns.TypeA, true, true}, {"example.org.", dns.TypeA, false, false},
	} {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.qtype)
		if q.edns {
			m.SetEdns0(512, q.do)
		}
		b, _ := m.Pack()
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Fuzz(func(t *testing.T, wire []byte, tcp bool) {
		m := new(dns.Msg)
		if err := m.Unpack(wire); err != nil {
			return
		}
		network := "udp"
		if tcp {
			network = "tcp"
		}
		unpack(t, serve(t, cached, m, network))
		before := cached.cache.Stats().Hits
		got := serve(t, cached, m, network)
		hit := cached.cache.Stats().Hits > before
		unpack(t, got)
		want := serve(t, plain, m, network)
		if !bytes.Equal(got, want) {
			t.Fatalf("answer (from the cache: %v):\n%v\nwant\n%v", hit, unpack(t, got), unpack(t, want))
		}
	})
}

// TestAnswerCacheHitAllocatesNothing: an answer from the cache is copied, patched and
// written without a single allocation (CoreDNS's own ScrubWriter, made per query by the
// server before any plugin runs, is made once here).
func TestAnswerCacheHitAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop buffers")
	}
	f := newMixFixture(t, 1, 2, 1)
	h := f.handler(1 << 20)
	for _, q := range []*dns.Msg{signedQuery(f.hosts[0], dns.TypeA), signedQuery(mixCase("_25._tcp."+f.hosts[0]), dns.TypeTLSA)} {
		fw := newFakeWriter("udp")
		w := request.NewScrubWriter(q, fw)
		ctx := context.Background()
		h.ServeDNS(ctx, w, q)
		before := h.cache.Stats().Hits
		allocs := testing.AllocsPerRun(200, func() { h.ServeDNS(ctx, w, q) })
		if h.cache.Stats().Hits-before < 200 {
			t.Fatal("the answers did not come from the cache")
		}
		if allocs != 0 {
			t.Errorf("%s: %.1f allocations per answer from the cache", q.Question[0].Name, allocs)
		}
	}
}

// TestAnswerCacheRestore: restoring a snapshot (a follower catching up, a disaster
// recovery) invalidates every cached answer, also those of zones the snapshot lacks.
func TestAnswerCacheRestore(t *testing.T) {
	f := newMixFixture(t, 1, 2, 1)
	cached, plain := f.handler(1<<20), f.handler(0)
	var snap bytes.Buffer
	if err := f.st.Snapshot(&snap); err != nil {
		t.Fatal(err)
	}
	res, err := f.prov.AddDomains(context.Background(), []string{"late.example"})
	if err != nil || res[0].Err != nil {
		t.Fatalf("add: %v %v", err, res)
	}
	late := res[0].Host
	if strings.HasSuffix(f.hosts[0], "."+late.Shard) {
		t.Fatal("the fixture's shard had room: the new host should make a new shard")
	}
	qs := []*dns.Msg{signedQuery(late.Name(), dns.TypeA), signedQuery(late.Shard, dns.TypeDNSKEY), signedQuery(late.Shard, dns.TypeSOA)}
	askAll(t, "cold", cached, plain, qs)
	if n := askAll(t, "warm", cached, plain, qs); n != len(qs) {
		t.Fatalf("%d of %d answers from the cache", n, len(qs))
	}
	if err := f.st.Restore(&snap); err != nil {
		t.Fatal(err)
	}
	if n := askAll(t, "after the restore", cached, plain, qs); n != 0 {
		t.Fatalf("%d answers from before the restore", n)
	}
}

// TestREADMEAnswerCache keeps the plugin README's answer-cache default and metric names
// equal to the code's.
func TestREADMEAnswerCache(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, w := range []string{"answer-cache SIZE", fmt.Sprintf("default `%dm`", defaultAnswerCache>>20)} {
		if !strings.Contains(readme, w) {
			t.Errorf("plugin/README.md does not say %q", w)
		}
	}
	registerMetrics()
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, mf := range mfs {
		if name := mf.GetName(); strings.HasPrefix(name, "coredns_mxsign_answer_cache_") {
			n++
			if !strings.Contains(readme, "`"+name+"`") {
				t.Errorf("plugin/README.md does not list the metric %s", name)
			}
		}
	}
	if n != 5 {
		t.Errorf("%d answer cache metrics, want 5", n)
	}
}

// TestNegativeAnswerCache: the denial of a name that does not exist is cached on the
// name's second sighting, in its own cache: from the third on it costs no signature; a
// flood of one-off names fills neither cache; adding the name's host ends the denial.
func TestNegativeAnswerCache(t *testing.T) {
	f := newMixFixture(t, 2, 3, 1)
	h := f.handler(1 << 20)
	ctx := context.Background()
	gone := f.hosts[0]
	_, shard, _ := strings.Cut(gone, ".")
	if res, err := f.prov.DeleteDomains(ctx, []string{f.domains[0]}); err != nil || res[0].Err != nil {
		t.Fatalf("delete: %v %v", err, res)
	}
	anchor, err := f.st.DS("mx.example.")
	if err != nil {
		t.Fatal(err)
	}
	v := newValidator(t, "", "mx.example.", anchor, f.clock)
	v.ask = func(m *dns.Msg) (*dns.Msg, error) { return unpack(t, serve(t, h, m, "udp")), nil }

	signed := func() uint64 { return f.r.signer.Stats().Signatures }
	for i := range 4 {
		before, hits := signed(), h.neg.Stats().Hits
		m := unpack(t, serve(t, h, signedQuery(gone, dns.TypeA), "udp"))
		n := signed() - before
		fromCache := h.neg.Stats().Hits > hits
		if want := i >= 2; fromCache != want {
			t.Fatalf("sighting %d: from the negative cache %v, want %v", i+1, fromCache, want)
		}
		// The SOA's signature is computed once, then cached; the NSEC's every time
		// the answer is built.
		if fromCache && n != 0 || i == 1 && n != 1 {
			t.Fatalf("sighting %d: %d signatures computed (from the cache: %v)", i+1, n, fromCache)
		}
		if err := v.validateDenial(m, gone, dns.TypeA, true); err != nil {
			t.Fatalf("sighting %d: %v\n%v", i+1, err, m)
		}
	}
	if h.cache.Stats().Entries == 0 || h.neg.Stats().Entries != 1 {
		t.Fatalf("entries: positive %d, negative %d; want the denial in the negative cache only",
			h.cache.Stats().Entries, h.neg.Stats().Entries)
	}

	// A flood of distinct names: at most 1 in 16 gets in (the doorkeeper's false
	// admissions), into the negative cache only.
	pos := h.cache.Stats()
	for i := range 2000 {
		serve(t, h, signedQuery(fmt.Sprintf("flood%d.%s", i, shard), dns.TypeA), "udp")
	}
	if got := h.cache.Stats(); got.Inserts != pos.Inserts || got.Entries != pos.Entries {
		t.Fatalf("the flood changed the positive cache: %+v -> %+v", pos, got)
	}
	if n := h.neg.Stats().Inserts; n > 1+2000/16 {
		t.Fatalf("%d flood denials admitted, want at most 1 in 16", n)
	}

	// The name comes back: its cached denial is gone at once.
	res, err := f.prov.AddDomains(ctx, []string{f.domains[0]})
	if err != nil || res[0].Err != nil {
		t.Fatalf("add: %v %v", err, res)
	}
	back := res[0].Host.Name()
	m := unpack(t, serve(t, h, signedQuery(back, dns.TypeA), "udp"))
	if m.Rcode != dns.RcodeSuccess || len(m.Answer) == 0 {
		t.Fatalf("%s after it was added again: %v", back, m)
	}
	if back != gone {
		m = unpack(t, serve(t, h, signedQuery(gone, dns.TypeA), "udp"))
		if len(m.Answer) != 0 {
			t.Fatalf("%s answers though its domain moved to %s", gone, back)
		}
	}
}
