package main

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/mxsign/mxsign/plugin/api"
	"github.com/mxsign/mxsign/plugin/api/client"
)

// converge polls GET /v1/cluster on every node until there is a leader and
// every node has applied at least the leader's applied index, or wait ends.
// It returns the leader's id and index.
func converge(ctx context.Context, clients []*client.Client, wait time.Duration) (string, uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var last string
	for {
		leader, idx, why := convergedOnce(ctx, clients)
		if why == "" {
			return leader, idx, nil
		}
		last = why
		select {
		case <-ctx.Done():
			return "", 0, fmt.Errorf("%w: after %s: %s", errNotConverged, wait, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// convergedOnce returns why the cluster has not converged yet, or "".
func convergedOnce(ctx context.Context, clients []*client.Client) (string, uint64, string) {
	applied := make([]uint64, len(clients))
	var leader string
	var leaderIdx uint64
	for i, c := range clients {
		st, err := c.ClusterStatus(ctx)
		if err != nil {
			return "", 0, fmt.Sprintf("%s: %v", hostOf(c), err)
		}
		if st.Leader == "" {
			return "", 0, fmt.Sprintf("%s knows no leader", hostOf(c))
		}
		if leader != "" && st.Leader != leader {
			return "", 0, fmt.Sprintf("nodes disagree on the leader: %s and %s", leader, st.Leader)
		}
		leader = st.Leader
		self := selfEntry(st, hostOf(c))
		applied[i] = self.Applied
		if self.ID == st.Leader {
			leaderIdx = self.Applied
		}
	}
	if leaderIdx == 0 {
		return "", 0, fmt.Sprintf("leader %s is not among the nodes given", leader)
	}
	for i, a := range applied {
		if a < leaderIdx {
			return "", 0, fmt.Sprintf("%s applied %d < leader's %d", hostOf(clients[i]), a, leaderIdx)
		}
	}
	return leader, leaderIdx, ""
}

// selfEntry is the answering node's own entry in st: the one with its API
// address, else the one with an applied index (only the answering node's is
// known).
func selfEntry(st api.ClusterStatus, addr string) api.ClusterNode {
	var best api.ClusterNode
	for _, n := range st.Nodes {
		if n.API == addr {
			return n
		}
		if n.Applied > best.Applied {
			best = n
		}
	}
	return best
}

// verifyResult is what verify found.
type verifyResult struct {
	Missing  []string // "domain on node": acknowledged but absent
	Diverged []string // domains the nodes disagree on
	Failed   []string // reads that got no answer
	Hosts    map[string]string
	Unknown  struct{ Present, Absent int } // domains whose adds were all unknown
}

// verifyReads reads every domain some add was issued for on every node and
// appends the reads to h as phase "verify" operations.
func verifyReads(ctx context.Context, h *History, clients []*client.Client, timeout time.Duration) verifyResult {
	acked := map[string]bool{}
	for _, d := range h.Acknowledged() {
		acked[d] = true
	}
	var domains []string
	seen := map[string]bool{}
	for _, op := range h.Ops {
		if op.Kind == KindAdd && !seen[op.Domain] {
			seen[op.Domain] = true
			domains = append(domains, op.Domain)
		}
	}
	res := verifyResult{Hosts: map[string]string{}}
	var mu sync.Mutex
	work := make(chan string)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for d := range work {
				var ops []Op
				for _, c := range clients {
					rctx, cancel := context.WithTimeout(ctx, timeout)
					op := Op{Client: -1, Kind: KindGet, Domain: d, Node: hostOf(c), Phase: "verify", Call: int64(time.Since(h.Start))}
					dom, err := c.GetDomain(rctx, d)
					cancel()
					op.Return = int64(time.Since(h.Start))
					op.Result, op.Detail = classifyGet(err)
					op.Host = dom.MailExchange
					ops = append(ops, op)
				}
				mu.Lock()
				h.Ops = append(h.Ops, ops...)
				var present, absent int
				for _, op := range ops {
					switch op.Result {
					case ResultPresent:
						present++
						if res.Hosts[d] == "" {
							res.Hosts[d] = op.Host
						}
					case ResultAbsent:
						absent++
						if acked[d] {
							res.Missing = append(res.Missing, d+" on "+op.Node)
						}
					default:
						res.Failed = append(res.Failed, d+" on "+op.Node+": "+op.Detail)
					}
				}
				if present > 0 && absent > 0 {
					res.Diverged = append(res.Diverged, d)
				}
				if !acked[d] && absent == 0 && present > 0 {
					res.Unknown.Present++
				} else if !acked[d] && present == 0 && absent > 0 {
					res.Unknown.Absent++
				}
				if !acked[d] {
					delete(res.Hosts, d)
				}
				mu.Unlock()
			}
		})
	}
	for _, d := range domains {
		work <- d
	}
	close(work)
	wg.Wait()
	for _, s := range [][]string{res.Missing, res.Diverged, res.Failed} {
		sort.Strings(s)
	}
	return res
}

// sortedHosts returns the host names of hosts, sorted, without repeats.
func sortedHosts(hosts map[string]string) []string {
	out := make([]string, 0, len(hosts))
	for _, h := range hosts {
		if h != "" {
			out = append(out, h)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}
