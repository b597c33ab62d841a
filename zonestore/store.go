package zonestore

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Options configure Open.
type Options struct {
	Path string // bbolt file
	KEK  []byte // 32-byte key-encryption key (AES-256-GCM)
}

// Store is the replicated state of one node: a bbolt file and the in-memory
// index built from it.
type Store struct {
	path string
	kek  []byte

	// applyMu serializes Apply, Restore and Close: the writers of db and ix.
	applyMu sync.Mutex
	applied atomic.Uint64

	// mu guards db (the pointer) and ix for readers.
	mu sync.RWMutex
	db *bolt.DB
	ix *index

	subMu sync.Mutex
	subs  []func(zones []string)
}

// lockTimeout bounds the wait for bbolt's exclusive file lock, so a second
// process on the same file fails instead of hanging.
const lockTimeout = time.Second

// Open opens or creates the store at opts.Path, creates missing buckets,
// rebuilds the index and unseals every key with opts.KEK. A file that is
// not a store gives an error wrapping ErrCorrupt; a wrong KEK one wrapping
// ErrSeal.
func Open(opts Options) (*Store, error) {
	if len(opts.KEK) != KEKSize {
		return nil, fmt.Errorf("%w: key-encryption key must be %d bytes, got %d", ErrSeal, KEKSize, len(opts.KEK))
	}
	db, ix, applied, err := openDB(opts.Path, opts.KEK)
	if err != nil {
		return nil, err
	}
	s := &Store{path: opts.Path, kek: slices.Clone(opts.KEK), db: db, ix: ix}
	s.applied.Store(applied)
	return s, nil
}

func openDB(path string, kek []byte) (db *bolt.DB, ix *index, applied uint64, err error) {
	db, err = openBolt(path)
	if err != nil {
		return nil, nil, 0, err
	}
	if err := db.Update(createBuckets); err != nil {
		db.Close()
		return nil, nil, 0, fmt.Errorf("zonestore: %s: %w", path, err)
	}
	if err := migrate(db, migrateBatch); err != nil {
		db.Close()
		return nil, nil, 0, fmt.Errorf("zonestore: %s: %w", path, err)
	}
	if err := db.View(func(tx *bolt.Tx) error {
		var err error
		ix, applied, err = load(tx, kek)
		// The index is built: reads no longer need the pages load touched.
		dropMapped(tx)
		return err
	}); err != nil {
		db.Close()
		return nil, nil, 0, fmt.Errorf("zonestore: %s: %w", path, err)
	}
	return db, ix, applied, nil
}

// initialMmapSize is the address space bbolt maps up front. A write that must grow the
// map waits for every open read transaction, and a raft snapshot holds one for as long
// as it streams; mapping 1 GiB at once (address space, not memory: a million hosts fit)
// keeps applies from stalling behind snapshots.
const initialMmapSize = 1 << 30

func openBolt(path string) (db *bolt.DB, err error) {
	defer func() {
		// bbolt can panic on some malformed files instead of returning an error.
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, path, r)
		}
	}()
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout, InitialMmapSize: initialMmapSize})
	switch {
	case err == nil:
		return db, nil
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum),
		errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrInvalidMapping):
		return nil, fmt.Errorf("%w: %s is not a zonestore database: %v", ErrCorrupt, path, err)
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("zonestore: %s is locked by another process: %w", path, err)
	default:
		// bbolt reports short or unreadable files with plain errors.
		if fi, serr := os.Stat(path); serr == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
			return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
		}
		return nil, fmt.Errorf("zonestore: open %s: %w", path, err)
	}
}

// load reads the whole store into a new index.
func load(tx *bolt.Tx, kek []byte) (*index, uint64, error) {
	ix := newIndex()
	meta := tx.Bucket(bucketMeta)
	var applied uint64
	if v := meta.Get(metaApplied); v != nil {
		var err error
		if applied, err = readU64(v); err != nil {
			return nil, 0, err
		}
	}
	// Cluster members are replicated before the parent zone may exist.
	if err := loadNodes(tx, ix); err != nil {
		return nil, 0, err
	}
	var cfg Config
	var prof Profile
	okc, err := getJSON(meta, metaConfig, &cfg)
	if err != nil {
		return nil, 0, err
	}
	okp, err := getJSON(meta, metaProfile, &prof)
	if err != nil {
		return nil, 0, err
	}
	if okc != okp {
		return nil, 0, fmt.Errorf("%w: config without profile", ErrCorrupt)
	}
	if !okc {
		if tx.Bucket(bucketZones).Stats().KeyN > 0 {
			return nil, 0, fmt.Errorf("%w: zones without config", ErrCorrupt)
		}
		return ix, applied, nil
	}
	if err := cfg.Validate(); err != nil {
		return nil, 0, fmt.Errorf("%w: stored %v", ErrCorrupt, err)
	}
	ix.setConfig(cfg, prof)

	err = tx.Bucket(bucketZones).ForEach(func(k, v []byte) error {
		var rec zoneRecord
		if _, err := getJSON(tx.Bucket(bucketZones), k, &rec); err != nil {
			return err
		}
		if rec.Name != string(k) || (rec.Kind != KindParent && rec.Kind != KindShard) {
			return fmt.Errorf("%w: zone record %q", ErrCorrupt, k)
		}
		ix.putZone(rec)
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	if z := ix.zones[cfg.Parent]; z == nil || z.rec.Kind != KindParent {
		return nil, 0, fmt.Errorf("%w: parent zone %s missing", ErrCorrupt, cfg.Parent)
	}

	keys := make(map[string][]loadedKey)
	err = tx.Bucket(bucketKeys).ForEach(func(k, v []byte) error {
		var key Key
		if _, err := getJSON(tx.Bucket(bucketKeys), k, &key); err != nil {
			return err
		}
		if string(k) != string(keyKey(key.Zone, key.ID)) || ix.zones[key.Zone] == nil {
			return fmt.Errorf("%w: key record %q", ErrCorrupt, k)
		}
		lk, err := openLoadedKey(kek, key)
		if err != nil {
			return err
		}
		keys[key.Zone] = append(keys[key.Zone], lk)
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	for zone, ks := range keys {
		ix.putKeys(zone, ks)
	}

	if err := loadHosts(tx, ix); err != nil {
		return nil, 0, err
	}
	ix.rebuildAll()
	return ix, applied, nil
}

// openLoadedKey parses and unseals a stored key.
func openLoadedKey(kek []byte, key Key) (loadedKey, error) {
	dk, err := checkKey(key, key.Zone)
	if err != nil {
		return loadedKey{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	signer, err := openKey(kek, key, dk)
	if err != nil {
		return loadedKey{}, err
	}
	sealed := key.Sealed
	key.Sealed = nil
	return loadedKey{key: key, dnskey: dk, signer: signer, sealed: sealed}, nil
}

// Close closes the bbolt file. Reads keep answering from the last index.
func (s *Store) Close() error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	s.mu.Lock()
	db := s.db
	s.db = nil
	s.mu.Unlock()
	if db == nil {
		return nil
	}
	clear(s.kek)
	return db.Close()
}

// AppliedIndex returns the log index of the last applied command.
func (s *Store) AppliedIndex() uint64 { return s.applied.Load() }

// Subscribe registers fn to be called after each Apply (and Restore) with the
// apexes of the zones whose served data changed. fn runs on the applying
// goroutine and must not call Apply.
func (s *Store) Subscribe(fn func(zones []string)) {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	s.subs = append(s.subs, fn)
}

func (s *Store) notify(zones []string) {
	if len(zones) == 0 {
		return
	}
	s.subMu.Lock()
	subs := slices.Clone(s.subs)
	s.subMu.Unlock()
	for _, fn := range subs {
		fn(slices.Clone(zones))
	}
}

// Snapshot writes a consistent copy of the bbolt file to w.
func (s *Store) Snapshot(w io.Writer) error {
	s.mu.RLock()
	db := s.db
	s.mu.RUnlock()
	if db == nil {
		return ErrClosed
	}
	return db.View(func(tx *bolt.Tx) error {
		_, err := tx.WriteTo(w)
		return err
	})
}

// Restore replaces the store's contents with a snapshot: it writes r to a
// temporary file beside the store, opens and checks it, then swaps it in
// under the lock. On error the old contents stay.
func (s *Store) Restore(r io.Reader) error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	if s.db == nil {
		return ErrClosed
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), filepath.Base(s.path)+".restore-*")
	if err != nil {
		return fmt.Errorf("zonestore: restore: %w", err)
	}
	tmpPath := tmp.Name()
	defer os.Remove(tmpPath) // no-op after the rename
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		return fmt.Errorf("zonestore: restore: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("zonestore: restore: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("zonestore: restore: %w", err)
	}
	// Open (and so validate and index) the snapshot before touching the live file.
	db, ix, applied, err := openDB(tmpPath, s.kek)
	if err != nil {
		return fmt.Errorf("zonestore: restore: %w", err)
	}
	// Rename it into place while open: the open file follows its inode, and the old
	// database keeps serving its own (now unlinked) inode until it is closed below.
	if err := os.Rename(tmpPath, s.path); err != nil {
		db.Close()
		return fmt.Errorf("zonestore: restore: %w", err)
	}
	syncDir(filepath.Dir(s.path))

	// Readers block only for the pointer swap, not while the old database closes:
	// bbolt's Close waits for open read transactions, such as a raft snapshot
	// still streaming from it (invariant 3: keep serving).
	s.mu.Lock()
	old := s.db
	s.db, s.ix = db, ix
	s.applied.Store(applied)
	s.mu.Unlock()
	if err := old.Close(); err != nil {
		return fmt.Errorf("zonestore: restore: close the replaced database: %w", err)
	}
	s.notify(ix.zoneNames())
	return nil
}

// syncDir makes a rename in dir durable; failing to is not fatal (raft restores again).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// zoneNames returns the parent then the shards.
func (ix *index) zoneNames() []string {
	if !ix.initialized {
		return nil
	}
	return append([]string{ix.parent}, ix.shards...)
}

// Config returns the replicated config and profile; ok is false before the
// parent zone is initialized.
func (s *Store) Config() (Config, Profile, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ix := s.ix
	if !ix.initialized {
		return Config{}, Profile{}, false
	}
	return cloneConfig(ix.cfg), cloneProfile(ix.prof), true
}

func cloneConfig(c Config) Config {
	ns := make([]NameServer, len(c.NameServers))
	for i, n := range c.NameServers {
		ns[i] = NameServer{Name: n.Name, A: slices.Clone(n.A), AAAA: slices.Clone(n.AAAA)}
	}
	c.NameServers = ns
	return c
}

func cloneProfile(p Profile) Profile {
	p.A, p.AAAA, p.TLSA = slices.Clone(p.A), slices.Clone(p.AAAA), slices.Clone(p.TLSA)
	return p
}

func (z *zoneState) zone() Zone {
	return Zone{Name: z.rec.Name, Kind: z.rec.Kind, Serial: z.rec.Serial, Hosts: z.nhosts,
		Created: z.rec.Created, KeyGen: z.rec.KeyGen}
}

// Zones lists the parent zone first, then the shards by name.
func (s *Store) Zones() []Zone {
	s.mu.RLock()
	defer s.mu.RUnlock()
	names := s.ix.zoneNames()
	out := make([]Zone, 0, len(names))
	for _, n := range names {
		out = append(out, s.ix.zones[n].zone())
	}
	return out
}

// Zone returns one zone by apex (any case, trailing dot optional).
func (s *Store) Zone(name string) (Zone, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	z, err := s.ix.zone(name)
	if err != nil {
		return Zone{}, err
	}
	return z.zone(), nil
}

func (ix *index) zone(name string) (*zoneState, error) {
	z := ix.zones[canonicalName(name)]
	if z == nil {
		return nil, fmt.Errorf("%w: %q", ErrZoneNotFound, name)
	}
	return z, nil
}

// Keys returns the zone's keys, Sealed cleared.
func (s *Store) Keys(zone string) ([]Key, error) {
	keys, _, err := s.KeysGen(zone)
	return keys, err
}

// KeysGen returns the zone's key records as Keys does, with the zone's KeyGen
// read at the same instant: a keys command computed from them can carry it
// (KeysCmd.KeyGen) to apply only if nothing changed the keys since.
func (s *Store) KeysGen(zone string) ([]Key, uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	z, err := s.ix.zone(zone)
	if err != nil {
		return nil, 0, err
	}
	out := make([]Key, len(z.keys))
	for i, k := range z.keys {
		out[i] = k.key
		out[i].Sealed = nil
	}
	return out, z.rec.KeyGen, nil
}

// SigningKeys returns the zone's signing keys (Key.Signs), published or not,
// with their private halves and the zone's KeyGen, which changes whenever the
// zone's keys change.
func (s *Store) SigningKeys(zone string) ([]SigningKey, uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	z, err := s.ix.zone(zone)
	if err != nil {
		return nil, 0, err
	}
	return slices.Clone(z.signing), z.rec.KeyGen, nil
}

// Host returns the host of domain (normalized first).
func (s *Store) Host(domain string) (Host, error) {
	d, err := NormalizeDomain(domain)
	if err != nil {
		return Host{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	h, ok := s.ix.host(d)
	if !ok {
		return Host{}, fmt.Errorf("%w: %s", ErrHostNotFound, d)
	}
	return h, nil
}

// DefaultListLimit is the page size of ListHosts when limit <= 0.
const DefaultListLimit = 1000

// ListHosts returns up to limit hosts with domains after `after`, ordered by
// domain. next is the cursor for the following page, "" after the last.
func (s *Store) ListHosts(after string, limit int) (hosts []Host, next string) {
	if limit <= 0 {
		limit = DefaultListLimit
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	ix := s.ix
	hosts = make([]Host, 0, min(limit, ix.hosts.Len()))
	for d, e := range ix.hosts.after(after) {
		if len(hosts) == limit {
			next = hosts[len(hosts)-1].Domain
			break
		}
		hosts = append(hosts, ix.hostFrom(d, e.label, e.rec))
	}
	return hosts, next
}

// HostRecords returns fresh copies of the A, AAAA and TLSA records h is
// served with (the TLSA owned by _25._tcp.<host>).
func (s *Store) HostRecords(h Host) []dns.RR {
	s.mu.RLock()
	t := s.ix.tmpl
	s.mu.RUnlock()
	name := strings.ToLower(h.Name())
	out := make([]dns.RR, 0, len(t.a)+len(t.aaaa)+len(t.tlsa))
	for _, set := range [][]dns.RR{t.a, t.aaaa} {
		for _, rr := range set {
			c := dns.Copy(rr)
			c.Header().Name = name
			out = append(out, c)
		}
	}
	for _, rr := range t.tlsa {
		c := dns.Copy(rr)
		c.Header().Name = "_25._tcp." + name
		out = append(out, c)
	}
	return out
}

// DS returns, for a shard, the DS RRs the parent holds at its delegation
// (Key.DSAtParent); for the parent, the SHA-256 DS of its KSKs/CSKs in CDS
// (Key.InCDS): what the operator gives the registry, or a trust anchor. The
// RRs are copies.
func (s *Store) DS(zone string) ([]*dns.DS, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	z, err := s.ix.zone(zone)
	if err != nil {
		return nil, err
	}
	out := make([]*dns.DS, len(z.ds))
	for i, d := range z.ds {
		c := *d
		out[i] = &c
	}
	return out, nil
}
