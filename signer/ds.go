package signer

import "github.com/miekg/dns"

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
