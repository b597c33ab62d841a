package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/mxsign/mxsign/plugin/api"
)

// cmdCluster dispatches the cluster subcommands.
func (c *cli) cmdCluster(args []string) int {
	if len(args) == 0 {
		return c.usageError("cluster needs a subcommand: status, join or remove")
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "status":
		return c.clusterStatus(rest)
	case "join", "add":
		return c.clusterJoin(rest)
	case "remove", "rm":
		return c.clusterRemove(rest)
	}
	return c.usageError("unknown cluster subcommand %q; want status, join or remove", sub)
}

// clusterStatus prints the members as a table, the leader marked with '*'.
func (c *cli) clusterStatus(args []string) int {
	pos, err := c.parseArgs(c.flagSet("cluster status"), args)
	if err != nil {
		return c.parseError(err)
	}
	if len(pos) != 0 {
		return c.usageError("cluster status takes no arguments")
	}
	cl, code := c.client()
	if cl == nil {
		return code
	}
	st, err := cl.ClusterStatus(context.Background())
	if err != nil {
		return c.fail("", err)
	}
	if c.g.json {
		if st.Nodes == nil {
			st.Nodes = []api.ClusterNode{}
		}
		return c.printJSON(st)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tRAFT\tAPI\tSTATE\tVOTER\tAPPLIED")
	for _, n := range st.Nodes {
		id := n.ID
		if st.Leader != "" && n.ID == st.Leader {
			id += " *"
		}
		voter := "no"
		if n.Voter {
			voter = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\n", id, n.Raft, n.API, n.State, voter, n.Applied)
	}
	tw.Flush()
	if st.Leader == "" {
		fmt.Fprintln(c.stderr, "mxctl: the cluster has no leader: writes fail until one is elected")
	}
	return exitOK
}

// clusterJoin asks the server named by --api to add a node.
func (c *cli) clusterJoin(args []string) int {
	fs := c.flagSet("cluster join")
	nonvoter := fs.Bool("nonvoter", false, "join as a non-voting member")
	pos, err := c.parseArgs(fs, args)
	if err != nil {
		return c.parseError(err)
	}
	if len(pos) != 3 {
		return c.usageError("cluster join needs ID RAFT-ADDR API-ADDR")
	}
	for i, what := range []string{"ID", "RAFT-ADDR", "API-ADDR"} {
		if pos[i] == "" {
			return c.usageError("cluster join: %s is empty", what)
		}
	}
	cl, code := c.client()
	if cl == nil {
		return code
	}
	voter := !*nonvoter
	req := api.JoinRequest{ID: pos[0], Raft: pos[1], API: pos[2], Voter: &voter}
	if err := cl.Join(context.Background(), req); err != nil {
		return c.fail(req.ID, err)
	}
	if !c.g.json {
		role := "voter"
		if !voter {
			role = "nonvoter"
		}
		c.printf("joined %s (raft %s, api %s) as a %s\n", req.ID, req.Raft, req.API, role)
	}
	return exitOK
}

// clusterRemove removes one node.
func (c *cli) clusterRemove(args []string) int {
	pos, err := c.parseArgs(c.flagSet("cluster remove"), args)
	if err != nil {
		return c.parseError(err)
	}
	if len(pos) != 1 || pos[0] == "" {
		return c.usageError("cluster remove needs exactly one ID")
	}
	cl, code := c.client()
	if cl == nil {
		return code
	}
	if err := cl.RemoveNode(context.Background(), pos[0]); err != nil {
		return c.fail(pos[0], err)
	}
	if !c.g.json {
		c.printf("removed %s from the cluster\n", pos[0])
	}
	return exitOK
}
