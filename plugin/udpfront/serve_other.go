//go:build !linux

package udpfront

import "net"

func listen(string, int) ([]*net.UDPConn, error) { return nil, ErrUnsupported }

func (f *Front) serve(*net.UDPConn) {}
