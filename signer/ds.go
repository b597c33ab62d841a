package signer

import (
	"strings"

	"github.com/miekg/dns"
)

// DS returns the SHA-256 (digest type 2) DS record for k with the given TTL
// (RFC 4034 §5, RFC 4509), or nil if k is nil or cannot be encoded.
func DS(k *dns.DNSKEY, ttl uint32) *dns.DS {
	if k == nil {
		return nil
	}
	ds := k.ToDS(dns.SHA256)
	if ds == nil {
		return nil
	}
	ds.Hdr.Ttl = ttl
	return ds
}

// CDS returns the CDS record (RFC 7344 §3.1) matching DS(k, ttl), or nil.
func CDS(k *dns.DNSKEY, ttl uint32) *dns.CDS {
	ds := DS(k, ttl)
	if ds == nil {
		return nil
	}
	return ds.ToCDS()
}

// CDNSKEY returns the CDNSKEY record (RFC 7344 §3.2) for k with the given TTL,
// or nil if k is nil.
func CDNSKEY(k *dns.DNSKEY, ttl uint32) *dns.CDNSKEY {
	if k == nil {
		return nil
	}
	c := k.ToCDNSKEY()
	c.Hdr.Ttl = ttl
	return c
}

// dsDigests are the DS digest types DSMatches computes: SHA-1 (RFC 4034 §5.1.4, still
// to be validated per RFC 8624 §3.3), SHA-256 (RFC 4509) and SHA-384 (RFC 6605).
var dsDigests = map[uint8]bool{dns.SHA1: true, dns.SHA256: true, dns.SHA384: true}

// DSMatches reports whether ds is a DS record of k: same key tag, algorithm and digest
// (RFC 4034 §5.1.4; the digest compared case-insensitively as hex). known is false when
// ds uses a digest type DSMatches does not compute (GOST, unassigned types): the caller
// should then ignore the record rather than count it as a mismatch.
func DSMatches(k *dns.DNSKEY, ds *dns.DS) (match, known bool) {
	if k == nil || ds == nil || !dsDigests[ds.DigestType] {
		return false, false
	}
	if ds.KeyTag != k.KeyTag() || ds.Algorithm != k.Algorithm {
		return false, true
	}
	want := k.ToDS(ds.DigestType)
	if want == nil {
		return false, true // a key miekg/dns cannot encode matches no DS
	}
	return strings.EqualFold(want.Digest, ds.Digest), true
}
