// Command provbench measures committed provisioning throughput of a running mxsign
// (one node or a cluster) and, for reference, the raw fsync rate of the disk its data
// lives on, in the same run.
//
//	provbench -nodes 127.0.0.1:8053,127.0.0.1:8054 -token-file data/token \
//	    -mode single -clients 16 -duration 10s
//	provbench -nodes ... -mode batch -n 20000 -parallel 2
//	provbench -fsync-dir data -duration 3s
//
// single: each client adds one domain per POST /v1/domains, spread over the nodes;
// batch: batches of 1000 through POST /v1/domains:batch. Every call returns only once
// the domains are committed by a quorum and applied. The last line is
// "provbench: MODE N domains in S s: R domains/s (E errors)".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mxsign/mxsign/plugin/api/client"
)

func main() {
	nodes := flag.String("nodes", "127.0.0.1:8053", "comma-separated admin API addresses")
	tokenFile := flag.String("token-file", "data/token", "bearer token file")
	mode := flag.String("mode", "single", "single | batch")
	clients := flag.Int("clients", 16, "concurrent clients (single)")
	parallel := flag.Int("parallel", 1, "concurrent batches (batch)")
	n := flag.Int("n", 20000, "domains to add (batch)")
	duration := flag.Duration("duration", 10*time.Second, "run time (single, fsync)")
	prefix := flag.String("prefix", fmt.Sprintf("pb%d", time.Now().Unix()), "domain name prefix (unique per run)")
	fsyncDir := flag.String("fsync-dir", "", "measure fsyncs/s of 4 KiB writes in this directory and exit")
	flag.Parse()

	if *fsyncDir != "" {
		rate, err := fsyncRate(*fsyncDir, *duration)
		if err != nil {
			fmt.Fprintln(os.Stderr, "provbench:", err)
			os.Exit(1)
		}
		fmt.Printf("provbench: fsync %.0f/s\n", rate)
		return
	}
	tok, err := os.ReadFile(*tokenFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "provbench:", err)
		os.Exit(1)
	}
	var cs []*client.Client
	for _, a := range strings.Split(*nodes, ",") {
		cs = append(cs, client.New(a, strings.TrimSpace(string(tok))))
	}
	var done, failed int64
	start := time.Now()
	switch *mode {
	case "single":
		done, failed = single(cs, *clients, *duration, *prefix)
	case "batch":
		done, failed = batch(cs, *parallel, *n, *prefix)
	default:
		fmt.Fprintln(os.Stderr, "provbench: -mode single|batch")
		os.Exit(2)
	}
	el := time.Since(start).Seconds()
	fmt.Printf("provbench: %s %d domains in %.3f s: %.0f domains/s (%d errors)\n", *mode, done, el, float64(done)/el, failed)
	if failed > 0 {
		os.Exit(1)
	}
}

func single(cs []*client.Client, clients int, d time.Duration, prefix string) (done, failed int64) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var seq atomic.Int64
	var wg sync.WaitGroup
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := cs[w%len(cs)]
			for ctx.Err() == nil {
				i := seq.Add(1)
				_, err := c.AddDomain(context.Background(), fmt.Sprintf("%s-%d.example.net", prefix, i))
				switch {
				case err == nil:
					atomic.AddInt64(&done, 1)
				default:
					atomic.AddInt64(&failed, 1)
					fmt.Fprintln(os.Stderr, "provbench:", err)
				}
			}
		}()
	}
	wg.Wait()
	return done, failed
}

func batch(cs []*client.Client, parallel, n int, prefix string) (done, failed int64) {
	const size = 1000
	jobs := make(chan []string)
	go func() {
		for i := 0; i < n; i += size {
			var b []string
			for j := i; j < min(i+size, n); j++ {
				b = append(b, fmt.Sprintf("%s-%d.example.org", prefix, j))
			}
			jobs <- b
		}
		close(jobs)
	}()
	var wg sync.WaitGroup
	for w := range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := cs[w%len(cs)]
			for b := range jobs {
				res, err := c.AddDomains(context.Background(), b)
				if err != nil {
					atomic.AddInt64(&failed, int64(len(b)))
					fmt.Fprintln(os.Stderr, "provbench:", err)
					continue
				}
				for _, r := range res.Results {
					if r.Status == 201 {
						atomic.AddInt64(&done, 1)
					} else {
						atomic.AddInt64(&failed, 1)
					}
				}
			}
		}()
	}
	wg.Wait()
	return done, failed
}

// fsyncRate writes 4 KiB and fdatasyncs in a loop: the ceiling for anything that
// commits each write to disk before answering.
func fsyncRate(dir string, d time.Duration) (float64, error) {
	f, err := os.CreateTemp(dir, "fsync-*.tmp")
	if err != nil {
		return 0, err
	}
	defer os.Remove(filepath.Clean(f.Name()))
	defer f.Close()
	buf := make([]byte, 4096)
	start := time.Now()
	n := 0
	for time.Since(start) < d {
		if _, err := f.WriteAt(buf, int64(n%256)*4096); err != nil {
			return 0, err
		}
		if err := f.Sync(); err != nil {
			return 0, errors.Join(err, f.Close())
		}
		n++
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
