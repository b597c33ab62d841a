package zonestore

import (
	"iter"
	"time"
)

// hostIndex is the in-memory set of hosts, built to stay small at a million
// hosts: one table record and one string per host.
//
// A host is keyed by its label, the name a query asks for (Lookup reads one
// table entry, without allocating). The domain is not stored: a plain label is
// the plain form of its domain (plainLabel), which domainFromPlain reverses;
// for the few hashed labels, long keeps the plain form. order holds the plain
// forms, whose order is the order of the domains (see plainLabel), for
// ListHosts; a plain label and its order entry share one string.
type hostIndex struct {
	byLabel hostTable
	long    map[string]string // hashed label -> plain form of its domain
	order   sortedSet         // plain forms of every host's domain
}

// hostRec is one host: its shard and creation time.
type hostRec struct {
	sec   int64  // Created: Unix seconds
	nsec  uint32 // and nanoseconds
	shard uint32 // zoneState.id of the shard
}

func newHostIndex() hostIndex {
	return hostIndex{byLabel: newHostTable(0), long: make(map[string]string)}
}

func newHostRec(created time.Time, shard uint32) hostRec {
	return hostRec{sec: created.Unix(), nsec: uint32(created.Nanosecond()), shard: shard}
}

// created returns the creation time in UTC.
func (r hostRec) created() time.Time { return time.Unix(r.sec, int64(r.nsec)).UTC() }

// Len returns the number of hosts.
func (hi *hostIndex) Len() int { return hi.byLabel.Len() }

// get returns the host holding label.
func (hi *hostIndex) get(label string) (hostRec, bool) {
	return hi.byLabel.Get(label)
}

// plainOf returns the plain form of the domain holding label, a host's
// order key.
func (hi *hostIndex) plainOf(label string) string {
	if p, ok := hi.long[label]; ok {
		return p
	}
	return label
}

// owner returns the domain holding label, "" if none.
func (hi *hostIndex) owner(label string) string {
	if _, ok := hi.byLabel.Get(label); !ok {
		return ""
	}
	return domainFromPlain(hi.plainOf(label))
}

// find returns the host of domain d, whose label is label (hostLabel(d)).
// The label must be held by d itself: not by another domain with the same
// hashed label, nor by the domain a malformed d maps onto ("a..b" has the
// plain form of "a-b").
func (hi *hostIndex) find(d, label string) (hostRec, bool) {
	r, ok := hi.byLabel.Get(label)
	if !ok || comparePlain(hi.plainOf(label), d) != 0 {
		return hostRec{}, false
	}
	return r, true
}

// add inserts the host of domain d under label (hostLabel(d), not held). It
// keeps label and, for a hashed label, a plain form of d built here: the
// caller's domain string is not retained.
func (hi *hostIndex) add(d, label string, r hostRec) {
	key := label
	if isHashed(d) {
		key = plainLabel(d)
		hi.long[label] = key
	}
	hi.byLabel.Put(label, r)
	hi.order.Insert(key)
}

// appendSorted inserts like add for hosts arriving in domain order, in
// O(1); plain is plainLabel(d) (the label itself when not hashed).
func (hi *hostIndex) appendSorted(label, plain string, r hostRec) {
	if label != plain {
		hi.long[label] = plain
	}
	hi.byLabel.Put(label, r)
	if !hi.order.Append(plain) {
		hi.order.Insert(plain)
	}
}

// remove deletes the host holding label.
func (hi *hostIndex) remove(label string) {
	if _, ok := hi.byLabel.Get(label); !ok {
		return
	}
	hi.order.Delete(hi.plainOf(label))
	hi.byLabel.Delete(label)
	delete(hi.long, label)
}

// after yields the hosts whose domain sorts after the string after, in
// domain order, as domain, label and record. The index must not change
// during the iteration.
func (hi *hostIndex) after(after string) iter.Seq2[string, hostEntry] {
	return func(yield func(string, hostEntry) bool) {
		for p := range hi.order.From(func(p string) bool { return comparePlain(p, after) > 0 }) {
			d := domainFromPlain(p)
			label := p
			if len(p) > maxLabel {
				label = hostLabel(d)
			}
			r, _ := hi.byLabel.Get(label)
			if !yield(d, hostEntry{label: label, rec: r}) {
				return
			}
		}
	}
}

// hostEntry is a host as hostIndex.after yields it.
type hostEntry struct {
	label string
	rec   hostRec
}
