package udpfront

import (
	"testing"

	"github.com/miekg/dns"
)

// TestRejectionMatchesMiekg: what the front answers to a message it will not serve is
// what miekg/dns's server answers (Server.serveDNS): a FORMERR (opcode QUERY, as
// SetRcodeFormatError makes it) or a NOTIMP keeping the opcode, with the query's other
// header bits and no records.
func TestRejectionMatchesMiekg(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*dns.Msg)
		action  dns.MsgAcceptAction
		opcodes map[int]struct{}
		rcode   int
		opcode  int
	}{
		{name: "two questions", edit: func(m *dns.Msg) { m.Question = append(m.Question, m.Question[0]) }, action: dns.MsgReject, rcode: dns.RcodeFormatError},
		{name: "update", edit: func(m *dns.Msg) { m.Opcode = dns.OpcodeUpdate }, action: dns.MsgRejectNotImplemented, rcode: dns.RcodeNotImplemented, opcode: dns.OpcodeUpdate},
		{name: "update allowed", edit: func(m *dns.Msg) { m.Opcode = dns.OpcodeUpdate }, action: dns.MsgAccept, opcodes: map[int]struct{}{dns.OpcodeUpdate: {}}},
		{name: "update allowed, two questions", edit: func(m *dns.Msg) {
			m.Opcode = dns.OpcodeUpdate
			m.Question = append(m.Question, m.Question[0])
		}, action: dns.MsgReject, opcodes: map[int]struct{}{dns.OpcodeUpdate: {}}, rcode: dns.RcodeFormatError}, // SetRcodeFormatError: opcode QUERY
		{name: "response", edit: func(m *dns.Msg) { m.Response = true }, action: dns.MsgIgnore},
		{name: "query", action: dns.MsgAccept},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := new(dns.Msg)
			q.SetQuestion("a.example.", dns.TypeA)
			q.Id, q.CheckingDisabled, q.AuthenticatedData = 4242, true, true
			if tc.edit != nil {
				tc.edit(q)
			}
			b, err := q.Pack()
			if err != nil {
				t.Fatal(err)
			}
			f := &Front{}
			if tc.opcodes != nil {
				f.opcodes.Store(&tc.opcodes)
			}
			dh, ok := header(b)
			if !ok {
				t.Fatal("no header")
			}
			action := f.accept(dh)
			if action != tc.action {
				t.Fatalf("action %v, want %v", action, tc.action)
			}
			if action != dns.MsgReject && action != dns.MsgRejectNotImplemented {
				return
			}
			r := rejection(new(dns.Msg), dh, action)
			if r.Id != q.Id || !r.Response || r.Rcode != tc.rcode || r.Opcode != tc.opcode || !r.CheckingDisabled || r.RecursionDesired != q.RecursionDesired {
				t.Fatalf("rejection %+v for %+v", r.MsgHdr, q.MsgHdr)
			}
			if len(r.Answer)+len(r.Ns)+len(r.Extra) != 0 {
				t.Fatalf("records in a rejection: %v", r)
			}
		})
	}
}

// TestBatch: answers keep their order, addresses and bytes; a query answered more than
// once grows the batch; reset keeps the buffers.
func TestBatch(t *testing.T) {
	b := newBatch()
	m := new(dns.Msg)
	m.SetQuestion("a.example.", dns.TypeA)
	for i := range batchSize + 3 {
		m.Id = uint16(i)
		if i%2 == 0 {
			if err := b.appendMsg(m, nil); err != nil {
				t.Fatal(err)
			}
		} else {
			w, _ := m.Pack()
			b.appendBytes(w, nil)
		}
	}
	if b.n != batchSize+3 {
		t.Fatalf("%d answers, want %d", b.n, batchSize+3)
	}
	for i := range b.n {
		var got dns.Msg
		if err := got.Unpack(b.msgs[i].Buffers[0]); err != nil || got.Id != uint16(i) {
			t.Fatalf("answer %d: id %d, %v", i, got.Id, err)
		}
	}
	first := &b.msgs[0].Buffers[0][0]
	b.reset()
	if b.n != 0 || &b.msgs[0].Buffers[0][:1][0] != first {
		t.Fatal("reset lost the buffers")
	}
}
