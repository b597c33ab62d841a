package zonestore

import (
	"bufio"
	"context"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxsign/mxsign/testzones"
)

// scaleN is the data set of BenchmarkScale: go test -run '^$' -bench Scale -scale.n 1000000.
var scaleN = flag.Int("scale.n", 100_000, "domains BenchmarkScale provisions")

// scaleBatch is the batch size of bench/cmd/mxload (POST /v1/domains:batch).
const scaleBatch = 1000

// BenchmarkScale measures one node at -scale.n domains (the shards hold 10,000 each,
// like bench/scale):
//
//   - load: the domains provisioned in batches of 1000 through Provisioner.AddDomains
//     and the LocalApplier (the batch API's path, a command encoded and decoded as
//     raft would): ns/domain, the mean time of the first and the last 10 batches
//     (flat if the per-batch index update is O(batch log n)), the live heap per
//     domain and the bbolt file size per domain;
//   - open: Open (the start-up rebuild of the index) on the file load wrote, the
//     resident anonymous memory it added as Open returns (rss-anon-open), and after a
//     collection: the live heap and the resident anonymous and file-backed (bbolt
//     mmap) memory per domain;
//   - lookup: host A queries over random hosts of the whole set.
func BenchmarkScale(b *testing.B) {
	n := *scaleN
	raw := testzones.Domains("mxbench-v1", n)
	dir := b.TempDir()
	path := ""
	b.Run("load", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			path = filepath.Join(dir, "load"+strconv.Itoa(i)+".db")
			i++
			scaleLoad(b, path, raw)
		}
	})
	if path == "" {
		path = filepath.Join(dir, "scale.db")
		scaleLoad(b, path, raw)
	}
	var s *Store
	b.Run("open", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if s != nil {
				s.Close()
				s = nil
			}
			b.StopTimer()
			heap0, anon0, file0 := scaleMem()
			b.StartTimer()
			var err error
			if s, err = Open(Options{Path: path, KEK: testKEK}); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			anonOpen, _ := procRSS()
			heap1, anon1, file1 := scaleMem()
			b.ReportMetric(float64(anonOpen-anon0)/float64(n), "rss-anon-open-B/domain")
			b.ReportMetric(float64(heap1-heap0)/float64(n), "heap-B/domain")
			b.ReportMetric(float64(anon1-anon0)/float64(n), "rss-anon-B/domain")
			b.ReportMetric(float64(file1-file0)/float64(n), "rss-file-B/domain")
			b.StartTimer()
		}
	})
	if s == nil {
		var err error
		if s, err = Open(Options{Path: path, KEK: testKEK}); err != nil {
			b.Fatal(err)
		}
	}
	defer s.Close()
	hosts, _ := s.ListHosts("", n)
	if len(hosts) != n {
		b.Fatalf("ListHosts: %d hosts, want %d", len(hosts), n)
	}
	r := rand.New(rand.NewPCG(1, 2))
	names := make([]string, 1<<16)
	for i := range names {
		names[i] = hosts[r.IntN(len(hosts))].Name()
	}
	hosts = nil
	b.Run("lookup", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if a := s.Lookup(names[i&(len(names)-1)], dns.TypeA); a.Rcode != Success {
				b.Fatalf("Lookup(%s): %v", names[i&(len(names)-1)], a.Rcode)
			}
			i++
		}
	})
	b.Run("list", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			after, pages := "", 0
			for {
				hs, next := s.ListHosts(after, DefaultListLimit)
				pages += len(hs)
				if next == "" {
					break
				}
				after = next
			}
			if pages != n {
				b.Fatalf("ListHosts pages hold %d hosts, want %d", pages, n)
			}
		}
	})
}

// scaleLoad provisions raw into a new store at path in batches of scaleBatch and
// reports the load metrics.
func scaleLoad(b *testing.B, path string, raw []string) {
	b.Helper()
	heap0, _, _ := scaleMem()
	s, err := Open(Options{Path: path, KEK: testKEK})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	p := &Provisioner{
		Store:   s,
		Applier: NewLocalApplier(s),
		Keys:    testKeys(b, testKEK),
		Now:     func() time.Time { return t0 },
		Rand:    rand.NewChaCha8([32]byte{1}),
	}
	cfg, prof := testConfig()
	if err := p.Init(context.Background(), cfg, prof); err != nil {
		b.Fatal(err)
	}
	var batches []time.Duration
	start := time.Now()
	for off := 0; off < len(raw); off += scaleBatch {
		t := time.Now()
		res, err := p.AddDomains(context.Background(), raw[off:min(off+scaleBatch, len(raw))])
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				b.Fatalf("AddDomains(%s): %v", r.Domain, r.Err)
			}
		}
		batches = append(batches, time.Since(t))
	}
	el := time.Since(start)
	n := float64(len(raw))
	// bbolt's share: time writing pages and syncing, splitting nodes, pages written.
	tx := s.db.Stats().TxStats
	nb := float64(len(batches))
	b.ReportMetric(float64(tx.GetWriteTime().Microseconds())/nb, "bolt-write-µs/batch")
	b.ReportMetric(float64(tx.GetSpillTime().Microseconds())/nb, "bolt-spill-µs/batch")
	b.ReportMetric(float64(tx.GetWrite())/nb, "bolt-writes/batch")
	b.ReportMetric(float64(el.Nanoseconds())/n, "ns/domain")
	b.ReportMetric(n/el.Seconds(), "domains/s")
	k := max(len(batches)/10, 1)
	b.ReportMetric(float64(meanDuration(batches[:k]).Microseconds()), "first-batch-µs")
	b.ReportMetric(float64(meanDuration(batches[len(batches)-k:]).Microseconds()), "last-batch-µs")
	for d := range 10 {
		part := batches[d*len(batches)/10 : (d+1)*len(batches)/10]
		if len(part) > 0 {
			b.Logf("batches %3d%%-%3d%%: mean %v", d*10, (d+1)*10, meanDuration(part))
		}
	}
	b.StopTimer()
	heap1, _, _ := scaleMem()
	b.ReportMetric(float64(heap1-heap0)/n, "heap-B/domain")
	if fi, err := os.Stat(path); err == nil {
		b.ReportMetric(float64(fi.Size())/n, "file-B/domain")
	}
	b.StartTimer()
}

func meanDuration(ds []time.Duration) time.Duration {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(max(len(ds), 1))
}

// scaleMem collects garbage, returns freed memory to the OS and reports the live heap
// and procRSS.
func scaleMem() (heap, anon, file int64) {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	anon, file = procRSS()
	return int64(ms.HeapAlloc), anon, file
}

// procRSS returns the process's resident anonymous and file-backed memory in
// bytes (0 where /proc/self/status is not available).
func procRSS() (anon, file int64) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || !slices.Contains([]string{"RssAnon", "RssFile"}, k) {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if k == "RssAnon" {
			anon = kb << 10
		} else {
			file = kb << 10
		}
	}
	return anon, file
}

// BenchmarkIndexBatch measures the in-memory index update of one batch: 1000
// hosts added to an index of n hosts and removed again. It must not grow with
// n (before the sorted set, every batch copied the whole domain list).
func BenchmarkIndexBatch(b *testing.B) {
	for _, n := range []int{32_000, 1_000_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			r := rand.New(rand.NewPCG(7, uint64(n)))
			host := func() Host {
				d := strconv.FormatUint(r.Uint64(), 36) + ".example.com"
				return Host{Domain: d, Label: hostLabel(d), Shard: "abcd.mx.example.", Created: t0}
			}
			ix := newIndex()
			ix.putZone(zoneRecord{Name: "abcd.mx.example.", Kind: KindShard})
			hosts := make([]Host, n)
			for i := range hosts {
				hosts[i] = host()
			}
			ix.addHosts(hosts)
			batch := make([]Host, scaleBatch)
			for i := range batch {
				batch[i] = host()
			}
			b.ReportAllocs()
			for b.Loop() {
				ix.addHosts(batch)
				ix.deleteHosts(batch)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*scaleBatch), "ns/domain")
		})
	}
}
