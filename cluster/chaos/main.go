// Command chaos drives an mxsign Raft cluster with concurrent clients while
// .ci/chaos.sh kills its leader, and checks what the clients saw.
//
//	chaos run    -nodes A,B,C -token-file F -duration 20s -history h.json
//	chaos verify -nodes A,B,C -token-file F -history h.json -kills k.txt -hosts hosts.txt
//
// run starts -clients clients that add unique domains (POST /v1/domains) and
// read some back (GET /v1/domains/{d}) through randomly chosen nodes, and
// records every operation with its call and return time and its outcome: 201
// ok, 409 exists, 200 present, 404 absent, and "unknown" for a 503, a timeout
// or a connection error (the write may or may not have been made). The
// history is checked with porcupine against a set-of-domains model,
// partitioned by domain; an add with an unknown outcome is checked as if it
// could take effect at any time after its call.
//
// verify waits (bounded) until every node has applied the leader's index,
// then reads every domain of the history on every node, adds those reads to
// the history, checks it again, and fails if an acknowledged domain (201 or
// 409) is missing anywhere or the nodes disagree. It writes the host names
// of the acknowledged domains for DNS checks and, given the kill times the
// script recorded, the failover times.
//
// The exit status is 0 when every check passed, 1 when one failed, 2 on
// usage or I/O errors.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/anishathalye/porcupine"
)

// errNotConverged is returned when the nodes do not catch up in time.
var errNotConverged = errors.New("chaos: cluster did not converge")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func usage(w io.Writer) int {
	fmt.Fprintln(w, "usage: chaos run|verify -nodes A,B,C -token-file F -history FILE [flags]; chaos CMD -h for flags")
	return 2
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return usage(stderr)
	}
	fs := flag.NewFlagSet("chaos "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	nodes := fs.String("nodes", "", "comma-separated admin API addresses of the cluster members")
	tokenFile := fs.String("token-file", "", "file holding the admin API token")
	histPath := fs.String("history", "chaos-history.json", "history file (written by run, read by verify)")
	timeout := fs.Duration("timeout", 3*time.Second, "per request timeout")
	checkTimeout := fs.Duration("check-timeout", 60*time.Second, "bound on the linearizability check")
	linReads := fs.Bool("linearizable-reads", false, "also check reads answered 404 during the run (nodes answer reads locally, so followers may lag)")
	var (
		clients   = fs.Int("clients", 8, "run: concurrent clients")
		duration  = fs.Duration("duration", 20*time.Second, "run: how long to run (0: until -ops)")
		maxOps    = fs.Int("ops", 0, "run: stop after this many operations (0: no limit)")
		readRatio = fs.Float64("read-ratio", 0.3, "run: share of operations that are reads")
		retries   = fs.Int("retries", 3, "run: retries of an add whose outcome is unknown")
		runID     = fs.String("run-id", "", "run: domain prefix unique to this run (default: from the clock)")
		seed      = fs.Uint64("seed", 0, "run: random seed (default: from the clock)")
		wait      = fs.Duration("wait", 30*time.Second, "verify: bound on waiting for every node to catch up")
		killsPath = fs.String("kills", "", "verify: file of \"UNIX_NANOS NODE_ID\" lines, one per leader kill")
		hostsPath = fs.String("hosts", "", "verify: write the acknowledged domains' host names here")
	)
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	addrs := splitList(*nodes)
	if len(addrs) == 0 || *tokenFile == "" {
		fmt.Fprintln(stderr, "chaos: -nodes and -token-file are required")
		return 2
	}
	tok, err := os.ReadFile(*tokenFile)
	if err != nil {
		fmt.Fprintln(stderr, "chaos:", err)
		return 2
	}
	token := strings.TrimSpace(string(tok))
	opt := checkOptions{StaleReads: !*linReads}

	switch args[0] {
	case "run":
		now := time.Now()
		if *runID == "" {
			*runID = fmt.Sprintf("r%x", now.UnixNano()&0xffffffffff)
		}
		if *seed == 0 {
			*seed = uint64(now.UnixNano())
		}
		if *duration == 0 && *maxOps == 0 {
			fmt.Fprintln(stderr, "chaos: one of -duration and -ops must be set")
			return 2
		}
		h := runDriver(ctx, driverConfig{
			Nodes: addrs, Token: token, Clients: *clients, Duration: *duration, MaxOps: *maxOps,
			ReadRatio: *readRatio, Timeout: *timeout, Retries: *retries, RunID: *runID, Seed: *seed,
		})
		if err := h.save(*histPath); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		s := h.stats("run")
		fmt.Fprintf(stdout, "chaos run: %d ops in %.1fs by %d clients (run id %s, seed %d): %s\n",
			s.Ops, h.Duration.Seconds(), *clients, *runID, *seed, formatCounts(s.Counts))
		stale, sameNode := h.staleReads()
		fmt.Fprintf(stdout, "chaos run: %d domains committed, %.1f domains/s\n", s.Created, float64(s.Created)/h.Duration.Seconds())
		fmt.Fprintf(stdout, "chaos run: %d reads of acknowledged domains answered 404 by a lagging node (%d by the node that acknowledged the write)\n", stale, sameNode)
		res := checkHistory(h.Ops, opt, *checkTimeout)
		rc := report(stdout, "run", res)
		evidence(stdout, h.Ops, res.Illegal)
		return rc
	case "verify":
		return verify(ctx, stdout, stderr, verifyArgs{
			nodes: addrs, token: token, history: *histPath, kills: *killsPath, hosts: *hostsPath,
			wait: *wait, timeout: *timeout, checkTimeout: *checkTimeout, opt: opt,
		})
	default:
		return usage(stderr)
	}
}

type verifyArgs struct {
	nodes                        []string
	token, history, kills, hosts string
	wait, timeout, checkTimeout  time.Duration
	opt                          checkOptions
}

func verify(ctx context.Context, stdout, stderr io.Writer, a verifyArgs) int {
	h, err := loadHistory(a.history)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	clients := newClients(a.nodes, a.token, a.timeout)
	failed := false
	began := time.Now()
	leader, idx, err := converge(ctx, clients, a.wait)
	if err != nil {
		fmt.Fprintln(stdout, "FAIL", err)
		failed = true
	} else {
		fmt.Fprintf(stdout, "chaos verify: every node applied the leader's (%s) index %d after %s\n", leader, idx, time.Since(began).Round(time.Millisecond))
	}
	acked := h.Acknowledged()
	vr := verifyReads(ctx, h, clients, a.timeout)
	fmt.Fprintf(stdout, "chaos verify: %d acknowledged domains read on %d nodes; unacknowledged adds that took effect: %d, that did not: %d\n",
		len(acked), len(a.nodes), vr.Unknown.Present, vr.Unknown.Absent)
	for _, l := range []struct {
		what string
		list []string
	}{{"acknowledged domain missing", vr.Missing}, {"nodes disagree on", vr.Diverged}, {"read failed", vr.Failed}} {
		for i, s := range l.list {
			if i == 20 {
				fmt.Fprintf(stdout, "FAIL ... %d more\n", len(l.list)-20)
				break
			}
			fmt.Fprintf(stdout, "FAIL %s: %s\n", l.what, s)
		}
		failed = failed || len(l.list) > 0
	}
	if bad := badDomains(vr); len(bad) > 0 {
		evidence(stdout, h.Ops, bad)
	}
	if a.kills != "" {
		if err := printFailovers(stdout, h, a.kills); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
	}
	if a.hosts != "" {
		hosts := sortedHosts(vr.Hosts)
		if err := os.WriteFile(a.hosts, []byte(strings.Join(hosts, "\n")+"\n"), 0o644); err != nil {
			fmt.Fprintln(stderr, "chaos:", err)
			return 2
		}
	}
	if err := h.save(a.history); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	res := checkHistory(h.Ops, a.opt, a.checkTimeout)
	rc := report(stdout, "verify", res)
	evidence(stdout, h.Ops, res.Illegal)
	if rc != 0 || failed {
		return 1
	}
	return 0
}

func printFailovers(w io.Writer, h *History, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	defer f.Close()
	kills, err := parseKills(f)
	if err != nil {
		return err
	}
	for i, fo := range failovers(h, kills) {
		out := "no write succeeded afterwards"
		if fo.Outage >= 0 {
			out = fo.Outage.Round(time.Millisecond).String()
		}
		fmt.Fprintf(w, "chaos failover %d: killed leader %s at +%s, first committed write after %s\n",
			i+1, fo.Node, fo.At.Sub(h.Start).Round(time.Millisecond), out)
	}
	return nil
}

// report prints the verdict of a check and returns the exit status.
func report(w io.Writer, phase string, res CheckResult) int {
	switch res.Result {
	case porcupine.Ok:
		fmt.Fprintf(w, "chaos %s: linearizable (%d ops checked)\n", phase, res.Checked)
		return 0
	case porcupine.Unknown:
		fmt.Fprintf(w, "FAIL chaos %s: linearizability check timed out (%d ops)\n", phase, res.Checked)
	default:
		fmt.Fprintf(w, "FAIL chaos %s: NOT linearizable (%d ops checked); domains: %s\n", phase, res.Checked, strings.Join(res.Illegal, " "))
	}
	return 1
}

func formatCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, " ")
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// badDomains lists, once each, the domains verify found missing or diverged.
func badDomains(vr verifyResult) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range append(append([]string(nil), vr.Missing...), vr.Diverged...) {
		d, _, _ := strings.Cut(s, " ")
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}
