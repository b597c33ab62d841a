// Command mxctl is the operator CLI of mxsign: it adds, lists and removes
// accepted domains, shows zones and DS records, follows and requests key
// rollovers, and manages the members of the cluster through the admin API.
//
//	mxctl domain add contoso.com
//	mxctl ds mx.example. > ta.txt
//	mxctl key roll 1j2b.mx.example. --zsk
//	mxctl cluster join ns2 10.0.0.2:7000 10.0.0.2:8053
//
// Run "mxctl help" for the commands, flags and exit codes.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

// Exit codes.
const (
	exitOK          = 0 // success
	exitFail        = 1 // the API refused the operation, or a local file error
	exitUsage       = 2 // bad command line
	exitUnreachable = 3 // cannot reach the server, or not authorized
)

const (
	defaultAPI     = "127.0.0.1:8053"
	defaultTimeout = 30 * time.Second
)

const usage = `Usage: mxctl [flags] COMMAND [ARGS]

Manage an mxsign server through its admin API.

Commands:
  domain add DOMAIN...       add accepted domains; prints each mail-exchange
                             host and the records to publish
  domain get DOMAIN          show one domain
  domain list [--limit N] [--after NAME] [--all]
                             list domains in name order, one page or --all
  domain rm DOMAIN...        remove domains
  domain import FILE         add the domains in FILE, one per line ('#'
                             comments, blank lines ignored; '-' is stdin)
  zones                      list the parent zone and its shards
  ds ZONE [--trust-anchors]  print the DS records of ZONE, one per line
                             (usable as a trust-anchor file), or as a
                             BIND/delv trust-anchors clause
  ds seen ZONE               confirm that the parent (the registry) now
                             publishes the new DS of ZONE: a KSK rollover
                             of the parent zone waits for this
  keys ZONE                  list the keys of ZONE with their lifecycle
                             (UTC), and the rollover phase, what it waits
                             for and when the next step is due (also
                             "key list ZONE")
  key roll ZONE --zsk|--ksk|--csk [--algorithm N]
                             request an early rollover of that key, to
                             algorithm N (13 or 15) if given; --algorithm N
                             alone rolls every key to N; prints the keys
  key roll ZONE --zsk|--ksk|--csk --now
                             emergency roll of a compromised key: replace
                             it at once (no confirmation asked); warns on
                             stderr how long resolvers may fail to validate.
                             Refused for the parent zone's KSK/CSK (its DS
                             is at the registry: roll it without --now)
  cluster status             list the cluster's members; '*' marks the
                             leader
  cluster join ID RAFT-ADDR API-ADDR [--nonvoter]
                             ask the server at --api to add the node ID,
                             reachable for Raft at RAFT-ADDR and for the
                             admin API at API-ADDR; a voter unless
                             --nonvoter
  cluster remove ID          remove the node ID from the cluster
  rollover simulate [--policy FILE] [--days N] [--parent] [--roll OFF:WHAT]
                    [--tick D] [--svg FILE] [--quiet]
                             run the key manager on a fake clock (no server)
                             and check at every instant that any cached
                             DS/DNSKEY/RRSIG combination still validates;
                             exit 1 naming the instant if not. WHAT is
                             zsk, ksk or csk (a requested roll), zsk-now,
                             ksk-now or csk-now (an emergency roll: the
                             check measures how long validation may fail
                             and exits 1 if longer than announced), or
                             alg=13|15
  version                    print the mxctl version

Flags (before or after the command):
  --api ADDR          admin API address (env MXSIGN_API; default 127.0.0.1:8053)
  --token TOKEN       bearer token (env MXSIGN_TOKEN)
  --token-file FILE   file holding the token (env MXSIGN_TOKEN_FILE);
                      without a token, ./data/token then ./token are tried
  --json              print the API's JSON answers instead of text
  --timeout DURATION  limit for each API request (default 30s)

Exit status: 0 success, 1 operation failed, 2 usage error,
3 server unreachable or unauthorized.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// run is mxctl with its arguments (without the program name), output
// streams and environment; it returns the exit code. Relative paths are
// resolved against the process's working directory and stdin is os.Stdin.
func run(args []string, stdout, stderr io.Writer, env func(string) string) int {
	c := &cli{stdin: os.Stdin, stdout: stdout, stderr: stderr, env: env}
	return c.run(args)
}

// cli is one invocation of mxctl.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	env            func(string) string
	// dir is the directory relative paths (token discovery, --token-file,
	// import FILE) are resolved against; "" is the process's working
	// directory. Tests set it instead of changing directory.
	dir string

	g globals
}

// globals are the flags accepted before or after any command.
type globals struct {
	api       string
	token     string
	tokenFile string
	json      bool
	timeout   time.Duration
	set       map[string]bool // names of the flags given on the command line
}

func (c *cli) run(args []string) int {
	c.g = globals{
		api:     defaultAPI,
		timeout: defaultTimeout,
		set:     map[string]bool{},
	}
	if v := c.env("MXSIGN_API"); v != "" {
		c.g.api = v
	}
	fs := c.flagSet("mxctl")
	if err := fs.Parse(args); err != nil {
		return c.parseError(err)
	}
	c.visit(fs)
	if fs.NArg() == 0 {
		fmt.Fprint(c.stderr, usage)
		return exitUsage
	}
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	switch cmd {
	case "domain", "domains":
		return c.cmdDomain(rest)
	case "zones":
		return c.cmdZones(rest)
	case "ds":
		return c.cmdDS(rest)
	case "keys":
		return c.cmdKeys(rest)
	case "key":
		return c.cmdKey(rest)
	case "cluster":
		return c.cmdCluster(rest)
	case "rollover":
		return c.cmdRollover(rest)
	case "version":
		return c.cmdVersion(rest)
	case "help":
		fmt.Fprint(c.stdout, usage)
		return exitOK
	}
	return c.usageError("unknown command %q", cmd)
}

// flagSet returns a flag set holding the global flags, with the values
// parsed so far as defaults, so that they may follow the command too.
func (c *cli) flagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.g.api, "api", c.g.api, "admin API address")
	fs.StringVar(&c.g.token, "token", c.g.token, "bearer token")
	fs.StringVar(&c.g.tokenFile, "token-file", c.g.tokenFile, "file holding the bearer token")
	fs.BoolVar(&c.g.json, "json", c.g.json, "print JSON")
	fs.DurationVar(&c.g.timeout, "timeout", c.g.timeout, "timeout of each request")
	return fs
}

// visit records which flags fs saw on the command line.
func (c *cli) visit(fs *flag.FlagSet) {
	fs.Visit(func(f *flag.Flag) { c.g.set[f.Name] = true })
}

// parseArgs parses args with fs, allowing flags between positional
// arguments ("domain add a.com --json b.com"); "--" ends the flags. It
// returns the positional arguments.
func (c *cli) parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	c.visit(fs)
	if c.g.timeout <= 0 {
		return nil, fmt.Errorf("--timeout must be positive, not %v", c.g.timeout)
	}
	return pos, nil
}

// parseError reports a flag error: help exits 0, anything else is a usage
// error.
func (c *cli) parseError(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(c.stdout, usage)
		return exitOK
	}
	return c.usageError("%v", err)
}

// usageError prints the message and a hint, and returns exitUsage.
func (c *cli) usageError(format string, args ...any) int {
	fmt.Fprintf(c.stderr, "mxctl: "+format+"\n", args...)
	fmt.Fprintln(c.stderr, `Run "mxctl help" for usage.`)
	return exitUsage
}
