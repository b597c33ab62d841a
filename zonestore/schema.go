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
//	shards  <shard FQDN>              -> bucket of the shard's hosts:
//	        <domain>                  -> host value (encodeHost)
//	nodes   <raft server id>          -> Node (cluster member addresses)
//
// A host's label is hostLabel(domain), so it is not stored. Hosts are grouped
// by shard so that a batch, which fills one shard, rewrites only that
// shard's pages (a few hundred), whatever the number of hosts.
//
// Schema 1 kept hosts in one bucket, hosts <domain> -> JSON Host, and a
// labels bucket <host label> -> <domain>; Open migrates it (migrate.go).
var (
	bucketMeta   = []byte("meta")
	bucketZones  = []byte("zones")
	bucketKeys   = []byte("keys")
	bucketShards = []byte("shards")
	bucketNodes  = []byte("nodes")

	allBuckets = [][]byte{bucketMeta, bucketZones, bucketKeys, bucketShards, bucketNodes}

	metaSchema  = []byte("schema")
	metaApplied = []byte("applied")
	metaConfig  = []byte("config")
	metaProfile = []byte("profile")
)

// schemaVersion is the layout this build writes; it reads it and, after
// migrating, schemaV1.
const (
	schemaVersion = 2
	schemaV1      = 1
)

// A host value: hostValueTag, then the creation time as Unix seconds (8
// octets, big-endian) and nanoseconds (4).
const (
	hostValueTag = 0x01
	hostValueLen = 1 + 8 + 4
)

// encodeHost returns the stored value of h.
func encodeHost(h Host) []byte {
	b := make([]byte, 0, hostValueLen)
	b = append(b, hostValueTag)
	b = binary.BigEndian.AppendUint64(b, uint64(h.Created.Unix()))
	return binary.BigEndian.AppendUint32(b, uint32(h.Created.Nanosecond()))
}

// decodeHost parses a host value into a record without its shard.
func decodeHost(v []byte) (hostRec, bool) {
	if len(v) != hostValueLen || v[0] != hostValueTag {
		return hostRec{}, false
	}
	r := hostRec{sec: int64(binary.BigEndian.Uint64(v[1:])), nsec: binary.BigEndian.Uint32(v[9:])}
	return r, r.nsec < 1e9
}

// putHost stores h in its shard's bucket.
func putHost(tx *bolt.Tx, h Host) error {
	b, err := tx.Bucket(bucketShards).CreateBucketIfNotExists([]byte(h.Shard))
	if err != nil {
		return err
	}
	return b.Put([]byte(h.Domain), encodeHost(h))
}

// deleteHost removes h from its shard's bucket.
func deleteHost(tx *bolt.Tx, h Host) error {
	if b := tx.Bucket(bucketShards).Bucket([]byte(h.Shard)); b != nil {
		return b.Delete([]byte(h.Domain))
	}
	return nil
}

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

// createBuckets creates missing buckets and checks the schema version: a
// new store gets schemaVersion; a schema 1 store is left to migrate.
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
	if got != schemaVersion && got != schemaV1 {
		return fmt.Errorf("%w: schema version %d, this build reads %d and %d", ErrCorrupt, got, schemaV1, schemaVersion)
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
