package zonestore

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

const (
	maxLabel       = 63 // octets in a DNS label
	maxDomain      = 253
	hashedPrefix   = 46 // octets of the plain form kept in a hashed label
	hashedDigest   = 13 // base32 characters of SHA-256(domain) in a hashed label
	hashedSentinel = "---"
)

// labelHash is unpadded lower-case base32 (RFC 4648 section 6, lower case).
var labelHash = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NormalizeDomain returns the canonical form of an accepted domain: IDNA
// ToASCII with the idna.Lookup profile, lower-case, one trailing dot
// stripped. The result must be an LDH name of at least two labels and at
// most 253 octets; otherwise the error wraps ErrInvalidDomain with the reason.
func NormalizeDomain(domain string) (string, error) {
	d := strings.TrimSuffix(domain, ".")
	switch {
	case d == "":
		return "", fmt.Errorf("%w: empty name", ErrInvalidDomain)
	case strings.Contains(d, "*"):
		return "", fmt.Errorf("%w: %q: wildcards are not allowed", ErrInvalidDomain, domain)
	case len(d) > 4*maxDomain:
		return "", fmt.Errorf("%w: name too long", ErrInvalidDomain)
	case !utf8.ValidString(d):
		return "", fmt.Errorf("%w: %q is not valid UTF-8", ErrInvalidDomain, domain)
	}
	a, err := idna.Lookup.ToASCII(d)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %v", ErrInvalidDomain, domain, err)
	}
	a = strings.ToLower(a)
	if err := checkLDH(a); err != nil {
		return "", fmt.Errorf("%w: %q: %v", ErrInvalidDomain, domain, err)
	}
	// The A-label form must be stable: processing it again gives the same name.
	if again, err := idna.Lookup.ToASCII(a); err != nil || again != a {
		return "", fmt.Errorf("%w: %q: A-label form %q does not validate", ErrInvalidDomain, domain, a)
	}
	return a, nil
}

// checkLDH validates a normalized domain (no trailing dot) without IDNA
// processing: Apply uses it so that replicas never depend on IDNA tables.
func checkLDH(d string) error {
	if len(d) > maxDomain {
		return fmt.Errorf("longer than %d octets", maxDomain)
	}
	labels := 0
	for l := range strings.SplitSeq(d, ".") {
		labels++
		switch {
		case l == "":
			return fmt.Errorf("empty label")
		case len(l) > maxLabel:
			return fmt.Errorf("label %q longer than %d octets", l, maxLabel)
		case l[0] == '-' || l[len(l)-1] == '-':
			return fmt.Errorf("label %q begins or ends with a hyphen", l)
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Errorf("label %q: character %q is not a lower-case letter, digit or hyphen", l, c)
			}
		}
	}
	if labels < 2 {
		return fmt.Errorf("at least two labels are required")
	}
	return nil
}

// HostLabel returns the host label for domain (normalized first): "-" becomes
// "--" and "." becomes "-"; a result longer than 63 octets is replaced by
// its first 46 octets (trailing hyphens removed), "---" and 13 characters of
// the base32 SHA-256 of the domain. See the package documentation.
func HostLabel(domain string) (string, error) {
	d, err := NormalizeDomain(domain)
	if err != nil {
		return "", err
	}
	return hostLabel(d), nil
}

// hostLabel maps a normalized domain to its label.
func hostLabel(d string) string {
	p := plainLabel(d)
	if len(p) <= maxLabel {
		return p
	}
	sum := sha256.Sum256([]byte(d))
	var h [16]byte // the base32 of the first 10 octets: 16 characters, the first 13 kept
	labelHash.Encode(h[:], sum[:10])
	return strings.TrimRight(p[:hashedPrefix], "-") + hashedSentinel + string(h[:hashedDigest])
}

// plainLabel returns the plain form of a normalized domain: every "-"
// doubled, every "." a "-" (appendPlain builds it from a bbolt key into a
// buffer, so that building the index from disk allocates nothing per host).
//
// The plain form keeps the order of normalized domains: where two domains
// first differ, '-' < '.' < [0-9a-z] holds for the bytes of both forms too
// ("--" < "-" followed by the first octet of a label, which is never a
// hyphen), and a domain that is a prefix of another has the shorter form.
// The index therefore orders hosts by domain by ordering plain forms.
func plainLabel(d string) string {
	var b strings.Builder
	b.Grow(plainLen(d))
	for i := 0; i < len(d); i++ {
		switch d[i] {
		case '-':
			b.WriteString("--")
		case '.':
			b.WriteByte('-')
		default:
			b.WriteByte(d[i])
		}
	}
	return b.String()
}

// appendPlain appends plainLabel(d) to b.
func appendPlain(b, d []byte) []byte {
	for _, c := range d {
		switch c {
		case '-':
			b = append(b, '-', '-')
		case '.':
			b = append(b, '-')
		default:
			b = append(b, c)
		}
	}
	return b
}

// plainLen returns len(plainLabel(d)) without building it.
func plainLen[T string | []byte](d T) int {
	n := len(d)
	for i := 0; i < len(d); i++ {
		if d[i] == '-' {
			n++
		}
	}
	return n
}

// isHashed reports whether domain d gets a hashed label: its plain form is
// too long for a label.
func isHashed(d string) bool { return plainLen(d) > maxLabel }

// domainFromPlain reverses plainLabel for the plain form of a normalized
// domain (of any length) without checking it: "--" is "-", a lone "-" is
// ".". Normalized domains have no hyphen next to a dot, so pairing hyphens
// from the left is exact.
func domainFromPlain(p string) string {
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '-' {
			if i+1 < len(p) && p[i+1] == '-' {
				i++
			} else {
				c = '.'
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// comparePlain compares domainFromPlain(p) with d, like strings.Compare,
// without building the domain. d may be any string.
func comparePlain(p, d string) int {
	i, j := 0, 0
	for i < len(p) && j < len(d) {
		c := p[i]
		i++
		if c == '-' {
			if i < len(p) && p[i] == '-' {
				i++
			} else {
				c = '.'
			}
		}
		switch {
		case c < d[j]:
			return -1
		case c > d[j]:
			return 1
		}
		j++
	}
	switch {
	case i < len(p):
		return 1
	case j < len(d):
		return -1
	}
	return 0
}

// DomainFromLabel reverses HostLabel for plain (not hashed) labels. A hashed
// label or a string HostLabel cannot produce is an error wrapping
// ErrInvalidDomain.
func DomainFromLabel(label string) (string, error) {
	if len(label) > maxLabel {
		return "", fmt.Errorf("%w: label %q longer than %d octets", ErrInvalidDomain, label, maxLabel)
	}
	var b strings.Builder
	b.Grow(len(label))
	for i := 0; i < len(label); {
		if label[i] != '-' {
			b.WriteByte(label[i])
			i++
			continue
		}
		j := i
		for j < len(label) && label[j] == '-' {
			j++
		}
		switch n := j - i; {
		case n == 1:
			b.WriteByte('.')
		case n%2 == 0:
			b.WriteString(strings.Repeat("-", n/2))
		case n == len(hashedSentinel):
			return "", fmt.Errorf("%w: %q is a hashed label and cannot be reversed", ErrInvalidDomain, label)
		default:
			return "", fmt.Errorf("%w: %q: run of %d hyphens", ErrInvalidDomain, label, n)
		}
		i = j
	}
	d := b.String()
	if err := checkLDH(d); err != nil {
		return "", fmt.Errorf("%w: %q: %v", ErrInvalidDomain, label, err)
	}
	return d, nil
}

// inZone reports whether the normalized domain d (no trailing dot) is the
// zone apex (a lower-case FQDN) or below it.
func inZone(d, apex string) bool {
	z := strings.TrimSuffix(apex, ".")
	return d == z || strings.HasSuffix(d, "."+z)
}
