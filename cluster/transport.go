package cluster

import (
	"crypto/tls"
	"fmt"
	"net"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// Transport defaults.
const (
	transportMaxPool = 3
	transportTimeout = 10 * time.Second
)

// streamLayer is raft's StreamLayer over TCP, optionally with TLS on both
// the accepting and the dialing side (mutual TLS when the tls.Config asks
// for client certificates).
type streamLayer struct {
	net.Listener
	tls *tls.Config
}

// newStreamLayer listens on addr. The advertised address is the bound one,
// so it must not be unspecified (0.0.0.0).
func newStreamLayer(addr string, tlsCfg *tls.Config) (*streamLayer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cluster: listen %s: %w", addr, err)
	}
	if a, ok := ln.Addr().(*net.TCPAddr); !ok || a.IP.IsUnspecified() {
		ln.Close()
		return nil, fmt.Errorf("%w: raft address %s is not advertisable", ErrConfig, addr)
	}
	return wrapListener(ln, tlsCfg), nil
}

// wrapListener makes a stream layer of a listener the caller owns.
func wrapListener(ln net.Listener, tlsCfg *tls.Config) *streamLayer {
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
	}
	return &streamLayer{Listener: ln, tls: tlsCfg}
}

// Dial implements raft.StreamLayer.
func (s *streamLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout}
	if s.tls != nil {
		return tls.DialWithDialer(d, "tcp", string(addr), s.tls)
	}
	return d.Dial("tcp", string(addr))
}

// newNetworkTransport wraps a stream layer in raft's NetworkTransport.
func newNetworkTransport(layer raft.StreamLayer, logger hclog.Logger) *raft.NetworkTransport {
	return raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  layer,
		MaxPool: transportMaxPool,
		Timeout: transportTimeout,
		Logger:  logger,
	})
}
