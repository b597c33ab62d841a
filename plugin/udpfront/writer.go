package udpfront

import (
	"errors"
	"net"

	"github.com/miekg/dns"
)

// writer is the dns.ResponseWriter of one query served by the server: an inline
// query's answers join the batch, a spawned query's are written at once.
type writer struct {
	local, remote net.Addr
	conn          *net.UDPConn // spawned: write here at once
	batch         *batch       // inline: append to the batch

	tsigSecrets    map[string]string
	tsigStatus     error
	tsigRequestMAC string
	tsigTimersOnly bool
}

var errHijack = errors.New("udpfront: UDP writers cannot be hijacked")

// LocalAddr implements dns.ResponseWriter.
func (w *writer) LocalAddr() net.Addr { return w.local }

// RemoteAddr implements dns.ResponseWriter.
func (w *writer) RemoteAddr() net.Addr { return w.remote }

// Network implements the optional network query of dns.ResponseWriter users.
func (w *writer) Network() string { return "udp" }

// WriteMsg implements dns.ResponseWriter: it packs m (signing it when the query was
// signed with TSIG, as miekg/dns does) and writes it.
func (w *writer) WriteMsg(m *dns.Msg) error {
	if t := m.IsTsig(); t != nil && w.tsigSecrets != nil {
		secret, ok := w.tsigSecrets[t.Hdr.Name]
		if !ok {
			return dns.ErrSecret
		}
		b, mac, err := dns.TsigGenerate(m, secret, w.tsigRequestMAC, w.tsigTimersOnly)
		if err != nil {
			return err
		}
		w.tsigRequestMAC = mac
		_, err = w.Write(b)
		return err
	}
	if w.batch != nil {
		return w.batch.appendMsg(m, w.remote)
	}
	b, err := m.Pack()
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// Write implements dns.ResponseWriter.
func (w *writer) Write(b []byte) (int, error) {
	if w.batch != nil {
		w.batch.appendBytes(b, w.remote)
		return len(b), nil
	}
	return w.conn.WriteTo(b, w.remote)
}

// Close implements dns.ResponseWriter.
func (w *writer) Close() error { return nil }

// TsigStatus implements dns.ResponseWriter.
func (w *writer) TsigStatus() error { return w.tsigStatus }

// TsigTimersOnly implements dns.ResponseWriter.
func (w *writer) TsigTimersOnly(b bool) { w.tsigTimersOnly = b }

// Hijack implements dns.ResponseWriter; there is no connection to hand over.
func (w *writer) Hijack() {}

// verifyTsig checks a signed query as miekg/dns does before serving it, and has the
// writer sign the answers of a server that has TSIG secrets.
func (w *writer) verifyTsig(req *dns.Msg, query []byte, secrets map[string]string) {
	w.tsigSecrets = secrets
	t := req.IsTsig()
	if t == nil {
		return
	}
	w.tsigTimersOnly = false
	w.tsigRequestMAC = t.MAC
	secret, ok := secrets[t.Hdr.Name]
	if !ok {
		w.tsigStatus = dns.ErrSecret
		return
	}
	w.tsigStatus = dns.TsigVerify(query, secret, "", false)
}
