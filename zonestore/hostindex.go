package zonestore

import (
	"iter"
	"strings"
	"time"
)

// hostIndex is the in-memory set of hosts, built to stay small at a million
// hosts and free of pointers for the garbage collector: one 24-byte table
// record, one 8-byte slot (twice, the table being at most 7/8 full), the
// label's bytes and a 4-byte id in the order per host.
//
// A host is keyed by its label, the name a query asks for (Lookup reads one
// table entry, without allocating). The domain is not stored: a plain label is
// the plain form of its domain (plainLabel), which domainFromPlain reverses;
// for the few hashed labels, the table keeps the plain form after the label.
// order holds the hosts' record ids sorted by plain form, whose order is the
// order of the domains (see plainLabel), for ListHosts.
type hostIndex struct {
	byLabel hostTable
	order   sortedSet // record ids of byLabel, by the plain form of their domains
}

// hostRec is one host: its shard and creation time.
type hostRec struct {
	sec   int64  // Created: Unix seconds
	nsec  uint32 // and nanoseconds
	shard uint32 // zoneState.id of the shard
}

func newHostIndex() hostIndex {
	return hostIndex{byLabel: newHostTable(0)}
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

// owner returns the domain holding label, "" if none.
func (hi *hostIndex) owner(label string) string {
	i, ok := hi.byLabel.index(label)
	if !ok {
		return ""
	}
	return domainFromPlain(hi.byLabel.key(i))
}

// find returns the host of domain d, whose label is label (hostLabel(d)).
// The label must be held by d itself: not by another domain with the same
// hashed label, nor by the domain a malformed d maps onto ("a..b" has the
// plain form of "a-b").
func (hi *hostIndex) find(d, label string) (hostRec, bool) {
	i, ok := hi.byLabel.index(label)
	if !ok || comparePlain(hi.byLabel.key(i), d) != 0 {
		return hostRec{}, false
	}
	return hi.byLabel.record(i).rec, true
}

// add inserts the host of domain d under label (hostLabel(d), not held). The
// table copies label and, for a hashed label, the plain form of d: the
// caller's strings are not retained.
func (hi *hostIndex) add(d, label string, r hostRec) {
	plain := label
	if isHashed(d) {
		plain = plainLabel(d)
	}
	hi.order.Insert(&hi.byLabel, hi.byLabel.Put(label, plain, r))
}

// appendSorted inserts like add for hosts arriving in domain order, in
// O(1); plain is plainLabel(d) (the label itself when not hashed). Neither
// string is retained.
func (hi *hostIndex) appendSorted(label, plain string, r hostRec) {
	i := hi.byLabel.Put(label, plain, r)
	if !hi.order.Append(&hi.byLabel, i) {
		hi.order.Insert(&hi.byLabel, i)
	}
}

// remove deletes the host holding label.
func (hi *hostIndex) remove(label string) {
	i, ok := hi.byLabel.index(label)
	if !ok {
		return
	}
	hi.order.Delete(&hi.byLabel, i)
	hi.byLabel.Delete(label)
}

// after yields the hosts whose domain sorts after the string after, in
// domain order, as domain, label and record. The strings are the caller's
// (copies). The index must not change during the iteration.
func (hi *hostIndex) after(after string) iter.Seq2[string, hostEntry] {
	return func(yield func(string, hostEntry) bool) {
		t := &hi.byLabel
		for i := range hi.order.From(t, func(p string) bool { return comparePlain(p, after) > 0 }) {
			d, label := domainFromPlain(t.key(i)), strings.Clone(t.label(i))
			if !yield(d, hostEntry{label: label, rec: t.record(i).rec}) {
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
