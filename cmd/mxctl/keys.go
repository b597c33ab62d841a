package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mxsign/mxsign/plugin/api"
	"github.com/mxsign/mxsign/signer/keymgr"
)

// keyTimeFormat prints lifecycle instants in UTC, to the second: compressed
// rollover policies take steps seconds apart.
const keyTimeFormat = "2006-01-02T15:04:05Z"

// cmdKeys prints the keys of a zone and where its rollover stands.
func (c *cli) cmdKeys(args []string) int {
	pos, err := c.parseArgs(c.flagSet("keys"), args)
	if err != nil {
		return c.parseError(err)
	}
	if len(pos) != 1 || pos[0] == "" {
		return c.usageError("keys needs exactly one ZONE")
	}
	cl, code := c.client()
	if cl == nil {
		return code
	}
	list, err := cl.Keys(context.Background(), pos[0])
	if err != nil {
		return c.fail(pos[0], err)
	}
	if c.g.json {
		return c.printJSON(list)
	}
	c.printKeys(list)
	return exitOK
}

// cmdKey dispatches the key subcommands.
func (c *cli) cmdKey(args []string) int {
	if len(args) == 0 {
		return c.usageError("key needs a subcommand: roll or list")
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "roll":
		return c.keyRoll(rest)
	case "list":
		return c.cmdKeys(rest)
	}
	return c.usageError("unknown key subcommand %q; want roll or list", sub)
}

// keyRoll asks for an early rollover and prints the key list once the
// request is recorded.
func (c *cli) keyRoll(args []string) int {
	fs := c.flagSet("key roll")
	zsk := fs.Bool("zsk", false, "roll the zone-signing key")
	ksk := fs.Bool("ksk", false, "roll the key-signing key")
	csk := fs.Bool("csk", false, "roll the combined signing key")
	alg := fs.Uint("algorithm", 0, "algorithm of the new key: 13 or 15 (default: the current one)")
	now := fs.Bool("now", false, "emergency roll of a compromised key: replace it at once; resolvers may fail to validate for a bounded window, which is printed")
	pos, err := c.parseArgs(fs, args)
	if err != nil {
		return c.parseError(err)
	}
	if len(pos) != 1 || pos[0] == "" {
		return c.usageError("key roll needs exactly one ZONE")
	}
	var req api.RolloverRequest
	for _, r := range []struct {
		set  bool
		role string
	}{{*zsk, "zsk"}, {*ksk, "ksk"}, {*csk, "csk"}} {
		if !r.set {
			continue
		}
		if req.Role != "" {
			return c.usageError("key roll takes one of --zsk, --ksk and --csk")
		}
		req.Role = r.role
	}
	if *alg > 255 {
		return c.usageError("--algorithm %d is not a DNSSEC algorithm number", *alg)
	}
	req.Algorithm = uint8(*alg)
	if req.Role == "" && req.Algorithm == 0 {
		return c.usageError("key roll needs --zsk, --ksk or --csk, or --algorithm N for an algorithm rollover")
	}
	if *now && (req.Role == "" || req.Algorithm != 0) {
		return c.usageError("key roll --now replaces the key of one role (--zsk, --ksk or --csk) with a key of the same algorithm: leave out --algorithm")
	}
	req.Now = *now
	cl, code := c.client()
	if cl == nil {
		return code
	}
	list, err := cl.Rollover(context.Background(), pos[0], req)
	if err != nil {
		return c.fail(pos[0], err)
	}
	if e := list.Emergency; e != nil {
		// A warning, not a question: operators script emergency rolls.
		fmt.Fprintf(c.stderr, "mxctl: warning: emergency: resolvers that cached the old keys of %s may fail to validate it for up to %s, until %s:\n",
			list.Zone, windowLength(e), e.Until.UTC().Format(keyTimeFormat))
		for _, cause := range e.Causes {
			fmt.Fprintf(c.stderr, "  %s\n", cause)
		}
	}
	if c.g.json {
		return c.printJSON(list)
	}
	c.printf("requested %s of %s\n", describeRoll(req), list.Zone)
	c.printKeys(list)
	return exitOK
}

// windowLength formats an emergency window's length the way policies are
// written: "1h5m".
func windowLength(e *api.EmergencyWindow) string {
	return keymgr.FormatDuration(time.Duration(e.Seconds) * time.Second)
}

// describeRoll names a rollover request: "a zsk rollover", "a ksk rollover
// to algorithm 15", "an algorithm rollover to 13", "an emergency zsk
// rollover".
func describeRoll(req api.RolloverRequest) string {
	switch {
	case req.Now:
		return fmt.Sprintf("an emergency %s rollover", req.Role)
	case req.Role == "":
		return fmt.Sprintf("an algorithm rollover to %d", req.Algorithm)
	case req.Algorithm != 0:
		return fmt.Sprintf("a %s rollover to algorithm %d", req.Role, req.Algorithm)
	}
	return fmt.Sprintf("a %s rollover", req.Role)
}

// dsSeen confirms that the parent publishes the zone's new DS.
func (c *cli) dsSeen(zone string) int {
	if zone == "" {
		return c.usageError("ds seen needs exactly one ZONE")
	}
	cl, code := c.client()
	if cl == nil {
		return code
	}
	if err := cl.DSSeen(context.Background(), zone); err != nil {
		return c.fail(zone, err)
	}
	if !c.g.json {
		c.printf("confirmed: the parent publishes the new DS of %s\n", zone)
	}
	return exitOK
}

// printKeys writes the keys as a table, then where the rollover stands.
func (c *cli) printKeys(l api.KeyList) {
	tw := tabwriter.NewWriter(c.stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "TAG\tROLE\tALG\tSTATE\tLIFECYCLE")
	for _, k := range l.Keys {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\n", k.Tag, k.Role, k.Algorithm, k.State, lifecycle(k))
	}
	tw.Flush()
	if !l.Managed {
		c.printf("automatic key management is off for %s (no key policy)\n", l.Zone)
		return
	}
	next := "-"
	if l.NextStep != nil {
		next = l.NextStep.UTC().Format(keyTimeFormat)
	}
	c.printf("phase:     %s\n", orDash(l.Phase))
	c.printf("waiting:   %s\n", orDash(l.Waiting))
	c.printf("next step: %s\n", next)
	if e := l.Emergency; e != nil {
		c.printf("emergency: %s replaced %s; resolvers may fail to validate until %s (%s)\n",
			e.Role, e.Start.UTC().Format(keyTimeFormat), e.Until.UTC().Format(keyTimeFormat), windowLength(e))
	}
}

// lifecycle lists the steps a key has taken in order, those at the same
// instant joined by '+': "created+published 2026-01-01T00:00:00Z, active
// 2026-01-02T00:00:00Z".
func lifecycle(k api.KeyDetail) string {
	steps := []struct {
		name string
		at   *time.Time
	}{
		{"created", k.Created},
		{"published", k.Published},
		{"active", k.Activated},
		{"ds-submitted", k.DSSubmitted},
		{"ds-published", k.DSPublished},
		{rollStep(k), k.RollRequested},
		{"retired", k.Retired},
		{"ds-withdrawn", k.DSWithdrawn},
		{"removed", k.Removed},
	}
	var (
		groups []string
		names  []string
		last   time.Time
	)
	flush := func() {
		if len(names) > 0 {
			groups = append(groups, strings.Join(names, "+")+" "+last.UTC().Format(keyTimeFormat))
		}
	}
	for _, s := range steps {
		if s.at == nil {
			continue
		}
		if len(names) > 0 && !s.at.Equal(last) {
			flush()
			names = nil
		}
		names = append(names, s.name)
		last = *s.at
	}
	flush()
	if k.DSSeen && k.DSPublished == nil {
		groups = append(groups, "ds-seen")
	}
	if len(groups) == 0 {
		return "-"
	}
	return strings.Join(groups, ", ")
}

// rollStep names a roll request in a key's lifecycle: "compromised" for an
// emergency roll.
func rollStep(k api.KeyDetail) string {
	if k.Emergency {
		return "compromised"
	}
	return "roll-requested"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
