package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mxsign/mxsign/plugin/api/client"
)

// driverConfig is what one run needs.
type driverConfig struct {
	Nodes     []string      // admin API addresses
	Token     string        // bearer token
	Clients   int           // concurrent clients
	Duration  time.Duration // how long to run; 0 with MaxOps > 0 runs until MaxOps
	MaxOps    int           // stop after this many operations; 0: no limit
	ReadRatio float64       // share of operations that are reads
	Timeout   time.Duration // per request
	Retries   int           // how often an add with an unknown outcome is retried
	RunID     string        // makes the domains of this run unique
	Seed      uint64
}

// recorder collects operations from every client.
type recorder struct {
	start time.Time
	mu    sync.Mutex
	ops   []Op
	known []string // domains some add was issued for, for reads
}

func (r *recorder) now() int64 { return int64(time.Since(r.start)) }

func (r *recorder) add(op Op) {
	r.mu.Lock()
	r.ops = append(r.ops, op)
	r.mu.Unlock()
}

func (r *recorder) issued(d string) {
	r.mu.Lock()
	r.known = append(r.known, d)
	r.mu.Unlock()
}

func (r *recorder) pick(rng *rand.Rand) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.known) == 0 {
		return "", false
	}
	return r.known[rng.IntN(len(r.known))], true
}

// newClients returns one API client per node sharing a transport with short
// timeouts, so a killed node costs a client one failed request, not a hang.
func newClients(nodes []string, token string, timeout time.Duration) []*client.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	hc := &http.Client{Transport: tr, Timeout: timeout}
	out := make([]*client.Client, len(nodes))
	for i, n := range nodes {
		out[i] = client.New(n, token)
		out[i].HTTP = hc
	}
	return out
}

// classifyAdd maps the answer to an add onto the model's results.
func classifyAdd(err error) (Result, string) {
	if err == nil {
		return ResultOK, ""
	}
	var se *client.StatusError
	if errors.As(err, &se) && se.Status == http.StatusConflict {
		return ResultExists, ""
	}
	// 503, other 5xx, timeouts, refused or reset connections: the write may
	// or may not have been made.
	return ResultUnknown, err.Error()
}

func classifyGet(err error) (Result, string) {
	if err == nil {
		return ResultPresent, ""
	}
	var se *client.StatusError
	if errors.As(err, &se) && se.Status == http.StatusNotFound {
		return ResultAbsent, ""
	}
	return ResultFailed, err.Error()
}

// runDriver runs cfg.Clients clients until ctx ends, the duration passes or
// the operation budget is spent, and returns the history.
func runDriver(ctx context.Context, cfg driverConfig) *History {
	clients := newClients(cfg.Nodes, cfg.Token, cfg.Timeout)
	rec := &recorder{start: time.Now()}
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	var budget atomic.Int64
	budget.Store(int64(cfg.MaxOps))
	take := func() bool { return cfg.MaxOps == 0 || budget.Add(-1) >= 0 }

	var wg sync.WaitGroup
	for k := range cfg.Clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(cfg.Seed, uint64(k)))
			seq := 0
			for ctx.Err() == nil && take() {
				if rng.Float64() < cfg.ReadRatio {
					d, ok := rec.pick(rng)
					if !ok || rng.IntN(10) == 0 {
						// A domain nobody adds: must stay absent.
						d = fmt.Sprintf("never-%s-c%d-%d.com", cfg.RunID, k, seq)
					}
					get(rec, clients, rng, k, d)
					continue
				}
				seq++
				d := fmt.Sprintf("%s-c%d-%d.com", cfg.RunID, k, seq)
				rec.issued(d)
				for try := 0; try <= cfg.Retries && ctx.Err() == nil; try++ {
					if add(rec, clients, rng, k, d) != ResultUnknown {
						break
					}
					// Back off a little so a leaderless cluster is not hammered.
					select {
					case <-ctx.Done():
					case <-time.After(time.Duration(20+rng.IntN(60)) * time.Millisecond):
					}
				}
			}
		})
	}
	wg.Wait()
	return &History{Start: rec.start, Duration: time.Since(rec.start), Nodes: cfg.Nodes, Ops: rec.ops}
}

// reqContext detaches a request from the run's deadline: a request that is
// under way when the run ends still gets its answer (or its own timeout),
// so the end of the run does not turn answers into "unknown".
func reqContext(timeout time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), timeout)
}

func add(rec *recorder, clients []*client.Client, rng *rand.Rand, k int, d string) Result {
	i := rng.IntN(len(clients))
	ctx, cancel := reqContext(clients[i].HTTP.Timeout)
	defer cancel()
	op := Op{Client: k, Kind: KindAdd, Domain: d, Node: hostOf(clients[i]), Phase: "run", Call: rec.now()}
	dom, err := clients[i].AddDomain(ctx, d)
	op.Return = rec.now()
	op.Result, op.Detail = classifyAdd(err)
	if op.Result == ResultOK {
		op.Host = dom.MailExchange
	}
	if op.Result == ResultUnknown {
		op.Return = 0
	}
	rec.add(op)
	return op.Result
}

func get(rec *recorder, clients []*client.Client, rng *rand.Rand, k int, d string) {
	i := rng.IntN(len(clients))
	ctx, cancel := reqContext(clients[i].HTTP.Timeout)
	defer cancel()
	op := Op{Client: k, Kind: KindGet, Domain: d, Node: hostOf(clients[i]), Phase: "run", Call: rec.now()}
	dom, err := clients[i].GetDomain(ctx, d)
	op.Return = rec.now()
	op.Result, op.Detail = classifyGet(err)
	op.Host = dom.MailExchange
	rec.add(op)
}

func hostOf(c *client.Client) string {
	const p = "http://"
	if len(c.BaseURL) > len(p) && c.BaseURL[:len(p)] == p {
		return c.BaseURL[len(p):]
	}
	return c.BaseURL
}
