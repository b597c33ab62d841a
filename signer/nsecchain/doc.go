// Package nsecchain keeps a pre-signed NSEC chain per zone (RFC 4034 §4, RFC 4035
// §2.3) for the `denial nsec` mode of mxsign, and builds the classic NSEC proofs of
// negative answers from it (RFC 4035 §3.1.3): a random-subdomain flood then costs a
// binary search and no signature.
//
// A Chain is built from a zone's owner names and their types (Build); it holds the
// names in canonical order (RFC 4034 §6.1) as sort keys, so that the NSEC covering or
// matching any name is found by binary search, and one signature slot per NSEC and one
// for the SOA of negative answers. Signatures are made by the signer without its cache
// (signer.SignUncached), follow its validity and refresh rules (signer.ServeUntil),
// and live only in the chain: positive traffic and floods cannot evict them. Building
// a chain from a newer version of the zone carries over every signature whose NSEC
// (owner, next name, bitmap, TTL) did not change, so adding or deleting a host re-signs
// only the few NSECs around it.
//
// The package is pure: no clock (the time is in Signing), no disk, no network.
// See DESIGN.md in the signer package ("Pre-signed NSEC chain").
package nsecchain
