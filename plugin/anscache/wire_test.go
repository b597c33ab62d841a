package anscache

import (
	"bytes"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestQuerySet(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{name: "contoso-com.1j2b.mx.example.", ok: true},
		{name: "CoNtOsO-CoM.1J2B.Mx.ExAmPlE.", ok: true},
		{name: ".", ok: true},
		{name: `a\.b.mx.example.`, ok: true},             // an escaped dot inside a label
		{name: `\065bc.mx.example.`, ok: true},           // an escaped upper-case letter
		{name: `x\000y.mx.example.`, ok: true},           // an octet that is not a letter
		{name: "mx.example", ok: false},                  // not fully qualified
		{name: "a..mx.example.", ok: false},              // an empty label
		{name: "", ok: false},                            //
		{name: strings.Repeat("a", 64) + ".", ok: false}, // a label over 63 octets
		{name: strings.Repeat("abcdefg.", 32) + ".", ok: false},
		{name: strings.Repeat("abcdefgh.", 28), ok: true}, // 253 characters, 253 octets on the wire with the root
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var q Query
			ok := q.Set(tc.name, dns.TypeTLSA, dns.ClassINET, EDNS|DO)
			if ok != tc.ok {
				t.Fatalf("Set = %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			want := make([]byte, 256)
			n, err := dns.PackDomainName(tc.name, want, 0, nil, false)
			if err != nil {
				t.Fatalf("miekg/dns does not pack it: %v", err)
			}
			if !bytes.Equal(q.Name(), want[:n]) {
				t.Fatalf("wire name %q, want %q", q.Name(), want[:n])
			}
			key := q.Key()
			if key[0] != byte(EDNS|DO) || key[1] != 0 || key[2] != byte(dns.TypeTLSA) || key[4] != 1 {
				t.Fatalf("key header % x", key[:5])
			}
			if !bytes.Equal(key[5:], asciiLower(want[:n])) {
				t.Fatalf("key name %q, want the lower-cased wire name", key[5:])
			}
		})
	}
}

// TestQueryKeyIgnoresCaseOnly: spellings of one question share a key; other types,
// classes and flags do not.
func TestQueryKeyIgnoresCaseOnly(t *testing.T) {
	key := func(name string, qtype, qclass uint16, f Flags) string {
		var q Query
		if !q.Set(name, qtype, qclass, f) {
			t.Fatalf("Set(%q)", name)
		}
		return string(q.Key())
	}
	base := key("host.mx.example.", dns.TypeA, dns.ClassINET, EDNS|DO)
	if key("HoSt.Mx.ExAmPlE.", dns.TypeA, dns.ClassINET, EDNS|DO) != base {
		t.Error("a mixed-case spelling has another key")
	}
	for name, k := range map[string]string{
		"type":   key("host.mx.example.", dns.TypeAAAA, dns.ClassINET, EDNS|DO),
		"class":  key("host.mx.example.", dns.TypeA, dns.ClassCHAOS, EDNS|DO),
		"no DO":  key("host.mx.example.", dns.TypeA, dns.ClassINET, EDNS),
		"CO":     key("host.mx.example.", dns.TypeA, dns.ClassINET, EDNS|DO|CO),
		"name":   key("host2.mx.example.", dns.TypeA, dns.ClassINET, EDNS|DO),
		"suffix": key("host.mx.example.org.", dns.TypeA, dns.ClassINET, EDNS|DO),
	} {
		if k == base {
			t.Errorf("%s: same key as the base question", name)
		}
	}
}

func TestPatch(t *testing.T) {
	resp := new(dns.Msg)
	resp.SetQuestion("host.mx.example.", dns.TypeA)
	resp.Response, resp.Authoritative, resp.Compress = true, true, true
	a, _ := dns.NewRR("host.mx.example. 300 IN A 192.0.2.25")
	resp.Answer = append(resp.Answer, a)
	wire, err := resp.Pack()
	if err != nil {
		t.Fatal(err)
	}
	var q Query
	q.Set("HoSt.mX.eXaMpLe.", dns.TypeA, dns.ClassINET, 0)
	for _, flags := range []struct{ rd, cd bool }{{true, true}, {false, false}, {true, false}} {
		w := bytes.Clone(wire)
		if !Patch(w, 0xbeef, flags.rd, flags.cd, &q) {
			t.Fatal("Patch refused a matching answer")
		}
		m := new(dns.Msg)
		if err := m.Unpack(w); err != nil {
			t.Fatal(err)
		}
		if m.Id != 0xbeef || m.RecursionDesired != flags.rd || m.CheckingDisabled != flags.cd || !m.Authoritative || !m.Response {
			t.Errorf("header %+v, want id beef rd=%v cd=%v", m.MsgHdr, flags.rd, flags.cd)
		}
		if m.Question[0].Name != "HoSt.mX.eXaMpLe." || m.Answer[0].Header().Name != "HoSt.mX.eXaMpLe." {
			t.Errorf("question %q, owner %q: want the query's spelling", m.Question[0].Name, m.Answer[0].Header().Name)
		}
	}
	var other Query
	other.Set("hosts.mx.example.", dns.TypeA, dns.ClassINET, 0)
	w := bytes.Clone(wire)
	if Patch(w, 1, false, false, &other) || !bytes.Equal(w, wire) {
		t.Error("Patch wrote a name with other labels over the question")
	}
	if Patch(wire[:20], 1, false, false, &q) {
		t.Error("Patch accepted a message shorter than its question")
	}
}

func TestRcode(t *testing.T) {
	m := new(dns.Msg)
	m.SetQuestion("x.mx.example.", dns.TypeA)
	m.Rcode = dns.RcodeNameError
	wire, _ := m.Pack()
	if rc, n := Rcode(wire); rc != dns.RcodeNameError || n != 0 {
		t.Errorf("Rcode = %d, %d", rc, n)
	}
	if rc, _ := Rcode(wire[:5]); rc != -1 {
		t.Errorf("Rcode of a short message = %d", rc)
	}
}

// FuzzQuerySet: any name either packs exactly as miekg/dns packs it, or is refused.
func FuzzQuerySet(f *testing.F) {
	for _, s := range []string{"host.mx.example.", "A.b.", ".", `a\.b.`, `\255.`, "a..b.", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		var q Query
		if !q.Set(name, dns.TypeA, dns.ClassINET, 0) {
			return
		}
		want := make([]byte, 256)
		n, err := dns.PackDomainName(name, want, 0, nil, false)
		if err != nil {
			t.Fatalf("Set accepted %q, which miekg/dns refuses: %v", name, err)
		}
		if !bytes.Equal(q.Name(), want[:n]) {
			t.Fatalf("%q: wire %q, want %q", name, q.Name(), want[:n])
		}
		if k := q.Key()[5:]; !bytes.Equal(k, asciiLower(want[:n])) {
			t.Fatalf("%q: key name %q, want %q lower-cased", name, k, want[:n])
		}
	})
}

// asciiLower folds A-Z only (RFC 4343), whatever the other octets are.
func asciiLower(b []byte) []byte {
	out := bytes.Clone(b)
	for i, c := range out {
		if 'A' <= c && c <= 'Z' {
			out[i] = c + 'a' - 'A'
		}
	}
	return out
}

func BenchmarkQuerySet(b *testing.B) {
	b.ReportAllocs()
	var q Query
	for b.Loop() {
		if !q.Set("CoNtOsO-CoM.1J2B.mX.eXaMpLe.", dns.TypeA, dns.ClassINET, EDNS|DO) {
			b.Fatal("Set")
		}
	}
}
