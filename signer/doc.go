// Package signer turns RRsets into signed answers for an online-signing
// authoritative server.
//
// It makes RRSIGs (RFC 4034 §3, RFC 4035 §2.2) with ECDSAP256SHA256 (RFC 6605)
// or ED25519 (RFC 8080) keys, keeps them in a bounded, sharded signature cache,
// builds compact denial-of-existence NSEC records (RFC 9824) and derives the
// DS, CDS and CDNSKEY records a parent needs (RFC 4034 §5, RFC 7344).
//
// The package does no I/O and never reads the clock: every function that
// depends on time takes it as a now argument, so tests and the rollover
// simulator can run months in milliseconds. Signing reads no randomness:
// Ed25519 is deterministic and ECDSA nonces are derived as RFC 6979 says (see
// DESIGN.md); the only source of randomness is the io.Reader handed to
// GenerateKey.
//
// Signatures are always computed over the canonical form of the RRset
// (RFC 4034 §6.2): owner names and the domain names in the RDATA of the types
// listed there are lower-cased, so a query in 0x20 mixed case gets a signature
// that validates, and shares its cache entry with the lower-case query.
// See DESIGN.md for the cache key and the refresh rule.
package signer
