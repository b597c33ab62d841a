package cluster

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

var certSerial = struct {
	sync.Mutex
	n int64
}{}

func nextSerial() *big.Int {
	certSerial.Lock()
	defer certSerial.Unlock()
	certSerial.n++
	return big.NewInt(certSerial.n)
}

func newTestCA(t testing.TB, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          nextSerial(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns the PEM certificate and key of a node: CN name, IP SAN
// 127.0.0.1 (raft advertises the bound IP address, which the dialer verifies),
// usable as a TLS server and client.
func (ca *testCA) issue(t testing.TB, name string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

// mtlsConfig builds the tls.Config the plugin builds (plugin/tls.go raftTLS)
// from PEM material: the node's certificate, one pool of the trusted CAs as
// both RootCAs and ClientCAs, client certificates required, TLS 1.3. No
// ServerName: the transport must verify peers by their raft address.
func mtlsConfig(t testing.TB, certPEM, keyPEM []byte, caPEMs ...[]byte) *tls.Config {
	t.Helper()
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	tc := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS13,
		ClientAuth:   tls.RequireAndVerifyClientCert,
	}
	pool := x509.NewCertPool()
	for _, p := range caPEMs {
		if !pool.AppendCertsFromPEM(p) {
			t.Fatal("no CA certificate in PEM")
		}
	}
	tc.RootCAs, tc.ClientCAs = pool, pool
	return tc
}

// logTap records a node's raft log lines (hclog writes one line per Write).
type logTap struct {
	mu    sync.Mutex
	lines []string
}

func (l *logTap) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, string(p))
	return len(p), nil
}

// count returns the number of lines containing all of subs.
func (l *logTap) count(subs ...string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
next:
	for _, line := range l.lines {
		for _, s := range subs {
			if !strings.Contains(line, s) {
				continue next
			}
		}
		n++
	}
	return n
}

func (l *logTap) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "")
}

// startTLSNode starts a node through Open with Config.TLS set, so on the
// package's own TCP+TLS stream layer, with its raft log captured in tap.
func startTLSNode(t testing.TB, id string, tc *tls.Config, bootstrap, voter bool, tap *logTap) *testNode {
	t.Helper()
	dir := t.TempDir()
	store := openStore(t, dir)
	n, err := Open(Config{
		ID: id, RaftAddr: "127.0.0.1:0", APIAddr: "api-" + id, Dir: filepath.Join(dir, "raft"),
		Store: store, Bootstrap: bootstrap, Voter: voter, TLS: tc,
		Logger:     hclog.New(&hclog.LoggerOptions{Name: id, Level: hclog.Warn, Output: tap, DisableTime: true}),
		RaftConfig: fastRaft,
		Now:        clock.Now,
	})
	if err != nil {
		store.Close()
		t.Fatalf("Open(%s): %v", id, err)
	}
	tn := &testNode{Node: n, id: id, dir: dir, store: store, addr: n.RaftAddr()}
	t.Cleanup(func() { tn.stop(t) })
	return tn
}

// Error texts of the standard library's TLS stack.
const (
	errUnknownCA   = "x509: certificate signed by unknown authority"
	errRemoteAlert = "remote error: tls:"
)

// TestMutualTLS runs a three-node cluster over mutual TLS configured as the
// plugin configures it, then shows that nodes whose certificates come from
// another CA exchange nothing with it, in either direction: a node the
// leader adds never receives the log (the leader refuses its server
// certificate), and an impostor leader cannot replicate to a member (the
// member refuses its client certificate), even though both trust the
// cluster's CA.
func TestMutualTLS(t *testing.T) {
	ca, otherCA := newTestCA(t, "cluster CA"), newTestCA(t, "other CA")
	taps := map[string]*logTap{}
	nodeCfg := func(id string, issuer *testCA, trusted ...[]byte) *tls.Config {
		taps[id] = &logTap{}
		c, k := issuer.issue(t, id)
		return mtlsConfig(t, c, k, trusted...)
	}
	cfgs := map[string]*tls.Config{}
	for _, id := range []string{"n1", "n2", "n3"} {
		cfgs[id] = nodeCfg(id, ca, ca.pem)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	n1 := startTLSNode(t, "n1", cfgs["n1"], true, true, taps["n1"])
	waitFor(t, 10*time.Second, "n1 to lead", n1.IsLeader)
	nodes := []*testNode{n1}
	for _, id := range []string{"n2", "n3"} {
		n := startTLSNode(t, id, cfgs[id], false, true, taps[id])
		if err := n1.Join(ctx, id, n.RaftAddr(), "api-"+id, true); err != nil {
			t.Fatalf("Join(%s): %v", id, err)
		}
		nodes = append(nodes, n)
	}
	for _, n := range nodes {
		if err := n.WaitLeader(ctx); err != nil {
			t.Fatalf("WaitLeader(%s): %v", n.id, err)
		}
	}
	leader := leaderOf(t, nodes)
	p := initZones(t, leader.Node)
	mustAdd(t, p, domains("tls", 60)...)
	v := waitConverged(t, nodes)
	if len(v.Zones) != 3 || len(v.Hosts) != 60 || len(v.Nodes) != 3 {
		t.Fatalf("converged view: %d zones, %d hosts, %d nodes", len(v.Zones), len(v.Hosts), len(v.Nodes))
	}
	for _, n := range nodes {
		lookupHost(t, n.store, "tls7.example.com")
	}
	if st := leader.Status(); st.Leader != leader.id || len(st.Nodes) != 3 {
		t.Fatalf("Status = %+v", st)
	}
	for _, n := range nodes {
		if c := taps[n.id].count(errUnknownCA) + taps[n.id].count(errRemoteAlert); c != 0 {
			t.Fatalf("%s logged TLS failures in the healthy cluster:\n%s", n.id, taps[n.id])
		}
	}

	// The raft port speaks TLS 1.3 and requires a client certificate.
	follower := nodes[1]
	if follower == leader {
		follower = nodes[2]
	}
	t.Run("handshake", func(t *testing.T) {
		d := &net.Dialer{Timeout: 5 * time.Second}
		c, err := tls.DialWithDialer(d, "tcp", follower.RaftAddr(), cfgs[leader.id])
		if err != nil {
			t.Fatalf("member handshake: %v", err)
		}
		st := c.ConnectionState()
		c.Close()
		if st.Version != tls.VersionTLS13 || len(st.PeerCertificates) == 0 || st.PeerCertificates[0].Subject.CommonName != follower.id {
			t.Errorf("member handshake: version %x, peer %v", st.Version, st.PeerCertificates)
		}

		anon := &tls.Config{RootCAs: cfgs[leader.id].RootCAs, MinVersion: tls.VersionTLS13}
		c, err = tls.DialWithDialer(d, "tcp", follower.RaftAddr(), anon)
		if err == nil {
			// In TLS 1.3 the server's verdict on the client arrives after the
			// client's side of the handshake: read it.
			c.SetDeadline(time.Now().Add(5 * time.Second))
			_, err = c.Read(make([]byte, 1))
			c.Close()
		}
		if err == nil || !strings.Contains(err.Error(), "certificate required") {
			t.Errorf("handshake without a client certificate: %v", err)
		}
	})

	// A node whose certificate comes from another CA (it trusts both CAs:
	// only the cluster's own verification can stop it) is added by the
	// leader. The configuration lists it, but the leader refuses its server
	// certificate on every connection, so it receives nothing.
	rogueTap := &logTap{}
	rc, rk := otherCA.issue(t, "n4")
	rogue := startTLSNode(t, "n4", mtlsConfig(t, rc, rk, ca.pem, otherCA.pem), false, true, rogueTap)
	if err := leader.Join(ctx, "n4", rogue.RaftAddr(), "api-n4", true); err != nil {
		t.Fatalf("Join(n4): %v", err)
	}
	if _, ok := servers(t, leader.Node)["n4"]; !ok {
		t.Fatal("n4 not in the leader's configuration after Join")
	}
	leaderTap := taps[leader.id]
	waitFor(t, 30*time.Second, "the leader's connections to n4 to be refused", func() bool {
		return leaderTap.count(rogue.RaftAddr(), errUnknownCA) >= 3 && rogueTap.count(errRemoteAlert) >= 3
	})
	// The good members (3 of 4 voters) still commit; n4 still gets nothing.
	before := leaderTap.count(rogue.RaftAddr(), errUnknownCA)
	mustAdd(t, p, domains("late", 5)...)
	v = waitConverged(t, nodes)
	if len(v.Hosts) != 65 {
		t.Fatalf("after n4 joined: %d hosts", len(v.Hosts))
	}
	waitFor(t, 30*time.Second, "another refused connection to n4 after the write", func() bool {
		return leaderTap.count(rogue.RaftAddr(), errUnknownCA) > before
	})
	if got := rogue.store.AppliedIndex(); got != 0 {
		t.Errorf("n4 applied index %d, want 0", got)
	}
	if zs := rogue.store.Zones(); len(zs) != 0 {
		t.Errorf("n4 has zones %v", zs)
	}
	if id, _, _ := rogue.Leader(); id != "" {
		t.Errorf("n4 knows leader %q", id)
	}
	if srv := servers(t, rogue.Node); len(srv) != 0 {
		t.Errorf("n4 learned the configuration %v", srv)
	}
	if st := rogue.Status(); len(st.Nodes) != 0 || st.Leader != "" {
		t.Errorf("n4 Status = %+v", st)
	}

	// An impostor from the other CA bootstraps its own cluster, writes, and
	// adds a member of ours. The member refuses its client certificate: it
	// applies none of the impostor's entries and keeps following its leader.
	impTap := &logTap{}
	ic, ik := otherCA.issue(t, "x1")
	impCfg := mtlsConfig(t, ic, ik, ca.pem, otherCA.pem)
	// A Go client offers no certificate when the server's acceptable CAs do
	// not include its issuer; the impostor presents its own regardless, so
	// that the member has to reject it.
	impCfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		return &impCfg.Certificates[0], nil
	}
	imp := startTLSNode(t, "x1", impCfg, true, true, impTap)
	waitFor(t, 10*time.Second, "x1 to lead", imp.IsLeader)
	mustAdd(t, initZones(t, imp.Node), domains("evil", 3)...)
	victimTap := taps[follower.id]
	if err := imp.Join(ctx, follower.id, follower.RaftAddr(), "api-"+follower.id, false); err != nil {
		t.Fatalf("impostor Join(%s): %v", follower.id, err)
	}
	waitFor(t, 30*time.Second, follower.id+" to refuse the impostor's connections", func() bool {
		return victimTap.count(errUnknownCA) >= 3 && impTap.count(follower.RaftAddr(), errRemoteAlert) >= 3
	})
	if got := waitConverged(t, nodes); !reflect.DeepEqual(got.Zones, v.Zones) || !reflect.DeepEqual(got.Hosts, v.Hosts) {
		t.Errorf("the cluster's zones or hosts changed: %d zones, %d hosts", len(got.Zones), len(got.Hosts))
	}
	if _, err := follower.store.Host("evil0.example.com"); err == nil {
		t.Errorf("%s has the impostor's host", follower.id)
	}
	if id, _, _ := follower.Leader(); id != "n1" && id != "n2" && id != "n3" {
		t.Errorf("%s follows %q", follower.id, id)
	}
	if srv := servers(t, follower.Node); len(srv) != 4 || srv["x1"].Address != "" {
		t.Errorf("%s configuration %v", follower.id, srv)
	}
}
