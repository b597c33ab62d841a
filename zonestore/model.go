package zonestore

import "time"

// ZoneKind tells the parent zone from its shards.
type ZoneKind string

// Zone kinds.
const (
	KindParent ZoneKind = "parent"
	KindShard  ZoneKind = "shard"
)

// Zone describes one zone served from the store.
type Zone struct {
	Name    string    `json:"name"` // lower-case FQDN, e.g. "1j2b.mx.example."
	Kind    ZoneKind  `json:"kind"`
	Serial  uint32    `json:"serial"`
	Hosts   int       `json:"hosts"`
	Created time.Time `json:"created"`
	KeyGen  uint64    `json:"keyGen"` // applied index of the last change to this zone's keys
}

// KeyRole is the role of a DNSSEC key.
type KeyRole string

// Key roles.
const (
	RoleKSK KeyRole = "ksk"
	RoleZSK KeyRole = "zsk"
	RoleCSK KeyRole = "csk"
)

// KeyState is the lifecycle state of a DNSSEC key. For keys written by a keys
// command it is a summary derived from the timestamps; what a key does
// (DNSKEY, signing, DS, CDS) follows from the timestamps (see Key).
type KeyState string

// Key states. A keys command derives the state from the timestamps with the
// precedence removed > retired > active > published > generated.
const (
	StateGenerated KeyState = "generated" // created, neither published nor active
	StatePublished KeyState = "published"
	StateActive    KeyState = "active"
	StateRetired   KeyState = "retired"
	StateRemoved   KeyState = "removed"
)

// Key is one DNSSEC key of a zone. Every time is the proposer's clock at the
// step (the command's Time); zero means "not yet".
//
// A key written by a keys command (Timed set) is served by its timestamps,
// mirroring keymgr.KeyState:
//   - it is in the DNSKEY RRset iff Published is set and Removed is not;
//   - it signs iff Activated is set and Retired is not (it may sign before it
//     is published: algorithm rollover, RFC 6781 section 4.1.4);
//   - a KSK/CSK's DS is at the parent iff DSPublished, or DSPublishedAt is
//     set and DSWithdrawn is not;
//   - a KSK/CSK is in CDS/CDNSKEY (and, for the parent zone, in the DS set
//     for the registry) iff DSSubmitted is set or DSPublished, and
//     DSWithdrawn is not.
//
// Keys written by init and addHosts, and every key of a store written before
// the keys command existed, are served by State and DSPublished exactly as
// before: DNSKEY in states published, active and retired; signing when
// active; CDS when a published or active KSK/CSK; the shard's DS at the
// parent when DSPublished and in the DNSKEY RRset.
type Key struct {
	Zone        string   `json:"zone"`
	ID          string   `json:"id"` // proposer-chosen unique id (hex of 8 random bytes)
	Tag         uint16   `json:"tag"`
	Algorithm   uint8    `json:"algorithm"`
	Role        KeyRole  `json:"role"`
	State       KeyState `json:"state"`
	DNSKEY      string   `json:"dnskey"` // the DNSKEY RR in presentation format
	Sealed      []byte   `json:"sealed"` // PKCS#8 DER sealed with SealKey; never returned by Keys
	DSPublished bool     `json:"dsPublished"`

	// Timed is set by Apply on every key a keys command writes: the
	// timestamps alone say where the key is served.
	Timed bool `json:"timed,omitzero"`

	Created   time.Time `json:"created,omitzero"`
	Published time.Time `json:"published,omitzero"`
	Activated time.Time `json:"activated,omitzero"`
	Retired   time.Time `json:"retired,omitzero"`
	Removed   time.Time `json:"removed,omitzero"`

	DSSubmitted   time.Time `json:"dsSubmitted,omitzero"`   // KSK/CSK: DS requested at the parent (CDS/CDNSKEY published)
	DSPublishedAt time.Time `json:"dsPublishedAt,omitzero"` // KSK/CSK: DS known to be at the parent
	DSWithdrawn   time.Time `json:"dsWithdrawn,omitzero"`   // KSK/CSK: DS withdrawal requested (shards: removed from the parent)
	DSSeen        bool      `json:"dsSeen,omitzero"`        // parent zone: DS observed at the registry
	RollRequested time.Time `json:"rollRequested,omitzero"` // replace this key as soon as no other rollover runs
	// Emergency, with RollRequested, marks the key compromised: the key
	// manager replaces it at once (mxctl key roll --now). Records written
	// before the field existed decode as false.
	Emergency bool `json:"emergency,omitzero"`
}

// isSEP reports whether the key signs the DNSKEY RRset (KSK or CSK).
func (k Key) isSEP() bool { return k.Role == RoleKSK || k.Role == RoleCSK }

// legacyInDNSKEY is the State-driven DNSKEY membership of keys not Timed.
func (k Key) legacyInDNSKEY() bool {
	return k.State == StatePublished || k.State == StateActive || k.State == StateRetired
}

// InDNSKEY reports whether the key is in the zone's DNSKEY RRset.
func (k Key) InDNSKEY() bool {
	if !k.Timed {
		return k.legacyInDNSKEY()
	}
	return !k.Published.IsZero() && k.Removed.IsZero()
}

// Signs reports whether the key makes signatures, published or not.
func (k Key) Signs() bool {
	if !k.Timed {
		return k.State == StateActive
	}
	return !k.Activated.IsZero() && k.Retired.IsZero()
}

// InCDS reports whether a KSK/CSK is announced in CDS/CDNSKEY: its DS should
// be at the parent. For the parent zone these are the DS the operator gives
// the registry (Store.DS).
func (k Key) InCDS() bool {
	switch {
	case !k.isSEP():
		return false
	case !k.Timed:
		return k.State == StatePublished || k.State == StateActive
	}
	return (!k.DSSubmitted.IsZero() || k.DSPublished) && k.DSWithdrawn.IsZero()
}

// DSAtParent reports whether the DS of a shard's KSK/CSK is in the parent
// zone (the parent's own DS is at the registry: see InCDS).
func (k Key) DSAtParent() bool {
	switch {
	case !k.isSEP():
		return false
	case !k.Timed:
		return k.DSPublished && k.legacyInDNSKEY()
	}
	return k.DSPublished || (!k.DSPublishedAt.IsZero() && k.DSWithdrawn.IsZero())
}

// DeriveState returns the state the timestamps put the key in, by
// precedence removed > retired > active > published > generated.
func (k Key) DeriveState() KeyState {
	switch {
	case !k.Removed.IsZero():
		return StateRemoved
	case !k.Retired.IsZero():
		return StateRetired
	case !k.Activated.IsZero():
		return StateActive
	case !k.Published.IsZero():
		return StatePublished
	}
	return StateGenerated
}

// Profile is the A/AAAA/TLSA set every host gets (set from the Corefile).
type Profile struct {
	TTL  uint32   `json:"ttl"`  // host records TTL (default 300)
	A    []string `json:"a"`    // IPv4 addresses of the inbound mail servers
	AAAA []string `json:"aaaa"` // IPv6 addresses
	TLSA []string `json:"tlsa"` // rdata in presentation form "3 1 1 <hex>"
}

// NameServer is one NS of the parent and every shard. A and AAAA are the glue
// published when Name is inside the parent zone.
type NameServer struct {
	Name string   `json:"name"`
	A    []string `json:"a"`
	AAAA []string `json:"aaaa"`
}

// Config holds the parent-zone settings (from the Corefile); it is replicated.
type Config struct {
	Parent      string       `json:"parent"`      // "mx.example."
	NameServers []NameServer `json:"nameservers"` // at least one
	Hostmaster  string       `json:"hostmaster"`  // SOA RNAME, default "hostmaster.<parent>"

	SOATTL    uint32 `json:"soaTTL"`    // default 3600
	NSTTL     uint32 `json:"nsTTL"`     // default 3600
	DNSKEYTTL uint32 `json:"dnskeyTTL"` // default 3600
	DSTTL     uint32 `json:"dsTTL"`     // default 3600

	Refresh uint32 `json:"refresh"` // default 3600
	Retry   uint32 `json:"retry"`   // default 600
	Expire  uint32 `json:"expire"`  // default 1209600
	Minimum uint32 `json:"minimum"` // default 300

	ShardSize int   `json:"shardSize"` // default 10000
	Algorithm uint8 `json:"algorithm"` // 13 (default) or 15
}

// Host is one accepted domain and where it is served.
type Host struct {
	Domain  string    `json:"domain"` // normalized A-label, lower-case, no trailing dot: "contoso.com"
	Label   string    `json:"label"`  // "contoso-com"
	Shard   string    `json:"shard"`  // "1j2b.mx.example."
	Created time.Time `json:"created"`
}

// Name returns the host's owner name, e.g. "contoso-com.1j2b.mx.example.".
func (h Host) Name() string { return h.Label + "." + h.Shard }
