package mxsign

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"github.com/miekg/dns"

	"github.com/mxsign/mxsign/cluster"
	"github.com/mxsign/mxsign/signer"
	"github.com/mxsign/mxsign/signer/keymgr"
	"github.com/mxsign/mxsign/testzones"
	"github.com/mxsign/mxsign/zonestore"
)

// fakeClock is a fake clock shared with raft's goroutines (node commands).
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) tick() {
	c.mu.Lock()
	c.t = c.t.Add(time.Second)
	c.mu.Unlock()
}

// raftMember is one node of an in-process raft cluster over TCP on 127.0.0.1: a store, a
// raft node, the responder that answers from the store, and the scheduler's gate.
type raftMember struct {
	id, dir, addr string
	st            *zonestore.Store
	node          *cluster.Node
	gate          *leaderGate
	r             *responder
}

func (m *raftMember) up() bool { return m.node != nil }

// startMember opens (or reopens, on the same directory and address) a member whose
// responder signs with sig.
func startMember(t *testing.T, m *raftMember, kek []byte, sig signer.Options, clock *fakeClock, bootstrap bool) {
	t.Helper()
	st, err := zonestore.Open(zonestore.Options{Path: filepath.Join(m.dir, "mxsign.db"), KEK: kek})
	if err != nil {
		t.Fatal(err)
	}
	addr := m.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	node, err := cluster.Open(cluster.Config{
		ID: m.id, RaftAddr: addr, APIAddr: "api-" + m.id, Dir: filepath.Join(m.dir, "raft"),
		Store: st, Bootstrap: bootstrap, Voter: true, Logger: hclog.NewNullLogger(), Now: clock.Now,
		RaftConfig: func(c *raft.Config) { // elections in a second or two, stable under -race on a loaded box
			c.HeartbeatTimeout, c.ElectionTimeout = time.Second, time.Second
			c.LeaderLeaseTimeout, c.CommitTimeout = 500*time.Millisecond, 5*time.Millisecond
		},
	})
	if err != nil {
		st.Close()
		t.Fatalf("start %s: %v", m.id, err)
	}
	m.st, m.node, m.addr = st, node, node.RaftAddr()
	m.gate = &leaderGate{node: node}
	m.r = &responder{store: st, signer: signer.New(sig), keys: newKeyring(st), now: clock.Now, bufSize: 1232, log: log}
}

func (m *raftMember) stop(t *testing.T) {
	t.Helper()
	if !m.up() {
		return
	}
	if err := m.node.Close(); err != nil {
		t.Errorf("close %s: %v", m.id, err)
	}
	if err := m.st.Close(); err != nil {
		t.Errorf("close store %s: %v", m.id, err)
	}
	m.node = nil
}

// handOver is the scheduler's applier for one step: it passes commands through the
// gate and, after the first one that adds a key (a Generate), makes the leader hand
// leadership over at once, so the next leader is elected while its store may still
// lack that command.
type handOver struct {
	m     *raftMember
	fired bool
	key   string             // the generated key
	stale *zonestore.Command // the command the old leader wanted next
}

func (h *handOver) Apply(ctx context.Context, cmd *zonestore.Command) (*zonestore.Result, error) {
	if h.fired {
		h.stale = cmd
		return nil, errors.New("leadership was handed over")
	}
	newKey := ""
	if cmd.Keys != nil {
		old, _ := h.m.st.Keys(cmd.Keys.Zone)
		for _, k := range cmd.Keys.Keys {
			if byID(old, k.ID) == nil {
				newKey = k.ID
			}
		}
	}
	res, err := h.m.gate.Apply(ctx, cmd)
	if err == nil && newKey != "" {
		h.fired, h.key = true, newKey
		if err := h.m.node.Raft().LeadershipTransfer().Error(); err != nil {
			return nil, fmt.Errorf("leadership transfer: %w", err)
		}
	}
	return res, err
}

// TestRolloverLeaderChange runs the scheduler of a real three-node raft cluster on a
// fake clock (raft itself runs in real time; elections are awaited by polling with a
// deadline) and changes the leader three times mid-roll:
//   - a shard's ZSK successor is published, not yet active: the leader is stopped,
//     restarted twenty fake seconds later, and catches up;
//   - a key was just generated: the leader hands leadership over right after that
//     command, and the new leader steps at once, before raft has necessarily applied
//     the command on it (the gate's barrier makes it wait; the key records'
//     compare-and-set would refuse a decision made without it);
//   - a shard's KSK double-DS roll has its new DS published, the swap not yet done:
//     leadership is transferred.
//
// Every fake second the leader steps, every running member catches up, and then: no
// zone has two successors of a role (the new leader generated no duplicate), every
// member serves the same DNSKEY and DS sets, and answers from every member validate
// from the registry's DS down. Each interrupted roll completes with the successor that
// existed when the leader changed.
func TestRolloverLeaderChange(t *testing.T) {
	p, err := keymgr.ParsePolicy(strings.NewReader(testzones.FastPolicy))
	if err != nil {
		t.Fatal(err)
	}
	kek, err := zonestore.GenerateKEK(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)}
	ctx := context.Background()
	members := make([]*raftMember, 3)
	for i := range members {
		members[i] = &raftMember{id: fmt.Sprintf("n%d", i+1), dir: t.TempDir()}
	}
	t.Cleanup(func() {
		for _, m := range members {
			m.stop(t)
		}
	})
	cfg := &config{
		Zone: zonestore.Config{Parent: "mx.example.",
			NameServers: []zonestore.NameServer{{Name: "ns1.mx.example.", A: []string{"192.0.2.53"}}}}.WithDefaults(),
		Profile: zonestore.Profile{TTL: 300, A: []string{"192.0.2.25"}, TLSA: []string{testTLSA}},
		Policy:  &p,
	}
	applyPolicy(cfg)
	startMember(t, members[0], kek, cfg.Signer, clock, true)
	waitFor(t, "n1 to lead", 10*time.Second, members[0].node.IsLeader)

	keys := keyFactory(kek, cfg.Zone.DNSKEYTTL)
	prov := &zonestore.Provisioner{Store: members[0].st, Applier: members[0].node, Keys: keys, Now: clock.Now, Rand: rand.Reader}
	if err := prov.Init(ctx, cfg.Zone, cfg.Profile); err != nil {
		t.Fatal(err)
	}
	res, err := prov.AddDomains(ctx, []string{"contoso.com"})
	if err != nil || res[0].Err != nil {
		t.Fatalf("add: %v %v", err, res)
	}
	host, shard := res[0].Host.Name(), res[0].Host.Shard
	for _, m := range members[1:] {
		startMember(t, m, kek, cfg.Signer, clock, false)
		if err := members[0].node.Join(ctx, m.id, m.addr, "api-"+m.id, true); err != nil {
			t.Fatalf("join %s: %v", m.id, err)
		}
	}

	// leader waits for a member that leads and whose gate is open: it has applied
	// everything committed before its term.
	leader := func() *raftMember {
		var l *raftMember
		waitFor(t, "a leader that caught up", 15*time.Second, func() bool {
			for _, m := range members {
				if !m.up() || !m.node.IsLeader() {
					continue
				}
				if ok, _ := m.gate.ready(ctx); ok {
					l = m
					return true
				}
			}
			return false
		})
		return l
	}
	caughtUp := func(l *raftMember) {
		waitFor(t, "every member to apply the leader's log", 15*time.Second, func() bool {
			for _, m := range members {
				if m.up() && m.st.AppliedIndex() != l.st.AppliedIndex() {
					return false
				}
			}
			return true
		})
	}
	l := leader()
	caughtUp(l)
	svc := func(l *raftMember) *keyService {
		return &keyService{store: l.st, applier: l.node, policy: &p, now: clock.Now}
	}
	reg := newRegistry(t, l.st, 3*time.Second)

	// The three leader changes, each armed once.
	var (
		stopped                   *raftMember
		stoppedAt                 time.Time
		zskSucc, genKey, kskSucc  string
		zskDone, genDone, kskDone bool
		changes                   int
		zskTags, kskTags          = map[uint16]bool{}, map[uint16]bool{}
		checks                    int
	)
	const seconds = 330
	for i := range seconds {
		now := clock.Now()
		l = leader()
		var applier zonestore.Applier = l.gate
		var ho *handOver
		if zskDone && stopped == nil && !genDone && genKey == "" {
			ho = &handOver{m: l}
			applier = ho
		}
		ro := &rollover{store: l.st, applier: applier, keys: keys, policy: p}
		_, err := ro.step(ctx, now)
		switch {
		case ho != nil && ho.fired:
			genKey = ho.key
			t.Logf("%v: %s generated key %s and handed leadership over", now, l.id, genKey)
			changes++
			// The old leader's next decision is refused, never forwarded.
			if ho.stale == nil {
				t.Fatal("the old leader had no further command after the generate")
			}
			if _, err := l.gate.Apply(ctx, ho.stale); !errors.Is(err, errStaleLeader) && !errors.Is(err, cluster.ErrNotLeader) {
				t.Fatalf("%v: the old leader %s applied a stale decision: %v", now, l.id, err)
			}
			// Step at once on the new leader: its gate first waits until it has
			// applied everything its predecessor committed.
			l = leader()
			if _, err := (&rollover{store: l.st, applier: l.gate, keys: keys, policy: p}).step(ctx, now); err != nil {
				t.Fatalf("%v: step on the new leader %s: %v", now, l.id, err)
			}
		case errors.Is(err, raft.ErrLeadershipLost) || errors.Is(err, cluster.ErrNotLeader):
			// Leadership moved on its own (a loaded machine): like the scheduler's
			// loop, decide again on whoever leads; a command whose outcome is
			// unknown either committed (the key generation moved on, so a stale
			// write fails) or did not.
			t.Logf("%v: step on %s: %v; again on the new leader", now, l.id, err)
			l = leader()
			if _, err := (&rollover{store: l.st, applier: l.gate, keys: keys, policy: p}).step(ctx, now); err != nil {
				t.Fatalf("%v: step on the new leader %s: %v", now, l.id, err)
			}
		case err != nil:
			t.Fatalf("%v: step on %s: %v", now, l.id, err)
		}
		reg.tick(t, now, l.st, svc(l))
		caughtUp(l)

		checkSuccessors(t, now, l.st)
		checkSameKeys(t, now, members)
		for _, m := range members {
			if !m.up() {
				continue
			}
			v := newValidator(t, "", "mx.example.", reg.anchor, now)
			v.ask = func(q *dns.Msg) (*dns.Msg, error) {
				resp, _ := m.r.respond(q, false)
				return resp, nil
			}
			if err := checkAnswers(v, host, shard, zskTags, kskTags); err != nil {
				t.Fatalf("%v (+%ds): answer from %s: %v", now, i, m.id, err)
			}
			checks += 4
		}

		shardKeys, err := l.st.Keys(shard)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case zskSucc == "" && stopped == nil:
			// A ZSK successor published, not yet active: stop the leader.
			if k := find(shardKeys, func(k zonestore.Key) bool {
				return k.Role == zonestore.RoleZSK && !k.Published.IsZero() && k.Activated.IsZero()
			}); k != nil {
				zskSucc, stopped, stoppedAt = k.ID, l, now
				t.Logf("%v: ZSK %s pre-published; stopping the leader %s", now, k.ID, l.id)
				l.stop(t)
				changes++
			}
		case stopped != nil && now.Sub(stoppedAt) >= 20*time.Second:
			t.Logf("%v: restarting %s", now, stopped.id)
			startMember(t, stopped, kek, cfg.Signer, clock, false)
			stopped = nil
		case kskSucc == "" && genDone && stopped == nil:
			// A KSK successor whose DS is published, not yet in the DNSKEY RRset.
			if k := find(shardKeys, func(k zonestore.Key) bool {
				return k.Role == zonestore.RoleKSK && !k.DSPublishedAt.IsZero() && k.Published.IsZero()
			}); k != nil {
				kskSucc = k.ID
				t.Logf("%v: KSK %s has its DS published, not swapped in; transferring leadership from %s", now, k.ID, l.id)
				if err := l.node.Raft().LeadershipTransfer().Error(); err != nil {
					t.Fatal(err)
				}
				changes++
			}
		}
		// The interrupted rolls complete with the successor they had.
		if k := byID(shardKeys, zskSucc); k != nil && !zskDone && !k.Activated.IsZero() {
			zskDone = true
		}
		if genKey != "" && !genDone {
			for _, z := range l.st.Zones() {
				zk, _ := l.st.Keys(z.Name)
				if k := byID(zk, genKey); k != nil && !k.Activated.IsZero() {
					genDone = true
				}
			}
		}
		if k := byID(shardKeys, kskSucc); k != nil && !kskDone && !k.Activated.IsZero() {
			kskDone = true
		}
		clock.tick()
	}
	if !zskDone || !genDone || !kskDone || changes != 3 {
		t.Fatalf("leader changes %d; rolls completed: ZSK %s %v, generated %s %v, KSK %s %v", changes, zskSucc, zskDone, genKey, genDone, kskSucc, kskDone)
	}
	t.Logf("%d answers validated from %d members over %d s; %d ZSKs and %d KSKs signed them; %d leader changes",
		checks, len(members), seconds, len(zskTags), len(kskTags), changes)
}

// checkSuccessors fails if a zone has two keys of a role waiting to start signing: a
// leader generated a successor while one existed.
func checkSuccessors(t *testing.T, now time.Time, st *zonestore.Store) {
	t.Helper()
	for _, z := range st.Zones() {
		keys, err := st.Keys(z.Name)
		if err != nil {
			t.Fatal(err)
		}
		waiting := map[zonestore.KeyRole][]string{}
		for _, k := range keys {
			if k.Activated.IsZero() && k.Retired.IsZero() {
				waiting[k.Role] = append(waiting[k.Role], k.ID)
			}
		}
		for role, ids := range waiting {
			if len(ids) > 1 {
				t.Fatalf("%v: %s has %d %s successors %v: a duplicate was generated", now, z.Name, len(ids), role, ids)
			}
		}
	}
}

// checkSameKeys fails unless every running member serves the same DNSKEY RRsets and
// DS sets in every zone.
func checkSameKeys(t *testing.T, now time.Time, members []*raftMember) {
	t.Helper()
	var want, from string
	for _, m := range members {
		if !m.up() {
			continue
		}
		var b strings.Builder
		for _, z := range m.st.Zones() {
			keys, err := m.st.Keys(z.Name)
			if err != nil {
				t.Fatal(err)
			}
			ds, err := m.st.DS(z.Name)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s serial %d DNSKEY [%s] DS [", z.Name, z.Serial, servedDNSKEYs(keys))
			for _, d := range ds {
				b.WriteString(d.String() + ";")
			}
			b.WriteString("]\n")
		}
		if from == "" {
			want, from = b.String(), m.id
		} else if b.String() != want {
			t.Fatalf("%v: %s serves\n%s\n%s serves\n%s", now, from, want, m.id, b.String())
		}
	}
}

func find(keys []zonestore.Key, ok func(zonestore.Key) bool) *zonestore.Key {
	for i := range keys {
		if ok(keys[i]) {
			return &keys[i]
		}
	}
	return nil
}

func byID(keys []zonestore.Key, id string) *zonestore.Key {
	return find(keys, func(k zonestore.Key) bool { return id != "" && k.ID == id })
}
