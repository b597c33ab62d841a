package mxsign

import (
	"context"
	"fmt"

	"github.com/coredns/coredns/plugin"
	"github.com/miekg/dns"
)

// Mxsign is the plugin handler: authoritative, online-signing answers for the parent zone
// and every shard the store holds.
type Mxsign struct {
	Next plugin.Handler
	r    *responder
}

// Name implements plugin.Handler.
func (m *Mxsign) Name() string { return "mxsign" }

// ServeDNS implements plugin.Handler.
func (m *Mxsign) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	// Only plain UDP has a size limit; TCP, DoT and DoH carry any answer.
	udp := w.RemoteAddr() != nil && w.RemoteAddr().Network() == "udp"
	resp, ok := m.r.respond(r, udp)
	if !ok {
		if m.Next != nil {
			return plugin.NextOrFailure(m.Name(), m.Next, ctx, w, r)
		}
		// Not ours and nobody after us: refuse rather than SERVFAIL.
		resp = new(dns.Msg)
		resp.SetRcode(r, dns.RcodeRefused)
		if opt := r.IsEdns0(); opt != nil {
			resp.SetEdns0(m.r.bufSize, opt.Do())
		}
	}
	opt := r.IsEdns0()
	countAnswer(resp, opt != nil && opt.Do())
	if err := w.WriteMsg(resp); err != nil {
		// The answer was made; only delivering it failed. Returning an error rcode
		// would make CoreDNS try to write a second reply.
		return dns.RcodeSuccess, fmt.Errorf("mxsign: writing the answer: %w", err)
	}
	return dns.RcodeSuccess, nil
}
