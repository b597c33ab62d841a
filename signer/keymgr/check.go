package keymgr

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// keyInfo names a simulated key for the checker.
type keyInfo struct {
	id   string
	role Role
	alg  uint8
}

// snapshot is what the zone serves between two store changes: the key
// indexes in the DS set at the parent, in the DNSKEY RRset, signing the
// DNSKEY RRset and signing the data.
type snapshot struct {
	ds, dnskey, keySigners, dataSigners []int
}

// item is one version of a record set a resolver may hold: served from
// start, cacheable until end (zero end: still served).
type item struct {
	start, end time.Time
	set        []int
	signers    []int // DNSKEY items: keys whose RRSIG covers the set
}

func (it *item) alive(t time.Time) bool { return it.end.IsZero() || t.Before(it.end) }

// checker validates, at every instant it is asked, every combination of
// (DS set, DNSKEY RRset with its RRSIGs, data RRSIGs) a resolver could hold.
//
// A store change at t is served by some node from t on and by a lagging
// node until t + Dprp. A signature may be served Dsgn after its key stopped
// signing, but never over a DNSKEY RRset whose content changed (the cache
// keys on the RRset). A copy served at t' is cached until t' + TTL.
type checker struct {
	keys []keyInfo
	// timings is how the zone is served, in stretches: each applies from its
	// from until the next one's (a policy switch changes TTLs and delays).
	timings []timing

	ds, dnskey, data []*item
	last             snapshot
	started          bool

	// emergencies are the emergency rolls so far: a combination that mixes
	// what was served before one with what is served after it may be bogus,
	// and is measured instead of reported (see tolerate).
	emergencies []*EmergencyReport

	steps, combos int
}

// timing is what the checker assumes about how the zone is actually served
// (TTLs, lags, signature reuse) from an instant on.
type timing struct {
	from                  time.Time
	ttlKey, ttlSig, ttlDS time.Duration
	dprp, dprpP, dsgn     time.Duration
}

func timingOf(p Policy, from time.Time) timing {
	return timing{from: from, ttlKey: p.ttlKey(), ttlSig: p.MaxZoneTTL, ttlDS: p.ParentDSTTL,
		dprp: p.PropagationDelay, dprpP: p.ParentPropagationDelay, dsgn: p.dsgn()}
}

func newChecker(p Policy) *checker {
	return &checker{timings: []timing{timingOf(p, time.Time{})}}
}

// serveAs records that from at on the zone is served as p says (a policy
// switch: new TTLs, delays and signature timing).
func (c *checker) serveAs(at time.Time, p Policy) {
	if last := &c.timings[len(c.timings)-1]; last.from.Equal(at) {
		*last = timingOf(p, at)
		return
	}
	c.timings = append(c.timings, timingOf(p, at))
}

// until returns when a version served from store time s until the store
// change at e has left the last cache. A node serves the version with the
// TTLs of the same store state, so each stretch of [s, e) under one timing
// is cached until the stretch's end plus that timing's lag and TTL (f); the
// latest of these wins. A version that lasted no time (s == e) is served
// under the timing in force at s.
func (c *checker) until(s, e time.Time, f func(timing) time.Duration) time.Time {
	var out time.Time
	for i, tm := range c.timings {
		end := e
		if i+1 < len(c.timings) {
			next := c.timings[i+1].from
			if !next.After(s) {
				continue // the stretch ended before the version was served
			}
			if next.Before(end) {
				end = next
			}
		}
		if tm.from.After(s) && !tm.from.Before(e) {
			break // this stretch and the later ones begin after the version
		}
		if u := end.Add(f(tm)); u.After(out) {
			out = u
		}
	}
	return out
}

// observe records the state served from t on and checks instant t.
func (c *checker) observe(t time.Time, s snapshot) error {
	first := !c.started
	c.started = true
	if first || !slices.Equal(s.ds, c.last.ds) {
		if !first {
			last := c.ds[len(c.ds)-1]
			last.end = c.until(last.start, t, func(tm timing) time.Duration { return tm.dprpP + tm.ttlDS })
		}
		c.ds = append(c.ds, &item{start: t, set: s.ds})
	}
	contentChanged := first || !slices.Equal(s.dnskey, c.last.dnskey)
	if contentChanged || !slices.Equal(s.keySigners, c.last.keySigners) {
		if !first {
			last := c.dnskey[len(c.dnskey)-1]
			signed := len(last.signers) > 0
			last.end = c.until(last.start, t, func(tm timing) time.Duration {
				if signed {
					return tm.dprp + tm.ttlKey + tm.dsgn
				}
				return tm.dprp + tm.ttlKey
			})
			if contentChanged {
				// Signatures over the old content are never served again
				// once every node has the new content.
				for _, it := range c.dnskey {
					if !slices.Equal(it.set, c.last.dnskey) {
						continue
					}
					limit := c.until(it.start, t, func(tm timing) time.Duration { return tm.dprp + tm.ttlKey })
					if it.end.After(limit) {
						it.end = limit
					}
				}
			}
		}
		c.dnskey = append(c.dnskey, &item{start: t, set: s.dnskey, signers: s.keySigners})
	}
	if first || !slices.Equal(s.dataSigners, c.last.dataSigners) {
		if !first {
			last := c.data[len(c.data)-1]
			// Cached signatures outlive the change, unless the keys that stopped
			// signing also left the DNSKEY RRset (an emergency roll).
			signed := len(last.set) > 0 && !stoppedAndRemoved(last.set, s)
			last.end = c.until(last.start, t, func(tm timing) time.Duration {
				if signed {
					return tm.dprp + tm.ttlSig + tm.dsgn
				}
				return tm.dprp + tm.ttlSig
			})
		}
		c.data = append(c.data, &item{start: t, set: s.dataSigners})
	}
	c.last = s
	return c.check(t)
}

// stoppedAndRemoved reports whether some key of old no longer signs the data
// in s and every such key has also left the DNSKEY RRset (an emergency roll):
// the signer hands out signatures only of keys that sign, and Dsgn bounds
// how long one of a retired key may still be served while it is published,
// so once a key is neither, no node serves its signatures after Dprp.
func stoppedAndRemoved(old []int, s snapshot) bool {
	stopped := false
	for _, x := range old {
		if slices.Contains(s.dataSigners, x) {
			continue
		}
		if slices.Contains(s.dnskey, x) {
			return false
		}
		stopped = true
	}
	return stopped
}

func prune(items []*item, t time.Time) []*item {
	out := items[:0]
	for _, it := range items {
		if it.alive(t) {
			out = append(out, it)
		}
	}
	clear(items[len(out):])
	return out
}

// check validates every combination alive at t. Because every item is a
// half-open interval [start, end), a combination is simultaneously alive at
// some instant iff it is alive at the latest of its starts, so checking at
// every change (observe) covers all instants exactly.
func (c *checker) check(t time.Time) error {
	c.steps++
	c.ds, c.dnskey, c.data = prune(c.ds, t), prune(c.dnskey, t), prune(c.data, t)
	for _, d := range c.ds {
		if len(d.set) == 0 {
			continue // no DS: the zone is insecure, never bogus
		}
		for _, k := range c.dnskey {
			for _, z := range c.data {
				c.combos++
				if err := c.validate(d, k, z); err != nil {
					if c.tolerate(t, d, k, z) {
						continue
					}
					return fmt.Errorf("%w at %s: DS %s (served from %s), DNSKEY %s signed by %s (served from %s), data signed by %s (served from %s): %s",
						ErrBogus, t.UTC().Format(time.RFC3339), c.names(d.set), d.start.UTC().Format(time.RFC3339),
						c.names(k.set), c.names(k.signers), k.start.UTC().Format(time.RFC3339),
						c.names(z.set), z.start.UTC().Format(time.RFC3339), err)
				}
			}
		}
	}
	return nil
}

// validate is a validator's view (RFC 4035 §5) made strict the way
// RFC 6781 §4.1.4 assumes: for every algorithm in the DS set, a DNSKEY of
// that algorithm matching a DS signs the DNSKEY RRset; for every algorithm
// in the DNSKEY RRset, a key of that algorithm in it signs the data.
func (c *checker) validate(d, k, z *item) error {
	for _, a := range c.algs(d.set) {
		ok := false
		for _, x := range k.set {
			if c.keys[x].alg == a && slices.Contains(k.signers, x) && slices.Contains(d.set, x) {
				ok = true
				break
			}
		}
		if !ok {
			return fmt.Errorf("no key of algorithm %d with a DS signs the DNSKEY RRset", a)
		}
	}
	for _, a := range c.algs(k.set) {
		ok := false
		for _, x := range z.set {
			if c.keys[x].alg == a && slices.Contains(k.set, x) {
				ok = true
				break
			}
		}
		if !ok {
			return fmt.Errorf("no RRSIG of algorithm %d by a key in the DNSKEY RRset", a)
		}
	}
	return nil
}

func (c *checker) algs(set []int) []uint8 {
	var out []uint8
	for _, x := range set {
		if a := c.keys[x].alg; !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

func (c *checker) names(set []int) string {
	s := make([]string, len(set))
	for i, x := range set {
		s[i] = c.keys[x].id
	}
	return "{" + strings.Join(s, " ") + "}"
}

// tolerate accounts a bogus combination alive at t to an emergency roll: the
// latest one at or before the latest start of its items such that another
// item was served before it (the combination mixes state from before the
// emergency with state after it). It measures how long after the emergency
// the combination stays cacheable and reports whether it was accounted; a
// combination made only of state from one side of every emergency, or one
// that never expires (every item still served), is not.
func (c *checker) tolerate(t time.Time, items ...*item) bool {
	first, last := items[0].start, items[0].start
	var end time.Time
	for _, it := range items {
		if it.start.Before(first) {
			first = it.start
		}
		if it.start.After(last) {
			last = it.start
		}
		if !it.end.IsZero() && (end.IsZero() || it.end.Before(end)) {
			end = it.end
		}
	}
	if end.IsZero() {
		return false // every item is still served: bogus for good
	}
	for i := len(c.emergencies) - 1; i >= 0; i-- {
		e := c.emergencies[i]
		if e.At.After(last) || !first.Before(e.At) {
			continue
		}
		e.Measured = max(e.Measured, end.Sub(e.At))
		if !e.LastFlagged.Equal(t) {
			e.Flagged++
			if e.FirstFlagged.IsZero() {
				e.FirstFlagged = t
			}
			e.LastFlagged = t
		}
		return true
	}
	return false
}
