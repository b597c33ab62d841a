package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/mxsign/mxsign/plugin/api"
)

// importBatch is the number of domains sent per request by domain import.
const importBatch = api.DefaultMaxBatch

// cmdDomain dispatches the domain subcommands.
func (c *cli) cmdDomain(args []string) int {
	if len(args) == 0 {
		return c.usageError("domain needs a subcommand: add, get, list, rm or import")
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "add":
		return c.domainAdd(rest)
	case "get", "show":
		return c.domainGet(rest)
	case "list", "ls":
		return c.domainList(rest)
	case "rm", "remove", "delete":
		return c.domainRemove(rest)
	case "import":
		return c.domainImport(rest)
	}
	return c.usageError("unknown domain subcommand %q; want add, get, list, rm or import", sub)
}

// domainAdd adds each domain with its own request, reporting every failure
// and going on with the next, unless the server cannot be reached.
func (c *cli) domainAdd(args []string) int {
	domains, err := c.parseArgs(c.flagSet("domain add"), args)
	if err != nil {
		return c.parseError(err)
	}
	if len(domains) == 0 {
		return c.usageError("domain add needs at least one DOMAIN")
	}
	cl, code := c.client()
	if cl == nil {
		return code
	}
	code = exitOK
	printed := false
	for _, name := range domains {
		d, err := cl.AddDomain(context.Background(), name)
		if err != nil {
			if code = c.fail(name, err); code == exitUnreachable {
				return code
			}
			continue
		}
		if c.g.json {
			c.printJSON(d)
			continue
		}
		if printed {
			c.printf("\n")
		}
		c.printDomain(d)
		printed = true
	}
	return code
}

func (c *cli) domainGet(args []string) int {
	pos, err := c.parseArgs(c.flagSet("domain get"), args)
	if err != nil {
		return c.parseError(err)
	}
	if len(pos) != 1 {
		return c.usageError("domain get needs exactly one DOMAIN")
	}
	cl, code := c.client()
	if cl == nil {
		return code
	}
	d, err := cl.GetDomain(context.Background(), pos[0])
	if err != nil {
		return c.fail(pos[0], err)
	}
	if c.g.json {
		return c.printJSON(d)
	}
	c.printDomain(d)
	return exitOK
}

// domainList prints one page of domains, or every page with --all.
func (c *cli) domainList(args []string) int {
	fs := c.flagSet("domain list")
	limit := fs.Int("limit", 0, "domains per page (1-1000; default: the server's, 1000 with --all)")
	after := fs.String("after", "", "start after this domain")
	all := fs.Bool("all", false, "fetch every page")
	pos, err := c.parseArgs(fs, args)
	if err != nil {
		return c.parseError(err)
	}
	if len(pos) != 0 {
		return c.usageError("domain list takes no arguments, only --limit, --after and --all")
	}
	if *limit < 0 || *limit > api.MaxListLimit {
		return c.usageError("--limit must be from 1 to %d", api.MaxListLimit)
	}
	if *all && *limit == 0 {
		*limit = api.MaxListLimit
	}
	cl, code := c.client()
	if cl == nil {
		return code
	}

	var out api.DomainList
	next := *after
	for {
		page, err := cl.ListDomains(context.Background(), next, *limit)
		if err != nil {
			return c.fail("", err)
		}
		out.Domains = append(out.Domains, page.Domains...)
		out.Next = page.Next
		if !*all || page.Next == "" || page.Next == next || len(page.Domains) == 0 {
			break
		}
		next = page.Next
	}
	if c.g.json {
		if out.Domains == nil {
			out.Domains = []api.Domain{}
		}
		return c.printJSON(out)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "DOMAIN\tMAIL EXCHANGE\tSHARD")
	for _, d := range out.Domains {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", d.Domain, d.MailExchange, d.Shard)
	}
	tw.Flush()
	if out.Next != "" {
		fmt.Fprintf(c.stderr, "mxctl: more domains follow: use --after %s, or --all\n", out.Next)
	}
	return exitOK
}

// domainRemove removes each domain, reporting every failure and going on
// with the next, unless the server cannot be reached.
func (c *cli) domainRemove(args []string) int {
	domains, err := c.parseArgs(c.flagSet("domain rm"), args)
	if err != nil {
		return c.parseError(err)
	}
	if len(domains) == 0 {
		return c.usageError("domain rm needs at least one DOMAIN")
	}
	cl, code := c.client()
	if cl == nil {
		return code
	}
	code = exitOK
	for _, name := range domains {
		if err := cl.DeleteDomain(context.Background(), name); err != nil {
			if code = c.fail(name, err); code == exitUnreachable {
				return code
			}
			continue
		}
		if !c.g.json {
			c.printf("removed %s\n", name)
		}
	}
	return code
}

// domainImport adds the domains listed in a file in batches of importBatch.
// Successes go to stdout, failures to stderr; any failure makes the exit
// code exitFail.
func (c *cli) domainImport(args []string) int {
	pos, err := c.parseArgs(c.flagSet("domain import"), args)
	if err != nil {
		return c.parseError(err)
	}
	if len(pos) != 1 {
		return c.usageError("domain import needs exactly one FILE ('-' for stdin)")
	}
	domains, err := c.readDomains(pos[0])
	if err != nil {
		fmt.Fprintf(c.stderr, "mxctl: %v\n", err)
		return exitFail
	}
	cl, code := c.client()
	if cl == nil {
		return code
	}
	failed := 0
	for batch := range chunks(domains, importBatch) {
		resp, err := cl.AddDomains(context.Background(), batch)
		if err != nil {
			return c.fail("", err)
		}
		if c.g.json {
			c.printJSON(resp)
		}
		for _, it := range resp.Results {
			switch {
			case it.Status >= 200 && it.Status < 300 && it.Result != nil:
				if !c.g.json {
					c.printf("%s -> %s\n", it.Domain, it.Result.MailExchange)
				}
			default:
				failed++
				c.itemError(it.Domain, it.Status, it.Error)
			}
		}
	}
	if !c.g.json {
		c.printf("imported %d of %d domains", len(domains)-failed, len(domains))
		if failed > 0 {
			c.printf(", %d failed", failed)
		}
		c.printf("\n")
	}
	if failed > 0 {
		return exitFail
	}
	return exitOK
}

// readDomains reads one domain per line from name ("-" is stdin), skipping
// blank lines and '#' comments, whole-line or trailing.
func (c *cli) readDomains(name string) ([]string, error) {
	var r io.Reader = c.stdin
	if name != "-" {
		f, err := os.Open(c.path(name))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	var domains []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if line = strings.TrimSpace(line); line != "" {
			domains = append(domains, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return domains, nil
}

// chunks yields s in consecutive pieces of at most n elements.
func chunks(s []string, n int) func(yield func([]string) bool) {
	return func(yield func([]string) bool) {
		for len(s) > 0 {
			k := min(n, len(s))
			if !yield(s[:k]) {
				return
			}
			s = s[k:]
		}
	}
}
