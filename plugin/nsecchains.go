package mxsign

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mxsign/mxsign/signer"
	"github.com/mxsign/mxsign/signer/nsecchain"
	"github.com/mxsign/mxsign/zonestore"
)

// errChainAhead: the zone's chain is of a newer version of the zone than the answer
// being built looked up; the caller looks up again.
var errChainAhead = errors.New("mxsign: the NSEC chain is newer than the data looked up")

// Background pre-signing of the chains.
const (
	// presignBudget bounds the signatures one pass makes for one zone before it moves
	// on to the next zone (and the loop to the next pass), so that a big zone does not
	// hold up the others.
	presignBudget = 256
	// chainBatch is how many zones one pass over the store's hosts builds at once
	// (zonestore.Owners): fewer passes, bounded garbage.
	chainBatch = 32
	// maxPresignInterval bounds how long the loop sleeps between refresh passes.
	maxPresignInterval = 10 * time.Minute
)

// nsecChains keeps the NSEC chains of `denial nsec` (signer/nsecchain), one per zone:
// rebuilt when the store reports a change of the zone, pre-signed in the background
// (after start, after zone and key changes, and before signatures need refreshing),
// and built on the spot when an answer finds its zone's chain older than the data it
// looked up. It lives as long as the instance (reloads keep the signatures).
type nsecChains struct {
	store  *zonestore.Store
	keys   *keyring
	signer atomic.Pointer[signer.Signer] // replaced when a reload changes the signer

	chains  sync.Map   // zone apex -> *nsecchain.Chain
	buildMu sync.Mutex // one build at a time: a burst of answers for a stale zone waits for one

	mu      sync.Mutex
	dirty   map[string]bool // zones changed since they were last built
	stopped bool
	wake    chan struct{}
	stop    chan struct{}

	signed   atomic.Uint64 // signatures made for the chains, in the background or for answers
	records  atomic.Int64  // NSEC records in all chains, as of the last pass
	unsigned atomic.Int64  // of them, those without a signature fit for the next while, as of the last pass
}

// newNSECChains returns the chains of st's zones, every zone to be built. It subscribes
// to st's changes; run builds and signs them.
func newNSECChains(st *zonestore.Store, s *signer.Signer) *nsecChains {
	c := &nsecChains{store: st, keys: newKeyring(st), dirty: make(map[string]bool),
		wake: make(chan struct{}, 1), stop: make(chan struct{})}
	c.signer.Store(s)
	for _, z := range st.Zones() {
		c.dirty[z.Name] = true
	}
	st.Subscribe(c.changed)
	return c
}

// changed marks zones for a rebuild (the store's Subscribe hook).
func (c *nsecChains) changed(zones []string) {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return
	}
	for _, z := range zones {
		c.dirty[z] = true
	}
	c.mu.Unlock()
	c.keys.forget(zones)
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// close stops run and drops the chains (a reload went back to compact denial).
func (c *nsecChains) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.stopped {
		c.stopped = true
		close(c.stop)
	}
}

// chain returns zone's chain built from the version whose SOA serial is serial,
// building it now if the chain at hand is older. errChainAhead: the store already
// moved past serial.
func (c *nsecChains) chain(zone string, serial uint32) (*nsecchain.Chain, error) {
	if v, ok := c.chains.Load(zone); ok && v.(*nsecchain.Chain).Serial() == serial {
		return v.(*nsecchain.Chain), nil
	}
	if err := c.build([]string{zone}, serial); err != nil {
		return nil, err
	}
	v, ok := c.chains.Load(zone)
	if !ok {
		return nil, fmt.Errorf("mxsign: zone %s has no NSEC chain", zone)
	}
	if ch := v.(*nsecchain.Chain); ch.Serial() != serial {
		return nil, errChainAhead
	}
	return v.(*nsecchain.Chain), nil
}

// build (re)builds the chains of zones from the store, carrying their signatures over.
// A zone whose chain already has serial want (another caller built it while this one
// waited) is left alone; want 0 means any serial: build if the store's is different.
func (c *nsecChains) build(zones []string, want uint32) error {
	c.buildMu.Lock()
	defer c.buildMu.Unlock()
	if want != 0 {
		zones = slices.DeleteFunc(slices.Clone(zones), func(z string) bool {
			v, ok := c.chains.Load(z)
			return ok && v.(*nsecchain.Chain).Serial() == want
		})
	}
	if len(zones) == 0 {
		return nil
	}
	owners, err := c.store.Owners(zones)
	if err != nil {
		return err
	}
	for _, zo := range owners {
		var old *nsecchain.Chain
		if v, ok := c.chains.Load(zo.Zone); ok {
			old = v.(*nsecchain.Chain)
			if old.Serial() == zo.SOA.Serial {
				continue // the same version: nothing to build
			}
		}
		content := nsecchain.Content{Apex: zo.Zone, SOA: zo.SOA, Owners: make([]nsecchain.Owner, len(zo.Owners))}
		for i, o := range zo.Owners {
			content.Owners[i] = nsecchain.Owner{Name: o.Name, Types: o.Types}
		}
		ch, err := nsecchain.Build(content, old)
		if err != nil {
			return fmt.Errorf("mxsign: NSEC chain of %s: %w", zo.Zone, err)
		}
		c.chains.Store(zo.Zone, ch)
	}
	return nil
}

// signing returns what answers and pre-signing in zone sign with.
func (c *nsecChains) signing(zk *zoneKeys, now time.Time) nsecchain.Signing {
	return nsecchain.Signing{Signer: c.signer.Load(), Keys: zk.zsk, Now: now, Signed: &c.signed}
}

// presignLead is how long before a chain signature stops being handed out the
// background signs it again: a quarter of its useful life (it expires Validity, less up
// to a tenth, after it is made, and is handed out until max(Refresh, TTL + Skew) before
// that), at most an hour. With no useful life, 0: answers sign on demand.
func presignLead(o signer.Options, ttl uint32) time.Duration {
	life := o.Validity - o.Validity/10 - max(o.Refresh, time.Duration(ttl)*time.Second+o.Skew)
	return min(max(life/4, 0), time.Hour)
}

// pass rebuilds the changed zones, drops the chains of zones that are gone, and signs
// what each chain misses or will soon need (at most presignBudget signatures per zone).
// It returns whether work is left (pass again at once) and the longest it may sleep.
func (c *nsecChains) pass(now time.Time) (more bool, sleep time.Duration, err error) {
	c.mu.Lock()
	dirty := make([]string, 0, len(c.dirty))
	for z := range c.dirty {
		dirty = append(dirty, z)
	}
	clear(c.dirty)
	c.mu.Unlock()
	slices.Sort(dirty)
	zones := c.store.Zones()
	live := make(map[string]zonestore.Zone, len(zones))
	for _, z := range zones {
		live[z.Name] = z
	}
	dirty = slices.DeleteFunc(dirty, func(z string) bool { _, ok := live[z]; return !ok })
	for len(dirty) > 0 {
		n := min(chainBatch, len(dirty))
		if err := c.build(dirty[:n], 0); err != nil {
			return false, time.Second, err
		}
		dirty = dirty[n:]
	}

	sg := c.signer.Load()
	sleep = maxPresignInterval
	var records, unsigned int64
	var errs []error
	c.chains.Range(func(k, v any) bool {
		zone, ch := k.(string), v.(*nsecchain.Chain)
		z, ok := live[zone]
		if !ok {
			c.chains.Delete(zone)
			return true
		}
		records += int64(ch.Len())
		zk, err := c.keys.get(zone, z.KeyGen)
		if err != nil {
			errs = append(errs, err)
			return true
		}
		lead := presignLead(sg.Options(), ch.TTL())
		if lead > 0 {
			sleep = min(sleep, lead/2)
		}
		made, err := ch.Presign(c.signing(zk, now), lead, presignBudget)
		if err != nil {
			errs = append(errs, err)
			return true
		}
		if made == presignBudget {
			more = true
		}
		unsigned += int64(ch.Unsigned(zk.zsk, now, lead))
		return true
	})
	c.records.Store(records)
	c.unsigned.Store(unsigned)
	return more, max(sleep, time.Second), errors.Join(errs...)
}

// run builds and pre-signs the chains until done or close: a pass at once, after every
// change of the store, and often enough to refresh signatures before they are due.
func (c *nsecChains) run(done <-chan struct{}, now func() time.Time) {
	for {
		more, sleep, err := c.pass(now())
		if err != nil {
			log.Warningf("denial nsec: %v", err)
		}
		if more {
			select {
			case <-done:
				return
			case <-c.stop:
				return
			default:
				continue
			}
		}
		t := time.NewTimer(sleep)
		select {
		case <-done:
			t.Stop()
			return
		case <-c.stop:
			t.Stop()
			return
		case <-c.wake:
		case <-t.C:
		}
		t.Stop()
	}
}
