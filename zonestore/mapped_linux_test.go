//go:build linux

package zonestore

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/mxsign/mxsign/testzones"
)

// mappedRSS returns the resident bytes of this process's mappings of path
// (/proc/self/smaps).
func mappedRSS(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("no smaps: %v", err)
	}
	defer f.Close()
	var rss int64
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		switch {
		case len(fs) >= 5 && strings.Contains(fs[0], "-") && !strings.HasSuffix(fs[0], ":"):
			in = len(fs) >= 6 && strings.Join(fs[5:], " ") == path
		case in && len(fs) == 3 && fs[0] == "Rss:":
			kb, _ := strconv.ParseInt(fs[1], 10, 64)
			rss += kb << 10
		}
	}
	return rss
}

// dumpBuckets copies every key and value of the store, nested buckets included.
func dumpBuckets(t *testing.T, db *bolt.DB) []byte {
	t.Helper()
	var out bytes.Buffer
	var walk func(b *bolt.Bucket)
	walk = func(b *bolt.Bucket) {
		b.ForEach(func(k, v []byte) error {
			out.Write(k)
			out.WriteByte(0)
			if v == nil {
				walk(b.Bucket(k))
			} else {
				out.Write(v)
			}
			out.WriteByte(0)
			return nil
		})
	}
	if err := db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			out.Write(name)
			walk(b)
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestDropMapped: Open builds the index from every page of the file and then
// leaves none of them mapped in the process; reads through bbolt after the
// advice see the same bytes, and writes go on.
func TestDropMapped(t *testing.T) {
	s, p, _ := newTestProvisioner(t, func(c *Config) { c.ShardSize = 5000 })
	domains := testzones.Domains("dropmapped", 20000)
	for i := 0; i < len(domains); i += 1000 {
		mustAdd(t, p, domains[i:i+1000]...)
	}
	path := s.path
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTestStoreAt(t, path)
	var size int64 // the pages in use; the file is longer
	s.db.View(func(tx *bolt.Tx) error { size = tx.Size(); return nil })
	if rss := mappedRSS(t, path); rss > size/8 {
		t.Fatalf("after Open %d of the store's %d bytes are resident in the process", rss, size)
	}

	want := dumpBuckets(t, s.db) // reads every page
	if rss := mappedRSS(t, path); rss < size/2 {
		t.Fatalf("reading every bucket left %d of %d bytes resident: smaps does not show the mapping", rss, size)
	}
	s.db.View(func(tx *bolt.Tx) error { dropMapped(tx); return nil })
	if rss := mappedRSS(t, path); rss > size/8 {
		t.Fatalf("after dropMapped %d of %d bytes are resident", rss, size)
	}
	if got := dumpBuckets(t, s.db); !bytes.Equal(got, want) {
		t.Fatal("the store reads differently after dropMapped")
	}
	p.Store = s
	p.Applier = NewLocalApplier(s)
	mustAdd(t, p, "after-drop.example.com")
	if _, err := s.Host("after-drop.example.com"); err != nil {
		t.Fatal(err)
	}
}

// TestApplyDropsMapped: a bulk load does not leave the pages Apply read mapped:
// every dropEveryApply indexes they go.
func TestApplyDropsMapped(t *testing.T) {
	s, p, _ := newTestProvisioner(t, func(c *Config) { c.ShardSize = 5000 })
	domains := testzones.Domains("applydrops", 40000)
	var size int64
	for i := 0; s.AppliedIndex()%dropEveryApply != 0; i += 500 {
		mustAdd(t, p, domains[i:i+500]...)
		if s.AppliedIndex() == dropEveryApply-1 {
			s.db.View(func(tx *bolt.Tx) error { size = tx.Size(); return nil })
			if rss := mappedRSS(t, s.path); rss < size/4 {
				t.Fatalf("before the drop only %d of %d bytes are mapped: the test shows nothing", rss, size)
			}
		}
	}
	if rss := mappedRSS(t, s.path); rss > size/8 {
		t.Fatalf("after %d applies %d of %d bytes are still mapped", s.AppliedIndex(), rss, size)
	}
}
