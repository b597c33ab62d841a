package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Kill is one leader kill made by the chaos script.
type Kill struct {
	At   time.Time // wall clock of the SIGKILL
	Node string    // the node id killed
}

// parseKills reads lines of "UNIX_NANOS NODE_ID"; blank lines and lines
// starting with '#' are skipped.
func parseKills(r io.Reader) ([]Kill, error) {
	var out []Kill
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || len(f) > 2 {
			return nil, fmt.Errorf("%w: kills line %d: want UNIX_NANOS [NODE_ID], got %q", errBadHistory, n, line)
		}
		k := Kill{At: time.Unix(0, ns)}
		if len(f) == 2 {
			k.Node = f[1]
		}
		out = append(out, k)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("chaos: reading kills: %w", err)
	}
	return out, nil
}

// Failover is the write outage that followed one kill.
type Failover struct {
	Kill
	// Outage runs from the kill to the return of the first add called after
	// the kill that was answered 201; -1 when no such add exists.
	Outage time.Duration
}

// failovers measures, for each kill, the time until the cluster took a new
// write again.
func failovers(h *History, kills []Kill) []Failover {
	out := make([]Failover, 0, len(kills))
	for _, k := range kills {
		at := int64(k.At.Sub(h.Start))
		best := int64(-1)
		for _, op := range h.Ops {
			if op.Kind != KindAdd || op.Result != ResultOK || op.Call < at {
				continue
			}
			if best < 0 || op.Return < best {
				best = op.Return
			}
		}
		f := Failover{Kill: k, Outage: -1}
		if best >= 0 {
			f.Outage = time.Duration(best - at)
		}
		out = append(out, f)
	}
	return out
}
