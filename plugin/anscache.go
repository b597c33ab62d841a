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
	retired anscache.Stats // counters of the caches reloads replaced
}

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

// replace starts a new cache of size bytes (nil when size is 0) and returns it.
func (a *answerCaches) replace(size int) *anscache.Cache {
	c := anscache.New(size, a.gens)
	a.mu.Lock()
	defer a.mu.Unlock()
	old := a.cur.Stats()
	a.retired.Hits += old.Hits
	a.retired.Misses += old.Misses
	a.retired.Inserts += old.Inserts
	a.retired.Evictions += old.Evictions
	a.cur = c
	return c
}

// stats returns the counters since the instance opened and the current cache's size.
func (a *answerCaches) stats() anscache.Stats {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.cur.Stats()
	st.Hits += a.retired.Hits
	st.Misses += a.retired.Misses
	st.Inserts += a.retired.Inserts
	st.Evictions += a.retired.Evictions
	return st
}
