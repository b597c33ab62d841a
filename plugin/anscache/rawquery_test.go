package anscache

import (
	"bytes"
	"testing"

	"github.com/miekg/dns"
)

// parseRef is ParseQuery's answer worked out from miekg/dns's full parse: ok is false
// for what ParseQuery must leave to the full parser.
func parseRef(t testing.TB, msg []byte) (Header, []byte, bool) {
	m := new(dns.Msg)
	if err := m.Unpack(msg); err != nil {
		return Header{}, nil, false
	}
	if m.Response || m.Opcode != dns.OpcodeQuery || len(m.Question) != 1 || len(m.Answer) != 0 || len(m.Ns) != 0 || len(m.Extra) > 1 {
		return Header{}, nil, false
	}
	h := Header{ID: m.Id, RD: m.RecursionDesired, CD: m.CheckingDisabled}
	if len(m.Extra) == 1 {
		opt, isOpt := m.Extra[0].(*dns.OPT)
		if !isOpt || opt.Hdr.Name != "." || opt.Version() != 0 {
			return Header{}, nil, false
		}
		h.UDPSize = opt.UDPSize()
		h.Flags = EDNS
		if opt.Do() {
			h.Flags |= DO
		}
		if opt.Hdr.Ttl&flagCO != 0 {
			h.Flags |= CO
		}
	}
	var q Query
	if !q.Set(m.Question[0].Name, m.Question[0].Qtype, m.Question[0].Qclass, h.Flags) {
		return Header{}, nil, false
	}
	return h, append([]byte(nil), q.Key()...), true
}

func packQuery(t testing.TB, name string, qtype uint16, edit func(*dns.Msg)) []byte {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.Id = 0xbeef
	if edit != nil {
		edit(m)
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseQuery(t *testing.T) {
	withOpt := func(size uint16, do bool, ttl uint32, opts ...dns.EDNS0) func(*dns.Msg) {
		return func(m *dns.Msg) {
			m.SetEdns0(size, do)
			o := m.IsEdns0()
			o.Hdr.Ttl |= ttl
			o.Option = opts
		}
	}
	cookie := &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"}
	tests := []struct {
		name string
		msg  []byte
		ok   bool
		want Header
	}{
		{"plain", packQuery(t, "Host.Example.", dns.TypeA, nil), true, Header{ID: 0xbeef, RD: true}},
		{"root", packQuery(t, ".", dns.TypeNS, nil), true, Header{ID: 0xbeef, RD: true}},
		{"edns do", packQuery(t, "a.mx.example.", dns.TypeTLSA, withOpt(1232, true, 0)), true, Header{ID: 0xbeef, RD: true, Flags: EDNS | DO, UDPSize: 1232}},
		{"edns co", packQuery(t, "a.mx.example.", dns.TypeA, withOpt(4096, true, flagCO)), true, Header{ID: 0xbeef, RD: true, Flags: EDNS | DO | CO, UDPSize: 4096}},
		{"cookie skipped", packQuery(t, "a.mx.example.", dns.TypeA, withOpt(512, false, 0, cookie)), true, Header{ID: 0xbeef, RD: true, Flags: EDNS, UDPSize: 512}},
		{"cd no rd", packQuery(t, "a.mx.example.", dns.TypeA, func(m *dns.Msg) { m.RecursionDesired, m.CheckingDisabled = false, true }), true, Header{ID: 0xbeef, CD: true}},
		{"escaped label", packQuery(t, `a\.b\000.mx.example.`, dns.TypeA, nil), true, Header{ID: 0xbeef, RD: true}},
		{"edns version 1", packQuery(t, "a.mx.example.", dns.TypeA, withOpt(1232, true, 1<<16)), false, Header{}},
		{"response", packQuery(t, "a.mx.example.", dns.TypeA, func(m *dns.Msg) { m.Response = true }), false, Header{}},
		{"notify", packQuery(t, "a.mx.example.", dns.TypeSOA, func(m *dns.Msg) { m.Opcode = dns.OpcodeNotify }), false, Header{}},
		{"two questions", packQuery(t, "a.mx.example.", dns.TypeA, func(m *dns.Msg) { m.Question = append(m.Question, m.Question[0]) }), false, Header{}},
		{"an answer", packQuery(t, "a.mx.example.", dns.TypeA, func(m *dns.Msg) {
			m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "a.", Rrtype: dns.TypeA, Class: dns.ClassINET}}}
		}), false, Header{}},
		{"extra not opt", packQuery(t, "a.mx.example.", dns.TypeA, func(m *dns.Msg) {
			m.Extra = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "a.", Rrtype: dns.TypeA, Class: dns.ClassINET}}}
		}), false, Header{}},
		{"header only", packQuery(t, "a.", dns.TypeA, nil)[:12], false, Header{}},
		{"cut question", packQuery(t, "abc.example.", dns.TypeA, nil)[:20], false, Header{}},
		{"trailing byte", append(packQuery(t, "a.example.", dns.TypeA, nil), 0), false, Header{}},
		{"cut opt", func() []byte { b := packQuery(t, "a.", dns.TypeA, withOpt(1232, true, 0, cookie)); return b[:len(b)-2] }(), false, Header{}},
		{"pointer", []byte{0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1}, false, Header{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var q Query
			h, ok := ParseQuery(tc.msg, &q)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			if h != tc.want {
				t.Errorf("header = %+v, want %+v", h, tc.want)
			}
			ref, key, refOK := parseRef(t, tc.msg)
			if !refOK || ref != h || !bytes.Equal(key, q.Key()) {
				t.Errorf("miekg/dns reads %+v key %x (ok %v); ParseQuery %+v key %x", ref, key, refOK, h, q.Key())
			}
			if !bytes.Equal(q.Name(), tc.msg[12:12+len(q.Name())]) {
				t.Errorf("name %x is not the query's spelling", q.Name())
			}
		})
	}
}

func TestParseQueryAllocs(t *testing.T) {
	msg := packQuery(t, "Host.Example.", dns.TypeA, func(m *dns.Msg) { m.SetEdns0(1232, true) })
	var q Query
	if n := testing.AllocsPerRun(100, func() { ParseQuery(msg, &q) }); n != 0 {
		t.Errorf("ParseQuery allocates %v times", n)
	}
}

// FuzzParseQuery: whatever ParseQuery accepts, miekg/dns reads the same way.
func FuzzParseQuery(f *testing.F) {
	f.Add(packQuery(f, "Host.Example.", dns.TypeA, nil))
	f.Add(packQuery(f, "a.mx.example.", dns.TypeTLSA, func(m *dns.Msg) { m.SetEdns0(1232, true) }))
	f.Add([]byte{0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 41, 4, 0, 0, 0, 0x80, 0, 0, 4, 0, 10, 0, 0})
	f.Fuzz(func(t *testing.T, msg []byte) {
		var q Query
		h, ok := ParseQuery(msg, &q)
		if !ok {
			return
		}
		ref, key, refOK := parseRef(t, msg)
		if !refOK {
			t.Fatalf("ParseQuery accepts %x, miekg/dns does not", msg)
		}
		if ref != h || !bytes.Equal(key, q.Key()) {
			t.Fatalf("%x: miekg/dns reads %+v key %x; ParseQuery %+v key %x", msg, ref, key, h, q.Key())
		}
	})
}
