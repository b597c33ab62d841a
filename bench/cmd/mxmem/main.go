// Command mxmem measures the resident memory of a real mxsign process holding N
// provisioned domains, the way bench/scale counts it but split by kind: anonymous
// memory (the Go heap, stacks, runtime) and file-backed memory by file (the bbolt
// store mxsign.db, the raft log raft.db, the binary).
//
//	go build -o bin/ ./cmd/mxsign ./bench/cmd/mxmem
//	bin/mxmem -mxsign bin/mxsign -dir tmp/mem -n 32000/2000,1000000/10000 -settle 10s
//
// For each data set (domains/shard-size; bench/scale's two by default) it builds
// DIR/N-SIZE once (mxsign started on an empty data directory, the domains of
// testzones.Domains posted in batches of 1000 to POST /v1/domains:batch, a
// "loaded" sample, the server stopped with SIGTERM), then restarts mxsign on it
// -runs times and waits until the last host of every shard answers A with an
// RRSIG: "ready", as bench/scale waits.
// It then prints one row per sample (at ready and after each -settle duration) from
// /proc/PID/status, /proc/PID/smaps and the runtime.MemStats the pprof endpoint
// reports, and with two or more data sets the bytes per domain between the first
// and the last (their last runs).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	var o options
	flag.StringVar(&o.bin, "mxsign", "bin/mxsign", "mxsign binary")
	flag.StringVar(&o.dir, "dir", "tmp/mem", "work directory: one data set per N below it")
	ns := flag.String("n", "32000/2000,1000000/10000", "comma-separated data sets: domains[/shard-size] (bench/scale's two by default)")
	flag.IntVar(&o.shardSize, "shard-size", 10000, "shard-size of the data sets that do not name one")
	flag.IntVar(&o.parallel, "parallel", 2, "concurrent batch requests while building")
	flag.StringVar(&o.seed, "seed", "mxbench-v1", "seed of testzones.Domains")
	settle := flag.String("settle", "", "comma-separated durations after ready to sample again, e.g. 5s,30s")
	flag.StringVar(&o.extra, "extra", "", `extra lines for the mxsign block, ";"-separated ("answer-cache 256m;signature-cache 1000000")`)
	flag.Var(&o.env, "env", "VAR=value for the server (repeatable), e.g. GOMEMLIMIT=200MiB")
	flag.IntVar(&o.port, "port", 5330, "DNS port; the API, pprof ports are the next two")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "deadline of each build and of each start-up")
	flag.IntVar(&o.runs, "runs", 1, "restarts measured per data set")
	flag.Parse()
	if err := o.parse(*ns, *settle); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := run(context.Background(), &o); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// options are the command line.
type options struct {
	bin, dir, seed, extra string
	sets                  []setSize
	shardSize, parallel   int
	settle                []time.Duration
	env                   envList
	port, runs            int
	timeout               time.Duration
}

func (o *options) parse(ns, settle string) error {
	if o.shardSize < 1 || o.parallel < 1 || o.runs < 1 {
		return errors.New("mxmem: -shard-size, -parallel and -runs must be positive")
	}
	for f := range strings.SplitSeq(ns, ",") {
		n, size, cut := strings.Cut(strings.TrimSpace(f), "/")
		ss := setSize{shardSize: o.shardSize}
		var err error
		if ss.n, err = strconv.Atoi(n); err == nil && cut {
			ss.shardSize, err = strconv.Atoi(size)
		}
		if err != nil || ss.n < 1 || ss.shardSize < 1 {
			return fmt.Errorf("mxmem: -n %q: want positive domains[/shard-size]", ns)
		}
		o.sets = append(o.sets, ss)
	}
	if settle != "" {
		for f := range strings.SplitSeq(settle, ",") {
			d, err := time.ParseDuration(strings.TrimSpace(f))
			if err != nil || d <= 0 {
				return fmt.Errorf("mxmem: -settle %q: want positive durations", settle)
			}
			o.settle = append(o.settle, d)
		}
	}
	return nil
}

// setSize is one data set: n domains in shards of shardSize.
type setSize struct{ n, shardSize int }

// envList is a repeatable -env flag.
type envList []string

func (e *envList) String() string { return strings.Join(*e, " ") }

func (e *envList) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("want VAR=value, got %q", v)
	}
	*e = append(*e, v)
	return nil
}

// run builds every data set that is missing and measures each.
func run(ctx context.Context, o *options) error {
	var first, last []sample
	fmt.Println(header())
	for _, ss := range o.sets {
		ds := dataSet{opts: o, setSize: ss}
		if err := ds.build(ctx); err != nil {
			return err
		}
		for r := range o.runs {
			samples, err := ds.measure(ctx)
			if err != nil {
				return err
			}
			for _, s := range samples {
				fmt.Println(s.row(ss.n, r))
			}
			last = samples
		}
		if first == nil {
			first = last
		}
	}
	if len(o.sets) > 1 {
		fmt.Println()
		fmt.Println(perDomainHeader())
		for i := range last {
			fmt.Println(perDomain(first[i], last[i], o.sets[0].n, o.sets[len(o.sets)-1].n))
		}
	}
	return nil
}
