package cluster

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"github.com/miekg/dns"

	"github.com/mxsign/mxsign/zonestore"
)

var testKEK = []byte("0123456789abcdef0123456789abcdef")

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const testTLSA = "3 1 1 0c72ac70b745ac19998811b131d662c9ac69dbdbe7cb23e5b514b56664c5d3d6"

func testZoneConfig() (zonestore.Config, zonestore.Profile) {
	return zonestore.Config{
			Parent:      "mx.example.",
			NameServers: []zonestore.NameServer{{Name: "ns1.mx.example.", A: []string{"192.0.2.53"}}},
			ShardSize:   50,
		}, zonestore.Profile{
			A:    []string{"192.0.2.25"},
			AAAA: []string{"2001:db8::25"},
			TLSA: []string{testTLSA},
		}
}

// testKeys makes ECDSA P-256 keys sealed with testKEK.
func testKeys(t testing.TB) zonestore.KeyFactory {
	return func(zone string, role zonestore.KeyRole, alg uint8, now time.Time) (zonestore.Key, error) {
		flags := uint16(dns.ZONE)
		if role != zonestore.RoleZSK {
			flags |= dns.SEP
		}
		dk := &dns.DNSKEY{
			Hdr:   dns.RR_Header{Name: zone, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
			Flags: flags, Protocol: 3, Algorithm: dns.ECDSAP256SHA256,
		}
		priv, err := dk.Generate(256)
		if err != nil {
			return zonestore.Key{}, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return zonestore.Key{}, err
		}
		idb := make([]byte, 8)
		rand.Read(idb)
		id := hex.EncodeToString(idb)
		sealed, err := zonestore.SealKey(testKEK, zone, id, der, rand.Reader)
		if err != nil {
			return zonestore.Key{}, err
		}
		return zonestore.Key{
			Zone: zone, ID: id, Tag: dk.KeyTag(), Algorithm: dk.Algorithm, Role: role, State: zonestore.StateActive,
			DNSKEY: dk.String(), Sealed: sealed, Created: now, Published: now, Activated: now,
		}, nil
	}
}

// testClock is a proposer clock that advances one second per reading, so
// that serials move.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Second)
	return c.now
}

var clock = &testClock{now: t0}

func openStore(t testing.TB, dir string) *zonestore.Store {
	t.Helper()
	s, err := zonestore.Open(zonestore.Options{Path: filepath.Join(dir, "zones.db"), KEK: testKEK})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// provisioner writes through the given leader.
func provisionRand() *mrand.ChaCha8 { return mrand.NewChaCha8([32]byte{5}) }

func provisioner(t testing.TB, leader *Node) *zonestore.Provisioner {
	return &zonestore.Provisioner{
		Store:   leader.cfg.Store,
		Applier: leader,
		Keys:    testKeys(t),
		Now:     clock.Now,
		Rand:    mrand.NewChaCha8([32]byte{byte(leader.cfg.Store.AppliedIndex())}),
	}
}

func mustAdd(t testing.TB, p *zonestore.Provisioner, domains ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := p.AddDomains(ctx, domains)
	if err != nil {
		t.Fatalf("AddDomains: %v", err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("AddDomains(%s): %v", r.Domain, r.Err)
		}
	}
}

func domains(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d.example.com", prefix, i)
	}
	return out
}

// fastRaft shortens the timings so elections take a second or two, yet a leader
// does not step down when the race detector and a loaded 2-core machine delay its
// heartbeats by a few hundred milliseconds (150 ms leases did, now and then).
func fastRaft(c *raft.Config) {
	c.HeartbeatTimeout = time.Second
	c.ElectionTimeout = time.Second
	c.LeaderLeaseTimeout = 500 * time.Millisecond
	c.CommitTimeout = 5 * time.Millisecond
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		<-tick.C
	}
}

// testNode is a node with its directories, so it can be restarted.
type testNode struct {
	*Node
	id, dir string
	store   *zonestore.Store
	net     *netSwitch // nil: plain TCP transport
	addr    string
}

type nodeOpts struct {
	bootstrap bool
	voter     bool
	net       *netSwitch
	tweak     func(*raft.Config)
}

// startNode opens a store and a node in dir (t.TempDir() if "") on a
// free port, or on addr when restarting.
func startNode(t testing.TB, id, dir, addr string, o nodeOpts) *testNode {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	store := openStore(t, dir)
	cfg := Config{
		ID: id, RaftAddr: addr, APIAddr: "api-" + id, Dir: filepath.Join(dir, "raft"),
		Store: store, Bootstrap: o.bootstrap, Voter: o.voter,
		Logger: hclog.NewNullLogger(),
		RaftConfig: func(c *raft.Config) {
			fastRaft(c)
			if o.tweak != nil {
				o.tweak(c)
			}
		},
		Now: clock.Now,
	}
	if o.net != nil {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Transport = newNetworkTransport(o.net.layer(ln), hclog.NewNullLogger())
	}
	n, err := Open(cfg)
	if err != nil {
		store.Close()
		t.Fatalf("Open(%s): %v", id, err)
	}
	tn := &testNode{Node: n, id: id, dir: dir, store: store, net: o.net, addr: n.RaftAddr()}
	t.Cleanup(func() { tn.stop(t) })
	return tn
}

// stop closes the node and its store (idempotent).
func (tn *testNode) stop(t testing.TB) {
	if tn.Node == nil {
		return
	}
	if err := tn.Node.Close(); err != nil {
		t.Errorf("Close(%s): %v", tn.id, err)
	}
	if err := tn.store.Close(); err != nil {
		t.Errorf("store Close(%s): %v", tn.id, err)
	}
	tn.Node = nil
}

// restart opens the node again on the same directories and address.
func (tn *testNode) restart(t testing.TB, o nodeOpts) *testNode {
	t.Helper()
	tn.stop(t)
	o.net = tn.net
	return startNode(t, tn.id, tn.dir, tn.addr, o)
}

// cluster starts a bootstrapped leader and joins the others.
func startCluster(t testing.TB, voters, nonvoters int, sw *netSwitch) []*testNode {
	t.Helper()
	first := startNode(t, "n1", "", "", nodeOpts{bootstrap: true, voter: true, net: sw})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	waitFor(t, 10*time.Second, "n1 to lead", first.IsLeader)
	nodes := []*testNode{first}
	for i := 2; i <= voters+nonvoters; i++ {
		voter := i <= voters
		n := startNode(t, fmt.Sprintf("n%d", i), "", "", nodeOpts{voter: voter, net: sw})
		if err := first.Join(ctx, n.id, n.RaftAddr(), "api-"+n.id, voter); err != nil {
			t.Fatalf("Join(%s): %v", n.id, err)
		}
		nodes = append(nodes, n)
	}
	for _, n := range nodes {
		if err := n.WaitLeader(ctx); err != nil {
			t.Fatalf("WaitLeader(%s): %v", n.id, err)
		}
	}
	return nodes
}

func leaderOf(t testing.TB, nodes []*testNode) *testNode {
	t.Helper()
	var l *testNode
	waitFor(t, 15*time.Second, "a leader", func() bool {
		for _, n := range nodes {
			if n.Node != nil && n.IsLeader() {
				l = n
				return true
			}
		}
		return false
	})
	return l
}

// storeView is what must be identical on every replica.
type storeView struct {
	Applied uint64
	Zones   []zonestore.Zone
	Hosts   []zonestore.Host
	Nodes   []zonestore.Node
	DS      map[string][]string
}

func view(s *zonestore.Store) storeView {
	v := storeView{Applied: s.AppliedIndex(), Zones: s.Zones(), Nodes: s.Nodes(), DS: map[string][]string{}}
	v.Hosts, _ = s.ListHosts("", 1<<20)
	for _, z := range v.Zones {
		ds, _ := s.DS(z.Name)
		for _, d := range ds {
			v.DS[z.Name] = append(v.DS[z.Name], d.String())
		}
	}
	return v
}

// waitConverged waits until every node's store matches the first one's.
func waitConverged(t testing.TB, nodes []*testNode) storeView {
	t.Helper()
	var want storeView
	waitFor(t, 15*time.Second, "replicas to converge", func() bool {
		want = view(nodes[0].store)
		for _, n := range nodes[1:] {
			if !reflect.DeepEqual(view(n.store), want) {
				return false
			}
		}
		return true
	})
	return want
}

// lookupHost checks that s answers the A query of domain's host.
func lookupHost(t testing.TB, s *zonestore.Store, domain string) {
	t.Helper()
	h, err := s.Host(domain)
	if err != nil {
		t.Fatalf("Host(%s): %v", domain, err)
	}
	a := s.Lookup(h.Name(), dns.TypeA)
	if a.Rcode != zonestore.Success || len(a.RRsets) != 1 || a.RRsets[0][0].(*dns.A).A.String() != "192.0.2.25" {
		t.Fatalf("Lookup(%s A) = %+v", h.Name(), a)
	}
}

// netSwitch connects stream layers and can cut nodes off: dials to or from
// an isolated address fail and its open connections are closed.
type netSwitch struct {
	mu    sync.Mutex
	cut   map[string]bool
	conns map[*switchConn]bool
}

func newNetSwitch() *netSwitch {
	return &netSwitch{cut: map[string]bool{}, conns: map[*switchConn]bool{}}
}

type switchLayer struct {
	*streamLayer
	sw   *netSwitch
	addr string
}

type switchConn struct {
	net.Conn
	sw          *netSwitch
	local, peer string
}

func (sw *netSwitch) layer(ln net.Listener) *switchLayer {
	return &switchLayer{streamLayer: wrapListener(ln, nil), sw: sw, addr: ln.Addr().String()}
}

func (sw *netSwitch) track(c net.Conn, local, peer string) net.Conn {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if sw.cut[local] || sw.cut[peer] {
		c.Close()
		return c
	}
	sc := &switchConn{Conn: c, sw: sw, local: local, peer: peer}
	sw.conns[sc] = true
	return sc
}

func (c *switchConn) Close() error {
	c.sw.mu.Lock()
	delete(c.sw.conns, c)
	c.sw.mu.Unlock()
	return c.Conn.Close()
}

// isolate cuts addr off from every other node.
func (sw *netSwitch) isolate(addr string) {
	sw.mu.Lock()
	sw.cut[addr] = true
	var doomed []net.Conn
	for c := range sw.conns {
		if c.local == addr || c.peer == addr {
			doomed = append(doomed, c.Conn)
			delete(sw.conns, c)
		}
	}
	sw.mu.Unlock()
	for _, c := range doomed {
		c.Close()
	}
}

func (sw *netSwitch) heal(addr string) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	delete(sw.cut, addr)
}

func (l *switchLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	l.sw.mu.Lock()
	cut := l.sw.cut[l.addr] || l.sw.cut[string(addr)]
	l.sw.mu.Unlock()
	if cut {
		return nil, fmt.Errorf("partitioned: %s -> %s", l.addr, addr)
	}
	c, err := l.streamLayer.Dial(addr, timeout)
	if err != nil {
		return nil, err
	}
	return l.sw.track(c, l.addr, string(addr)), nil
}

func (l *switchLayer) Accept() (net.Conn, error) {
	c, err := l.streamLayer.Accept()
	if err != nil {
		return nil, err
	}
	// The dialer's raft address is unknown here; isolating it closes the
	// dialing side, which ends this side too.
	return l.sw.track(c, l.addr, ""), nil
}
