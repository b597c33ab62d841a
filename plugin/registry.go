package mxsign

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/mxsign/mxsign/cluster"
	"github.com/mxsign/mxsign/plugin/api"
	"github.com/mxsign/mxsign/plugin/api/client"
	"github.com/mxsign/mxsign/signer"
	"github.com/mxsign/mxsign/signer/keymgr"
	"github.com/mxsign/mxsign/zonestore"
)

// envKEK names the environment variable that may carry the key-encryption key (64 hex
// digits); it takes precedence over kek-file.
const envKEK = "MXSIGN_KEK"

// instance is everything that must outlive a CoreDNS reload: the open store (bbolt holds
// an exclusive file lock), the signature cache, and the admin API listener.
type instance struct {
	key    string // absolute data directory
	store  *zonestore.Store
	node   *cluster.Node
	prov   *zonestore.Provisioner
	signer *signer.Signer
	sigOpt signer.Options
	policy *policyState  // the key policy the scheduler plans with (changes on reload)
	done   chan struct{} // closed on release: stops the background loops
	wake   chan struct{} // nudges the rollover scheduler (a roll request, a DS seen)
	ro     *rollover     // the key rollover scheduler; metrics read it
	prop   *propagation  // measured Raft commit and apply delay

	cfgMu   sync.Mutex
	cfg     *config // the latest Corefile's settings
	pending bool    // cfg was loaded or reloaded and not yet proposed by this node

	mu      sync.Mutex
	token   string // the admin API bearer token (shared by every member of a cluster)
	apiAddr string
	apiSrv  *http.Server
	apiLn   net.Listener
	handler handlerBox

	answers *answerCaches // the answer cache and the zone generations it is checked against

	nsecMu sync.Mutex
	nsec   *nsecChains // the pre-signed NSEC chains while `denial nsec` is configured
}

// denial returns the NSEC chains for cfg's `denial` mode: nil for compact denial
// (stopping chains a previous configuration kept), else the instance's chains, started
// with their background loop the first time and signing with the current signer.
func (inst *instance) denial(cfg *config) *nsecChains {
	inst.nsecMu.Lock()
	defer inst.nsecMu.Unlock()
	if cfg.Denial != denialNSEC {
		if inst.nsec != nil {
			inst.nsec.close()
			inst.nsec = nil
		}
		return nil
	}
	if inst.nsec == nil {
		inst.nsec = newNSECChains(inst.store, inst.signer)
		go inst.nsec.run(inst.done, time.Now)
	}
	inst.nsec.signer.Store(inst.signer)
	return inst.nsec
}

// handlerBox lets a reload swap the API handler without rebinding the listener.
type handlerBox struct {
	mu sync.RWMutex
	h  http.Handler
}

func (b *handlerBox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.RLock()
	h := b.h
	b.mu.RUnlock()
	h.ServeHTTP(w, r)
}

// instances is the keyed registry of open instances (STYLE.md: the one place the plugin
// keeps state across setup calls). Entries are released in OnFinalShutdown.
var instances = struct {
	sync.Mutex
	m map[string]*instance
}{m: make(map[string]*instance)}

// acquire returns the instance for cfg's data directory, opening it on first use.
func acquire(cfg *config, token string) (*instance, error) {
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("mxsign: data %s: %w", cfg.DataDir, err)
	}
	instances.Lock()
	defer instances.Unlock()
	if inst, ok := instances.m[dir]; ok {
		inst.cfgMu.Lock()
		old := inst.cfg
		inst.cfgMu.Unlock()
		if err := reloadable(old, cfg); err != nil {
			return nil, err
		}
		// The policy first: the new settings proposed below may lower the TTLs served,
		// and the scheduler must already hold the old values when they do.
		inst.observeServed()
		inst.policy.set(time.Now(), cfg.Policy, cfg.Signer)
		if !reflect.DeepEqual(old.Policy, cfg.Policy) {
			defer func() { // once the new settings are served (or not, on a follower)
				logPolicyChange(old.Policy, cfg.Policy, inst.policy.heldUntil(time.Now()))
				inst.wakeRollover()
			}()
		}
		inst.setToken(token)
		reloadMemoryLimit(old, cfg)
		if inst.sigOpt != cfg.Signer {
			inst.signer, inst.sigOpt = signer.New(cfg.Signer), cfg.Signer
		}
		inst.cfgMu.Lock()
		inst.cfg = cfg
		inst.pending = true // a reload asks for its settings to be proposed
		inst.cfgMu.Unlock()
		if inst.node.IsLeader() {
			err := inst.proposeConfig()
			inst.observeServed()
			return inst, err
		}
		log.Infof("reloaded on a follower: the settings are proposed when this node leads; reload the leader to apply them now")
		return inst, nil
	}
	inst, err := open(dir, cfg, token)
	if err != nil {
		return nil, err
	}
	instances.m[dir] = inst
	return inst, nil
}

// reloadable refuses Corefile changes that a reload cannot apply to a running
// instance: they need a restart (the raft node and the store are opened once), or,
// for the policy, they are not a change a key manager can make safely.
func reloadable(old, cfg *config) error {
	same := func(a, b *clusterConfig) bool {
		if a == nil || b == nil {
			return a == b
		}
		return a.NodeID == b.NodeID && a.RaftAddr == b.RaftAddr && a.RaftDir == b.RaftDir &&
			a.APIAdvertise == b.APIAdvertise && a.TLSCert == b.TLSCert && a.TLSKey == b.TLSKey && a.TLSCA == b.TLSCA
	}
	switch {
	case !same(old.Cluster, cfg.Cluster):
		return fmt.Errorf("mxsign: the cluster block changed: restart the server to apply it (a reload keeps the running raft node)")
	case old.Policy != nil && cfg.Policy != nil && old.Policy.CSK != cfg.Policy.CSK:
		return fmt.Errorf("mxsign: policy: csk changed: switching between a combined signing key and a KSK/ZSK pair is not a rollover the key manager performs; keep csk as it was")
	case !slices.Equal(old.ParentalAgents, cfg.ParentalAgents) || old.ParentDSCheckInterval != cfg.ParentDSCheckInterval:
		return fmt.Errorf("mxsign: parental-agents or parent-ds-check-interval changed: restart the server to apply them (the running key manager keeps its check)")
	case old.KEKFile != cfg.KEKFile:
		return fmt.Errorf("mxsign: kek-file changed: restart the server to apply it")
	case old.Cluster != nil && old.APIAddr != cfg.APIAddr:
		return fmt.Errorf("mxsign: api changed on a cluster member: restart it, so that the other members learn the new address")
	}
	return nil
}

func open(dir string, cfg *config, token string) (_ *instance, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mxsign: data %s: %w", dir, err)
	}
	dbPath := filepath.Join(dir, dbFile)
	_, statErr := os.Stat(dbPath)
	kek, err := loadKEK(cfg.KEKFile, statErr == nil)
	if err != nil {
		return nil, err
	}
	// The API listener is bound first: its address is replicated with the node record.
	ln, err := net.Listen("tcp", cfg.APIAddr)
	if err != nil {
		return nil, fmt.Errorf("mxsign: api %s: %w", cfg.APIAddr, err)
	}
	defer func() {
		if err != nil {
			ln.Close()
		}
	}()
	st, err := zonestore.Open(zonestore.Options{Path: dbPath, KEK: kek})
	if err != nil {
		return nil, fmt.Errorf("mxsign: %w", err)
	}
	advertise := ln.Addr().String()
	if cfg.Cluster != nil && cfg.Cluster.APIAdvertise != "" {
		advertise = cfg.Cluster.APIAdvertise
	}
	node, err := openNode(dir, cfg, st, advertise)
	if err != nil {
		st.Close()
		return nil, err
	}
	inst := &instance{
		key: dir, store: st, node: node, cfg: cfg, done: make(chan struct{}), wake: make(chan struct{}, 1), token: token,
		signer: signer.New(cfg.Signer), sigOpt: cfg.Signer, policy: newPolicyState(cfg.Policy, cfg.Signer),
		answers: newAnswerCaches(st, cfg.Parent),
		apiLn:   ln, apiAddr: cfg.APIAddr,
		prov: &zonestore.Provisioner{
			Store:   st,
			Applier: node,
			Keys:    keyFactory(kek, cfg.Zone.DNSKEYTTL),
			Now:     time.Now,
			Rand:    rand.Reader,
		},
	}
	// What the store served before this start: the settings proposed below may lower
	// its TTLs while caches still hold them.
	inst.observeServed()
	if cfg.Cluster == nil {
		// Embedded default: the node elects itself at once; make the parent zone
		// before the server answers its first query.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := node.WaitLeader(ctx); err != nil {
			node.Close()
			st.Close()
			return nil, fmt.Errorf("mxsign: raft did not elect this node: %w", err)
		}
		if err := inst.prov.Init(ctx, cfg.Zone, cfg.Profile); err != nil {
			node.Close()
			st.Close()
			return nil, fmt.Errorf("mxsign: initialize %s: %w", cfg.Parent, err)
		}
	}
	// A cluster member proposes its settings only when it bootstraps the cluster or is
	// reloaded (leaderLoop): restarting a node with an older Corefile must not roll the
	// cluster's profile back when it happens to win an election.
	go inst.leaderLoop()
	// The scheduler runs on every member, with or without a policy (a reload may set
	// one); it steps only as leader, through the gate.
	window := keymgr.DefaultPolicy()
	if cfg.Policy != nil {
		window = *cfg.Policy
	}
	inst.prop = inst.newPropagation(window)
	gate := &leaderGate{node: node}
	inst.ro = &rollover{store: st, applier: gate, keys: inst.prov.Keys,
		parentDS: newParentDSCheck(cfg.ParentalAgents, cfg.ParentDSCheckInterval), prop: inst.prop}
	go inst.rolloverLoop(inst.ro, gate)
	if cfg.Cluster != nil && len(cfg.Cluster.Join) > 0 {
		go inst.joinLoop(cfg.Cluster, advertise)
	}
	releaseStartupMemory(node, cfg.Cluster == nil)
	return inst, nil
}

// openNode starts raft: alone on an in-memory transport for the embedded default, or
// on TCP as configured by the cluster block.
func openNode(dir string, cfg *config, st *zonestore.Store, apiAddr string) (*cluster.Node, error) {
	cc := cluster.Config{
		APIAddr: apiAddr,
		Store:   st,
		Logger:  cluster.NewLogger("raft", hclog.Warn, log.Warningf),
	}
	if cl := cfg.Cluster; cl != nil {
		cc.ID, cc.RaftAddr, cc.Dir, cc.Voter = cl.NodeID, cl.RaftAddr, cl.RaftDir, cl.Voter
		cc.Bootstrap = len(cl.Join) == 0
		if cl.TLSCert != "" {
			tc, err := raftTLS(cl)
			if err != nil {
				return nil, err
			}
			cc.TLS = tc
		}
	} else {
		cc.ID, cc.Dir, cc.Voter, cc.Bootstrap = embeddedNodeID, filepath.Join(dir, "raft"), true, true
		cc.Transport = cluster.EmbeddedTransport(embeddedNodeID)
		cc.RaftConfig = cluster.SingleNodeTimeouts
	}
	node, err := cluster.Open(cc)
	if err != nil {
		return nil, fmt.Errorf("mxsign: raft: %w", err)
	}
	return node, nil
}

// embeddedNodeID is the raft server id of the embedded single-node default.
const embeddedNodeID = "mxsign"

// leaderLoop runs while this node leads: it creates the parent zone when a new
// cluster has none yet, and proposes this node's Corefile settings only if they were
// loaded or reloaded here and not proposed yet. A node merely winning an election does
// not push its (possibly older) Corefile over the cluster's: it warns instead.
func (inst *instance) leaderLoop() {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	warned := false
	for {
		select {
		case <-inst.done:
			return
		case <-t.C:
		}
		if !inst.node.IsLeader() {
			warned = false
			continue
		}
		inst.cfgMu.Lock()
		cfg, pending := inst.cfg, inst.pending
		inst.cfgMu.Unlock()
		_, _, initialized := inst.store.Config()
		if !initialized || pending {
			if err := inst.proposeConfig(); err != nil {
				log.Warningf("proposing the settings of %s: %v", cfg.Parent, err)
			}
			continue
		}
		if !warned && !inst.configMatches(cfg) {
			log.Warningf("this node's Corefile settings for %s differ from the cluster's; they are not applied (reload this node to propose them)", cfg.Parent)
			warned = true
		}
	}
}

// rolloverLoop runs the key manager on the leader: each second it checks whether a
// step is due (or a minute passed, to pick up new shards) and takes it. On every
// member it first records the TTLs the store serves, so that a member that becomes
// leader knows which old values still hold.
func (inst *instance) rolloverLoop(r *rollover, gate *leaderGate) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var next, last time.Time
	var term uint64 // the term this node leads in (0: not leading)
	barrier := false
	for {
		select {
		case <-inst.done:
			return
		case <-t.C:
		case <-inst.wake:
			next = time.Time{}
		}
		now := time.Now()
		if !inst.observeServed() {
			continue
		}
		p, holdEnds, managed := inst.policy.effective(now)
		if !managed || !inst.node.IsLeader() {
			if term != 0 {
				r.prop.reset() // the new leader waits for what this node proposed
			}
			gate.close()
			next, term = time.Time{}, 0
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		ok, err := gate.ready(ctx)
		cancel()
		if !ok {
			if err != nil {
				log.Warningf("key rollover: %v", err)
			}
			next = time.Time{}
			continue
		}
		if lt := gate.opened(); lt != term {
			// New in this term. The gate's barrier made this node's store hold
			// everything committed before; but the previous leader's last key
			// commands may not have reached every member yet: no step until every
			// member has applied everything committed so far.
			term, barrier = lt, true
			r.prop.observe(r.prop.clock(), inst.store.AppliedIndex())
		}
		if barrier && r.prop.Pending() {
			continue
		}
		barrier = false
		if !next.IsZero() && now.Before(next) && now.Sub(last) < time.Minute {
			continue
		}
		ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
		r.policy = p
		n, err := r.step(ctx, now)
		cancel()
		last = now
		if err != nil {
			log.Warningf("key rollover: %v", err)
			next = time.Time{}
			continue
		}
		if !holdEnds.IsZero() && (n.IsZero() || holdEnds.Before(n)) {
			n = holdEnds // the waits shorten when a hold ends
		}
		next = n
	}
}

// observeServed records the TTLs the store serves now in the policy state; false if
// the store has no settings yet.
func (inst *instance) observeServed() bool {
	zc, prof, ok := inst.store.Config()
	if ok {
		inst.policy.observe(time.Now(), zc, prof)
	}
	return ok
}

// logPolicyChange says what a reload did to the key policy.
func logPolicyChange(old, cur *keymgr.Policy, holdUntil time.Time) {
	switch {
	case cur == nil:
		log.Infof("key policy removed: rollovers stop where they are (every step's state is valid to keep) and no key is rolled until a policy is set again")
		return
	case old == nil:
		log.Infof("key policy set: the leader starts managing keys")
	default:
		log.Infof("key policy changed")
	}
	if !holdUntil.IsZero() {
		log.Infof("key rollover waits keep the earlier TTLs, delays and signature timing where they were longer, until %s (resolvers may still hold what was served under them); restarting this member before then forgets that", holdUntil.UTC().Format(time.RFC3339))
	}
}

// wakeRollover asks the scheduler to look at the zones now rather than at its next step.
func (inst *instance) wakeRollover() {
	select {
	case inst.wake <- struct{}{}:
	default:
	}
}

// proposeConfig proposes the current settings (Init writes nothing if they are in force).
func (inst *instance) proposeConfig() error {
	inst.cfgMu.Lock()
	cfg := inst.cfg
	inst.cfgMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := inst.prov.Init(ctx, cfg.Zone, cfg.Profile); err != nil {
		return err
	}
	inst.cfgMu.Lock()
	if inst.cfg == cfg {
		inst.pending = false
	}
	inst.cfgMu.Unlock()
	return nil
}

func (inst *instance) configMatches(cfg *config) bool {
	cur, prof, ok := inst.store.Config()
	return ok && reflect.DeepEqual(cur.WithDefaults(), cfg.Zone.WithDefaults()) && reflect.DeepEqual(prof.WithDefaults(), cfg.Profile.WithDefaults())
}

// joinLoop asks the configured members to add this node until a leader knows it.
func (inst *instance) joinLoop(cl *clusterConfig, apiAddr string) {
	voter := cl.Voter
	req := api.JoinRequest{ID: cl.NodeID, Raft: inst.node.RaftAddr(), API: apiAddr, Voter: &voter}
	backoff := 200 * time.Millisecond
	for {
		if inst.node.Status().Leader != "" && inst.isMember(cl.NodeID) {
			log.Infof("joined the cluster as %s", cl.NodeID)
			return
		}
		for _, addr := range cl.Join {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := client.New(addr, inst.apiToken()).Join(ctx, req)
			cancel()
			if err == nil {
				// The leader has added us: done, even before our own view shows it
				// (retrying later could re-add a node an operator just removed).
				log.Infof("joined the cluster as %s via %s", cl.NodeID, addr)
				return
			}
			log.Infof("join via %s: %v", addr, err)
		}
		select {
		case <-inst.done:
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (inst *instance) isMember(id string) bool {
	for _, n := range inst.node.Status().Nodes {
		if n.ID == id {
			return true
		}
	}
	return false
}

// keyFactory generates key material with the signer and seals it for the store. It runs
// on the proposer only; the command carries the sealed result (DESIGN.md invariant 1).
func keyFactory(kek []byte, ttl uint32) zonestore.KeyFactory {
	return func(zone string, role zonestore.KeyRole, alg uint8, now time.Time) (zonestore.Key, error) {
		dnskey, priv, err := signer.GenerateKey(zone, alg, role != zonestore.RoleZSK, ttl, rand.Reader)
		if err != nil {
			return zonestore.Key{}, err
		}
		der, err := signer.MarshalPrivateKey(priv)
		if err != nil {
			return zonestore.Key{}, err
		}
		idb := make([]byte, 8)
		if _, err := rand.Read(idb); err != nil {
			return zonestore.Key{}, err
		}
		id := hex.EncodeToString(idb)
		sealed, err := zonestore.SealKey(kek, zone, id, der, rand.Reader)
		if err != nil {
			return zonestore.Key{}, err
		}
		return zonestore.Key{
			Zone:        zone,
			ID:          id,
			Tag:         dnskey.KeyTag(),
			Algorithm:   alg,
			Role:        role,
			State:       zonestore.StateActive,
			DNSKEY:      dnskey.String(),
			Sealed:      sealed,
			DSPublished: role != zonestore.RoleZSK,
			Created:     now,
			Published:   now,
			Activated:   now,
		}, nil
	}
}

// loadKEK reads the key-encryption key from $MXSIGN_KEK or path. A missing file is
// created with a fresh key only when there is no store yet: a new KEK for an existing
// store would leave every key in it undecryptable.
func loadKEK(path string, storeExists bool) ([]byte, error) {
	if v := os.Getenv(envKEK); v != "" {
		return decodeKEK(v, "$"+envKEK)
	}
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		return decodeKEK(string(b), path)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("mxsign: kek-file: %w", err)
	case storeExists:
		return nil, fmt.Errorf("mxsign: kek-file %s is missing but the store exists: restore the key-encryption key (or set $%s); a new one could not decrypt the stored keys", path, envKEK)
	}
	kek, err := zonestore.GenerateKEK(rand.Reader)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("mxsign: kek-file: %w", err)
	}
	if err := writeFileExcl(path, []byte(hex.EncodeToString(kek)+"\n")); err != nil {
		return nil, fmt.Errorf("mxsign: kek-file: %w", err)
	}
	return kek, nil
}

func decodeKEK(s, from string) ([]byte, error) {
	kek, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(kek) != 32 {
		return nil, fmt.Errorf("mxsign: key-encryption key in %s must be 64 hex digits (32 bytes)", from)
	}
	return kek, nil
}

// writeFileExcl creates path with mode 0600, failing if it exists, and syncs it.
func writeFileExcl(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// serveAPI points the admin API at h, serving on the listener bound at open, or
// rebinding if a reload changed the address.
func (inst *instance) serveAPI(addr string, h http.Handler) error {
	inst.mu.Lock()
	defer inst.mu.Unlock()
	inst.handler.mu.Lock()
	inst.handler.h = h
	inst.handler.mu.Unlock()
	if inst.apiSrv != nil && inst.apiAddr == addr {
		return nil
	}
	if inst.apiAddr != addr || inst.apiLn == nil {
		if inst.apiSrv != nil {
			inst.apiSrv.Close()
			inst.apiSrv = nil
		} else if inst.apiLn != nil {
			inst.apiLn.Close()
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("mxsign: api %s: %w", addr, err)
		}
		inst.apiLn, inst.apiAddr = ln, addr
	}
	srv := &http.Server{
		Handler:           &inst.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	inst.apiSrv = srv
	ln := inst.apiLn
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Errorf("admin API on %s stopped: %v", addr, err)
		}
	}()
	log.Infof("admin API listening on %s", ln.Addr())
	return nil
}

// APIAddr returns the bound admin API address (useful with port 0 in tests).
func (inst *instance) APIAddr() string {
	inst.mu.Lock()
	defer inst.mu.Unlock()
	if inst.apiLn == nil {
		return ""
	}
	return inst.apiLn.Addr().String()
}

// release closes the instance for dir: called from OnFinalShutdown.
func release(dir string) error {
	instances.Lock()
	inst, ok := instances.m[dir]
	delete(instances.m, dir)
	instances.Unlock()
	if !ok {
		return nil
	}
	close(inst.done)
	inst.mu.Lock()
	if inst.apiSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		inst.apiSrv.Shutdown(ctx)
		cancel()
		inst.apiSrv = nil
	} else if inst.apiLn != nil {
		inst.apiLn.Close()
	}
	inst.mu.Unlock()
	return errors.Join(inst.node.Close(), inst.store.Close())
}

func (inst *instance) setToken(tok string) {
	inst.mu.Lock()
	inst.token = tok
	inst.mu.Unlock()
}

func (inst *instance) apiToken() string {
	inst.mu.Lock()
	defer inst.mu.Unlock()
	return inst.token
}

// tokenFor makes sure the API token file exists and returns the token.
func tokenFor(path string) (string, error) {
	tok, created, err := api.EnsureTokenFile(path, rand.Reader)
	if err != nil {
		return "", fmt.Errorf("mxsign: token-file: %w", err)
	}
	if created {
		log.Infof("wrote a new admin API token to %s", path)
	}
	return tok, nil
}
