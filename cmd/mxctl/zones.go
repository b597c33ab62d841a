package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
)

// cmdZones prints the parent zone and its shards as a table.
func (c *cli) cmdZones(args []string) int {
	pos, err := c.parseArgs(c.flagSet("zones"), args)
	if err != nil {
		return c.parseError(err)
	}
	if len(pos) != 0 {
		return c.usageError("zones takes no arguments")
	}
	cl, code := c.client()
	if cl == nil {
		return code
	}
	list, err := cl.Zones(context.Background())
	if err != nil {
		return c.fail("", err)
	}
	if c.g.json {
		return c.printJSON(list)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ZONE\tKIND\tHOSTS\tSERIAL\tKEYS")
	for _, z := range list.Zones {
		keys := make([]string, len(z.Keys))
		for i, k := range z.Keys {
			keys[i] = fmt.Sprintf("%s %d/%d %s", k.Role, k.Tag, k.Algorithm, k.State)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", z.Name, z.Kind, z.Hosts, z.Serial, strings.Join(keys, ", "))
	}
	tw.Flush()
	return exitOK
}

// cmdDS prints the DS records of a zone one per line, exactly as the server
// returns them, so that the output is a trust-anchor file. With --trust-anchors it
// prints them as a BIND trust-anchors clause, the form delv -a reads. "ds seen
// ZONE" is the operator's confirmation that the parent publishes a new DS.
func (c *cli) cmdDS(args []string) int {
	fs := c.flagSet("ds")
	anchors := fs.Bool("trust-anchors", false, "print a BIND/delv trust-anchors clause")
	pos, err := c.parseArgs(fs, args)
	if err != nil {
		return c.parseError(err)
	}
	if len(pos) > 0 && pos[0] == "seen" {
		if len(pos) != 2 || *anchors {
			return c.usageError("ds seen needs exactly one ZONE and no --trust-anchors")
		}
		return c.dsSeen(pos[1])
	}
	if len(pos) != 1 {
		return c.usageError("ds needs exactly one ZONE")
	}
	cl, code := c.client()
	if cl == nil {
		return code
	}
	list, err := cl.DS(context.Background(), pos[0])
	if err != nil {
		return c.fail(pos[0], err)
	}
	if c.g.json {
		return c.printJSON(list)
	}
	if *anchors {
		c.printf("trust-anchors {\n")
		for _, ds := range list.DS {
			// owner TTL class DS tag algorithm digest-type digest
			f := strings.Fields(ds)
			if len(f) < 8 || f[3] != "DS" {
				fmt.Fprintf(c.stderr, "mxctl: unexpected DS record %q\n", ds)
				return exitFail
			}
			c.printf("    %s static-ds %s %s %s \"%s\";\n", f[0], f[4], f[5], f[6], strings.Join(f[7:], ""))
		}
		c.printf("};\n")
		return exitOK
	}
	for _, ds := range list.DS {
		c.printf("%s\n", ds)
	}
	return exitOK
}
