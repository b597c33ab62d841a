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

// KeyState is the lifecycle state of a DNSSEC key.
type KeyState string

// Key states. New keys are StateActive; rollover uses the others.
const (
	StatePublished KeyState = "published"
	StateActive    KeyState = "active"
	StateRetired   KeyState = "retired"
	StateRemoved   KeyState = "removed"
)

// Key is one DNSSEC key of a zone.
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

	Created   time.Time `json:"created,omitzero"`
	Published time.Time `json:"published,omitzero"`
	Activated time.Time `json:"activated,omitzero"`
	Retired   time.Time `json:"retired,omitzero"`
	Removed   time.Time `json:"removed,omitzero"`
}

// isSEP reports whether the key signs the DNSKEY RRset (KSK or CSK).
func (k Key) isSEP() bool { return k.Role == RoleKSK || k.Role == RoleCSK }

// inDNSKEYSet reports whether the key is in the zone's DNSKEY RRset.
func (k Key) inDNSKEYSet() bool {
	return k.State == StatePublished || k.State == StateActive || k.State == StateRetired
}

// inCDS reports whether the key is announced in CDS/CDNSKEY.
func (k Key) inCDS() bool {
	return k.isSEP() && (k.State == StatePublished || k.State == StateActive)
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
