package signer

import (
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

var (
	// ErrAlgorithm is returned for a DNSSEC algorithm or key type the package
	// does not implement.
	ErrAlgorithm = errors.New("signer: unsupported algorithm")
	// ErrKey is returned when a private key does not match its DNSKEY, or a
	// key is used for a zone it does not belong to.
	ErrKey = errors.New("signer: key does not match")
	// ErrRRset is returned by Sign for an empty or inconsistent RRset (RFC 2181
	// §5: one owner, type and class).
	ErrRRset = errors.New("signer: invalid rrset")
	// ErrZone is returned by Sign when the RRset's owner is not at or below the
	// signer name (RFC 4035 §2.2: a zone signs only its own data).
	ErrZone = errors.New("signer: name not in zone")
)

// ParseAlgorithm returns the DNSSEC algorithm number for s, which may be the
// mnemonic or the number (case-insensitive): "ecdsap256sha256" or "13",
// "ed25519" or "15".
func ParseAlgorithm(s string) (uint8, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "ecdsap256sha256", "13":
		return dns.ECDSAP256SHA256, nil
	case "ed25519", "15":
		return dns.ED25519, nil
	}
	return 0, fmt.Errorf("%w: %q", ErrAlgorithm, s)
}

// supported reports whether alg is an algorithm this package signs with.
func supported(alg uint8) bool {
	return alg == dns.ECDSAP256SHA256 || alg == dns.ED25519
}
