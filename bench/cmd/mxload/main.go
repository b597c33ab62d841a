// Command mxload provisions domains into a running mxsign through the batch
// endpoint of the admin API (POST /v1/domains:batch), measures the rate, and
// writes the host names mxsign assigned, one per line, for query generation.
//
//	mxload -api 127.0.0.1:8053 -token-file data/token -in domains.txt -hosts-out hosts.txt
//
// The last line of its output is "mxload: N domains in S s: R domains/s (E errors)".
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// maxBatch is the largest batch the admin API accepts.
const maxBatch = 1000

var errStatus = errors.New("mxload: unexpected HTTP status")

type batchRequest struct {
	Domains []string `json:"domains"`
}

type domainResult struct {
	Domain       string `json:"domain"`
	MailExchange string `json:"mailExchange"`
	Shard        string `json:"shard"`
}

type batchItem struct {
	Domain string          `json:"domain"`
	Status json.RawMessage `json:"status"`
	Result *domainResult   `json:"result"`
	Error  string          `json:"error"`
}

type batchResponse struct {
	Results []batchItem `json:"results"`
}

// client posts batches to one mxsign admin API.
type client struct {
	base  string
	token string
	http  *http.Client
}

// addBatch provisions domains and returns the host names, in input order,
// and one error string per failed domain.
func (c *client) addBatch(ctx context.Context, domains []string) (hosts []string, failed []string, err error) {
	body, err := json.Marshal(batchRequest{Domains: domains})
	if err != nil {
		return nil, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/v1/domains:batch", bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, nil, fmt.Errorf("%w %d: %s", errStatus, resp.StatusCode, bytes.TrimSpace(raw))
	}
	var br batchResponse
	if err := json.Unmarshal(raw, &br); err != nil {
		return nil, nil, fmt.Errorf("mxload: decoding batch response: %w", err)
	}
	for _, it := range br.Results {
		if it.Error != "" || it.Result == nil || it.Result.MailExchange == "" {
			failed = append(failed, fmt.Sprintf("%s: status %s: %s", it.Domain, it.Status, it.Error))
			continue
		}
		hosts = append(hosts, it.Result.MailExchange)
	}
	if n := len(hosts) + len(failed); n != len(domains) {
		failed = append(failed, fmt.Sprintf("batch of %d returned %d results", len(domains), n))
	}
	return hosts, failed, nil
}

// load sends domains in batches of size over parallel connections and
// returns all host names (in batch order) and the per-domain failures.
func (c *client) load(ctx context.Context, domains []string, size, parallel int) ([]string, []string, error) {
	var batches [][]string
	for i := 0; i < len(domains); i += size {
		batches = append(batches, domains[i:min(i+size, len(domains))])
	}
	type out struct {
		hosts, failed []string
		err           error
	}
	outs := make([]out, len(batches))
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(parallel, 1) {
		wg.Go(func() {
			for i := range next {
				h, f, err := c.addBatch(ctx, batches[i])
				outs[i] = out{h, f, err}
			}
		})
	}
	for i := range batches {
		next <- i
	}
	close(next)
	wg.Wait()
	var hosts, failed []string
	for _, o := range outs {
		if o.err != nil {
			return nil, nil, o.err
		}
		hosts = append(hosts, o.hosts...)
		failed = append(failed, o.failed...)
	}
	return hosts, failed, nil
}

func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out, sc.Err()
}

func main() {
	api := flag.String("api", os.Getenv("MXSIGN_API"), "admin API address host:port")
	tokenFile := flag.String("token-file", "data/token", "file holding the bearer token")
	in := flag.String("in", "-", "file of domains, one per line")
	hostsOut := flag.String("hosts-out", "", "write the assigned host names here")
	size := flag.Int("batch", maxBatch, "domains per batch (at most 1000)")
	parallel := flag.Int("parallel", 1, "concurrent batch requests")
	timeout := flag.Duration("timeout", 30*time.Minute, "overall deadline")
	flag.Parse()
	if err := run(*api, *tokenFile, *in, *hostsOut, *size, *parallel, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(api, tokenFile, in, hostsOut string, size, parallel int, timeout time.Duration) error {
	if api == "" {
		return errors.New("mxload: -api is required")
	}
	if size < 1 || size > maxBatch {
		return fmt.Errorf("mxload: -batch %d outside 1..%d", size, maxBatch)
	}
	tok, err := os.ReadFile(tokenFile)
	if err != nil {
		return err
	}
	if in == "-" {
		in = "/dev/stdin"
	}
	domains, err := readLines(in)
	if err != nil {
		return err
	}
	base := api
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	c := &client{base: strings.TrimSuffix(base, "/"), token: strings.TrimSpace(string(tok)), http: &http.Client{}}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	hosts, failed, err := c.load(ctx, domains, size, parallel)
	elapsed := time.Since(start)
	if err != nil {
		return err
	}
	for i, f := range failed {
		if i == 10 {
			fmt.Fprintf(os.Stderr, "mxload: ... %d more failures\n", len(failed)-10)
			break
		}
		fmt.Fprintln(os.Stderr, "mxload: failed:", f)
	}
	if hostsOut != "" {
		if err := os.WriteFile(hostsOut, []byte(strings.Join(hosts, "\n")+"\n"), 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("mxload: %d domains in %.3f s: %.0f domains/s (%d errors)\n",
		len(hosts), elapsed.Seconds(), float64(len(hosts))/elapsed.Seconds(), len(failed))
	if len(failed) > 0 {
		return fmt.Errorf("mxload: %d domains failed", len(failed))
	}
	return nil
}
