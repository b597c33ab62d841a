package mxsign

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxsign/mxsign/plugin/anscache"
	"github.com/mxsign/mxsign/plugin/udpfront"
)

// TestRawPathMatchesServeDNS: what the raw path (answers made from a query's bytes,
// without the plugin chain) sends is, to the byte, what ServeDNS sends for the same
// query, with either denial; it answers every cached question and every name that
// does not exist, and leaves the rest to the chain; its signed answers validate.
func TestRawPathMatchesServeDNS(t *testing.T) {
	for _, mode := range []string{"compact", "nsec"} {
		t.Run(mode, func(t *testing.T) {
			var f *mixFixture
			if mode == "nsec" {
				f, _ = newNSECFixture(t, 2, 3)
			} else {
				f = newMixFixture(t, 2, 3, 1)
			}
			h := f.handler(1 << 20)
			raw := &rawAnswerer{m: h, parent: wireName("mx.example."), inline: true, raw: true}
			v := f.validator(t, h)
			_, shard, _ := strings.Cut(f.hosts[0], ".")
			kinds := append(nsecKinds(f),
				nsecKind{name: "escaped nx", qname: `a\.b.` + shard, qtype: dns.TypeA, check: "chain"},
				nsecKind{name: "shard DS", qname: shard, qtype: dns.TypeDS, check: "positive"},
				nsecKind{name: "NXNAME type", qname: "nothere." + shard, qtype: 128, check: "chain"},
				nsecKind{name: "outside", qname: "example.org.", qtype: dns.TypeA, check: "spawn"},
			)
			var answered, inline, spawned int
			id := uint16(0)
			for _, k := range kinds {
				for _, qname := range []string{k.qname, mixCase(k.qname)} {
					for _, edns := range []uint16{0, 512, 1232} {
						for _, flags := range []anscache.Flags{0, anscache.DO, anscache.CO, anscache.DO | anscache.CO} {
							if edns == 0 && flags != 0 {
								continue
							}
							id++
							q := new(dns.Msg)
							q.SetQuestion(qname, k.qtype)
							q.Id, q.RecursionDesired, q.CheckingDisabled = id, id%2 == 0, id%3 == 0
							if edns != 0 {
								q.SetEdns0(edns, flags&anscache.DO != 0)
								if flags&anscache.CO != 0 {
									q.IsEdns0().Hdr.Ttl |= ednsFlagCO
								}
							}
							label := fmt.Sprintf("%s/%s/edns=%d/flags=%d", k.name, qname, edns, flags)
							query, err := q.Pack()
							if err != nil {
								t.Fatal(err)
							}
							// Cold (a name that does not exist is answered, signing if
							// it must), then after ServeDNS cached what it may (a denial
							// on its second sighting).
							for round := range 3 {
								hits := h.cache.Stats().Hits + h.neg.Stats().Hits
								got, verdict := raw.Answer(make([]byte, 0, 512), query)
								fromCache := h.cache.Stats().Hits+h.neg.Stats().Hits > hits
								want := serve(t, h, q, "udp")
								switch verdict {
								case udpfront.Spawn:
									spawned++
									if k.check != "spawn" {
										t.Fatalf("%s: a name of ours spawned", label)
									}
									continue
								case udpfront.Inline:
									inline++
									m := unpack(t, want)
									if round == 2 && k.check != "chain" && !m.Truncated {
										t.Fatalf("%s: not answered from the raw path once cached:\n%v", label, m)
									}
									continue
								}
								answered++
								if k.check == "spawn" || k.check == "chain" && !fromCache {
									t.Fatalf("%s: answered by the raw path, not from what the chain cached", label)
								}
								if !bytes.Equal(got, want) {
									t.Fatalf("%s: raw path\n%v\nServeDNS\n%v", label, unpack(t, got), unpack(t, want))
								}
								m := unpack(t, got)
								if flags&anscache.DO == 0 || m.Rcode == dns.RcodeRefused {
									continue
								}
								if err := checkAnswer(v, mode, m, k, qname); err != nil {
									t.Fatalf("%s: %v\n%v", label, err, m)
								}
							}
						}
					}
				}
			}
			if answered < 300 || inline < 20 || spawned == 0 {
				t.Fatalf("%d raw answers, %d to the chain, %d spawned: the matrix does not test what it should", answered, inline, spawned)
			}
			t.Logf("%d raw answers, %d to the chain, %d spawned", answered, inline, spawned)
		})
	}
}

// checkAnswer validates a signed answer of either denial mode.
func checkAnswer(v *validator, mode string, m *dns.Msg, k nsecKind, qname string) error {
	if mode == "nsec" {
		return v.checkNSEC(m, k, qname)
	}
	if len(m.Answer) > 0 {
		return v.validatePositive(m)
	}
	return v.validateDenial(m, qname, k.qtype, k.check == "nx" || k.name == "escaped nx")
}

// TestServerBatchedUDP runs a real server with its UDP queries read in batches: signed
// answers over UDP validate from the trust anchor; cached answers skip the chain;
// malformed and unusual messages get miekg/dns's treatment; a burst of queries in
// flight at once is answered query by query.
func TestServerBatchedUDP(t *testing.T) {
	s := startServer(t, t.TempDir(), 3, "udp-workers 1")
	ctx := context.Background()
	var hosts []string
	for _, d := range []string{"contoso.com", "fabrikam.co.uk", "northwind.net", "bücher.de"} {
		got, err := s.api.AddDomain(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		hosts = append(hosts, got.MailExchange)
	}
	_, shard, _ := strings.Cut(hosts[0], ".")

	before := udpfront.Totals()
	v := newValidator(t, "", "mx.example.", s.anchor(t), time.Now())
	v.ask = func(m *dns.Msg) (*dns.Msg, error) {
		r := s.exchange(t, m, "udp")
		if r.Truncated {
			r = s.exchange(t, m, "tcp")
		}
		return r, nil
	}
	for range 3 { // cold, then from the caches
		for _, h := range hosts {
			for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
				m, err := v.query(mixCase(h), qtype, true)
				if err != nil {
					t.Fatal(err)
				}
				if err := v.validatePositive(m); err != nil {
					t.Fatalf("%s: %v\n%v", h, err, m)
				}
			}
			m, err := v.query("_25._tcp."+h, dns.TypeTLSA, true)
			if err != nil {
				t.Fatal(err)
			}
			if err := v.validatePositive(m); err != nil {
				t.Fatalf("TLSA %s: %v\n%v", h, err, m)
			}
		}
		nx := "no-such-host." + shard
		m, err := v.query(nx, dns.TypeA, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.validateDenial(m, nx, dns.TypeA, true); err != nil {
			t.Fatalf("%s: %v\n%v", nx, err, m)
		}
	}
	after := udpfront.Totals()
	if after.Answered-before.Answered < 20 || after.Inline == before.Inline {
		t.Fatalf("batched UDP: %d answered from the cache, %d through the chain; want both", after.Answered-before.Answered, after.Inline-before.Inline)
	}

	conn, err := net.Dial("udp", s.udp)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	query := func(id uint16, name string, qtype uint16, edit func(*dns.Msg)) []byte {
		m := new(dns.Msg)
		m.SetQuestion(name, qtype)
		m.Id = id
		if edit != nil {
			edit(m)
		}
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	read := func() *dns.Msg {
		buf := make([]byte, 65535)
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		m := new(dns.Msg)
		if err := m.Unpack(buf[:n]); err != nil {
			t.Fatalf("reply does not unpack: %v", err)
		}
		return m
	}
	probe := func(id uint16) []byte { return query(id, hosts[0], dns.TypeA, nil) }

	big := query(7, hosts[0], dns.TypeA, func(m *dns.Msg) {
		m.SetEdns0(1232, false)
		m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_PADDING{Padding: make([]byte, 9000)}}
	})
	tests := []struct {
		name  string
		send  []byte
		rcode int // -1: no reply; the probe's answer comes first
	}{
		{name: "response ignored", send: query(1, hosts[0], dns.TypeA, func(m *dns.Msg) { m.Response = true }), rcode: -1},
		{name: "short header ignored", send: []byte{0, 2, 1, 0, 0}, rcode: -1},
		{name: "garbage formerr", send: []byte{0, 3, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, rcode: dns.RcodeFormatError},
		{name: "two questions formerr", send: query(4, hosts[0], dns.TypeA, func(m *dns.Msg) { m.Question = append(m.Question, m.Question[0]) }), rcode: dns.RcodeFormatError},
		{name: "edns version 1 badvers", send: query(5, hosts[0], dns.TypeA, func(m *dns.Msg) { m.SetEdns0(1232, false); m.IsEdns0().SetVersion(1) }), rcode: dns.RcodeBadVers},
		{name: "update notimp", send: query(6, "mx.example.", dns.TypeSOA, func(m *dns.Msg) { m.Opcode = dns.OpcodeUpdate }), rcode: dns.RcodeNotImplemented},
		{name: "longer than a read formerr", send: big, rcode: dns.RcodeFormatError},
		{name: "chaos class refused", send: query(8, hosts[0], dns.TypeA, func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS }), rcode: dns.RcodeRefused},
		{name: "not ours refused", send: query(9, "example.org.", dns.TypeA, nil), rcode: dns.RcodeRefused},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := conn.Write(tc.send); err != nil {
				t.Fatal(err)
			}
			id := binary.BigEndian.Uint16(tc.send)
			if tc.rcode < 0 {
				// With one worker, queries are answered in order: had the first
				// message been answered, its reply would come before the probe's.
				if _, err := conn.Write(probe(0xabcd)); err != nil {
					t.Fatal(err)
				}
				if m := read(); m.Id != 0xabcd {
					t.Fatalf("reply %d to a message that must be ignored:\n%v", m.Id, m)
				}
				return
			}
			m := read()
			if m.Id != id || !m.Response || m.Rcode != tc.rcode {
				t.Fatalf("reply id %d rcode %s, want id %d rcode %s\n%v", m.Id, dns.RcodeToString[m.Rcode], id, dns.RcodeToString[tc.rcode], m)
			}
		})
	}

	// A burst: every query in flight before the first answer is read (as many as the
	// client's default receive buffer holds answers).
	const burst = 60
	want := map[uint16]string{}
	for i := range burst {
		id := uint16(1000 + i)
		name := hosts[i%len(hosts)]
		if i%5 == 0 {
			name = fmt.Sprintf("nx%d.%s", i, shard)
		}
		want[id] = strings.ToLower(name)
		if _, err := conn.Write(query(id, mixCase(name), dns.TypeA, func(m *dns.Msg) { m.SetEdns0(1232, true) })); err != nil {
			t.Fatal(err)
		}
	}
	for range burst {
		m := read()
		name, ok := want[m.Id]
		if !ok {
			t.Fatalf("unexpected or repeated reply %d", m.Id)
		}
		delete(want, m.Id)
		if len(m.Question) != 1 || strings.ToLower(m.Question[0].Name) != name || m.Rcode != dns.RcodeSuccess {
			t.Fatalf("reply %d to %s:\n%v", m.Id, name, m)
		}
	}
}

// FuzzRawAnswer: whatever the bytes, the raw path does not panic, and what it answers
// is what ServeDNS answers to the query miekg/dns reads from them.
func FuzzRawAnswer(f *testing.F) {
	fx := newMixFixture(f, 1, 3, 1)
	h := fx.handler(1 << 20)
	raw := &rawAnswerer{m: h, parent: wireName("mx.example."), inline: true, raw: true}
	for _, name := range []string{fx.hosts[0], "nx." + fx.hosts[0], "mx.example.", "example.org."} {
		q := new(dns.Msg)
		q.SetQuestion(name, dns.TypeA)
		q.SetEdns0(1232, true)
		b, _ := q.Pack()
		f.Add(b)
		serve(f, h, q, "udp") // cached
	}
	f.Fuzz(func(t *testing.T, query []byte) {
		got, verdict := raw.Answer(nil, query)
		if verdict != udpfront.Answered {
			return
		}
		q := new(dns.Msg)
		if err := q.Unpack(query); err != nil {
			t.Fatalf("answered %x, which miekg/dns does not read: %v", query, err)
		}
		if want := serve(t, h, q, "udp"); !bytes.Equal(got, want) {
			t.Fatalf("raw path\n%v\nServeDNS\n%v", unpack(t, got), unpack(t, want))
		}
	})
}

// TestServerBatchedUDPReload: batched serving survives a reload; turned off by one, the
// server's own socket answers everything (the steering program then names no socket of
// ours); turned on again, it takes over again.
func TestServerBatchedUDPReload(t *testing.T) {
	dir := t.TempDir()
	text := corefile(dir, 3, "udp-workers 2")
	s := startCorefile(t, dir, text)
	d, err := s.api.AddDomain(context.Background(), "contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	ask := func(t *testing.T) {
		t.Helper()
		for range 20 {
			m := new(dns.Msg)
			m.SetQuestion(mixCase(d.MailExchange), dns.TypeA)
			m.SetEdns0(1232, true)
			if r := s.exchange(t, m, "udp"); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 3 { // 2 A + RRSIG
				t.Fatalf("answer:\n%v", r)
			}
		}
	}
	batched := func(t *testing.T, want bool) {
		t.Helper()
		if want {
			// The new server attaches when it starts serving UDP, which a reload
			// does in the background: until then CoreDNS's socket answers.
			deadline := time.Now().Add(10 * time.Second)
			for n := udpfront.Totals().Datagrams; udpfront.Totals().Datagrams == n; {
				if time.Now().After(deadline) {
					t.Fatal("no query read in batches within 10 s of the reload")
				}
				m := new(dns.Msg)
				m.SetQuestion(d.MailExchange, dns.TypeA)
				s.exchange(t, m, "udp")
			}
		}
		before := udpfront.Totals().Datagrams
		ask(t)
		if got := udpfront.Totals().Datagrams - before; (got >= 20) != want || !want && got != 0 {
			t.Fatalf("%d of 20 queries read in batches; want batched: %v", got, want)
		}
	}
	reload := func(t *testing.T, from, to string) {
		t.Helper()
		text = strings.Replace(text, from, to, 1)
		ni, err := s.inst.Restart(caddyInput(text))
		if err != nil {
			t.Fatalf("reload: %v", err)
		}
		s.inst = ni
	}
	batched(t, true)
	reload(t, "udp-workers 2", "udp-workers 2 ")
	batched(t, true)
	reload(t, "udp-workers 2 ", "udp-workers 0")
	batched(t, false)
	reload(t, "udp-workers 0", "udp-workers 1")
	batched(t, true)
}

// TestServerBatchedUDPOtherBlocks: with another server block on the address for a zone
// below the parent, its names are CoreDNS's to route (spawned, not answered by
// mxsign's raw path), and mxsign's own names are still answered and validate.
func TestServerBatchedUDPOtherBlocks(t *testing.T) {
	dir := t.TempDir()
	text := corefile(dir, 3, "udp-workers 1")
	port := strings.TrimPrefix(strings.SplitN(text, " {", 2)[0], "mx.example.:")
	text += fmt.Sprintf("sub.mx.example.:%s {\n    bind 127.0.0.1\n    whoami\n}\n", port)
	s := startCorefile(t, dir, text)
	d, err := s.api.AddDomain(context.Background(), "contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	before := udpfront.Totals()
	for range 3 {
		m := new(dns.Msg)
		m.SetQuestion("x.sub.mx.example.", dns.TypeA)
		r := s.exchange(t, m, "udp")
		if r.Rcode != dns.RcodeSuccess || len(r.Extra) == 0 { // whoami: the client's address in the additional section
			t.Fatalf("a name of the other block, answered by:\n%v", r)
		}
		v := newValidator(t, "", "mx.example.", s.anchor(t), time.Now())
		v.ask = func(m *dns.Msg) (*dns.Msg, error) { return s.exchange(t, m, "udp"), nil }
		a, err := v.query(d.MailExchange, dns.TypeA, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.validatePositive(a); err != nil {
			t.Fatalf("%v\n%v", err, a)
		}
	}
	after := udpfront.Totals()
	if after.Datagrams == before.Datagrams || after.Answered != before.Answered || after.Spawned == before.Spawned {
		t.Fatalf("batched: %d read, %d raw answers (want none), %d spawned", after.Datagrams-before.Datagrams, after.Answered-before.Answered, after.Spawned-before.Spawned)
	}
}
