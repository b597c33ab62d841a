package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"
)

// Kind is the operation an Op performs.
type Kind string

// The operations the driver issues.
const (
	KindAdd Kind = "add" // POST /v1/domains
	KindGet Kind = "get" // GET /v1/domains/{d}
)

// Result is what the cluster answered, as the model sees it.
type Result string

// The results of add and get.
const (
	ResultOK      Result = "ok"      // add: 201 Created
	ResultExists  Result = "exists"  // add: 409 Conflict
	ResultUnknown Result = "unknown" // add: 503, timeout, connection error: may or may not have happened
	ResultPresent Result = "present" // get: 200
	ResultAbsent  Result = "absent"  // get: 404
	ResultFailed  Result = "failed"  // get: no answer; the read is left out of the check
)

// Op is one operation of the history. Call and Return are nanoseconds since
// History.Start; an add whose result is unknown has Return 0 in the file and
// is checked as if it could complete at any time after its call.
type Op struct {
	Client int    `json:"client"`
	Kind   Kind   `json:"kind"`
	Domain string `json:"domain"`
	Node   string `json:"node"`             // admin API address the request went to
	Call   int64  `json:"call"`             // ns since start
	Return int64  `json:"return"`           // ns since start, 0 when unknown
	Result Result `json:"result"`           // see Result
	Host   string `json:"host,omitempty"`   // mailExchange from a 201 or 200
	Detail string `json:"detail,omitempty"` // the error behind unknown/failed
	Phase  string `json:"phase,omitempty"`  // "run" or "verify"
}

// History is the record of one run, as written to the -history file.
type History struct {
	Start    time.Time     `json:"start"`    // wall clock of offset 0
	Duration time.Duration `json:"duration"` // how long the clients ran
	Nodes    []string      `json:"nodes"`
	Ops      []Op          `json:"ops"`
}

// errBadHistory is wrapped by loadHistory for a file that is not a history.
var errBadHistory = errors.New("chaos: malformed history")

func loadHistory(path string) (*History, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	var h History
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", errBadHistory, path, err)
	}
	return &h, nil
}

func (h *History) save(path string) error {
	sort.SliceStable(h.Ops, func(i, j int) bool { return h.Ops[i].Call < h.Ops[j].Call })
	b, err := json.MarshalIndent(h, "", " ")
	if err != nil {
		return fmt.Errorf("chaos: encoding history: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	return nil
}

// Acknowledged returns, in call order and without repeats, the domains the
// cluster confirmed exist: an add answered 201 or 409. Each of them must be
// present on every node after the run.
func (h *History) Acknowledged() []string {
	seen := map[string]bool{}
	var out []string
	for _, op := range h.Ops {
		if op.Kind == KindAdd && (op.Result == ResultOK || op.Result == ResultExists) && !seen[op.Domain] {
			seen[op.Domain] = true
			out = append(out, op.Domain)
		}
	}
	return out
}

// Stats counts the operations of a phase by kind and result.
type Stats struct {
	Ops     int
	Counts  map[string]int // "add/ok" -> n
	Created int            // adds answered 201
}

func (h *History) stats(phase string) Stats {
	s := Stats{Counts: map[string]int{}}
	for _, op := range h.Ops {
		if op.Phase != phase {
			continue
		}
		s.Ops++
		s.Counts[string(op.Kind)+"/"+string(op.Result)]++
		if op.Kind == KindAdd && op.Result == ResultOK {
			s.Created++
		}
	}
	return s
}

// staleReads counts run-phase reads answered 404 although an add of that
// domain had already been answered 201 or 409 before the read was called:
// reads are answered from the node's own applied state, so a follower may
// lag the leader. The checker leaves these out unless -linearizable-reads.
// sameNode counts those sent to a node that had itself answered 201 or 409
// for the domain earlier: the server promises read-your-writes there (a
// forwarding follower waits, bounded, until it has applied the write).
func (h *History) staleReads() (total, sameNode int) {
	type ack struct {
		at    int64
		nodes map[string]int64 // node -> its earliest acknowledgement
	}
	acked := map[string]*ack{}
	for _, op := range h.Ops {
		if op.Kind != KindAdd || (op.Result != ResultOK && op.Result != ResultExists) {
			continue
		}
		a := acked[op.Domain]
		if a == nil {
			a = &ack{at: op.Return, nodes: map[string]int64{}}
			acked[op.Domain] = a
		}
		a.at = min(a.at, op.Return)
		if t, ok := a.nodes[op.Node]; !ok || op.Return < t {
			a.nodes[op.Node] = op.Return
		}
	}
	for _, op := range h.Ops {
		a := acked[op.Domain]
		if a == nil || op.Phase != "run" || op.Kind != KindGet || op.Result != ResultAbsent || op.Call <= a.at {
			continue
		}
		total++
		if t, ok := a.nodes[op.Node]; ok && op.Call > t {
			sameNode++
		}
	}
	return total, sameNode
}

// evidence prints the operations on each of domains, in call order.
func evidence(w io.Writer, ops []Op, domains []string) {
	for i, d := range domains {
		if i == 5 {
			fmt.Fprintf(w, "     ... and %d more domains\n", len(domains)-5)
			return
		}
		fmt.Fprintf(w, "     history of %s:\n", d)
		for _, op := range ops {
			if op.Domain != d {
				continue
			}
			ret := "never (unknown)"
			if op.Result != ResultUnknown {
				ret = fmt.Sprintf("+%.3fs", time.Duration(op.Return).Seconds())
			}
			fmt.Fprintf(w, "     | %-6s client %2d %s %s via %s call +%.3fs return %s -> %s %s\n",
				op.Phase, op.Client, op.Kind, op.Domain, op.Node, time.Duration(op.Call).Seconds(), ret, op.Result, op.Detail)
		}
	}
}
