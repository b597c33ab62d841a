package zonestore

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// migrateBatch is how many hosts one migration transaction moves: a bbolt
// transaction holds every page it changes in memory.
const migrateBatch = 10_000

// Schema 1 buckets: hosts <domain> -> JSON Host, labels <label> -> <domain>.
var (
	bucketHostsV1  = []byte("hosts")
	bucketLabelsV1 = []byte("labels")
)

// migrate brings a schema 1 store to schemaVersion: every host moves from
// the hosts bucket, as JSON, to its shard's bucket, as a compact value; then
// the hosts and labels buckets go (labels are derived from domains, and the
// index checks that they are unique) and the schema version is written.
// Hosts move batch per transaction, so an interrupted migration resumes on
// the next Open.
func migrate(db *bolt.DB, batch int) error {
	var v uint64
	if err := db.View(func(tx *bolt.Tx) error {
		var err error
		v, err = readU64(tx.Bucket(bucketMeta).Get(metaSchema))
		return err
	}); err != nil {
		return err
	}
	if v == schemaVersion {
		return nil
	}
	for done := false; !done; {
		if err := db.Update(func(tx *bolt.Tx) error {
			var err error
			done, err = moveHostsV1(tx, batch)
			return err
		}); err != nil {
			return fmt.Errorf("migrate schema %d to %d: %w", v, schemaVersion, err)
		}
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketHostsV1, bucketLabelsV1} {
			if tx.Bucket(name) != nil {
				if err := tx.DeleteBucket(name); err != nil {
					return err
				}
			}
		}
		return tx.Bucket(bucketMeta).Put(metaSchema, u64(schemaVersion))
	}); err != nil {
		return fmt.Errorf("migrate schema %d to %d: %w", v, schemaVersion, err)
	}
	return nil
}

// moveHostsV1 moves up to batch hosts out of the schema 1 hosts bucket and
// reports whether it is empty.
func moveHostsV1(tx *bolt.Tx, batch int) (done bool, err error) {
	hb := tx.Bucket(bucketHostsV1)
	if hb == nil {
		return true, nil
	}
	zb := tx.Bucket(bucketZones)
	var hosts []Host
	c := hb.Cursor()
	k, v := c.First()
	for ; k != nil && len(hosts) < batch; k, v = c.Next() {
		var h Host
		if err := json.Unmarshal(v, &h); err != nil {
			return false, fmt.Errorf("%w: host record %q: %v", ErrCorrupt, k, err)
		}
		// The new layout keeps neither the label nor the host's own shard
		// field: both must be what load derives.
		if h.Domain != string(k) || h.Label != hostLabel(h.Domain) {
			return false, fmt.Errorf("%w: host record %q", ErrCorrupt, k)
		}
		var rec zoneRecord
		if ok, err := getJSON(zb, []byte(h.Shard), &rec); err != nil || !ok || rec.Kind != KindShard {
			return false, fmt.Errorf("%w: host record %q: no shard %q", ErrCorrupt, k, h.Shard)
		}
		hosts = append(hosts, h)
	}
	done = k == nil
	// Change the bucket after the scan: a write moves its cursors.
	for _, h := range hosts {
		if err := putHost(tx, h); err != nil {
			return false, err
		}
		if err := hb.Delete([]byte(h.Domain)); err != nil {
			return false, err
		}
	}
	return done, nil
}
