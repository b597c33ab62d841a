package zonestore

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// dropEvery is how many hosts loadHosts reads between two dropMapped: the
// pages of 64k hosts (6 MB) are resident at most, not the whole file.
const dropEvery = 1 << 16

// shardRun is one shard's bucket being read in domain order.
type shardRun struct {
	z    *zoneState
	c    *bolt.Cursor
	k, v []byte
}

// loadHosts adds every stored host to the index, in domain order: each
// shard's bucket is sorted by domain, and a heap merges the shards, so
// every host is appended to the index's order (hostIndex.appendSorted)
// instead of inserted.
func loadHosts(tx *bolt.Tx, ix *index) error {
	sb := tx.Bucket(bucketShards)
	var runs []*shardRun
	err := sb.ForEach(func(name, v []byte) error {
		z := ix.zones[string(name)]
		if v != nil || z == nil || z.rec.Kind != KindShard {
			return fmt.Errorf("%w: %q in the shards bucket is not a shard", ErrCorrupt, name)
		}
		c := sb.Bucket(name).Cursor()
		if k, v := c.First(); k != nil {
			runs = append(runs, &shardRun{z: z, c: c, k: k, v: v})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i := len(runs)/2 - 1; i >= 0; i-- {
		siftDown(runs, i)
	}
	var prev, scratch []byte
	n := 0
	for len(runs) > 0 {
		r := runs[0]
		if bytes.Equal(r.k, prev) {
			return fmt.Errorf("%w: host %q is in two shards", ErrCorrupt, r.k)
		}
		if err := ix.loadHost(r.z, r.k, r.v, &scratch); err != nil {
			return err
		}
		if n++; n%dropEvery == 0 {
			dropMapped(tx)
		}
		prev = r.k // bbolt memory: valid until the transaction ends
		if r.k, r.v = r.c.Next(); r.k == nil {
			runs[0] = runs[len(runs)-1]
			runs = runs[:len(runs)-1]
		}
		siftDown(runs, 0)
	}
	return nil
}

// siftDown restores the heap order (least key first) below position i.
func siftDown(h []*shardRun, i int) {
	for {
		m := 2*i + 1
		if m >= len(h) {
			return
		}
		if r := m + 1; r < len(h) && bytes.Compare(h[r].k, h[m].k) < 0 {
			m = r
		}
		if bytes.Compare(h[m].k, h[i].k) >= 0 {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// loadHost adds one stored host of shard z, arriving in domain order. The
// plain form is built in scratch, which the index copies: no allocation per
// host.
func (ix *index) loadHost(z *zoneState, domain, v []byte, scratch *[]byte) error {
	r, ok := decodeHost(v)
	if !ok {
		return fmt.Errorf("%w: host %q: value %x", ErrCorrupt, domain, v)
	}
	*scratch = appendPlain((*scratch)[:0], domain)
	plain := bytesView(*scratch)
	label := plain
	if len(plain) > maxLabel {
		label = hostLabel(string(domain))
		// Plain labels differ for different domains; hashed ones are
		// checked like Apply checks them.
		if _, taken := ix.hosts.get(label); taken {
			return fmt.Errorf("%w: host %q: label %s is taken", ErrCorrupt, domain, label)
		}
	}
	r.shard = z.id
	ix.hosts.appendSorted(label, plain, r)
	z.nhosts++
	return nil
}
