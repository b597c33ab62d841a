package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// sample is the memory of the server at one moment. Sizes are bytes.
type sample struct {
	at           string        // "ready" or "+DURATION" after ready
	first, ready time.Duration // exec to the first SOA answer, to every shard signed

	vmRSS, rssAnon, rssFile, vmHWM int64 // /proc/PID/status
	store, raftLog, binary         int64 // resident file-backed pages by file (smaps)
	heapInuse, heapSys, heapRel    int64 // runtime.MemStats
	stackInuse, nextGC             int64
	numGC                          int64
}

// takeSample reads /proc/PID/status and /proc/PID/smaps, then the MemStats of the
// pprof endpoint at pprofAddr.
func takeSample(pid int, pprofAddr string) (sample, error) {
	var s sample
	proc := "/proc/" + strconv.Itoa(pid)
	f, err := os.Open(proc + "/status")
	if err != nil {
		return s, err
	}
	st, err := parseKV(f, ":")
	f.Close()
	if err != nil {
		return s, err
	}
	s.vmRSS, s.rssAnon, s.rssFile, s.vmHWM = st["VmRSS"], st["RssAnon"], st["RssFile"], st["VmHWM"]
	f, err = os.Open(proc + "/smaps")
	if err != nil {
		return s, err
	}
	byFile, err := parseSmaps(f)
	f.Close()
	if err != nil {
		return s, err
	}
	exe, _ := os.Readlink(proc + "/exe")
	for path, rss := range byFile {
		switch {
		case filepath.Base(path) == "mxsign.db":
			s.store += rss
		case filepath.Base(path) == "raft.db":
			s.raftLog += rss
		case path == exe:
			s.binary += rss
		}
	}
	resp, err := http.Get("http://" + pprofAddr + "/debug/pprof/heap?debug=1")
	if err != nil {
		return s, fmt.Errorf("mxmem: memstats: %w", err)
	}
	defer resp.Body.Close()
	ms, err := parseMemStats(resp.Body)
	if err != nil {
		return s, err
	}
	s.heapInuse, s.heapSys, s.heapRel = ms["HeapInuse"], ms["HeapSys"], ms["HeapReleased"]
	s.stackInuse, s.nextGC, s.numGC = ms["Stack"], ms["NextGC"], ms["NumGC"]
	return s, nil
}

// parseKV reads "Key<sep> value [kB]" lines; kB values are returned in bytes.
func parseKV(r io.Reader, sep string) (map[string]int64, error) {
	out := map[string]int64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), sep)
		if !ok {
			continue
		}
		fs := strings.Fields(v)
		if len(fs) == 0 {
			continue
		}
		n, err := strconv.ParseInt(fs[0], 10, 64)
		if err != nil {
			continue
		}
		if len(fs) > 1 && fs[1] == "kB" {
			n <<= 10
		}
		out[strings.TrimSpace(k)] = n
	}
	return out, sc.Err()
}

// parseSmaps sums the Rss of /proc/PID/smaps by mapped file path (anonymous
// mappings and pseudo-paths like [heap] are left out).
func parseSmaps(r io.Reader) (map[string]int64, error) {
	out := map[string]int64{}
	path := ""
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		fs := strings.Fields(line)
		if len(fs) >= 5 && strings.Contains(fs[0], "-") && !strings.HasSuffix(fs[0], ":") {
			// a mapping header: "addr-addr perms offset dev inode [path]"
			path = ""
			if len(fs) >= 6 && strings.HasPrefix(fs[5], "/") {
				path = strings.Join(fs[5:], " ")
			}
			continue
		}
		if len(fs) == 3 && fs[0] == "Rss:" && path != "" {
			n, err := strconv.ParseInt(fs[1], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("mxmem: smaps: %q", line)
			}
			out[path] += n << 10
		}
	}
	return out, sc.Err()
}

// parseMemStats reads the "# Name = value" lines a debug=1 heap profile ends
// with (runtime.MemStats); "# Stack = inuse / sys" gives the in-use part.
func parseMemStats(r io.Reader) (map[string]int64, error) {
	out := map[string]int64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "# ")
		if !ok {
			continue
		}
		k, v, ok := strings.Cut(line, " = ")
		if !ok {
			continue
		}
		fs := strings.Fields(v)
		if len(fs) == 0 {
			continue
		}
		if n, err := strconv.ParseInt(fs[0], 10, 64); err == nil {
			out[k] = n
		}
	}
	if _, ok := out["HeapInuse"]; !ok && sc.Err() == nil {
		return nil, fmt.Errorf("mxmem: no runtime.MemStats in the heap profile")
	}
	return out, sc.Err()
}

func mib(n int64) string { return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) }

func header() string {
	return "| domains | run | at | VmRSS | RssAnon | RssFile | mxsign.db | raft.db | binary | HeapInuse | HeapSys | HeapReleased | StackInuse | NextGC | GCs | VmHWM | first answer s | ready s |\n" +
		"|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
}

// row is s as a Markdown table row, sizes in MiB.
func (s sample) row(n, run int) string {
	return fmt.Sprintf("| %d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d | %s | %.2f | %.2f |",
		n, run+1, s.at, mib(s.vmRSS), mib(s.rssAnon), mib(s.rssFile), mib(s.store), mib(s.raftLog), mib(s.binary),
		mib(s.heapInuse), mib(s.heapSys), mib(s.heapRel), mib(s.stackInuse), mib(s.nextGC), s.numGC, mib(s.vmHWM),
		s.first.Seconds(), s.ready.Seconds())
}

func perDomainHeader() string {
	return "| per domain (bytes) | VmRSS | RssAnon | RssFile | mxsign.db | raft.db | HeapInuse |\n|---|---|---|---|---|---|---|"
}

// perDomain is the growth from a (na domains) to b (nb domains) per domain.
func perDomain(a, b sample, na, nb int) string {
	d := float64(nb - na)
	f := func(x, y int64) string { return strconv.FormatFloat(float64(y-x)/d, 'f', 0, 64) }
	return fmt.Sprintf("| %s | %s | %s | %s | %s | %s | %s |", b.at, f(a.vmRSS, b.vmRSS), f(a.rssAnon, b.rssAnon),
		f(a.rssFile, b.rssFile), f(a.store, b.store), f(a.raftLog, b.raftLog), f(a.heapInuse, b.heapInuse))
}
