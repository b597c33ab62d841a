// Command genqueries writes a dnsperf query file over the host names mxsign
// assigned (one fully qualified name per line on stdin or in -hosts), with
// the query mix of the peer benchmark, or a random-subdomain flood over their
// zones with -nxflood.
//
//	genqueries -hosts hosts.txt -n 200000 -out queries.txt
//	genqueries -hosts hosts.txt -n 500000 -nxflood -out nxflood.txt
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mxsign/mxsign/testzones"
)

func main() {
	hostsFile := flag.String("hosts", "-", "file of host names, one per line (- for stdin)")
	out := flag.String("out", "-", "output file (- for stdout)")
	n := flag.Int("n", 200000, "number of queries")
	seed := flag.String("seed", "mxbench-v1", "seed of the deterministic generator")
	nxflood := flag.Bool("nxflood", false, "write a random-subdomain flood over the hosts' zones and the parent")
	flag.Parse()
	if err := run(*hostsFile, *out, *seed, *n, *nxflood); err != nil {
		fmt.Fprintln(os.Stderr, "genqueries:", err)
		os.Exit(1)
	}
}

func run(hostsFile, out, seed string, n int, nxflood bool) error {
	var in io.Reader = os.Stdin
	if hostsFile != "-" {
		f, err := os.Open(hostsFile)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	var hosts []string
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		if h := strings.TrimSpace(sc.Text()); h != "" && !strings.HasPrefix(h, "#") {
			hosts = append(hosts, h)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	var w io.Writer = os.Stdout
	var f *os.File
	if out != "-" {
		var err error
		if f, err = os.Create(out); err != nil {
			return err
		}
		w = f
	}
	if nxflood {
		zones := testzones.Zones(hosts)
		if err := testzones.NXFloodFile(zones, w, seed, n); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "genqueries: %d flood queries over %d zones\n", n, len(zones))
	} else {
		c, err := testzones.QueryFile(hosts, w, testzones.QueryOptions{Seed: seed, N: n})
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "genqueries: %d queries over %d hosts: %s\n", n, len(hosts), c)
	}
	if f != nil {
		return f.Close()
	}
	return nil
}
