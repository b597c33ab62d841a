package zonestore

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The whole bbolt layout. Every bucket is top level; values are JSON unless
// noted; integers are 8-byte big-endian so that keys sort numerically.
//
//	meta    "schema"  -> uint64 schemaVersion
//	        "applied" -> uint64 last applied log index (written in the same
//	                     transaction as the data it covers)
//	        "config"  -> Config
//	        "profile" -> Profile
//	zones   <zone FQDN>               -> zoneRecord
//	keys    <zone FQDN> 0x00 <key id> -> Key (private half sealed)
//	hosts   <domain>                  -> Host
//	labels  <host label>              -> <domain> (global label uniqueness)
//	nodes   <raft server id>          -> Node (cluster member addresses)
var (
	bucketMeta   = []byte("meta")
	bucketZones  = []byte("zones")
	bucketKeys   = []byte("keys")
	bucketHosts  = []byte("hosts")
	bucketLabels = []byte("labels")
	bucketNodes  = []byte("nodes")

	allBuckets = [][]byte{bucketMeta, bucketZones, bucketKeys, bucketHosts, bucketLabels, bucketNodes}

	metaSchema  = []byte("schema")
	metaApplied = []byte("applied")
	metaConfig  = []byte("config")
	metaProfile = []byte("profile")
)

const schemaVersion = 1

// zoneRecord is the stored form of a zone; Zone.Hosts is derived on load.
type zoneRecord struct {
	Name    string    `json:"name"`
	Kind    ZoneKind  `json:"kind"`
	Serial  uint32    `json:"serial"`
	Created time.Time `json:"created"`
	KeyGen  uint64    `json:"keyGen"`
}

func keyKey(zone, id string) []byte {
	b := make([]byte, 0, len(zone)+1+len(id))
	b = append(b, zone...)
	b = append(b, 0)
	return append(b, id...)
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func readU64(b []byte) (uint64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("%w: integer of %d bytes", ErrCorrupt, len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}

// createBuckets creates missing buckets and checks the schema version.
func createBuckets(tx *bolt.Tx) error {
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("zonestore: create bucket %s: %w", name, err)
		}
	}
	meta := tx.Bucket(bucketMeta)
	v := meta.Get(metaSchema)
	if v == nil {
		return meta.Put(metaSchema, u64(schemaVersion))
	}
	got, err := readU64(v)
	if err != nil {
		return err
	}
	if got != schemaVersion {
		return fmt.Errorf("%w: schema version %d, this build reads %d", ErrCorrupt, got, schemaVersion)
	}
	return nil
}

func putApplied(tx *bolt.Tx, index uint64) error {
	return tx.Bucket(bucketMeta).Put(metaApplied, u64(index))
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

// getJSON decodes the value at key into v; it reports whether key exists.
// json.Unmarshal copies, so nothing refers to bbolt memory afterwards.
func getJSON(b *bolt.Bucket, key []byte, v any) (bool, error) {
	data := b.Get(key)
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return true, fmt.Errorf("%w: value of %q: %v", ErrCorrupt, key, err)
	}
	return true, nil
}
