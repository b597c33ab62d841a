package mxsign

import (
	"context"
	"runtime/debug"
	"time"

	"github.com/mxsign/mxsign/cluster"
)

// minMemoryLimit is the smallest `memory-limit` accepted: below it the collector
// would run all the time for any store.
const minMemoryLimit = 16 << 20

// startMemoryLimit is the Go runtime's soft memory limit when the process started:
// GOMEMLIMIT, or none (math.MaxInt64). Read once; a `memory-limit` removed by a
// reload goes back to it.
var startMemoryLimit = debug.SetMemoryLimit(-1)

// setMemoryLimit applies the `memory-limit` key (0: absent, GOMEMLIMIT or none
// stays). The limit is the process's: the collector runs as often as it must to
// keep the Go runtime's memory below it, instead of letting the heap grow to twice
// what is live (GOGC=100). The host index holds no pointers, so a collection costs
// about the same at a million hosts as at a thousand, and a limit just above the
// live heap costs little CPU.
func setMemoryLimit(limit int64) {
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	}
}

// reloadMemoryLimit puts back the limit the process started with when a reload
// removed `memory-limit` (setup applied a new value already). The limit is the
// process's: with several mxsign blocks, set it in one.
func reloadMemoryLimit(old, cfg *config) {
	if old.MemoryLimit > 0 && cfg.MemoryLimit == 0 {
		debug.SetMemoryLimit(startMemoryLimit)
	}
}

// releaseStartupMemory collects the garbage of start-up (the store's index
// rebuild, the keys' decoding, a raft log replay) and returns the freed heap to
// the operating system at once, rather than keeping it until the heap would have
// grown to twice the live size. One collection, a few milliseconds at a million
// hosts. The embedded node replays the log after its last snapshot (nothing after
// a clean stop, everything since after a crash) once it leads, after open has
// returned: it waits for that first (a barrier), in the background.
func releaseStartupMemory(node *cluster.Node, embedded bool) {
	if !embedded {
		debug.FreeOSMemory()
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		node.Barrier(ctx) // an error (closed, no longer leader) only means: collect now
		debug.FreeOSMemory()
	}()
}
