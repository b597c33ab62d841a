package nsecchain

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/miekg/dns"

	"github.com/mxsign/mxsign/signer"
)

// Errors of the lookups: the chain does not say what the caller assumed. A caller
// whose zone data disagrees with its chain (the chain was built from another version
// of the zone) gets one of these rather than a proof that would not validate.
var (
	ErrExists    = errors.New("nsecchain: the name exists")
	ErrNotExists = errors.New("nsecchain: the name does not exist")
	ErrWildcard  = errors.New("nsecchain: a wildcard matches the name")
)

// Owner is a name of a zone that holds records, and the types it holds.
type Owner struct {
	Name  string   // fully qualified; any case
	Types []uint16 // any order; RRSIG and NSEC are added, never needed here
}

// Content is one version of a zone, as a chain needs it.
type Content struct {
	Apex string   // the zone apex, fully qualified
	SOA  *dns.SOA // the zone's SOA; its TTL is ignored (see NegativeTTL)
	// Owners are every name of the zone with records, the apex included, in any order.
	// Empty non-terminals are not owners (RFC 4035 §2.3) and must not be listed. A name
	// other than the apex with an NS RRset is a delegation: its bitmap keeps only NS
	// and DS (RFC 4035 §2.3), and the names below it (glue) are dropped.
	Owners []Owner
}

// Chain is the NSEC chain of one version of a zone, with the signatures of its NSEC
// records and of the SOA of its negative answers. The names and bitmaps never change
// after Build; the signatures are replaced as they are made or refreshed. It is safe
// for concurrent use.
type Chain struct {
	apex       string // lower-case FQDN
	apexWire   []byte
	apexLabels int
	soa        dns.SOA   // TTL: ttl
	soaNames   [2][]byte // the SOA's MNAME and RNAME in wire form
	ttl        uint32    // NSEC and negative SOA TTL: min(SOA TTL, SOA MINIMUM)

	keys    []string // canonical keys, sorted; keys[0] == "" is the apex
	bm      []uint16 // index into bitmaps, per key
	bitmaps []bitmap

	// sigs[i] signs the NSEC of keys[i]; sigs[len(keys)] signs the SOA.
	sigs []atomic.Pointer[sigSet]
}

// bitmap is one distinct NSEC type bitmap: the types, sorted, and their wire form.
type bitmap struct {
	types []uint16
	wire  []byte
}

// Build returns the chain of c. When old is the chain of an earlier version of the
// same zone, every NSEC whose owner, next name, bitmap and TTL are unchanged keeps the
// signatures old holds for it, and so does the SOA if it is unchanged.
func Build(c Content, old *Chain) (*Chain, error) {
	if c.SOA == nil {
		return nil, fmt.Errorf("nsecchain: zone %s: no SOA", c.Apex)
	}
	var buf [256]byte
	apexWire, err := packName(strings.ToLower(c.Apex), buf[:])
	if err != nil {
		return nil, err
	}
	var starts [maxLabels]int
	apexLabels, _ := labelStarts(apexWire, &starts)
	ch := &Chain{
		apexWire:   slices.Clone(apexWire),
		apexLabels: apexLabels,
		ttl:        signer.NegativeTTL(c.SOA),
	}
	ch.apex, _, err = dns.UnpackDomainName(ch.apexWire, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrName, c.Apex, err)
	}
	ch.soa = *c.SOA
	ch.soa.Hdr = dns.RR_Header{Name: ch.apex, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: ch.ttl}
	for i, n := range []string{ch.soa.Ns, ch.soa.Mbox} {
		w, err := packName(n, buf[:])
		if err != nil {
			return nil, fmt.Errorf("nsecchain: zone %s: SOA: %w", ch.apex, err)
		}
		ch.soaNames[i] = slices.Clone(w)
	}

	type entry struct {
		key   string
		types []uint16
	}
	entries := make([]entry, 0, len(c.Owners))
	var kb []byte
	for _, o := range c.Owners {
		w, err := packName(o.Name, buf[:])
		if err != nil {
			return nil, err
		}
		if !endsIn(w, ch.apexWire) {
			return nil, fmt.Errorf("%w: %s is not in %s", ErrName, o.Name, ch.apex)
		}
		kb, _ = appendKey(kb[:0], w, apexLabels)
		entries = append(entries, entry{key: string(kb), types: o.Types})
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	if len(entries) == 0 || entries[0].key != "" {
		return nil, fmt.Errorf("%w: the apex %s is not among the owners", ErrName, ch.apex)
	}

	ch.keys = make([]string, 0, len(entries))
	ch.bm = make([]uint16, 0, len(entries))
	ids := make(map[string]uint16)
	deleg := "\xff" // no key starts with it: no delegation yet
	for i, e := range entries {
		if i > 0 && e.key == entries[i-1].key {
			return nil, fmt.Errorf("%w: owner %s listed twice", ErrName, nameOf(ch, e.key))
		}
		if isBelow(e.key, deleg) {
			continue // glue below a delegation: not authoritative, no NSEC
		}
		if len(e.types) == 0 {
			return nil, fmt.Errorf("%w: owner %s has no types (an empty non-terminal has no NSEC)", ErrName, nameOf(ch, e.key))
		}
		types := bitmapTypes(e.types, e.key != "" && slices.Contains(e.types, dns.TypeNS))
		if e.key != "" && slices.Contains(types, dns.TypeNS) {
			deleg = e.key
		}
		id, ok := ids[string(typesKey(types))]
		if !ok {
			if len(ch.bitmaps) == 1<<16-1 {
				return nil, fmt.Errorf("nsecchain: zone %s: too many distinct type bitmaps", ch.apex)
			}
			id = uint16(len(ch.bitmaps))
			ids[string(typesKey(types))] = id
			ch.bitmaps = append(ch.bitmaps, bitmap{types: types, wire: packBitmap(types)})
		}
		ch.keys = append(ch.keys, e.key)
		ch.bm = append(ch.bm, id)
	}
	ch.sigs = make([]atomic.Pointer[sigSet], len(ch.keys)+1)
	if old != nil && old.apex == ch.apex && old.ttl == ch.ttl {
		ch.carryOver(old)
	}
	return ch, nil
}

// bitmapTypes returns the NSEC bitmap of a name with types: those types plus RRSIG and
// NSEC (RFC 4034 §4.1.2), sorted, without duplicates or meta-types. At a delegation only
// NS and DS are authoritative in the parent (RFC 4035 §2.3).
func bitmapTypes(types []uint16, delegation bool) []uint16 {
	out := make([]uint16, 0, len(types)+2)
	for _, t := range types {
		switch {
		case t == dns.TypeNSEC || t == dns.TypeRRSIG || t == signer.TypeNXNAME || t == dns.TypeOPT:
		case delegation && t != dns.TypeNS && t != dns.TypeDS:
		default:
			out = append(out, t)
		}
	}
	out = append(out, dns.TypeRRSIG, dns.TypeNSEC)
	slices.Sort(out)
	return slices.Compact(out)
}

// typesKey is the map key of a sorted type list.
func typesKey(types []uint16) []byte {
	b := make([]byte, 0, 2*len(types))
	for _, t := range types {
		b = append(b, byte(t>>8), byte(t))
	}
	return b
}

// packBitmap returns the NSEC type bitmap field for sorted types (RFC 4034 §4.1.2):
// per window in use, the window number, the length of its bitmap, and the bitmap up
// to its last non-zero octet.
func packBitmap(types []uint16) []byte {
	var out []byte
	for i := 0; i < len(types); {
		win := types[i] >> 8
		var bits [32]byte
		n := 0
		for ; i < len(types) && types[i]>>8 == win; i++ {
			lo := types[i] & 0xff
			bits[lo/8] |= 0x80 >> (lo % 8)
			n = int(lo/8) + 1
		}
		out = append(out, byte(win), byte(n))
		out = append(out, bits[:n]...)
	}
	return out
}

// endsIn reports whether wire name w ends in the labels of the lower-case wire name
// apex, ignoring case.
func endsIn(w, apex []byte) bool {
	off := len(w) - len(apex)
	if off < 0 {
		return false
	}
	// The suffix must start at a label of w.
	at := 0
	for at < off && w[at] != 0 {
		at += 1 + int(w[at])
	}
	if at != off {
		return false
	}
	for i, c := range w[off:] {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != apex[i] {
			return false
		}
	}
	return true
}

// carryOver copies into ch the signatures of old whose NSEC is unchanged: the same
// owner, next name and bitmap (the apex and TTL were checked by the caller).
func (ch *Chain) carryOver(old *Chain) {
	j := 0
	for i, k := range ch.keys {
		for j < len(old.keys) && old.keys[j] < k {
			j++
		}
		if j == len(old.keys) {
			break
		}
		if old.keys[j] != k || old.keys[(j+1)%len(old.keys)] != ch.keys[(i+1)%len(ch.keys)] ||
			!slices.Equal(old.bitmaps[old.bm[j]].types, ch.bitmaps[ch.bm[i]].types) {
			continue
		}
		ch.sigs[i].Store(old.sigs[j].Load())
	}
	if old.soa == ch.soa {
		ch.sigs[len(ch.keys)].Store(old.sigs[len(old.keys)].Load())
	}
}

// Apex returns the zone apex, lower-case.
func (ch *Chain) Apex() string { return ch.apex }

// Serial returns the serial of the SOA the chain was built with.
func (ch *Chain) Serial() uint32 { return ch.soa.Serial }

// TTL returns the TTL of the NSEC records and of the SOA of negative answers.
func (ch *Chain) TTL() uint32 { return ch.ttl }

// Len returns the number of NSEC records in the chain.
func (ch *Chain) Len() int { return len(ch.keys) }

// Name returns the owner of the i-th NSEC, in canonical order (0 is the apex).
func (ch *Chain) Name(i int) string { return nameOf(ch, ch.keys[i]) }

// nameOf returns the presentation form of the name with key k.
func nameOf(ch *Chain, k string) string {
	w := appendWire(make([]byte, 0, 256), k)
	w = append(w, ch.apexWire...)
	name, _, err := dns.UnpackDomainName(w, 0)
	if err != nil {
		return ch.apex // cannot happen: keys come from valid names
	}
	return name
}

// NSEC returns the i-th NSEC record with owner as its owner name (the chain's own
// spelling when empty; a caller answering a query may pass the name as asked).
func (ch *Chain) NSEC(i int, owner string) *dns.NSEC {
	if owner == "" {
		owner = ch.Name(i)
	}
	return &dns.NSEC{
		Hdr:        dns.RR_Header{Name: owner, Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: ch.ttl},
		NextDomain: nameOf(ch, ch.keys[(i+1)%len(ch.keys)]),
		TypeBitMap: ch.bitmaps[ch.bm[i]].types,
	}
}

// SOA returns a copy of the SOA of negative answers: the zone's, with the NSEC TTL.
func (ch *Chain) SOA() *dns.SOA {
	soa := ch.soa
	return &soa
}
