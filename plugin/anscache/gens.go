package anscache

import (
	"sync"
	"sync/atomic"
)

// Gens are the generations of the zones: a counter per zone that a change to the zone
// bumps, and an epoch that every change bumps. A cached answer records its zone's
// generation and is served only while that is unchanged.
//
// The epoch closes the race between building an answer and a change applied
// meanwhile: a change is applied to the store first and bumped here after, the
// epoch before the zones. An answer built from the old state but stored after the
// bump would otherwise carry the new generation; the epoch, read before the answer
// is built and checked when it is stored (Cache.Put), tells it was built across a
// change, and it is not stored.
type Gens struct {
	epoch atomic.Uint64

	mu    sync.Mutex
	cells map[string]*atomic.Uint64
}

// NewGens returns generations with every zone at zero.
func NewGens() *Gens { return &Gens{cells: make(map[string]*atomic.Uint64)} }

// Epoch returns the count of changes so far. Read it before building an answer.
func (g *Gens) Epoch() uint64 { return g.epoch.Load() }

// cell returns zone's generation counter, creating it at zero.
func (g *Gens) cell(zone string) *atomic.Uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	c, ok := g.cells[zone]
	if !ok {
		c = new(atomic.Uint64)
		g.cells[zone] = c
	}
	return c
}

// Bump records a change to zones, after it is visible to readers of the store.
func (g *Gens) Bump(zones []string) {
	g.epoch.Add(1)
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, z := range zones {
		if c, ok := g.cells[z]; ok {
			c.Add(1)
		}
	}
}

// BumpAll records a change to every zone: nothing cached before it is served after.
func (g *Gens) BumpAll() {
	g.epoch.Add(1)
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range g.cells {
		c.Add(1)
	}
}
