// Package keymgr is the clock-free decision core of mxsign's automatic DNSSEC
// key rollover, and a simulator that proves its timing safe.
//
// Next looks at the keys a zone holds (KeyState: one timestamp per step a key
// has taken) and the Policy, and returns the actions due at now, the instant
// of the next step and a human-readable Status. It is a pure function: no
// clock, no randomness, no I/O; the leader's scheduler calls it, proposes the
// actions as store commands, and sleeps until the returned instant.
//
// The rollover methods follow RFC 7583: ZSK pre-publication (§3.2.1),
// double-DS for shard KSKs whose parent is served by mxsign itself (§3.3.2),
// double-KSK with CDS/CDNSKEY for the parent zone whose DS lives at an
// external registry (§3.3.1), and the conservative algorithm rollover of
// RFC 6781 §4.1.4. Simulate runs Next on a fake clock and checks, at every
// step, that every combination of DS, DNSKEY and RRSIG sets a resolver could
// still hold in its cache validates. See DESIGN.md.
package keymgr
