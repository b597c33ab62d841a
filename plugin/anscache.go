package mxsign

import (
	"slices"
	"sync"

	"github.com/mxsign/mxsign/plugin/anscache"
	"github.com/mxsign/mxsign/zonestore"
)

// answerCaches ties the answer cache to an instance. The zone generations, bumped by
// the store after every applied change, live as long as the store; each setup (a
// reload may change the buffer size or the signer) starts a fresh cache on them.
type answerCaches struct {
	gens *anscache.Gens

	mu      sync.Mutex
	cur     *anscache.Cache
	neg     *anscache.Cache // denials of names asked for at least twice (see negativeCache)
	retired anscache.Stats  // counters of the caches reloads replaced
}

// negativeShare is the part of answer-cache, on top of it, that holds denials of
// names that do not exist. Such answers enter only on the name's second sighting
// (anscache.Doorkeeper) and only this cache: a flood of one-off names can neither
// evict positive answers nor make every denial cost a cache insert.
const negativeShare = 8

// doorkeeperBits sizes the filter of names seen once: about 500,000 names between
// clears (256 KiB).
const doorkeeperBits = 1 << 21

// newAnswerCaches subscribes to st's changes. A change that touches the parent zone
// (a shard created, a shard's DS changed, the settings, or a snapshot restored, which
// names the zones it has and not those it dropped) invalidates every cached answer;
// any other change only those of the zones it names.
func newAnswerCaches(st *zonestore.Store, parent string) *answerCaches {
	a := &answerCaches{gens: anscache.NewGens()}
	st.Subscribe(func(zones []string) {
		if slices.Contains(zones, parent) {
			a.gens.BumpAll()
			return
		}
		a.gens.Bump(zones)
	})
	return a
}

// replace starts a new cache of size bytes (nil when size is 0) and its negative
// cache (size/negativeShare more), and returns them.
func (a *answerCaches) replace(size int) (*anscache.Cache, *anscache.Cache) {
	c := anscache.New(size, a.gens)
	var neg *anscache.Cache
	if size > 0 {
		neg = anscache.New(max(size/negativeShare, 1<<20), a.gens)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, old := range []anscache.Stats{a.cur.Stats(), a.neg.Stats()} {
		old.Entries, old.Bytes = 0, 0 // gone with the cache
		a.retired.Add(old)
	}
	a.cur, a.neg = c, neg
	return c, neg
}

// stats returns the counters since the instance opened and the current cache's size.
func (a *answerCaches) stats() anscache.Stats {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.cur.Stats()
	// The negative cache's hits, entries and evictions count; its misses do not (it
	// is asked after every miss of the main cache: the same query).
	ns := a.neg.Stats()
	ns.Misses = 0
	st.Add(ns)
	st.Add(a.retired)
	return st
}

// handler returns the plugin handler over r with a new answer cache of size bytes
// (none when 0), its negative cache and the doorkeeper of the latter.
func (a *answerCaches) handler(r *responder, size int) *Mxsign {
	m := &Mxsign{r: r}
	m.cache, m.neg = a.replace(size)
	if m.neg != nil {
		m.door = anscache.NewDoorkeeper(doorkeeperBits)
	}
	return m
}
