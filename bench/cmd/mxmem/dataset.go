package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"

	"github.com/mxsign/mxsign/plugin/api/client"
	"github.com/mxsign/mxsign/testzones"
)

const (
	parent = "mx.example."
	addr   = "127.0.0.1"
	batch  = 1000 // the batch API's limit, as bench/cmd/mxload sends
)

// dataSet is one data directory of n domains below opts.dir.
type dataSet struct {
	opts *options
	setSize
}

func (d dataSet) root() string {
	return filepath.Join(d.opts.dir, strconv.Itoa(d.n)+"-"+strconv.Itoa(d.shardSize))
}
func (d dataSet) path(name string) string { return filepath.Join(d.root(), name) }
func (d dataSet) apiAddr() string         { return addr + ":" + strconv.Itoa(d.opts.port+1) }
func (d dataSet) pprofAddr() string       { return addr + ":" + strconv.Itoa(d.opts.port+2) }
func (d dataSet) dnsAddr() string         { return addr + ":" + strconv.Itoa(d.opts.port) }

// corefile writes the Corefile of bench/lib.sh's write_corefile with a pprof
// listener for the runtime's memory statistics.
func (d dataSet) corefile() error {
	tlsa := sha256.Sum256([]byte("mxsign-bench"))
	var extra strings.Builder
	for l := range strings.SplitSeq(d.opts.extra, ";") {
		if l = strings.TrimSpace(l); l != "" {
			extra.WriteString("        " + l + "\n")
		}
	}
	conf := fmt.Sprintf(`%[1]s:%[2]d {
    bind %[3]s
    pprof %[4]s
    mxsign {
        data data
        api %[5]s
        nameserver ns1.%[1]s %[3]s
        shard-size %[6]d
%[7]s        profile {
            ttl 3600
            a 192.0.2.25
            aaaa 2001:db8::25
            tlsa 3 1 1 %[8]s
        }
    }
}
`, parent, d.opts.port, addr, d.pprofAddr(), d.apiAddr(), d.shardSize, extra.String(), hex.EncodeToString(tlsa[:]))
	return os.WriteFile(d.path("Corefile"), []byte(conf), 0o644)
}

// build provisions the data set unless probes.txt (written last) exists, and
// prints a sample of the loading server (run 0, "loaded") before it stops it.
func (d dataSet) build(ctx context.Context) error {
	if _, err := os.Stat(d.path("probes.txt")); err == nil {
		return nil
	}
	if err := os.RemoveAll(d.root()); err != nil {
		return err
	}
	if err := os.MkdirAll(d.root(), 0o755); err != nil {
		return err
	}
	if err := d.corefile(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, d.opts.timeout)
	defer cancel()
	srv, err := d.start()
	if err != nil {
		return err
	}
	defer srv.stop()
	c, err := d.client(ctx, srv)
	if err != nil {
		return err
	}
	domains := testzones.Domains(d.opts.seed, d.n)
	start := time.Now()
	probes, err := load(ctx, c, domains, d.opts.parallel)
	if err != nil {
		return err
	}
	el := time.Since(start)
	fmt.Fprintf(os.Stderr, "mxmem: built %d domains in %d shards in %.1f s (%.0f domains/s)\n",
		d.n, len(probes), el.Seconds(), float64(d.n)/el.Seconds())
	s, err := takeSample(srv.cmd.Process.Pid, d.pprofAddr())
	if err != nil {
		return err
	}
	s.at = "loaded"
	fmt.Println(s.row(d.n, 0))
	t := time.Now()
	if err := srv.stop(); err != nil {
		return fmt.Errorf("mxmem: stopping the loaded server: %w", err)
	}
	fmt.Fprintf(os.Stderr, "mxmem: %d domains: stopped in %.2f s\n", d.n, time.Since(t).Seconds())
	return os.WriteFile(d.path("probes.txt"), []byte(strings.Join(probes, "\n")+"\n"), 0o644)
}

// client waits for the admin API and returns a client for it.
func (d dataSet) client(ctx context.Context, srv *server) (*client.Client, error) {
	for {
		tok, err := os.ReadFile(d.path("data/token"))
		if err == nil {
			c := client.New(d.apiAddr(), strings.TrimSpace(string(tok)))
			if _, err = c.Zones(ctx); err == nil {
				return c, nil
			}
		}
		if err := srv.wait(ctx, 50*time.Millisecond); err != nil {
			return nil, fmt.Errorf("mxmem: admin API: %w", err)
		}
	}
}

// load posts domains in batches over parallel connections and returns the last
// host of every shard, in shard order of first appearance.
func load(ctx context.Context, c *client.Client, domains []string, parallel int) ([]string, error) {
	type out struct {
		hosts, shards []string
		err           error
	}
	n := (len(domains) + batch - 1) / batch
	outs := make([]out, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range parallel {
		wg.Go(func() {
			for i := range next {
				resp, err := c.AddDomains(ctx, domains[i*batch:min((i+1)*batch, len(domains))])
				o := out{err: err}
				for _, it := range resp.Results {
					if it.Result == nil {
						o.err = fmt.Errorf("mxmem: %s: status %d: %s", it.Domain, it.Status, it.Error)
						break
					}
					o.hosts = append(o.hosts, it.Result.MailExchange)
					o.shards = append(o.shards, it.Result.Shard)
				}
				outs[i] = o
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	lastOf := map[string]string{}
	var order []string
	for _, o := range outs {
		if o.err != nil {
			return nil, o.err
		}
		for i, s := range o.shards {
			if _, ok := lastOf[s]; !ok {
				order = append(order, s)
			}
			lastOf[s] = o.hosts[i]
		}
	}
	probes := make([]string, len(order))
	for i, s := range order {
		probes[i] = lastOf[s]
	}
	return probes, nil
}

// measure restarts mxsign on the data set, waits until it is ready and samples
// its memory then and after each settle duration.
func (d dataSet) measure(ctx context.Context) ([]sample, error) {
	b, err := os.ReadFile(d.path("probes.txt"))
	if err != nil {
		return nil, err
	}
	probes := strings.Fields(string(b))
	if err := d.corefile(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, d.opts.timeout)
	defer cancel()
	t0 := time.Now()
	srv, err := d.start()
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	for !answersSOA(d.dnsAddr()) {
		if err := srv.wait(ctx, 20*time.Millisecond); err != nil {
			return nil, fmt.Errorf("mxmem: no SOA answer: %w", err)
		}
	}
	first := time.Since(t0)
	for len(probes) > 0 {
		if signedA(d.dnsAddr(), probes[0]) {
			probes = probes[1:]
			continue
		}
		if err := srv.wait(ctx, 20*time.Millisecond); err != nil {
			return nil, fmt.Errorf("mxmem: %s not signed: %w", probes[0], err)
		}
	}
	ready := time.Since(t0)
	var out []sample
	for i, at := range append([]time.Duration{0}, d.opts.settle...) {
		if err := srv.wait(ctx, time.Until(t0.Add(ready+at))); err != nil {
			return nil, err
		}
		s, err := takeSample(srv.cmd.Process.Pid, d.pprofAddr())
		if err != nil {
			return nil, err
		}
		s.at, s.first, s.ready = "ready", first, ready
		if i > 0 {
			s.at = "+" + at.String()
		}
		out = append(out, s)
	}
	t := time.Now()
	if err := srv.stop(); err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "mxmem: %d domains: stopped in %.2f s\n", d.n, time.Since(t).Seconds())
	return out, nil
}

// server is one running mxsign.
type server struct {
	cmd     *exec.Cmd
	exited  chan struct{}
	err     error
	stopped bool
}

// start runs mxsign in the data set's directory, logging to server.log, with
// GOMAXPROCS=1 (bench/lib.sh pins it to one CPU) and the -env variables.
func (d dataSet) start() (*server, error) {
	logf, err := os.OpenFile(d.path("server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	bin, err := filepath.Abs(d.opts.bin)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-conf", "Corefile")
	cmd.Dir = d.root()
	cmd.Env = append(append(os.Environ(), "GOMAXPROCS=1"), d.opts.env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("mxmem: start %s: %w", bin, err)
	}
	s := &server{cmd: cmd, exited: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		close(s.exited)
	}()
	return s, nil
}

// wait waits for d, failing if the server exits or ctx ends first.
func (s *server) wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(max(d, 0))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-s.exited:
		return fmt.Errorf("mxmem: mxsign exited: %v (see server.log)", s.err)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop sends SIGTERM and waits up to a minute for a clean exit (CoreDNS closes
// the store and raft in OnFinalShutdown), then kills.
func (s *server) stop() error {
	if s.stopped {
		return nil
	}
	s.stopped = true
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-s.exited:
		return nil
	case <-time.After(time.Minute):
		s.cmd.Process.Kill()
		<-s.exited
		return errors.New("mxmem: mxsign did not stop within a minute; killed")
	}
}

// answersSOA reports whether the parent's SOA is answered.
func answersSOA(server string) bool {
	r, err := query(server, parent, dns.TypeSOA)
	return err == nil && r.Rcode == dns.RcodeSuccess && len(r.Answer) > 0
}

// signedA reports whether host's A is answered with its RRSIG.
func signedA(server, host string) bool {
	r, err := query(server, host, dns.TypeA)
	if err != nil {
		return false
	}
	for _, rr := range r.Answer {
		if sig, ok := rr.(*dns.RRSIG); ok && sig.TypeCovered == dns.TypeA {
			return true
		}
	}
	return false
}

func query(server, name string, t uint16) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), t)
	m.SetEdns0(1232, true)
	c := &dns.Client{Timeout: 2 * time.Second}
	r, _, err := c.Exchange(m, server)
	return r, err
}
