package zonestore

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/miekg/dns"
	bolt "go.etcd.io/bbolt"
)

// Apply executes cmd as log entry index in one bbolt transaction that also
// records index as applied, then updates the in-memory index and notifies
// subscribers. An index at or below AppliedIndex is a no-op, so replaying a
// log is idempotent.
//
// A whole-command failure (ErrBadCommand, ErrNotInitialized, ErrExists for a
// second init, ErrSeal) is returned as the error; nothing but the applied
// index is written, so every replica advances identically. Otherwise the
// Result holds one outcome per host item; a failed item writes nothing.
//
// Apply reads neither the clock nor a random source: everything comes from
// cmd and the current state.
func (s *Store) Apply(index uint64, cmd *Command) (*Result, error) {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	if s.db == nil {
		return nil, ErrClosed
	}
	if index <= s.applied.Load() {
		return &Result{}, nil
	}
	// s.ix is only replaced or modified under applyMu, which we hold, so it
	// can be read here without s.mu.
	ch, cmdErr := plan(s.ix, s.kek, index, cmd)
	if errors.Is(cmdErr, ErrSeal) && !s.ix.hasKeys() {
		// Nothing in this store proves this node's KEK yet (Open unseals every
		// stored key, so a store with keys has the right one). Unsealing then
		// depends on the node, not on the replicated state: a node that cannot
		// unseal must stop rather than skip the command and diverge from the
		// others, so the index is not advanced.
		return nil, fmt.Errorf("zonestore: apply %s at %d: this node's key-encryption key cannot unseal the command's keys (is it the cluster's KEK?): %w", cmd.Op, index, cmdErr)
	}
	if cmdErr != nil {
		if err := s.db.Update(func(tx *bolt.Tx) error { return putApplied(tx, index) }); err != nil {
			return nil, fmt.Errorf("zonestore: record applied index %d: %w", index, err)
		}
		s.applied.Store(index)
		return nil, cmdErr
	}
	if err := s.db.Update(func(tx *bolt.Tx) error { return ch.write(tx, index) }); err != nil {
		return nil, fmt.Errorf("zonestore: apply %s at %d: %w", cmd.Op, index, err)
	}
	s.applied.Store(index) // committed: never re-plan this index, whatever follows
	if index%dropEveryApply == 0 {
		// Each command reads the pages of the buckets it writes (a batch ~120)
		// and nothing reads them after: a bulk load would leave the whole file
		// mapped. Drop them now and then (mapped_linux.go).
		s.db.View(func(tx *bolt.Tx) error { dropMapped(tx); return nil })
	}
	s.updateIndex(ch)
	s.notify(ch.changed)
	return ch.result, nil
}

// dropEveryApply is how many log indexes apart Apply drops the mapped pages it
// read: at most 64 batches' pages (~30 MB) stay mapped.
const dropEveryApply = 64

// change is everything one command writes, computed before the transaction
// so that the transaction and the index update do the same thing.
type change struct {
	cfg      *Config
	prof     *Profile
	zones    []zoneRecord // created or updated, parent first
	keys     []loadedKey  // new or updated keys
	sealed   []Key        // the same keys as stored (Sealed set)
	addHosts []Host
	delHosts []Host
	node     *NodeCmd // set or remove one cluster member
	all      bool     // config changed: rebuild every zone
	changed  []string
	result   *Result
}

func (ch *change) write(tx *bolt.Tx, index uint64) error {
	meta := tx.Bucket(bucketMeta)
	if ch.cfg != nil {
		if err := putJSON(meta, metaConfig, ch.cfg); err != nil {
			return err
		}
		if err := putJSON(meta, metaProfile, ch.prof); err != nil {
			return err
		}
	}
	zb := tx.Bucket(bucketZones)
	for _, z := range ch.zones {
		if err := putJSON(zb, []byte(z.Name), z); err != nil {
			return err
		}
	}
	kb := tx.Bucket(bucketKeys)
	for _, k := range ch.sealed {
		if err := putJSON(kb, keyKey(k.Zone, k.ID), k); err != nil {
			return err
		}
	}
	for _, h := range ch.addHosts {
		if err := putHost(tx, h); err != nil {
			return err
		}
	}
	for _, h := range ch.delHosts {
		if err := deleteHost(tx, h); err != nil {
			return err
		}
	}
	if ch.node != nil {
		if err := writeNode(tx, ch.node); err != nil {
			return err
		}
	}
	return putApplied(tx, index)
}

// update applies the committed change to the index (under Store.mu).
func (ch *change) update(ix *index) {
	if ch.cfg != nil {
		ix.setConfig(*ch.cfg, *ch.prof)
	}
	for _, z := range ch.zones {
		ix.putZone(z)
	}
	byZone := make(map[string][]loadedKey)
	for _, k := range ch.keys {
		byZone[k.key.Zone] = append(byZone[k.key.Zone], k)
	}
	for zone, ks := range byZone {
		ix.putKeys(zone, ks)
	}
	ix.deleteHosts(ch.delHosts)
	ix.addHosts(ch.addHosts)
	if ch.node != nil {
		ix.updateNode(ch.node)
	}
	if ch.all {
		ix.rebuildAll()
		return
	}
	parent := false
	for _, z := range ch.zones {
		if z.Kind == KindParent {
			parent = true
			continue
		}
		ix.rebuildZone(ix.zones[z.Name])
	}
	if parent {
		ix.rebuildZone(ix.zones[ix.parent])
		ix.rebuildParentNodes()
	}
}

// nextSerial is the serial after old for a change made at t:
// max(old+1, t as Unix seconds).
func nextSerial(old uint32, t time.Time) uint32 {
	return max(old+1, uint32(t.Unix()))
}

// plan validates cmd against the current index and computes its change.
func plan(ix *index, kek []byte, index uint64, cmd *Command) (*change, error) {
	if err := cmd.check(); err != nil {
		return nil, err
	}
	t := cmd.Time.UTC()
	switch cmd.Op {
	case OpInit:
		return planInit(ix, kek, index, t, cmd.Init)
	case OpConfig:
		return planConfig(ix, t, cmd.Config)
	case OpAddHosts:
		return planAddHosts(ix, kek, index, t, cmd.AddHosts)
	case OpDeleteHosts:
		return planDeleteHosts(ix, t, cmd.DeleteHosts)
	case OpNode:
		return planNode(cmd.Node)
	case OpKeys:
		return planKeys(ix, kek, index, t, cmd.Keys)
	}
	return nil, fmt.Errorf("%w: unknown op %q", ErrBadCommand, cmd.Op)
}

func validConfig(cfg Config, prof Profile) (Config, Profile, error) {
	cfg, prof = cfg.WithDefaults(), prof.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return cfg, prof, err
	}
	if err := prof.Validate(); err != nil {
		return cfg, prof, err
	}
	return cfg, prof, nil
}

// loadKeys checks and unseals the keys of a new zone. It returns them loaded
// and as stored (a Timed key gets the State its timestamps derive).
func loadKeys(kek []byte, zone string, keys []Key) ([]loadedKey, []Key, error) {
	if len(keys) == 0 {
		return nil, nil, fmt.Errorf("%w: zone %s has no keys", ErrBadCommand, zone)
	}
	ids := make(map[string]bool, len(keys))
	out := make([]loadedKey, 0, len(keys))
	stored := make([]Key, 0, len(keys))
	for _, k := range keys {
		if k.Timed {
			k.State = k.DeriveState()
		}
		dk, err := checkKey(k, zone)
		if err != nil {
			return nil, nil, err
		}
		if ids[k.ID] {
			return nil, nil, fmt.Errorf("%w: zone %s: key id %q twice", ErrBadCommand, zone, k.ID)
		}
		ids[k.ID] = true
		signer, err := openKey(kek, k, dk)
		if err != nil {
			return nil, nil, err
		}
		stored = append(stored, k)
		sealed := k.Sealed
		k.Sealed = nil
		out = append(out, loadedKey{key: k, dnskey: dk, signer: signer, sealed: sealed})
	}
	return out, stored, nil
}

func planInit(ix *index, kek []byte, index uint64, t time.Time, c *InitCmd) (*change, error) {
	if ix.initialized {
		return nil, fmt.Errorf("%w: parent zone %s is initialized", ErrExists, ix.parent)
	}
	cfg, prof, err := validConfig(c.Config, c.Profile)
	if err != nil {
		return nil, err
	}
	keys, stored, err := loadKeys(kek, cfg.Parent, c.Keys)
	if err != nil {
		return nil, err
	}
	return &change{
		cfg:     &cfg,
		prof:    &prof,
		zones:   []zoneRecord{{Name: cfg.Parent, Kind: KindParent, Serial: nextSerial(0, t), Created: t, KeyGen: index}},
		keys:    keys,
		sealed:  stored,
		all:     true,
		changed: []string{cfg.Parent},
		result:  &Result{},
	}, nil
}

func planConfig(ix *index, t time.Time, c *ConfigCmd) (*change, error) {
	if !ix.initialized {
		return nil, ErrNotInitialized
	}
	cfg, prof, err := validConfig(c.Config, c.Profile)
	if err != nil {
		return nil, err
	}
	if cfg.Parent != ix.parent {
		return nil, fmt.Errorf("%w: the parent zone cannot change from %s to %s", ErrBadCommand, ix.parent, cfg.Parent)
	}
	for _, ns := range cfg.NameServers {
		for _, sh := range ix.shards {
			if dns.IsSubDomain(sh, ns.Name) {
				return nil, fmt.Errorf("%w: name server %s is inside shard %s", ErrBadCommand, ns.Name, sh)
			}
		}
	}
	ch := &change{cfg: &cfg, prof: &prof, all: true, result: &Result{}}
	for _, name := range ix.zoneNames() {
		rec := ix.zones[name].rec
		rec.Serial = nextSerial(rec.Serial, t)
		ch.zones = append(ch.zones, rec)
		ch.changed = append(ch.changed, name)
	}
	return ch, nil
}

// validShardName reports whether name is "<4 x [a-z0-9]>.<parent>".
func validShardName(name, parent string) bool {
	if len(name) != 5+len(parent) || name[4] != '.' || name[5:] != parent {
		return false
	}
	for i := range 4 {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// shardNameFree reports whether a new shard may be created at name: no zone
// there, and no name of the parent zone (glue, ENT) at or below it.
func (ix *index) shardNameFree(name string) bool {
	if ix.zones[name] != nil {
		return false
	}
	for _, ns := range ix.cfg.NameServers {
		if dns.IsSubDomain(name, ns.Name) {
			return false
		}
	}
	return true
}

func planAddHosts(ix *index, kek []byte, index uint64, t time.Time, c *AddHostsCmd) (*change, error) {
	if !ix.initialized {
		return nil, ErrNotInitialized
	}
	ch := &change{result: &Result{Items: make([]ItemResult, 0, len(c.Hosts))}}
	counts := make(map[string]int) // hosts per shard, this command included
	for _, name := range ix.shards {
		counts[name] = ix.zones[name].nhosts
	}
	changed := make(map[string]bool)
	seenShard := make(map[string]bool, len(c.NewShards))
	var newZones []zoneRecord
	for _, ns := range c.NewShards {
		if !validShardName(ns.Name, ix.parent) {
			return nil, fmt.Errorf("%w: shard name %q is not <4 x [a-z0-9]>.%s", ErrBadCommand, ns.Name, ix.parent)
		}
		if seenShard[ns.Name] {
			return nil, fmt.Errorf("%w: new shard %s listed twice", ErrBadCommand, ns.Name)
		}
		seenShard[ns.Name] = true
		keys, stored, err := loadKeys(kek, ns.Name, ns.Keys)
		if err != nil {
			return nil, err
		}
		if !ix.shardNameFree(ns.Name) {
			// Created meanwhile by another command (or clashing with a parent
			// name): skip it; hosts planned into it are re-checked below.
			continue
		}
		newZones = append(newZones, zoneRecord{Name: ns.Name, Kind: KindShard, Serial: nextSerial(0, t), Created: t, KeyGen: index})
		ch.keys = append(ch.keys, keys...)
		ch.sealed = append(ch.sealed, stored...)
		counts[ns.Name] = 0
		changed[ns.Name] = true
	}

	domains := make(map[string]bool, len(c.Hosts))
	labels := make(map[string]bool, len(c.Hosts))
	for _, h := range c.Hosts {
		host, err := ix.checkNewHost(h, domains, labels, counts)
		if err != nil {
			ch.result.Items = append(ch.result.Items, ItemResult{Domain: h.Domain, Err: err})
			continue
		}
		host.Created = t
		domains[host.Domain], labels[host.Label] = true, true
		counts[host.Shard]++
		changed[host.Shard] = true
		ch.addHosts = append(ch.addHosts, host)
		ch.result.Items = append(ch.result.Items, ItemResult{Domain: host.Domain, Host: &host})
	}

	if len(newZones) > 0 {
		rec := ix.zones[ix.parent].rec
		rec.Serial = nextSerial(rec.Serial, t)
		ch.zones = append(ch.zones, rec)
		ch.changed = append(ch.changed, ix.parent)
	}
	isNew := make(map[string]bool, len(newZones))
	for _, z := range newZones {
		isNew[z.Name] = true
	}
	for _, name := range sortedKeys(changed) {
		if isNew[name] {
			continue
		}
		rec := ix.zones[name].rec
		rec.Serial = nextSerial(rec.Serial, t)
		ch.zones = append(ch.zones, rec)
	}
	ch.zones = append(ch.zones, newZones...)
	ch.changed = append(ch.changed, sortedKeys(changed)...)
	return ch, nil
}

// checkNewHost re-checks one host item against the state and the items
// accepted earlier in the same command.
func (ix *index) checkNewHost(h Host, domains, labels map[string]bool, counts map[string]int) (Host, error) {
	if err := checkLDH(h.Domain); err != nil {
		return Host{}, fmt.Errorf("%w: %q: %v", ErrInvalidDomain, h.Domain, err)
	}
	if inZone(h.Domain, ix.parent) {
		return Host{}, fmt.Errorf("%w: %s is inside %s", ErrInOwnZone, h.Domain, ix.parent)
	}
	if want := hostLabel(h.Domain); h.Label != want {
		return Host{}, fmt.Errorf("%w: %s: label %q, want %q", ErrInvalidDomain, h.Domain, h.Label, want)
	}
	if _, ok := ix.hosts.find(h.Domain, h.Label); ok || domains[h.Domain] {
		return Host{}, fmt.Errorf("%w: %s", ErrExists, h.Domain)
	}
	if d := ix.hosts.owner(h.Label); d != "" || labels[h.Label] {
		return Host{}, fmt.Errorf("%w: label %s of %s is taken by %s", ErrExists, h.Label, h.Domain, d)
	}
	n, ok := counts[h.Shard]
	if !ok {
		return Host{}, fmt.Errorf("%w: shard %q for %s", ErrZoneNotFound, h.Shard, h.Domain)
	}
	if n >= ix.cfg.ShardSize {
		return Host{}, fmt.Errorf("%w: %s has %d hosts", ErrShardFull, h.Shard, n)
	}
	return Host{Domain: h.Domain, Label: h.Label, Shard: h.Shard}, nil
}

func planDeleteHosts(ix *index, t time.Time, c *DeleteHostsCmd) (*change, error) {
	if !ix.initialized {
		return nil, ErrNotInitialized
	}
	ch := &change{result: &Result{Items: make([]ItemResult, 0, len(c.Domains))}}
	gone := make(map[string]bool, len(c.Domains))
	changed := make(map[string]bool)
	for _, d := range c.Domains {
		host, ok := ix.host(d)
		if !ok || gone[d] {
			ch.result.Items = append(ch.result.Items, ItemResult{Domain: d, Err: fmt.Errorf("%w: %s", ErrHostNotFound, d)})
			continue
		}
		gone[d] = true
		changed[host.Shard] = true
		ch.delHosts = append(ch.delHosts, host)
		ch.result.Items = append(ch.result.Items, ItemResult{Domain: d, Host: &host})
	}
	for _, name := range sortedKeys(changed) {
		rec := ix.zones[name].rec
		rec.Serial = nextSerial(rec.Serial, t)
		ch.zones = append(ch.zones, rec)
		ch.changed = append(ch.changed, name)
	}
	return ch, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// updateIndex applies a committed change to the in-memory index under the read lock's
// writer side; the deferred unlock keeps readers alive even if the update panics.
func (s *Store) updateIndex(ch *change) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch.update(s.ix)
}

// hasKeys reports whether any zone holds keys: all of them were unsealed with this
// store's KEK, which is therefore the one the cluster uses.
func (ix *index) hasKeys() bool {
	for _, z := range ix.zones {
		if len(z.keys) > 0 {
			return true
		}
	}
	return false
}
