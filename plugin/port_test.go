package mxsign

import "net"

// freeDNSPort returns a port on 127.0.0.1 free for UDP and TCP alike: servers in tests
// bind a port the test picks, so that batched UDP serving (which needs a fixed port)
// is what they test.
func freeDNSPort() int {
	for {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			panic(err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		pc.Close()
		if err != nil {
			continue
		}
		l.Close()
		return port
	}
}
