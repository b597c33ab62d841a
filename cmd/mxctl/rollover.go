package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mxsign/mxsign/signer/keymgr"
)

// cmdRollover runs `rollover simulate`: the real key manager on a fake clock, with no
// server and no network. It prints the timeline and exits 1 naming the instant at
// which a resolver could have seen a bogus answer.
func (c *cli) cmdRollover(args []string) int {
	if len(args) == 0 || args[0] != "simulate" {
		return c.usageError("rollover needs a subcommand: simulate")
	}
	fs := c.flagSet("rollover simulate")
	policyFile := fs.String("policy", "", "policy file: `key value` lines with the Corefile policy names ('-' is stdin; empty: the defaults)")
	days := fs.Int("days", 365, "days to simulate")
	zone := fs.String("zone", "1j2b.mx.example.", "zone name (jitter is derived from it)")
	parent := fs.Bool("parent", false, "simulate the parent zone (double-KSK with CDS and a DS at an external registry) instead of a shard (double-DS)")
	svg := fs.String("svg", "", "also draw the timeline (keys as lanes, states as bars) into this SVG file")
	start := fs.String("start", "2026-01-01T00:00:00Z", "simulated start time (RFC 3339)")
	quiet := fs.Bool("quiet", false, "print only the summary, not every event")
	tick := fs.String("tick", "1h", "check at least this often besides every change (e.g. 1s to see every instant of a compressed policy's emergency window flagged)")
	var rolls rollRequests
	fs.Var(&rolls, "roll", "request a roll at OFFSET: `OFFSET:zsk|ksk|csk|zsk-now|ksk-now|csk-now|alg=13|alg=15`, e.g. 10d:ksk; -now is an emergency roll (repeatable)")
	pos, err := c.parseArgs(fs, args[1:])
	if err != nil {
		return c.parseError(err)
	}
	if len(pos) != 0 || *days < 1 {
		return c.usageError("rollover simulate takes flags only, and --days must be at least 1")
	}
	t0, err := time.Parse(time.RFC3339, *start)
	if err != nil {
		return c.usageError("--start: %v", err)
	}
	p := keymgr.DefaultPolicy()
	if *policyFile != "" {
		f := os.Stdin
		if *policyFile != "-" {
			if f, err = os.Open(*policyFile); err != nil {
				fmt.Fprintf(c.stderr, "mxctl: %v\n", err)
				return exitFail
			}
			defer f.Close()
		}
		if p, err = keymgr.ParsePolicy(f); err != nil {
			fmt.Fprintf(c.stderr, "mxctl: %s: %v\n", *policyFile, err)
			return exitFail
		}
	}
	if err := p.Validate(); err != nil {
		fmt.Fprintf(c.stderr, "mxctl: policy refused: %v\n", err)
		return exitFail
	}
	kind := keymgr.Shard
	if *parent {
		kind = keymgr.Parent
	}
	opts := keymgr.SimOptions{}
	if opts.Tick, err = keymgr.ParseDuration(*tick); err != nil || opts.Tick <= 0 {
		return c.usageError("--tick %q: want a positive duration such as 1s or 1h", *tick)
	}
	for _, r := range rolls {
		opts.Requests = append(opts.Requests, keymgr.RollRequest{At: t0.Add(r.after), Role: r.role, Algorithm: r.alg, Now: r.now})
	}
	tl, simErr := keymgr.Simulate(t0, *days, strings.ToLower(*zone), kind, p, opts)
	if tl != nil {
		if !*quiet {
			c.printf("%s", tl.Text())
		}
		c.printf("simulated %d days of %s (%s): %d instants checked, %d cached combinations validated\n",
			*days, tl.Zone, tl.Kind, tl.Steps, tl.Combinations)
		for _, e := range tl.Emergencies {
			c.printf("emergency %s roll at %s: resolvers may fail to validate for %s (announced), measured %s: %d check instants inside flagged, none after\n",
				e.Role, e.At.UTC().Format(time.RFC3339), keymgr.FormatDuration(e.Announced.Duration), keymgr.FormatDuration(e.Measured), e.Flagged)
		}
		if *svg != "" {
			if err := os.WriteFile(*svg, []byte(tl.SVG()), 0o644); err != nil {
				fmt.Fprintf(c.stderr, "mxctl: %v\n", err)
				return exitFail
			}
		}
	}
	if simErr != nil {
		fmt.Fprintf(c.stderr, "mxctl: %v\n", simErr)
		return exitFail
	}
	if len(tl.Emergencies) > 0 {
		c.printf("no resolver following its TTLs would have seen a bogus answer outside the announced emergency windows\n")
		return exitOK
	}
	c.printf("no resolver following its TTLs would have seen a bogus answer\n")
	return exitOK
}

type rollRequest struct {
	after time.Duration
	role  keymgr.Role
	alg   uint8
	now   bool // an emergency roll
}

// rollRequests is the repeatable --roll flag.
type rollRequests []rollRequest

func (r *rollRequests) String() string { return fmt.Sprint(len(*r)) }

func (r *rollRequests) Set(s string) error {
	off, what, ok := strings.Cut(s, ":")
	if !ok {
		return errors.New("want OFFSET:zsk|ksk|csk|zsk-now|ksk-now|csk-now|alg=N")
	}
	d, err := keymgr.ParseDuration(off)
	if err != nil {
		return err
	}
	req := rollRequest{after: d}
	role, now := strings.CutSuffix(what, "-now")
	switch {
	case role == "zsk" || role == "ksk" || role == "csk":
		req.role, req.now = keymgr.Role(role), now
	case strings.HasPrefix(what, "alg="):
		n, err := strconv.ParseUint(strings.TrimPrefix(what, "alg="), 10, 8)
		if err != nil || (n != 13 && n != 15) {
			return errors.New("alg= takes 13 or 15")
		}
		req.alg = uint8(n)
	default:
		return fmt.Errorf("%q: want zsk, ksk, csk, zsk-now, ksk-now, csk-now or alg=N", what)
	}
	*r = append(*r, req)
	return nil
}
