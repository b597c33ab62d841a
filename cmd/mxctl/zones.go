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
// returns them, so that the output is a trust-anchor file.
func (c *cli) cmdDS(args []string) int {
	pos, err := c.parseArgs(c.flagSet("ds"), args)
	if err != nil {
		return c.parseError(err)
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
	for _, ds := range list.DS {
		c.printf("%s\n", ds)
	}
	return exitOK
}
