package keymgr

import (
	"hash/fnv"
	"strings"
	"time"
)

// maxJitter caps the per-zone offset added to scheduled roll starts.
const maxJitter = time.Hour

// Jitter returns the deterministic offset added to a scheduled rollover of a
// key with the given lifetime in zone: a hash of the lower-cased zone name
// mapped into [0, min(lifetime/100, 1h)). Thousands of shards created in the
// same second then roll at different instants, yet every leader computes the
// same schedule.
func Jitter(zone string, lifetime time.Duration) time.Duration {
	span := lifetime / 100
	if span > maxJitter {
		span = maxJitter
	}
	if span <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(strings.ToLower(zone)))
	return time.Duration(h.Sum64() % uint64(span))
}
