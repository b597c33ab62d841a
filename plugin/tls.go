package mxsign

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// raftTLS builds the mutual-TLS configuration of the Raft transport from the cluster
// block's `tls CERT KEY [CA]`: every member presents CERT and accepts only peers whose
// certificates chain to CA (or to the system roots when CA is absent).
func raftTLS(cl *clusterConfig) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(cl.TLSCert, cl.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("mxsign: cluster tls: %w", err)
	}
	tc := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS13,
		ClientAuth:   tls.RequireAndVerifyClientCert,
	}
	if cl.TLSCA != "" {
		pem, err := os.ReadFile(cl.TLSCA)
		if err != nil {
			return nil, fmt.Errorf("mxsign: cluster tls CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("mxsign: cluster tls CA %s: no certificates", cl.TLSCA)
		}
		tc.RootCAs, tc.ClientCAs = pool, pool
	}
	return tc, nil
}
