// Package zonestore holds the data model of mxsign and its bbolt layout: the
// parent zone, its shard subzones, the hosts (accepted mail domains) in each
// shard, the record profile every host shares, the per-zone DNSSEC keys
// (private halves sealed with AES-256-GCM), SOA serials and the applied
// replication index.
//
// Every change is a typed, versioned Command executed by Store.Apply in one
// bbolt transaction that also records the log index it was applied at. Apply
// is deterministic: the proposer (see Provisioner) chooses the time, the
// shard ids and the key material and carries them inside the command, so
// every replica that applies the same log ends in the same state.
//
// Reads (Zones, Keys, Host, Lookup, ...) are served from an in-memory index
// that Open rebuilds and Apply updates after each commit; they never touch
// the disk and are safe for concurrent use with Apply.
//
// # Host names
//
// The accepted domain "contoso.com" is served as the host
// "contoso-com.<shard>.<parent>". HostLabel derives the label from the
// normalized A-label form of the domain: every "-" becomes "--" and every "."
// becomes "-". LDH labels never begin or end with a hyphen, so in the result a
// run of hyphens of odd length is exactly one dot and the mapping is
// injective and reversible (DomainFromLabel). When the result is longer than
// 63 octets, the label is the longest prefix of at most 46 octets with
// trailing hyphens removed, then "---" and the first 13 characters of the
// unpadded lower-case base32 SHA-256 of the domain. A run of exactly three
// hyphens never occurs in a plain label, so hashed labels cannot collide with
// plain ones; Apply still rejects a label another domain holds.
//
// IDN example: "bücher.de" -> "xn--bcher-kva.de" -> "xn----bcher--kva-de".
package zonestore
