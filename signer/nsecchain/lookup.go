package nsecchain

import (
	"fmt"
)

// Proof is what a negative answer proves with: one or two NSEC records of the chain,
// by index, in the order they go into the authority section.
type Proof struct {
	nsec [2]int
	n    int
}

// Len returns how many NSEC records the proof has.
func (p Proof) Len() int { return p.n }

// Index returns the chain index of the i-th NSEC of the proof.
func (p Proof) Index(i int) int { return p.nsec[i] }

func (p *Proof) add(i int) {
	if p.n == 0 || p.nsec[p.n-1] != i {
		p.nsec[p.n] = i
		p.n++
	}
}

// keyOf returns the key of qname in buf, or false when qname is not a name at or
// below the apex.
func (ch *Chain) keyOf(qname string, buf []byte) ([]byte, bool) {
	var wb [256]byte
	w, err := packName(qname, wb[:])
	if err != nil || !endsIn(w, ch.apexWire) {
		return nil, false
	}
	return appendKey(buf[:0], w, ch.apexLabels)
}

// search returns the index of the last key at or before k in canonical order, and
// whether it is k itself. The apex key sorts first, so there always is one.
func (ch *Chain) search(k []byte) (int, bool) {
	lo, hi := 0, len(ch.keys) // the answer is in [lo, hi)
	for hi-lo > 1 {
		m := int(uint(lo+hi) >> 1)
		if ch.keys[m] <= string(k) {
			lo = m
		} else {
			hi = m
		}
	}
	return lo, ch.keys[lo] == string(k)
}

// Find returns the index of the NSEC owned by qname, if qname is an owner in the chain.
func (ch *Chain) Find(qname string) (int, bool) {
	var kb [512]byte
	k, ok := ch.keyOf(qname, kb[:])
	if !ok {
		return 0, false
	}
	return ch.search(k)
}

// NoData returns the proof that qname exists but has not the type asked for
// (RFC 4035 §3.1.3.1): the NSEC owned by qname, or for an empty non-terminal the NSEC
// that covers it, whose next name is below qname (RFC 4035 §3.1.3.2 and RFC 7129 §3.2).
// ErrNotExists: the chain has no such name (the caller's data is of another version).
func (ch *Chain) NoData(qname string) (Proof, error) {
	var kb [512]byte
	k, ok := ch.keyOf(qname, kb[:])
	if !ok {
		return Proof{}, fmt.Errorf("%w: %s is not in %s", ErrName, qname, ch.apex)
	}
	var p Proof
	i, exact := ch.search(k)
	if !exact && !isBelow(ch.keys[(i+1)%len(ch.keys)], string(k)) {
		return Proof{}, fmt.Errorf("%w: %s", ErrNotExists, qname)
	}
	p.add(i)
	return p, nil
}

// NXDomain returns the proof that qname does not exist (RFC 4035 §3.1.3.2): the NSEC
// that covers qname, then the NSEC that covers the wildcard at its closest encloser,
// once if they are the same record. ErrExists: the chain holds qname or a name below it.
func (ch *Chain) NXDomain(qname string) (Proof, error) {
	var kb [512]byte
	k, ok := ch.keyOf(qname, kb[:])
	if !ok {
		return Proof{}, fmt.Errorf("%w: %s is not in %s", ErrName, qname, ch.apex)
	}
	i, exact := ch.search(k)
	next := ch.keys[(i+1)%len(ch.keys)]
	if exact || isBelow(next, string(k)) {
		return Proof{}, fmt.Errorf("%w: %s", ErrExists, qname)
	}
	// The closest encloser is the deepest ancestor of qname that exists. Every
	// existing name is an owner or an ancestor of one, and the names below an ancestor
	// of qname are contiguous in canonical order around qname: such an ancestor exists
	// exactly when the owner or the next name of the covering NSEC is at or below it.
	// (The last NSEC's next name is the apex, whose key is empty.)
	ce := max(commonLabels(string(k), ch.keys[i]), commonLabels(string(k), next))
	var p Proof
	p.add(i)
	var wb [512]byte
	wk := append(wb[:0], keyPrefix(string(k), ce)...)
	wk = append(wk, '*', 0, 0)
	w, exact := ch.search(wk)
	if exact {
		return Proof{}, fmt.Errorf("%w: %s", ErrWildcard, qname)
	}
	p.add(w)
	return p, nil
}
