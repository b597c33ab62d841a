// Package udpfront reads a CoreDNS server's UDP queries in batches and writes its
// answers in batches.
//
// miekg/dns, under CoreDNS, reads one datagram per system call, starts a goroutine
// for it, unpacks it into a dns.Msg and writes the answer with a system call of its
// own. For an authoritative server whose answers are mostly packed bytes from a cache,
// that is most of the cost of a query. A Front binds sockets of its own to the
// server's address beside the server's socket (SO_REUSEPORT), steers every datagram
// of the address to them with a classic BPF program (SO_ATTACH_REUSEPORT_CBPF), and
// serves each socket from one goroutine: recvmmsg, each query offered to a Fast
// answerer (raw bytes in, raw bytes out), the others handed to the CoreDNS server's
// ServeDNS as miekg/dns would hand them, then sendmmsg of the batch's answers.
//
// Closing the Front removes its sockets from the group; the program's choice then
// names no socket and the kernel falls back to its hash, which finds the server's own
// socket: nothing is left unserved.
package udpfront

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coredns/coredns/core/dnsserver"
	"github.com/miekg/dns"
)

// Verdict is what a Fast answerer did with a query.
type Verdict uint8

const (
	// Spawn hands the query to the server in a goroutine of its own, as miekg/dns
	// does: for queries whose plugins may wait (forwarding, say).
	Spawn Verdict = iota
	// Inline hands the query to the server on the reading goroutine, its answer
	// written with the batch: for queries whose plugins never wait.
	Inline
	// Answered means the answer is in the returned bytes.
	Answered
)

// Fast answers queries from their bytes before the server sees them.
type Fast interface {
	// Answer appends the answer to query to dst[:0] and returns it with Answered, or
	// says how the server should serve the query. It must not block or keep query.
	Answer(dst, query []byte) ([]byte, Verdict)
}

// Batching.
const (
	batchSize = 64   // datagrams per recvmmsg and sendmmsg
	readSize  = 8192 // bytes per datagram read; a longer query gets FORMERR
)

// ErrUnsupported is returned where batched serving is not available.
var ErrUnsupported = errors.New("udpfront: batched UDP serving needs Linux")

// Front serves the UDP queries of one address.
type Front struct {
	addr    string
	workers int

	mu       sync.Mutex
	refs     int
	conns    []*net.UDPConn
	opened   bool // opened (or failed to)
	openErr  error
	attached *Reservation // whose server the sockets serve

	server   atomic.Pointer[dnsserver.Server]
	fast     atomic.Pointer[fastBox]
	opcodes  atomic.Pointer[map[int]struct{}]
	wg       sync.WaitGroup // the reading goroutines
	inflight sync.WaitGroup // spawned queries
}

// Reservation is one CoreDNS instance's hold on a Front.
type Reservation struct {
	f        *Front
	released bool
}

type fastBox struct{ f Fast }

// graceTimeout is how long closing waits for spawned queries, as CoreDNS's server does.
const graceTimeout = 5 * time.Second

// Counts are the counters of every Front of the process, since it started.
type Counts struct {
	Datagrams uint64 // read
	Answered  uint64 // by the Fast answerer
	Inline    uint64 // served by the server on the reading goroutine
	Spawned   uint64 // served by the server in a goroutine of their own
	Batches   uint64 // reads that returned datagrams
	WriteErrs uint64 // answers the kernel refused
}

// totals are the Counts, process-wide like the metrics they feed.
var totals struct {
	datagrams, answered, inline, spawned, batches, writeErrs atomic.Uint64
}

// Totals returns the counters of every Front so far.
func Totals() Counts {
	return Counts{
		Datagrams: totals.datagrams.Load(), Answered: totals.answered.Load(), Inline: totals.inline.Load(),
		Spawned: totals.spawned.Load(), Batches: totals.batches.Load(), WriteErrs: totals.writeErrs.Load(),
	}
}

// registry holds the open Fronts by address: CoreDNS reloads call setup again, and
// the sockets must outlive the instance that opened them.
var registry = struct {
	sync.Mutex
	m map[string]*Front
}{m: make(map[string]*Front)}

// Reserve takes a reference to the Front of addr (host:port), which Attach opens: a
// reload's new instance reserves before the old one releases, so the sockets stay
// open across it. workers is the number of sockets to open, each with its reading
// goroutine; 0 is GOMAXPROCS.
func Reserve(addr string, workers int) *Reservation {
	registry.Lock()
	defer registry.Unlock()
	f, ok := registry.m[addr]
	if !ok {
		if workers <= 0 {
			workers = runtime.GOMAXPROCS(0)
		}
		f = &Front{addr: addr, workers: workers}
		registry.m[addr] = f
	}
	f.mu.Lock()
	f.refs++
	f.mu.Unlock()
	return &Reservation{f: f}
}

// Front returns the reserved Front.
func (r *Reservation) Front() *Front { return r.f }

// Release drops the reservation; the last one closes the sockets.
func (r *Reservation) Release() error {
	f := r.f
	registry.Lock()
	f.mu.Lock()
	if r.released {
		f.mu.Unlock()
		registry.Unlock()
		return nil
	}
	r.released = true
	f.refs--
	var conns []*net.UDPConn
	if f.refs == 0 {
		delete(registry.m, f.addr)
		conns, f.conns = f.conns, nil
		f.opened, f.openErr, f.attached = false, nil, nil
	}
	f.mu.Unlock()
	registry.Unlock()
	return f.close(conns)
}

// Decline says that r's server will not be served by the Front (it decided against
// batching, or another plugin's writer decorator won): sockets serving an older
// instance's server are closed, so that CoreDNS's socket serves the address, and a
// later Attach opens them again.
func (r *Reservation) Decline() error {
	f := r.f
	f.mu.Lock()
	var conns []*net.UDPConn
	if f.attached != r {
		conns, f.conns = f.conns, nil
		f.opened, f.openErr, f.attached = false, nil, nil
	}
	f.mu.Unlock()
	return f.close(conns)
}

// close closes conns and waits for their goroutines, and for spawned queries up to
// graceTimeout.
func (f *Front) close(conns []*net.UDPConn) error {
	if len(conns) == 0 {
		return nil
	}
	var errs []error
	for _, c := range conns {
		if err := c.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	f.wg.Wait()
	done := make(chan struct{})
	go func() {
		f.inflight.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(graceTimeout):
		errs = append(errs, fmt.Errorf("udpfront: %s: queries still being served after %v", f.addr, graceTimeout))
	}
	return errors.Join(errs...)
}

// Attach makes s the server of the Front's queries and fast its answerer, and opens the
// sockets if they are not open. s must be serving the address on one socket of its own,
// with SO_REUSEPORT (CoreDNS's default), already bound: Attach is called from the
// server's ServePacket. opcodes are the opcodes besides QUERY and NOTIFY the server's
// plugins accept (CoreDNS's Server.acceptMessage). An error means the server's own
// socket goes on serving.
func (r *Reservation) Attach(s *dnsserver.Server, fast Fast, opcodes map[int]struct{}) error {
	f := r.f
	f.server.Store(s)
	f.fast.Store(&fastBox{fast})
	f.opcodes.Store(&opcodes)
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.released {
		return errors.New("udpfront: attached after release")
	}
	f.attached = r
	if f.opened {
		return f.openErr
	}
	f.opened = true
	conns, err := listen(f.addr, f.workers)
	if err != nil {
		f.openErr = fmt.Errorf("udpfront: %s: %w", f.addr, err)
		return f.openErr
	}
	f.conns = conns
	for _, c := range conns {
		f.wg.Add(1)
		go f.serve(c)
	}
	return nil
}

// Workers returns the number of sockets the Front serves, 0 if it is not open.
func (f *Front) Workers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.conns)
}

// serveMsg hands one query to the server, as miekg/dns's Server.serveDNS does.
func (f *Front) serveMsg(s *dnsserver.Server, w *writer, query []byte) {
	dh, ok := header(query)
	if !ok {
		return // no header: let the client hang; any reply could amplify
	}
	action := f.accept(dh)
	req := new(dns.Msg)
	switch action {
	case dns.MsgAccept:
		if err := req.Unpack(query); err == nil {
			break
		}
		// As miekg/dns: the reply keeps what was read (header, question).
		w.WriteMsg(rejection(req, dh, dns.MsgReject))
		return
	case dns.MsgReject, dns.MsgRejectNotImplemented:
		w.WriteMsg(rejection(req, dh, action))
		return
	case dns.MsgIgnore:
		return
	}
	if s.TsigSecret != nil { // CoreDNS always has a map: miekg/dns then checks every TSIG
		w.verifyTsig(req, query, s.TsigSecret)
	}
	ctx := context.WithValue(context.Background(), dnsserver.Key{}, s)
	ctx = context.WithValue(ctx, dnsserver.LoopKey{}, 0)
	s.ServeDNS(ctx, w, req)
}

// header reads the fixed header of a message.
func header(b []byte) (dns.Header, bool) {
	if len(b) < 12 {
		return dns.Header{}, false
	}
	u := func(i int) uint16 { return uint16(b[i])<<8 | uint16(b[i+1]) }
	return dns.Header{Id: u(0), Bits: u(2), Qdcount: u(4), Ancount: u(6), Nscount: u(8), Arcount: u(10)}, true
}

// accept is CoreDNS's Server.acceptMessage: miekg/dns's default rules, and the opcodes
// the server's plugins asked for.
func (f *Front) accept(dh dns.Header) dns.MsgAcceptAction {
	action := dns.DefaultMsgAcceptFunc(dh)
	if action != dns.MsgRejectNotImplemented {
		return action
	}
	if ops := f.opcodes.Load(); ops != nil {
		if _, ok := (*ops)[int(dh.Bits>>11)&0xF]; ok {
			if dh.Qdcount != 1 {
				return dns.MsgReject
			}
			return dns.MsgAccept
		}
	}
	return action
}

// rejection is miekg/dns's answer to a message it will not serve (Server.serveDNS):
// req as far as it was read, its header from dh, made a FORMERR (or a NOTIMP with the
// query's opcode) with no records besides the question.
func rejection(req *dns.Msg, dh dns.Header, action dns.MsgAcceptAction) *dns.Msg {
	setHeader(req, dh)
	opcode := req.Opcode
	req.SetRcodeFormatError(req)
	req.Zero = false
	if action == dns.MsgRejectNotImplemented {
		req.Opcode = opcode
		req.Rcode = dns.RcodeNotImplemented
	}
	req.Ns, req.Answer, req.Extra = nil, nil, nil
	return req
}

// setHeader is miekg/dns's Msg.setHdr.
func setHeader(m *dns.Msg, dh dns.Header) {
	m.Id = dh.Id
	m.Response = dh.Bits&(1<<15) != 0
	m.Opcode = int(dh.Bits>>11) & 0xF
	m.Authoritative = dh.Bits&(1<<10) != 0
	m.Truncated = dh.Bits&(1<<9) != 0
	m.RecursionDesired = dh.Bits&(1<<8) != 0
	m.RecursionAvailable = dh.Bits&(1<<7) != 0
	m.Zero = dh.Bits&(1<<6) != 0
	m.AuthenticatedData = dh.Bits&(1<<5) != 0
	m.CheckingDisabled = dh.Bits&(1<<4) != 0
	m.Rcode = int(dh.Bits & 0xF)
}
