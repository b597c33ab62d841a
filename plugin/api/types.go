package api

import "time"

// Record is one resource record in presentation form.
type Record struct {
	Name string `json:"name"` // owner name, fully qualified
	Type string `json:"type"` // "A", "AAAA", "TLSA", "MX"
	TTL  uint32 `json:"ttl"`
	Data string `json:"data"` // RDATA in zone-file form, e.g. "3 1 1 ab12..."
}

// Domain is an accepted (customer) domain and the mail-exchanger host that
// serves it.
type Domain struct {
	Domain       string `json:"domain"`       // "contoso.com"
	MailExchange string `json:"mailExchange"` // "contoso-com.1j2b.mx.example."
	Shard        string `json:"shard"`        // "1j2b.mx.example."
	// Records holds the A, AAAA and TLSA records of the host and the MX
	// record the customer should publish at its own apex.
	Records []Record `json:"records"`
}

// DomainList is one page of domains in name order. Next, when not empty, is
// the value to pass as "after" to fetch the following page.
type DomainList struct {
	Domains []Domain `json:"domains"`
	Next    string   `json:"next,omitempty"`
}

// AddRequest is the body of POST /v1/domains.
type AddRequest struct {
	Domain string `json:"domain"`
}

// BatchRequest is the body of POST /v1/domains:batch.
type BatchRequest struct {
	Domains []string `json:"domains"`
}

// BatchItem is the outcome for one domain of a batch. Status is an HTTP
// status code: 201 when the domain was added, 400 when it is invalid, 409
// when it already exists. Result is set on success, Error otherwise.
type BatchItem struct {
	Domain string  `json:"domain"`
	Status int     `json:"status"`
	Result *Domain `json:"result,omitempty"`
	Error  string  `json:"error,omitempty"`
}

// BatchResponse is the body answering POST /v1/domains:batch; Results is in
// request order.
type BatchResponse struct {
	Results []BatchItem `json:"results"`
}

// KeyInfo describes one DNSSEC key of a zone. It never carries key material.
type KeyInfo struct {
	Tag       uint16 `json:"tag"`
	Algorithm uint8  `json:"algorithm"`
	Role      string `json:"role"`  // "ksk", "zsk", "csk"
	State     string `json:"state"` // rollover state, e.g. "active"
}

// Zone summarises one served zone: the parent or a shard.
type Zone struct {
	Name   string    `json:"name"`
	Kind   string    `json:"kind"` // "parent" or "shard"
	Hosts  int       `json:"hosts"`
	Serial uint32    `json:"serial"`
	Keys   []KeyInfo `json:"keys"`
}

// ZoneList is the body answering GET /v1/zones.
type ZoneList struct {
	Zones []Zone `json:"zones"`
}

// DSList holds DS records in zone-file form, one record per element, ready to
// be used as a trust anchor.
type DSList struct {
	DS []string `json:"ds"`
}

// ClusterNode is one member of the Raft cluster as GET /v1/cluster shows it.
type ClusterNode struct {
	ID      string `json:"id"`      // Raft server ID, e.g. "ns1"
	Raft    string `json:"raft"`    // Raft transport address, "10.0.0.1:7000"
	API     string `json:"api"`     // admin API address, "10.0.0.1:8053"
	State   string `json:"state"`   // "leader", "follower", "candidate", "unknown"
	Voter   bool   `json:"voter"`   // a voter counts towards the quorum
	Applied uint64 `json:"applied"` // last Raft index applied; 0 when unknown
}

// ClusterStatus is the body answering GET /v1/cluster. Leader is the ID of
// the current leader, "" while there is none.
type ClusterStatus struct {
	Leader string        `json:"leader"`
	Nodes  []ClusterNode `json:"nodes"`
}

// JoinRequest is the body of POST /v1/cluster/join. ID, Raft and API are
// required. A missing Voter means true: the handler sets it before calling
// ClusterService.Join, so the service always sees it non-nil.
type JoinRequest struct {
	ID    string `json:"id"`
	Raft  string `json:"raft"`
	API   string `json:"api"`
	Voter *bool  `json:"voter,omitempty"`
}

// IsVoter reports whether the node joins as a voter: true unless Voter is
// set to false.
func (r JoinRequest) IsVoter() bool { return r.Voter == nil || *r.Voter }

// KeyDetail is one DNSSEC key of a zone with its whole lifecycle, as GET
// /v1/zones/{zone}/keys shows it. It never carries key material. A nil time
// means the step has not happened (yet).
type KeyDetail struct {
	ID        string `json:"id"` // the store's key id
	Tag       uint16 `json:"tag"`
	Algorithm uint8  `json:"algorithm"`
	Role      string `json:"role"`  // "ksk", "zsk", "csk"
	State     string `json:"state"` // rollover state, e.g. "active"

	Created     *time.Time `json:"created,omitempty"`
	Published   *time.Time `json:"published,omitempty"`   // DNSKEY in the zone
	Activated   *time.Time `json:"activated,omitempty"`   // signing
	Retired     *time.Time `json:"retired,omitempty"`     // no longer signing
	Removed     *time.Time `json:"removed,omitempty"`     // DNSKEY withdrawn
	DSSubmitted *time.Time `json:"dsSubmitted,omitempty"` // DS asked for at the parent
	DSPublished *time.Time `json:"dsPublished,omitempty"` // DS live at the parent
	DSWithdrawn *time.Time `json:"dsWithdrawn,omitempty"` // DS asked to go

	// DSSeen is set once the DS was confirmed at the parent (for the
	// parent zone: by the operator, POST /v1/zones/{zone}/ds-seen).
	DSSeen bool `json:"dsSeen,omitempty"`
	// RollRequested is when an operator asked to roll this key early.
	RollRequested *time.Time `json:"rollRequested,omitempty"`
	// Emergency is set on a key an operator declared compromised (a
	// rollover request with "now"): it is replaced at once.
	Emergency bool `json:"emergency,omitempty"`
}

// KeyList is the body answering GET /v1/zones/{zone}/keys and POST
// /v1/zones/{zone}/rollover. Managed is true when a key policy drives the
// zone's rollovers; Phase, Waiting and NextStep describe where the current
// rollover stands and are empty when nothing is scheduled.
type KeyList struct {
	Zone     string      `json:"zone"`
	Managed  bool        `json:"managed"`
	Phase    string      `json:"phase,omitempty"`
	Waiting  string      `json:"waiting,omitempty"`  // what the next step waits for
	NextStep *time.Time  `json:"nextStep,omitempty"` // earliest instant of the next step
	Keys     []KeyDetail `json:"keys"`

	// Emergency is set while the validation-failure window of the zone's
	// latest emergency rollover lasts (and in the answer to the request).
	Emergency *EmergencyWindow `json:"emergency,omitempty"`
}

// EmergencyWindow is the bounded time after an emergency rollover (RFC 6781
// section 4.2) during which resolvers that cached the zone's old keys may
// fail to validate its answers. It runs from Start, when the compromised
// key left the zone (while the request waits for the key manager, the time
// of the request), to Until; Seconds is its length and Causes say which
// cached record sets make it that long, e.g. "old DNSKEY RRset in caches:
// propagation-delay 5m + dnskey-ttl 1h = 1h5m".
type EmergencyWindow struct {
	Role    string    `json:"role"` // "zsk", "ksk", "csk"
	Start   time.Time `json:"start"`
	Until   time.Time `json:"until"`
	Seconds int64     `json:"seconds"`
	Causes  []string  `json:"causes"`
}

// RolloverRequest is the body of POST /v1/zones/{zone}/rollover. Role is
// "zsk", "ksk" or "csk"; Algorithm, when not 0, is the algorithm of the new
// key (13 or 15). A request with only Algorithm rolls every key of the zone
// to that algorithm. Now makes it an emergency rollover of Role (a
// compromised key): the key is replaced at once, without the safe timing,
// and the answer's KeyList.Emergency says for how long resolvers may fail
// to validate; it takes a Role and no Algorithm.
type RolloverRequest struct {
	Role      string `json:"role,omitempty"`
	Algorithm uint8  `json:"algorithm,omitempty"`
	Now       bool   `json:"now,omitempty"`
}

// Error is the body of every response with a status of 400 or more.
type Error struct {
	Error string `json:"error"`
}
