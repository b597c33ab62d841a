package udpfront

import (
	"context"
	"net"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// reuseportSocket binds a UDP socket with SO_REUSEPORT, as CoreDNS binds its own.
func reuseportSocket(t *testing.T, addr string) *net.UDPConn {
	t.Helper()
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		c.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1) })
		return serr
	}}
	pc, err := lc.ListenPacket(context.Background(), "udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return pc.(*net.UDPConn)
}

// received counts the datagrams each socket has queued, without waiting: on loopback a
// datagram is queued on its receiving socket before the sender's write returns.
func received(t *testing.T, conns ...*net.UDPConn) []int {
	t.Helper()
	out := make([]int, len(conns))
	buf := make([]byte, 512)
	for i, c := range conns {
		rc, err := c.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		for more := true; more; {
			if err := rc.Control(func(fd uintptr) {
				_, _, rerr := unix.Recvfrom(int(fd), buf, unix.MSG_DONTWAIT)
				more = rerr == nil
			}); err != nil {
				t.Fatal(err)
			}
			if more {
				out[i]++
			}
		}
	}
	return out
}

// TestSteering checks the kernel behaviour the Front is built on: with the server's
// socket bound first and the Front's after it, every datagram to the address reaches
// one of the Front's sockets, spread over them; once they are closed, every datagram
// reaches the server's socket again.
func TestSteering(t *testing.T) {
	server := reuseportSocket(t, "127.0.0.1:0")
	defer server.Close()
	addr := server.LocalAddr().String()
	conns, err := listen(addr, 2)
	if err != nil {
		t.Fatalf("listen beside the server's socket: %v", err)
	}
	send := func(n int) {
		for range n {
			// A new source port each time: the kernel's default would hash flows.
			c, err := net.Dial("udp", addr)
			if err != nil {
				t.Fatal(err)
			}
			c.Write([]byte("query"))
			c.Close()
		}
	}
	send(100)
	got := received(t, append([]*net.UDPConn{server}, conns...)...)
	if got[0] != 0 || got[1]+got[2] != 100 || got[1] == 0 || got[2] == 0 {
		t.Fatalf("server socket %d, front sockets %d and %d: want 0 and 100 spread over both", got[0], got[1], got[2])
	}
	for _, c := range conns {
		c.Close()
	}
	send(20)
	if got := received(t, server); got[0] != 20 {
		t.Fatalf("with the front closed the server's socket got %d of 20", got[0])
	}
}
