package mxsign

import (
	"math/rand/v2"
	"net"
	"strconv"
)

// freeDNSPort returns a port on 127.0.0.1 free for UDP and TCP alike: servers in tests
// bind a port the test picks, so that batched UDP serving (which needs a fixed port)
// is what they test. It picks below Linux's ephemeral range (32768-60999), where the
// kernel does not hand out ports to clients and to tests that listen on port 0.
func freeDNSPort() int {
	for {
		port := 10000 + rand.IntN(22000)
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			continue
		}
		l, err := net.Listen("tcp", addr)
		pc.Close()
		if err != nil {
			continue
		}
		l.Close()
		return port
	}
}
