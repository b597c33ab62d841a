package zonestore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sync"
	"time"
)

// Applier commits a command and applies it; when Apply returns, the command
// is committed and applied on this node. LocalApplier is the single-node
// implementation; the cluster package provides the Raft one.
type Applier interface {
	Apply(ctx context.Context, cmd *Command) (*Result, error)
}

// LocalApplier applies commands directly to a Store, numbering them
// AppliedIndex()+1. Each command goes through Encode and DecodeCommand, as
// it would through a replicated log.
type LocalApplier struct {
	store *Store
	mu    sync.Mutex
}

// NewLocalApplier returns an Applier for a single node.
func NewLocalApplier(s *Store) *LocalApplier { return &LocalApplier{store: s} }

// Apply implements Applier.
func (a *LocalApplier) Apply(ctx context.Context, cmd *Command) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b, err := cmd.Encode()
	if err != nil {
		return nil, err
	}
	c, err := DecodeCommand(b)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.store.Apply(a.store.AppliedIndex()+1, c)
}

// KeyFactory makes a new key (material and sealing) for zone and role. The
// wiring layer supplies it (it uses the signer to generate keys).
type KeyFactory func(zone string, role KeyRole, alg uint8, now time.Time) (Key, error)

// Provisioner is the proposer side: it reads the clock and the random source,
// plans changes against the store and hands commands to the Applier.
type Provisioner struct {
	Store   *Store
	Applier Applier
	Keys    KeyFactory
	Now     func() time.Time // clock
	Rand    io.Reader        // shard ids

	mu sync.Mutex // one plan at a time on this node

	qmu        sync.Mutex // guards queue and committing
	queue      []*addRequest
	committing bool // a caller or goroutine is committing the queue
}

// addRequest is one AddDomains call waiting for the group commit.
type addRequest struct {
	ctx     context.Context
	domains []string
	res     []ItemResult
	err     error
	done    chan struct{}
}

// maxGroupDomains bounds how many domains concurrent AddDomains calls share one command.
const maxGroupDomains = 2000

// maxShardAttempts bounds the draws for an unused shard id.
const maxShardAttempts = 64

// Init brings the replicated config to cfg and prof: on first start it
// creates the parent zone with a KSK and a ZSK; later it proposes a config
// command only if config or profile changed, and does nothing otherwise.
func (p *Provisioner) Init(ctx context.Context, cfg Config, prof Profile) error {
	cfg, prof, err := validConfig(cfg, prof)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	cur, curProf, ok := p.Store.Config()
	now := p.Now()
	if !ok {
		ksk, err := p.newKey(cfg.Parent, RoleKSK, cfg.Algorithm, now)
		if err != nil {
			return err
		}
		zsk, err := p.newKey(cfg.Parent, RoleZSK, cfg.Algorithm, now)
		if err != nil {
			return err
		}
		_, err = p.Applier.Apply(ctx, &Command{V: CommandVersion, Op: OpInit, Time: now,
			Init: &InitCmd{Config: cfg, Profile: prof, Keys: []Key{ksk, zsk}}})
		return err
	}
	if cur.Parent != cfg.Parent {
		return fmt.Errorf("%w: the store serves %s, the config names %s", ErrBadCommand, cur.Parent, cfg.Parent)
	}
	if reflect.DeepEqual(cur.WithDefaults(), cfg) && reflect.DeepEqual(curProf.WithDefaults(), prof) {
		return nil
	}
	_, err = p.Applier.Apply(ctx, &Command{V: CommandVersion, Op: OpConfig, Time: now,
		Config: &ConfigCmd{Config: cfg, Profile: prof}})
	return err
}

func (p *Provisioner) newKey(zone string, role KeyRole, alg uint8, now time.Time) (Key, error) {
	k, err := p.Keys(zone, role, alg, now)
	if err != nil {
		return Key{}, fmt.Errorf("zonestore: new %s for %s: %w", role, zone, err)
	}
	if k.Zone != zone || k.Role != role {
		return Key{}, fmt.Errorf("zonestore: key factory returned a %s of %q for a %s of %s", k.Role, k.Zone, role, zone)
	}
	return k, nil
}

// AddDomains adds accepted domains, creating shards as needed. There is one
// result per input, in order; item errors wrap ErrInvalidDomain,
// ErrInOwnZone, ErrExists (also for the second copy within one batch) or,
// if the state changed since planning, ErrShardFull. The error is for
// failures of the whole batch.
//
// Concurrent calls are committed together (group commit): while one command is being
// committed, new calls queue up, and the next caller to plan takes the whole queue
// (up to maxGroupDomains domains) into one command. Each caller still gets exactly its
// own results; between two calls adding the same domain, the earlier in the queue wins.
func (p *Provisioner) AddDomains(ctx context.Context, domains []string) ([]ItemResult, error) {
	req := &addRequest{ctx: ctx, domains: domains, done: make(chan struct{})}
	p.qmu.Lock()
	p.queue = append(p.queue, req)
	start := !p.committing
	p.committing = true
	p.qmu.Unlock()
	if start {
		// This caller commits the queue as it stands (its own request included) and
		// hands the rest, if any, to a goroutine, so it answers without waiting for
		// callers that came later.
		if p.commitGroup() {
			go func() {
				for p.commitGroup() {
				}
			}()
		}
	}
	select {
	case <-req.done:
		return req.res, req.err
	default:
	}
	select {
	case <-req.done:
		return req.res, req.err
	case <-ctx.Done():
		// Still queued or being committed: the outcome is unknown.
		return nil, ctx.Err()
	}
}

// commitGroup commits the requests queued now (up to maxGroupDomains domains) as one
// command and reports whether more are waiting. When it returns false the committer
// role is released.
func (p *Provisioner) commitGroup() (more bool) {
	p.qmu.Lock()
	var group []*addRequest
	n := 0
	for len(p.queue) > 0 && (len(group) == 0 || n+len(p.queue[0].domains) <= maxGroupDomains) {
		r := p.queue[0]
		p.queue = p.queue[1:]
		if err := r.ctx.Err(); err != nil { // gave up before its turn: nothing written
			r.err = err
			close(r.done)
			continue
		}
		n += len(r.domains)
		group = append(group, r)
	}
	p.qmu.Unlock()

	if len(group) > 0 {
		var all []string
		for _, r := range group {
			all = append(all, r.domains...)
		}
		// The command serves every caller in the group: one caller's cancellation
		// must not fail the others.
		gctx, cancel := context.WithTimeout(context.WithoutCancel(group[0].ctx), groupTimeout)
		res, err := p.addDomainsLocked(gctx, all)
		cancel()
		off := 0
		for _, r := range group {
			if err != nil {
				r.err = err
			} else {
				r.res = res[off : off+len(r.domains) : off+len(r.domains)]
			}
			off += len(r.domains)
			close(r.done)
		}
	}

	p.qmu.Lock()
	defer p.qmu.Unlock()
	if len(p.queue) == 0 {
		p.committing = false
		return false
	}
	return true
}

// addDomainsLocked runs addDomains under the plan lock. A panic below it (a bug, or a
// key factory failing badly) becomes an error for this group instead of leaving the
// lock held and every later caller waiting forever.
func (p *Provisioner) addDomainsLocked(ctx context.Context, domains []string) (res []ItemResult, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("zonestore: adding %d domains failed: %v", len(domains), r)
		}
	}()
	return p.addDomains(ctx, domains)
}

// groupTimeout bounds one group commit.
const groupTimeout = time.Minute

func (p *Provisioner) addDomains(ctx context.Context, domains []string) ([]ItemResult, error) {
	cfg, _, ok := p.Store.Config()
	if !ok {
		return nil, ErrNotInitialized
	}
	now := p.Now()
	results := make([]ItemResult, len(domains))
	var todo []int // indexes of results that go into the command
	var hosts []Host
	seen := make(map[string]bool, len(domains))
	for i, raw := range domains {
		d, err := NormalizeDomain(raw)
		if err != nil {
			results[i] = ItemResult{Domain: raw, Err: err}
			continue
		}
		results[i].Domain = d
		label := hostLabel(d)
		switch {
		case inZone(d, cfg.Parent):
			results[i].Err = fmt.Errorf("%w: %s is inside %s", ErrInOwnZone, d, cfg.Parent)
		case seen[d]:
			results[i].Err = fmt.Errorf("%w: %s is listed twice", ErrExists, d)
		case p.Store.hasHost(d, label):
			results[i].Err = fmt.Errorf("%w: %s", ErrExists, d)
		case p.Store.labelOwner(label) != "":
			results[i].Err = fmt.Errorf("%w: label %s of %s is taken by %s", ErrExists, label, d, p.Store.labelOwner(label))
		default:
			seen[d] = true
			todo = append(todo, i)
			hosts = append(hosts, Host{Domain: d, Label: label, Created: now})
		}
	}
	if len(hosts) == 0 {
		return results, nil
	}
	newShards, err := p.assignShards(cfg, hosts, now)
	if err != nil {
		return nil, err
	}
	res, err := p.Applier.Apply(ctx, &Command{V: CommandVersion, Op: OpAddHosts, Time: now,
		AddHosts: &AddHostsCmd{NewShards: newShards, Hosts: hosts}})
	if err != nil {
		return nil, err
	}
	if err := mergeResults(results, todo, res); err != nil {
		return nil, err
	}
	return results, nil
}

// assignShards sets Shard on each host: the existing shard with the most
// hosts that still has room is filled first, so shards fill up in order;
// when none has room, a new shard with a KSK (DS published) and a ZSK is
// added to the command.
func (p *Provisioner) assignShards(cfg Config, hosts []Host, now time.Time) ([]NewShard, error) {
	type room struct {
		name  string
		hosts int
	}
	var open []room
	for _, z := range p.Store.Zones() {
		if z.Kind == KindShard && z.Hosts < cfg.ShardSize {
			open = append(open, room{z.Name, z.Hosts})
		}
	}
	slices.SortFunc(open, func(a, b room) int { return cmp.Or(cmp.Compare(b.hosts, a.hosts), cmp.Compare(a.name, b.name)) })
	var newShards []NewShard
	taken := make(map[string]bool)
	for i := range hosts {
		for len(open) > 0 && open[0].hosts >= cfg.ShardSize {
			open = open[1:]
		}
		if len(open) == 0 {
			name, err := p.newShardName(cfg.Parent, taken)
			if err != nil {
				return nil, err
			}
			taken[name] = true
			ksk, err := p.newKey(name, RoleKSK, cfg.Algorithm, now)
			if err != nil {
				return nil, err
			}
			ksk.DSPublished = true
			zsk, err := p.newKey(name, RoleZSK, cfg.Algorithm, now)
			if err != nil {
				return nil, err
			}
			newShards = append(newShards, NewShard{Name: name, Keys: []Key{ksk, zsk}})
			open = append(open, room{name: name})
		}
		hosts[i].Shard = open[0].name
		open[0].hosts++
	}
	return newShards, nil
}

// newShardName draws an unused "<4 x [a-z0-9]>.<parent>" from p.Rand.
func (p *Provisioner) newShardName(parent string, taken map[string]bool) (string, error) {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	const limit = 256 - 256%len(alphabet) // reject bytes above it: no modulo bias
	var buf [16]byte
	for range maxShardAttempts {
		id := make([]byte, 0, 4)
		for len(id) < 4 {
			if _, err := io.ReadFull(p.Rand, buf[:]); err != nil {
				return "", fmt.Errorf("zonestore: shard id: %w", err)
			}
			for _, b := range buf {
				if int(b) < limit && len(id) < 4 {
					id = append(id, alphabet[int(b)%len(alphabet)])
				}
			}
		}
		name := string(id) + "." + parent
		if !taken[name] && p.Store.shardNameFree(name) {
			return name, nil
		}
	}
	return "", errors.New("zonestore: no unused shard id found")
}

// DeleteDomains removes accepted domains. There is one result per input, in
// order; item errors wrap ErrInvalidDomain, ErrInOwnZone or ErrHostNotFound.
func (p *Provisioner) DeleteDomains(ctx context.Context, domains []string) ([]ItemResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	cfg, _, ok := p.Store.Config()
	if !ok {
		return nil, ErrNotInitialized
	}
	results := make([]ItemResult, len(domains))
	var todo []int
	var names []string
	for i, raw := range domains {
		d, err := NormalizeDomain(raw)
		switch {
		case err != nil:
			results[i] = ItemResult{Domain: raw, Err: err}
		case inZone(d, cfg.Parent):
			results[i] = ItemResult{Domain: d, Err: fmt.Errorf("%w: %s is inside %s", ErrInOwnZone, d, cfg.Parent)}
		default:
			results[i].Domain = d
			todo = append(todo, i)
			names = append(names, d)
		}
	}
	if len(names) == 0 {
		return results, nil
	}
	res, err := p.Applier.Apply(ctx, &Command{V: CommandVersion, Op: OpDeleteHosts, Time: p.Now(),
		DeleteHosts: &DeleteHostsCmd{Domains: names}})
	if err != nil {
		return nil, err
	}
	if err := mergeResults(results, todo, res); err != nil {
		return nil, err
	}
	return results, nil
}

func mergeResults(results []ItemResult, todo []int, res *Result) error {
	if res == nil || len(res.Items) != len(todo) {
		return fmt.Errorf("zonestore: applier returned %d results for %d items", itemCount(res), len(todo))
	}
	for j, i := range todo {
		results[i] = res.Items[j]
	}
	return nil
}

func itemCount(r *Result) int {
	if r == nil {
		return 0
	}
	return len(r.Items)
}

// hasHost reports whether domain (normalized, label hostLabel(domain)) is a host.
func (s *Store) hasHost(domain, label string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.ix.hosts.find(domain, label)
	return ok
}

// labelOwner returns the domain holding label, "" if none.
func (s *Store) labelOwner(label string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ix.hosts.owner(label)
}

func (s *Store) shardNameFree(name string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ix.shardNameFree(name)
}
