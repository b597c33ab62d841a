package mxsign

import (
	"context"

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
	udp := true
	if w.RemoteAddr() != nil && w.RemoteAddr().Network() == "tcp" {
		udp = false
	}
	resp, ok := m.r.respond(r, udp)
	if !ok {
		if m.Next != nil {
			return plugin.NextOrFailure(m.Name(), m.Next, ctx, w, r)
		}
		// Not ours and nobody after us: refuse rather than SERVFAIL.
		resp = new(dns.Msg)
		resp.SetRcode(r, dns.RcodeRefused)
	}
	opt := r.IsEdns0()
	countAnswer(resp, opt != nil && opt.Do())
	if err := w.WriteMsg(resp); err != nil {
		return dns.RcodeServerFailure, err
	}
	return dns.RcodeSuccess, nil
}
