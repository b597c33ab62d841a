package keymgr

import (
	"fmt"
	"time"
)

// ZoneKind says where a zone's DS lives, which decides the KSK rollover method.
type ZoneKind int

const (
	// Shard is a subzone whose DS lives in the parent zone served by mxsign:
	// submitting a DS is a store command, so it is published at once (plus the
	// parent's propagation delay). KSKs roll by double-DS (RFC 7583 §3.3.2).
	Shard ZoneKind = iota
	// Parent is the top zone whose DS lives at an external registry: KSKs
	// roll by double-KSK (RFC 7583 §3.3.1) and wait for the DS to be seen.
	Parent
)

// String returns "shard" or "parent".
func (k ZoneKind) String() string {
	switch k {
	case Shard:
		return "shard"
	case Parent:
		return "parent"
	}
	return fmt.Sprintf("ZoneKind(%d)", int(k))
}

// Role is the job of a key.
type Role string

// The key roles. A CSK is used when Policy.CSK is set.
const (
	KSK Role = "ksk"
	ZSK Role = "zsk"
	CSK Role = "csk"
)

// signsKeys reports whether keys of this role sign the DNSKEY RRset.
func (r Role) signsKeys() bool { return r == KSK || r == CSK }

// signsData reports whether keys of this role sign the zone data.
func (r Role) signsData() bool { return r == ZSK || r == CSK }

// hasDS reports whether keys of this role have a DS at the parent.
func (r Role) hasDS() bool { return r == KSK || r == CSK }

// KeyState is what the store holds about one key. Every time is the instant
// the step was applied (the command's time); zero means "not yet".
type KeyState struct {
	ID        string
	Role      Role
	Algorithm uint8

	Created   time.Time // key material generated
	Published time.Time // DNSKEY added to the zone's DNSKEY RRset
	Active    time.Time // key signs (ZSK: data; KSK: the DNSKEY RRset; CSK: both)
	Retired   time.Time // key stopped signing
	Removed   time.Time // DNSKEY withdrawn from the DNSKEY RRset

	DSSubmitted time.Time // KSK/CSK: DS requested at the parent (CDS/CDNSKEY published)
	DSPublished time.Time // DS known to be at the parent (shards: == DSSubmitted; parent: when seen)
	DSWithdrawn time.Time // DS withdrawal requested (shards: removed from the parent)
	DSSeen      bool      // parent zone: DS observed at the registry (mxctl ds seen, or a check)

	// RollRequested, when set, asks for this key to be replaced by a key of
	// the same role and algorithm as soon as no other rollover is running,
	// ignoring its lifetime (mxctl key roll). The timing of the roll is still
	// the safe one. See RequestRoll.
	RollRequested time.Time
	// Emergency, with RollRequested, marks the key as compromised (mxctl key
	// roll --now, RFC 6781 §4.2): Next replaces it at once, accepting a
	// bounded window in which resolvers may fail to validate
	// (Policy.EmergencyWindow). See RequestEmergencyRoll.
	Emergency bool
}

func (k *KeyState) inDNSKEY() bool { return !k.Published.IsZero() && k.Removed.IsZero() }
func (k *KeyState) signing() bool  { return !k.Active.IsZero() && k.Retired.IsZero() }
func (k *KeyState) dsLive() bool   { return !k.DSSubmitted.IsZero() && k.DSWithdrawn.IsZero() }

// done reports whether the key has finished its life: nothing left to do.
func (k *KeyState) done() bool {
	if k.Removed.IsZero() && !k.Published.IsZero() {
		return false
	}
	if k.Published.IsZero() && k.Active.IsZero() && k.DSSubmitted.IsZero() {
		return false // generated, waiting for its first step
	}
	if k.signing() || k.dsLive() {
		return false
	}
	return !k.Removed.IsZero() || k.Published.IsZero()
}

// ActionKind is what an Action asks the wiring to do.
type ActionKind int

const (
	// Generate a new key of Action.Role and Action.Algorithm; the wiring
	// creates the material, assigns the ID and stores KeyState.Created = now.
	Generate ActionKind = iota + 1
	// Publish adds the DNSKEY to the zone (KeyState.Published = now).
	Publish
	// Activate starts signing with the key (KeyState.Active = now).
	Activate
	// Retire stops signing with the key (KeyState.Retired = now).
	Retire
	// Remove withdraws the DNSKEY (KeyState.Removed = now).
	Remove
	// SubmitDS asks for the key's DS at the parent (KeyState.DSSubmitted =
	// now; for shards the wiring adds the DS to the parent zone in the same
	// command and sets DSPublished = now; for the parent zone the key is
	// added to CDS/CDNSKEY).
	SubmitDS
	// WithdrawDS asks for the key's DS to go (KeyState.DSWithdrawn = now;
	// shards: the DS is removed from the parent zone; parent zone: the key
	// leaves CDS/CDNSKEY).
	WithdrawDS
	// WaitParentDS is informational: the rollover is blocked until the DS of
	// Action.KeyID is seen at the registry (KeyState.DSSeen and DSPublished).
	WaitParentDS
)

var actionNames = [...]string{"", "generate", "publish", "activate", "retire", "remove", "submit-ds", "withdraw-ds", "wait-parent-ds"}

// String returns the lower-case name of the action kind.
func (a ActionKind) String() string {
	if a > 0 && int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("ActionKind(%d)", int(a))
}

// Action is one step Next wants taken now.
type Action struct {
	Kind      ActionKind
	KeyID     string // empty for Generate
	Role      Role
	Algorithm uint8
	Reason    string
}

// String formats the action for logs.
func (a Action) String() string {
	id := a.KeyID
	if id == "" {
		id = "(new)"
	}
	return fmt.Sprintf("%s %s %s alg %d: %s", a.Kind, a.Role, id, a.Algorithm, a.Reason)
}

// Status summarizes a zone's rollover state for mxctl keys, the API and metrics.
type Status struct {
	Phase    string    // "idle", "zsk-roll", "ksk-roll", "csk-roll", "algorithm-roll", "bootstrap", "zsk-emergency", "ksk-emergency", "csk-emergency"
	Waiting  string    // what the next step waits for, e.g. "waiting for parent DS of key 12345 to be seen"
	NextStep time.Time // same as Next's second result
}
