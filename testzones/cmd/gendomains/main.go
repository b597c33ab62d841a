// Command gendomains prints N deterministic customer domain names, one per
// line, for scripts (end-to-end tests, benchmarks).
//
//	gendomains -n 50 -seed e2e
//	gendomains -n 32000 -ascii   # A-label form (xn--...) instead of U-labels
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/mxsign/mxsign/testzones"
)

func main() {
	n := flag.Int("n", 100, "number of domains")
	seed := flag.String("seed", "mxsign", "seed of the deterministic generator")
	ascii := flag.Bool("ascii", false, "print internationalised names in A-label (xn--) form")
	flag.Parse()
	w := bufio.NewWriter(os.Stdout)
	for _, d := range testzones.Domains(*seed, *n) {
		if *ascii {
			a, err := testzones.ToASCII(d)
			if err != nil {
				fmt.Fprintln(os.Stderr, "gendomains:", err)
				os.Exit(1)
			}
			d = a
		}
		fmt.Fprintln(w, d)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "gendomains:", err)
		os.Exit(1)
	}
}
