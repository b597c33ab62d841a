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

	mu      sync.Mutex
	refs    int
	conns   []*net.UDPConn
	opened  bool
	openErr error

	server atomic.Pointer[dnsserver.Server]
	fast   atomic.Pointer[fastBox]
	wg     sync.WaitGroup
}

type fastBox struct{ f Fast }

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

// Reserve takes a reference to the Front of addr (host:port), which Attach opens:
// a reload's new instance reserves before the old one releases, so the sockets stay
// open across it. workers is the number of sockets to open, each with its reading
// goroutine; 0 is GOMAXPROCS.
func Reserve(addr string, workers int) *Front {
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
	return f
}

// Release drops a reference; the last one closes the sockets and waits for their
// goroutines.
func (f *Front) Release() error {
	registry.Lock()
	f.mu.Lock()
	f.refs--
	last := f.refs == 0
	var conns []*net.UDPConn
	if last {
		delete(registry.m, f.addr)
		conns, f.conns = f.conns, nil
	}
	f.mu.Unlock()
	registry.Unlock()
	if !last {
		return nil
	}
	var errs []error
	for _, c := range conns {
		if err := c.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	f.wg.Wait()
	return errors.Join(errs...)
}

// Attach makes s the server of the Front's queries and fast its answerer, and opens
// the sockets the first time. s must be serving the address on one socket of its
// own, with SO_REUSEPORT (CoreDNS's default), already bound: Attach is called from
// the server's ServePacket. An error means the server's own socket goes on serving.
func (f *Front) Attach(s *dnsserver.Server, fast Fast) error {
	f.server.Store(s)
	f.fast.Store(&fastBox{fast})
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.opened {
		return f.openErr
	}
	f.opened = true
	if f.refs == 0 {
		f.openErr = errors.New("udpfront: attached after release")
		return f.openErr
	}
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
	req := new(dns.Msg)
	action := dns.DefaultMsgAcceptFunc(dh)
	if action == dns.MsgRejectNotImplemented && dh.Qdcount == 1 {
		// CoreDNS accepts the opcodes its plugins ask for, and answers NOTIMP to the
		// others itself.
		action = dns.MsgAccept
	}
	switch action {
	case dns.MsgAccept:
		if err := req.Unpack(query); err == nil {
			break
		}
		action = dns.MsgReject
		fallthrough
	case dns.MsgReject, dns.MsgRejectNotImplemented:
		w.WriteMsg(rejection(query, action))
		return
	case dns.MsgIgnore:
		return
	}
	if len(s.TsigSecret) > 0 {
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

// rejection is miekg/dns's answer to a message it will not serve: FORMERR (or NOTIMP
// with the query's opcode) with the query's header bits, no records.
func rejection(query []byte, action dns.MsgAcceptAction) *dns.Msg {
	dh, _ := header(query)
	req := new(dns.Msg)
	req.Id = dh.Id
	req.Opcode = int(dh.Bits>>11) & 0xF
	req.RecursionDesired = dh.Bits&(1<<8) != 0
	req.CheckingDisabled = dh.Bits&(1<<4) != 0
	opcode := req.Opcode
	req.SetRcodeFormatError(req)
	req.Zero = false
	if action == dns.MsgRejectNotImplemented {
		req.Opcode = opcode
		req.Rcode = dns.RcodeNotImplemented
	}
	return req
}
