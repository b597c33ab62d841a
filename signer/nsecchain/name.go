package nsecchain

import (
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// ErrName is returned for a name that is not a valid domain name or is not in the zone.
var ErrName = errors.New("nsecchain: bad name")

// Names are kept as canonical sort keys relative to the zone apex: the labels below the
// apex from right to left, each lower-cased (RFC 4034 §6.2: A-Z only) with a zero
// octet written as 0x00 0x01 and followed by the terminator 0x00 0x00. Comparing two
// keys byte by byte is then the canonical order of RFC 4034 §6.1: labels compare from
// the right, as octet strings, a label that is a prefix of another sorting first, and a
// name before its descendants. The apex is the empty key.

// maxLabels bounds the labels of a wire name (255 octets, at least 2 per label).
const maxLabels = 128

// packName returns the uncompressed wire form of the fully qualified name in buf.
func packName(name string, buf []byte) ([]byte, error) {
	n, err := dns.PackDomainName(dns.Fqdn(name), buf, 0, nil, false)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrName, name, err)
	}
	return buf[:n], nil
}

// labelStarts records the offset of each label of wire name w (the root excluded) and
// returns how many there are.
func labelStarts(w []byte, starts *[maxLabels]int) (int, bool) {
	n := 0
	for off := 0; off < len(w); {
		l := int(w[off])
		if l == 0 {
			return n, off == len(w)-1
		}
		if l > 63 || off+1+l > len(w) || n == maxLabels {
			return 0, false
		}
		starts[n] = off
		n++
		off += 1 + l
	}
	return 0, false
}

// appendKey appends the key of wire name w relative to an apex of apexLabels labels:
// the labels of w above the apex, right to left. It reports false when w has fewer
// labels than the apex or is malformed; that w ends in the apex is the caller's check.
func appendKey(dst, w []byte, apexLabels int) ([]byte, bool) {
	var starts [maxLabels]int
	n, ok := labelStarts(w, &starts)
	if !ok || n < apexLabels {
		return dst, false
	}
	for i := n - apexLabels - 1; i >= 0; i-- {
		off := starts[i]
		for _, c := range w[off+1 : off+1+int(w[off])] {
			switch {
			case c == 0:
				dst = append(dst, 0, 1)
			case 'A' <= c && c <= 'Z':
				dst = append(dst, c+'a'-'A')
			default:
				dst = append(dst, c)
			}
		}
		dst = append(dst, 0, 0)
	}
	return dst, true
}

// keyLabels returns the label count of a key.
func keyLabels(k string) int {
	n := 0
	for i := 0; i+1 < len(k); i++ {
		if k[i] == 0 {
			if k[i+1] == 0 {
				n++
			}
			i++
		}
	}
	return n
}

// commonLabels returns how many whole labels keys a and b share from their start: the
// depth below the apex of the nearest common ancestor of the two names.
func commonLabels(a, b string) int {
	n := 0
	for i := 0; i+1 < len(a) && i+1 < len(b); i++ {
		if a[i] != b[i] {
			break
		}
		if a[i] == 0 {
			if a[i+1] != b[i+1] {
				break
			}
			if a[i+1] == 0 {
				n++
			}
			i++
		}
	}
	return n
}

// keyPrefix returns the key of the ancestor of k with the first n labels of k.
func keyPrefix(k string, n int) string {
	if n == 0 {
		return ""
	}
	for i := 0; i+1 < len(k); i++ {
		if k[i] == 0 {
			if k[i+1] == 0 {
				n--
				if n == 0 {
					return k[:i+2]
				}
			}
			i++
		}
	}
	return k
}

// isBelow reports whether key k is a proper descendant of key anc.
func isBelow(k, anc string) bool {
	return len(k) > len(anc) && strings.HasPrefix(k, anc)
}

// appendWire appends the wire labels of key k, left to right as in a name, without the
// apex and the root: the caller appends those (or a pointer to them).
func appendWire(dst []byte, k string) []byte {
	type label struct{ start, end int } // k[start:end], escaped, without the terminator
	var labels [maxLabels]label
	n := 0
	start := 0
	for i := 0; i+1 < len(k) && n < maxLabels; i++ {
		if k[i] == 0 {
			if k[i+1] == 0 {
				labels[n] = label{start, i}
				n++
				start = i + 2
			}
			i++
		}
	}
	for j := n - 1; j >= 0; j-- {
		l := labels[j]
		lenAt := len(dst)
		dst = append(dst, 0)
		for i := l.start; i < l.end; i++ {
			c := k[i]
			if c == 0 { // 0x00 0x01: a zero octet
				i++
			}
			dst = append(dst, c)
		}
		dst[lenAt] = byte(len(dst) - lenAt - 1)
	}
	return dst
}
