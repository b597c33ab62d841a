package udpfront

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/coredns/coredns/core/dnsserver"
	clog "github.com/coredns/coredns/plugin/pkg/log"
	"github.com/miekg/dns"
	"golang.org/x/net/bpf"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

var log = clog.NewWithPlugin("mxsign")

// batchConn reads and writes datagrams in batches (recvmmsg, sendmmsg).
type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// listen opens n UDP sockets on addr with SO_REUSEPORT, beside the server's own
// socket (the first of the group), and steers the group's datagrams to them.
func listen(addr string, n int) ([]*net.UDPConn, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		}); err != nil {
			return err
		}
		return serr
	}}
	conns := make([]*net.UDPConn, 0, n)
	fail := func(err error) ([]*net.UDPConn, error) {
		for _, c := range conns {
			c.Close()
		}
		return nil, err
	}
	for range n {
		pc, err := lc.ListenPacket(context.Background(), "udp", addr)
		if err != nil {
			return fail(err)
		}
		conns = append(conns, pc.(*net.UDPConn))
	}
	if err := steer(conns[0], 1, n); err != nil {
		return fail(err)
	}
	return conns, nil
}

// steer attaches to c's reuseport group a program that picks one of the n sockets
// from index first on, at random: the group's sockets are numbered in the order they
// joined, and the server's socket joined first.
func steer(c *net.UDPConn, first, n int) error {
	prog := []bpf.Instruction{
		bpf.LoadExtension{Num: bpf.ExtRand},
		bpf.ALUOpConstant{Op: bpf.ALUOpMod, Val: uint32(n)},
		bpf.ALUOpConstant{Op: bpf.ALUOpAdd, Val: uint32(first)},
		bpf.RetA{},
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return fmt.Errorf("assembling the steering program: %w", err)
	}
	filter := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		filter[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	fprog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptSockFprog(int(fd), unix.SOL_SOCKET, unix.SO_ATTACH_REUSEPORT_CBPF, &fprog)
	}); err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("attaching the steering program: %w", serr)
	}
	return nil
}

// serve reads and answers the datagrams of one socket until it is closed.
func (f *Front) serve(c *net.UDPConn) {
	defer f.wg.Done()
	var pc batchConn = ipv4.NewPacketConn(c)
	if a, ok := c.LocalAddr().(*net.UDPAddr); ok && a.IP.To4() == nil {
		pc = ipv6.NewPacketConn(c)
	}
	in := make([]ipv4.Message, batchSize)
	for i := range in {
		in[i].Buffers = [][]byte{make([]byte, readSize)}
	}
	out := newBatch()
	local := c.LocalAddr()
	w := &writer{local: local, batch: out}
	for {
		n, err := pc.ReadBatch(in, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // an ICMP error reported on the socket, say
		}
		if n == 0 {
			continue
		}
		totals.batches.Add(1)
		totals.datagrams.Add(uint64(n))
		s := f.server.Load()
		fast := f.fast.Load()
		for i := range in[:n] {
			m := &in[i]
			query := m.Buffers[0][:m.N]
			if m.Flags&unix.MSG_TRUNC != 0 {
				// Longer than a read: FORMERR (miekg/dns under CoreDNS reads 512
				// bytes, and answers FORMERR to what it cannot parse).
				if dh, ok := header(query); ok {
					*w = writer{local: local, remote: m.Addr, batch: out}
					w.WriteMsg(rejection(new(dns.Msg), dh, dns.MsgReject))
				}
				continue
			}
			verdict := Spawn
			if fast != nil && fast.f != nil {
				if verdict = out.answer(m.Addr, fast.f, query); verdict == Answered {
					totals.answered.Add(1)
					continue
				}
			}
			if verdict == Inline {
				totals.inline.Add(1)
				*w = writer{local: local, remote: m.Addr, batch: out}
				f.serveMsgSafely(s, w, query)
				continue
			}
			totals.spawned.Add(1)
			q := append([]byte(nil), query...)
			sw := &writer{local: local, remote: m.Addr, conn: c}
			f.inflight.Add(1)
			go func() {
				defer f.inflight.Done()
				f.serveMsgSafely(s, sw, q)
			}()
		}
		f.flush(pc, out)
	}
}

// serveMsgSafely is serveMsg with a panic kept to its query: the CoreDNS server
// recovers from panics in plugins, not from those before it.
func (f *Front) serveMsgSafely(s *dnsserver.Server, w *writer, query []byte) {
	defer func() {
		if r := recover(); r != nil {
			log.Errorf("recovered from a panic serving a query to %s: %v", f.addr, r)
		}
	}()
	f.serveMsg(s, w, query)
}

// flush writes the batch's answers, skipping any the kernel refuses.
func (f *Front) flush(pc batchConn, b *batch) {
	for o := 0; o < b.n; {
		k, err := pc.WriteBatch(b.msgs[o:b.n], 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				break
			}
			totals.writeErrs.Add(1)
			k++ // the message at o+k failed: drop it
		}
		if k <= 0 {
			k = 1
		}
		o += k
	}
	b.reset()
}
