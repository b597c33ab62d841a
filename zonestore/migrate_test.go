package zonestore

import (
	"bytes"
	"encoding/json"
	"errors"
	mrand "math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// downgradeToV1 rewrites a closed store at path into the schema 1 layout:
// hosts as JSON in the hosts bucket, a labels bucket, schema version 1, no
// shards bucket. edit may change the hosts before they are written.
func downgradeToV1(t *testing.T, path string, edit func(*Host)) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		ix, _, err := load(tx, testKEK)
		if err != nil {
			return err
		}
		lb, err := tx.CreateBucket(bucketLabelsV1)
		if err != nil {
			return err
		}
		hb, err := tx.CreateBucket(bucketHostsV1)
		if err != nil {
			return err
		}
		if err := tx.DeleteBucket(bucketShards); err != nil {
			return err
		}
		for d, e := range ix.hosts.after("") {
			h := ix.hostFrom(d, e.label, e.rec)
			if edit != nil {
				edit(&h)
			}
			if err := putJSON(hb, []byte(h.Domain), h); err != nil {
				return err
			}
			if err := lb.Put([]byte(h.Label), []byte(h.Domain)); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(metaSchema, u64(schemaV1))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkV2 checks that the closed store at path is in the current layout.
func checkV2(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		if v, _ := readU64(tx.Bucket(bucketMeta).Get(metaSchema)); v != schemaVersion {
			t.Errorf("schema version %d, want %d", v, schemaVersion)
		}
		if tx.Bucket(bucketLabelsV1) != nil || tx.Bucket(bucketHostsV1) != nil {
			t.Error("a schema 1 bucket is still there")
		}
		return tx.Bucket(bucketShards).ForEach(func(shard, _ []byte) error {
			return tx.Bucket(bucketShards).Bucket(shard).ForEach(func(k, v []byte) error {
				if _, ok := decodeHost(v); !ok {
					t.Errorf("host %s: value %q is not compact", k, v)
				}
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestMigrateV1(t *testing.T) {
	tests := []struct {
		name string
		// interrupt moves this many hosts before Open, as a migration
		// stopped part way would; 0 leaves them all in the old bucket.
		interrupt int
	}{
		{name: "whole"},
		{name: "resumed", interrupt: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, p, clk := newTestProvisioner(t, func(c *Config) { c.ShardSize = 4 })
			all := indexDomains()
			mustAdd(t, p, all[:10]...)
			clk.now = clk.now.Add(1234567)
			mustAdd(t, p, all[10:]...)
			want := captureState(t, s)
			path := s.path
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			downgradeToV1(t, path, nil)
			v1, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if tt.interrupt > 0 {
				db, err := bolt.Open(path, 0o600, nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := db.Update(func(tx *bolt.Tx) error {
					if err := createBuckets(tx); err != nil { // as Open does first
						return err
					}
					done, err := moveHostsV1(tx, tt.interrupt)
					if done {
						t.Error("moveHostsV1 moved every host")
					}
					return err
				}); err != nil {
					t.Fatal(err)
				}
				db.Close()
			}
			s2 := openTestStoreAt(t, path)
			if got := captureState(t, s2); !reflect.DeepEqual(got, want) {
				t.Fatalf("after migration:\n got %+v\nwant %+v", got, want)
			}
			mustAdd(t, provisionerFor(t, s2), "after-migration.example")
			if err := s2.Close(); err != nil {
				t.Fatal(err)
			}
			checkV2(t, path)

			// A raft snapshot from a node still on schema 1 restores too.
			other := openTestStore(t)
			if err := other.Restore(bytes.NewReader(v1)); err != nil {
				t.Fatal(err)
			}
			if got := captureState(t, other); !reflect.DeepEqual(got, want) {
				t.Fatalf("after restoring a schema 1 snapshot:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// provisionerFor returns a provisioner for an initialized store.
func provisionerFor(t *testing.T, s *Store) *Provisioner {
	t.Helper()
	return &Provisioner{Store: s, Applier: NewLocalApplier(s), Keys: testKeys(t, testKEK), Now: (&fakeClock{now: t0}).Now,
		Rand: mrand.NewChaCha8([32]byte{2})}
}

// TestMigrateBatches runs a migration in batches of two.
func TestMigrateBatches(t *testing.T) {
	s, p, _ := newTestProvisioner(t, func(c *Config) { c.ShardSize = 4 })
	mustAdd(t, p, indexDomains()...)
	want := captureState(t, s)
	path := s.path
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	downgradeToV1(t, path, nil)
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(createBuckets); err != nil {
		t.Fatal(err)
	}
	if err := migrate(db, 2); err != nil {
		t.Fatal(err)
	}
	db.Close()
	checkV2(t, path)
	if got := captureState(t, openTestStoreAt(t, path)); !reflect.DeepEqual(got, want) {
		t.Fatalf("after migration:\n got %+v\nwant %+v", got, want)
	}
}

func TestOpenCorruptHosts(t *testing.T) {
	put := func(shard, domain string, v []byte) func(*bolt.Tx, string) error {
		return func(tx *bolt.Tx, s string) error {
			if shard == "" {
				shard = s
			}
			b, err := tx.Bucket(bucketShards).CreateBucketIfNotExists([]byte(shard))
			if err != nil {
				return err
			}
			return b.Put([]byte(domain), v)
		}
	}
	good := encodeHost(Host{Created: t0})
	tests := []struct {
		name string
		v1   func(*Host)                           // downgrade to schema 1 with this edit
		put  func(tx *bolt.Tx, shard string) error // or write this into a current store
		msg  string                                // in the error
	}{
		{name: "v1 label not derived from the domain", v1: func(h *Host) {
			if h.Domain == "contoso.com" {
				h.Label = "other"
			}
		}, msg: `host record "contoso.com"`},
		{name: "v1 unknown shard", v1: func(h *Host) { h.Shard = "zzzz.mx.example." }, msg: `no shard "zzzz.mx.example."`},
		{name: "v1 shard is the parent", v1: func(h *Host) { h.Shard = "mx.example." }, msg: `no shard "mx.example."`},
		{name: "unknown shard", put: put("zzzz.mx.example.", "x.com", good), msg: "is not a shard"},
		{name: "parent as a shard", put: put("mx.example.", "x.com", good), msg: "is not a shard"},
		{name: "value in the shards bucket", put: func(tx *bolt.Tx, _ string) error {
			return tx.Bucket(bucketShards).Put([]byte("x.com"), good)
		}, msg: "is not a shard"},
		{name: "host in two shards", put: func(tx *bolt.Tx, shard string) error {
			other := "a" + shard[1:]
			if other == shard {
				other = "b" + shard[1:]
			}
			if err := tx.Bucket(bucketZones).Put([]byte(other), []byte(`{"name":"`+other+`","kind":"shard"}`)); err != nil {
				return err
			}
			return put(other, "contoso.com", good)(tx, shard)
		}, msg: "in two shards"},
		{name: "short value", put: put("", "x.com", []byte{hostValueTag, 0}), msg: `host "x.com": value`},
		{name: "unknown value tag", put: put("", "x.com", append([]byte{2}, good[1:]...)), msg: `host "x.com": value`},
		{name: "nanoseconds out of range", put: put("", "x.com", append(good[:9:9], 0xff, 0xff, 0xff, 0xff)), msg: `host "x.com": value`},
		{name: "schema version 3", put: func(tx *bolt.Tx, _ string) error {
			return tx.Bucket(bucketMeta).Put(metaSchema, u64(3))
		}, msg: "schema version 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, p, _ := newTestProvisioner(t, func(c *Config) { c.ShardSize = 4 })
			shard := mustAdd(t, p, "contoso.com", "fabrikam.com")[0].Host.Shard
			path := s.path
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if tt.v1 != nil {
				downgradeToV1(t, path, tt.v1)
			} else {
				db, err := bolt.Open(path, 0o600, nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := db.Update(func(tx *bolt.Tx) error { return tt.put(tx, shard) }); err != nil {
					t.Fatal(err)
				}
				db.Close()
			}
			if s, err := Open(Options{Path: path, KEK: testKEK}); !errors.Is(err, ErrCorrupt) {
				if err == nil {
					s.Close()
				}
				t.Fatalf("Open: %v, want ErrCorrupt", err)
			} else if !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Open: %v, want it to say %q", err, tt.msg)
			}
		})
	}
}

// TestHostValueRoundTrip checks encodeHost and decodeHost (beyond the range
// of Unix nanoseconds too), and that no host value looks like a JSON one.
func TestHostValueRoundTrip(t *testing.T) {
	for _, created := range []time.Time{t0, t0.Add(123456789), time.Date(2300, 1, 2, 3, 4, 5, 999999999, time.UTC)} {
		h := Host{Domain: "contoso.com", Label: "contoso-com", Shard: "ab12.mx.example.", Created: created}
		v := encodeHost(h)
		r, ok := decodeHost(v)
		if !ok || r.created() != h.Created {
			t.Fatalf("decodeHost(encodeHost(%+v)) = %+v, %v", h, r, ok)
		}
		j, _ := json.Marshal(h)
		if _, ok := decodeHost(j); ok || v[0] == j[0] {
			t.Fatalf("a JSON host value decodes as a compact one")
		}
	}
}
