package mxsign

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxsign/mxsign/signer"
	"github.com/mxsign/mxsign/testzones"
	"github.com/mxsign/mxsign/zonestore"
)

// mixFixture is a store with a parent zone, several shards of hosts and a responder,
// on a fake clock: the benchmark and the answer cache tests build on it.
type mixFixture struct {
	clock   time.Time
	st      *zonestore.Store
	prov    *zonestore.Provisioner
	r       *responder
	hosts   []string // host names, lower case
	domains []string // the customer domain of each host
}

// newMixFixture provisions shards x perShard generated domains whose hosts have addrs
// A records (answers of many records truncate over UDP), signed with the default
// algorithm.
func newMixFixture(tb testing.TB, shards, perShard, addrs int) *mixFixture {
	tb.Helper()
	return newMixFixtureAlg(tb, shards, perShard, addrs, 0)
}

// newMixFixtureAlg is newMixFixture with the zones' keys of algorithm alg (0: the
// default).
func newMixFixtureAlg(tb testing.TB, shards, perShard, addrs int, alg uint8) *mixFixture {
	tb.Helper()
	f := &mixFixture{clock: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)}
	kek, err := zonestore.GenerateKEK(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	st, err := zonestore.Open(zonestore.Options{Path: filepath.Join(tb.TempDir(), "mxsign.db"), KEK: kek})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	cfg := zonestore.Config{
		Parent:      "mx.example.",
		NameServers: []zonestore.NameServer{{Name: "ns1.mx.example.", A: []string{"192.0.2.53"}}},
		ShardSize:   perShard,
		Algorithm:   alg,
	}.WithDefaults()
	prof := zonestore.Profile{TTL: 300, AAAA: []string{"2001:db8::25"}, TLSA: []string{testTLSA}}
	for i := range addrs {
		prof.A = append(prof.A, fmt.Sprintf("192.0.2.%d", 25+i))
	}
	f.prov = &zonestore.Provisioner{
		Store: st, Applier: zonestore.NewLocalApplier(st), Keys: keyFactory(kek, 3600),
		Now: func() time.Time { return f.clock }, Rand: rand.Reader,
	}
	ctx := context.Background()
	if err := f.prov.Init(ctx, cfg, prof); err != nil {
		tb.Fatal(err)
	}
	var ascii []string
	for _, d := range testzones.Domains("anscache", shards*perShard) {
		a, err := testzones.ToASCII(d)
		if err != nil {
			tb.Fatal(err)
		}
		ascii = append(ascii, a)
	}
	res, err := f.prov.AddDomains(ctx, ascii)
	if err != nil {
		tb.Fatal(err)
	}
	for _, it := range res {
		if it.Err != nil {
			tb.Fatalf("add %s: %v", it.Domain, it.Err)
		}
		f.hosts = append(f.hosts, it.Host.Name())
		f.domains = append(f.domains, it.Domain)
	}
	f.st = st
	f.r = &responder{
		store: st, signer: signer.New(signer.Options{}), keys: newKeyring(st),
		now: func() time.Time { return f.clock }, bufSize: 1232, log: log,
	}
	return f
}

// queries returns n queries of the peers' mix (testzones.PeerMix) over the fixture's
// hosts, as dnsperf -D sends them: EDNS with a 4096-byte buffer and DO set.
func (f *mixFixture) queries(tb testing.TB, n int) []*dns.Msg {
	tb.Helper()
	var buf bytes.Buffer
	if _, err := testzones.QueryFile(f.hosts, &buf, testzones.QueryOptions{Seed: "anscache", N: n}); err != nil {
		tb.Fatal(err)
	}
	var out []*dns.Msg
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		name, typ, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			tb.Fatalf("query line %q", sc.Text())
		}
		m := new(dns.Msg)
		m.SetQuestion(name, dns.StringToType[typ])
		m.RecursionDesired = false
		m.SetEdns0(4096, true)
		out = append(out, m)
	}
	return out
}

// fakeWriter is a dns.ResponseWriter that keeps the last answer's wire bytes, packing
// WriteMsg's message the way miekg/dns's own writer does.
type fakeWriter struct {
	remote net.Addr
	wire   []byte
	writes int // answers written, by either method
	msgs   int // of which through WriteMsg
}

func newFakeWriter(network string) *fakeWriter {
	if network == "tcp" {
		return &fakeWriter{remote: &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 5353}}
	}
	return &fakeWriter{remote: &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 5353}}
}

func (w *fakeWriter) LocalAddr() net.Addr  { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53} }
func (w *fakeWriter) RemoteAddr() net.Addr { return w.remote }
func (w *fakeWriter) WriteMsg(m *dns.Msg) error {
	w.msgs++
	b, err := m.Pack()
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
func (w *fakeWriter) Write(b []byte) (int, error) {
	w.wire = append(w.wire[:0], b...)
	w.writes++
	return len(b), nil
}
func (w *fakeWriter) Close() error        { return nil }
func (w *fakeWriter) TsigStatus() error   { return nil }
func (w *fakeWriter) TsigTimersOnly(bool) {}
func (w *fakeWriter) Hijack()             {}

// msg unpacks the last answer.
func (w *fakeWriter) msg(tb testing.TB) *dns.Msg {
	tb.Helper()
	m := new(dns.Msg)
	if err := m.Unpack(w.wire); err != nil {
		tb.Fatalf("answer does not unpack: %v", err)
	}
	return m
}

// handler returns the plugin handler over the fixture with an answer cache of size
// bytes (0: none), invalidated by the fixture's store.
func (f *mixFixture) handler(size int) *Mxsign {
	return newAnswerCaches(f.st, "mx.example.").handler(f.r, size)
}

// validator returns a validator that trusts the parent's DS, at the fixture's clock,
// and asks h over TCP.
func (f *mixFixture) validator(tb testing.TB, h *Mxsign) *validator {
	tb.Helper()
	anchor, err := f.st.DS("mx.example.")
	if err != nil {
		tb.Fatal(err)
	}
	v := newValidator(tb, "", "mx.example.", anchor, f.clock)
	v.ask = func(m *dns.Msg) (*dns.Msg, error) { return unpack(tb, serve(tb, h, m, "tcp")), nil }
	return v
}
