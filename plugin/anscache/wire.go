package anscache

import (
	"encoding/binary"

	"github.com/miekg/dns"
)

// Flags are the parts of a query besides its question that change the answer's bytes.
type Flags uint8

// Query flags that are part of the key.
const (
	EDNS Flags = 1 << iota // the query had an OPT record: the answer has one too
	DO                     // DNSSEC OK: the answer carries RRSIGs and NSECs
	CO                     // Compact Answers OK (RFC 9824 §5.1): NXDOMAIN and CO echoed
)

// headerLen is the size of the DNS message header; the question name follows it.
const headerLen = 12

// Query is one question in the two forms the cache needs, built without allocating:
// the key (flags, type, class and the lower-cased wire name) and the wire name as
// the query spelled it, for Patch.
type Query struct {
	key  [5 + 255]byte
	name [255]byte
	klen int
	nlen int
}

// Set fills q from a question name in presentation form (a fully qualified name as
// miekg/dns unpacks it), its type and class, and the query's flags. It reports
// false for a name that does not pack.
func (q *Query) Set(name string, qtype, qclass uint16, f Flags) bool {
	n, ok := q.setName(name)
	if !ok {
		return false
	}
	q.nlen = n
	q.key[0] = byte(f)
	binary.BigEndian.PutUint16(q.key[1:], qtype)
	binary.BigEndian.PutUint16(q.key[3:], qclass)
	q.klen = 5 + n
	return true
}

// setName writes the fully qualified name in wire form to q.name and lower-cased to
// the key, in one pass. Names with escapes are left to dns.PackDomainName, several
// times slower.
func (q *Query) setName(name string) (int, bool) {
	if len(name) == 0 || name[len(name)-1] != '.' {
		return 0, false // not fully qualified
	}
	if len(name) >= len(q.name) {
		return q.setEscapedName(name) // escapes may make it short enough; else too long
	}
	key := q.key[5:]
	if name == "." {
		q.name[0], key[0] = 0, 0
		return 1, true
	}
	label, n := 0, 1 // the offset of the current label's length octet, the next free one
	for i := 0; i < len(name); i++ {
		switch c := name[i]; c {
		case '.':
			l := n - label - 1
			if l == 0 || l > 63 {
				return 0, false
			}
			q.name[label], key[label] = byte(l), byte(l)
			label = n
			n++
		case '\\':
			return q.setEscapedName(name)
		default:
			q.name[n], key[n] = c, lower[c]
			n++
		}
	}
	q.name[label], key[label] = 0, 0 // the root label
	return n, true
}

func (q *Query) setEscapedName(name string) (int, bool) {
	n, err := dns.PackDomainName(name, q.name[:], 0, nil, false)
	if err != nil || n == 0 {
		return 0, false
	}
	for i, c := range q.name[:n] {
		q.key[5+i] = lower[c]
	}
	return n, true
}

// lower maps each octet to its ASCII lower case (RFC 4343: only A-Z fold).
var lower = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if 'A' <= i && i <= 'Z' {
			t[i] += 'a' - 'A'
		}
	}
	return t
}()

// Key returns the cache key. It is valid until q is Set again.
func (q *Query) Key() []byte { return q.key[:q.klen] }

// Name returns the question name in wire form, as the query spelled it.
func (q *Query) Name() []byte { return q.name[:q.nlen] }

// Patch turns wire, an answer packed for the question of q in any spelling, into the
// reply to one query: its ID, its RD and CD bits (RFC 1035 §4.1.1 and RFC 4035
// §3.1.6 copy them from the query) and its question name as q spelled it. Owner names
// equal to the question name, and those ending in it, are compression pointers into
// it and so take its spelling too. It reports false, leaving wire unchanged, when
// wire's question does not have the labels of q's name.
func Patch(wire []byte, id uint16, rd, cd bool, q *Query) bool {
	name := q.Name()
	if len(wire) < headerLen+len(name) || !sameLabels(wire[headerLen:], name) {
		return false
	}
	binary.BigEndian.PutUint16(wire, id)
	wire[2] = setBit(wire[2], 0x01, rd)
	wire[3] = setBit(wire[3], 0x10, cd)
	copy(wire[headerLen:], name)
	return true
}

func setBit(b, bit byte, on bool) byte {
	if on {
		return b | bit
	}
	return b &^ bit
}

// sameLabels reports whether the wire name at the start of a has the label lengths of
// the wire name b, so that b may be written over it. That the labels are the same but
// for case is the caller's to know: the answer was found under b's lower-cased key.
func sameLabels(a, b []byte) bool {
	for off := 0; off < len(b); {
		l := int(b[off])
		if off >= len(a) || a[off] != b[off] || l > 63 {
			return false
		}
		if l == 0 {
			return off == len(b)-1
		}
		off += 1 + l
	}
	return false
}

// Rcode returns the answer's RCODE (the header's four bits: cached answers carry no
// extended RCODE) and its answer count.
func Rcode(wire []byte) (rcode, answers int) {
	if len(wire) < headerLen {
		return -1, 0
	}
	return int(wire[3] & 0x0f), int(binary.BigEndian.Uint16(wire[6:]))
}
