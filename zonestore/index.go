package zonestore

import (
	"cmp"
	"net"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// index is the in-memory view every read is served from. It is rebuilt by
// Open and Restore and updated by Apply after the bbolt transaction commits,
// always under Store.mu. RR values it hands out are never modified in place:
// a change builds new nodes and slices.
type index struct {
	initialized bool
	cfg         Config
	prof        Profile
	tmpl        hostTemplates

	parent string                // parent apex, "" until initialized
	zones  map[string]*zoneState // by apex
	byID   []*zoneState          // by zoneState.id
	shards []string              // shard apexes, sorted
	pnodes map[string]*node      // names of the parent zone (apex, glue, delegations, ENTs)
	hosts  hostIndex             // every host, by label and in domain order
	nodes  map[string]Node       // cluster members by raft server id
}

// zoneState is one zone in the index.
type zoneState struct {
	id      uint32 // index in index.byID, for hostRec.shard
	rec     zoneRecord
	keys    []loadedKey
	nhosts  int // hosts in this shard
	apex    *node
	soa     *dns.SOA
	signing []SigningKey
	ds      []*dns.DS // shard: the DS the parent holds; parent: DS of its SEP keys
}

// node is one owner name: its RRsets and their sorted types.
type node struct {
	rrsets map[uint16][]dns.RR
	types  []uint16
}

// hostTemplates are the profile's RRs without owner; Lookup copies them and
// sets the owner, so no text is parsed per query.
type hostTemplates struct {
	a, aaaa, tlsa []dns.RR
	hostTypes     []uint16 // types at <label>
	tlsaTypes     []uint16 // types at _25._tcp.<label>
}

func newIndex() *index {
	return &index{
		zones:  make(map[string]*zoneState),
		pnodes: make(map[string]*node),
		hosts:  newHostIndex(),
		nodes:  make(map[string]Node),
	}
}

func (n *node) add(rrs ...dns.RR) {
	if len(rrs) == 0 {
		return
	}
	t := rrs[0].Header().Rrtype
	if _, ok := n.rrsets[t]; !ok {
		n.types = append(n.types, t)
		slices.Sort(n.types)
	}
	n.rrsets[t] = append(n.rrsets[t], rrs...)
}

func newNode() *node { return &node{rrsets: make(map[uint16][]dns.RR)} }

func hdr(name string, t uint16, ttl uint32) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: ttl}
}

// setConfig installs config and profile and rebuilds the host templates.
func (ix *index) setConfig(cfg Config, prof Profile) {
	ix.initialized = true
	ix.cfg, ix.prof = cfg, prof
	ix.parent = cfg.Parent
	t := hostTemplates{}
	for _, s := range prof.A {
		t.a = append(t.a, &dns.A{Hdr: hdr("", dns.TypeA, prof.TTL), A: net.ParseIP(s).To4()})
	}
	for _, s := range prof.AAAA {
		t.aaaa = append(t.aaaa, &dns.AAAA{Hdr: hdr("", dns.TypeAAAA, prof.TTL), AAAA: net.ParseIP(s)})
	}
	for _, s := range prof.TLSA {
		rr, err := parseTLSA(s)
		if err != nil {
			continue // validated before it was stored
		}
		rr.Hdr.Ttl = prof.TTL
		t.tlsa = append(t.tlsa, rr)
	}
	if len(t.a) > 0 {
		t.hostTypes = append(t.hostTypes, dns.TypeA)
	}
	if len(t.aaaa) > 0 {
		t.hostTypes = append(t.hostTypes, dns.TypeAAAA)
	}
	if len(t.tlsa) > 0 {
		t.tlsaTypes = []uint16{dns.TypeTLSA}
	}
	ix.tmpl = t
}

// putZone inserts or updates a zone record.
func (ix *index) putZone(rec zoneRecord) *zoneState {
	z := ix.zones[rec.Name]
	if z == nil {
		z = &zoneState{id: uint32(len(ix.byID))}
		ix.byID = append(ix.byID, z)
		if rec.Kind == KindShard {
			i, _ := slices.BinarySearch(ix.shards, rec.Name)
			ix.shards = slices.Insert(ix.shards, i, rec.Name)
		}
		ix.zones[rec.Name] = z
	}
	z.rec = rec
	return z
}

// putKeys inserts keys into a zone or replaces those with the same ID. It
// builds a new slice, ordered by creation time then ID.
func (ix *index) putKeys(zone string, keys []loadedKey) {
	z := ix.zones[zone]
	if z == nil {
		return
	}
	z.keys = mergeKeys(z.keys, keys)
}

// mergeKeys returns old with keys upserted by ID, in a new slice ordered by
// creation time then ID.
func mergeKeys(old, keys []loadedKey) []loadedKey {
	byID := make(map[string]int, len(keys))
	for i, k := range keys {
		byID[k.key.ID] = i
	}
	ks := make([]loadedKey, 0, len(old)+len(keys))
	for _, k := range old {
		if _, ok := byID[k.key.ID]; !ok {
			ks = append(ks, k)
		}
	}
	ks = append(ks, keys...)
	slices.SortFunc(ks, func(a, b loadedKey) int {
		return cmp.Or(a.key.Created.Compare(b.key.Created), cmp.Compare(a.key.ID, b.key.ID))
	})
	return ks
}

// addHosts inserts hosts; their shards must be in the index. Each costs
// O(log n): no structure is copied whole.
func (ix *index) addHosts(hs []Host) {
	for _, h := range hs {
		z := ix.zones[h.Shard]
		ix.hosts.add(h.Domain, h.Label, newHostRec(h.Created, z.id))
		z.nhosts++
	}
}

// deleteHosts removes hosts.
func (ix *index) deleteHosts(hs []Host) {
	for _, h := range hs {
		ix.hosts.remove(h.Label)
		ix.zones[h.Shard].nhosts--
	}
}

// host returns the host of the normalized domain d.
func (ix *index) host(d string) (Host, bool) {
	label := hostLabel(d)
	r, ok := ix.hosts.find(d, label)
	if !ok {
		return Host{}, false
	}
	return ix.hostFrom(d, label, r), true
}

// hostFrom builds the Host of a record.
func (ix *index) hostFrom(d, label string, r hostRec) Host {
	return Host{Domain: d, Label: label, Shard: ix.byID[r.shard].rec.Name, Created: r.created()}
}

// rebuildZone recomputes a zone's apex RRsets, signing keys and DS set.
func (ix *index) rebuildZone(z *zoneState) {
	cfg := ix.cfg
	name := z.rec.Name
	apex := newNode()
	z.soa = &dns.SOA{
		Hdr:     hdr(name, dns.TypeSOA, cfg.SOATTL),
		Ns:      cfg.NameServers[0].Name,
		Mbox:    cfg.Hostmaster,
		Serial:  z.rec.Serial,
		Refresh: cfg.Refresh,
		Retry:   cfg.Retry,
		Expire:  cfg.Expire,
		Minttl:  cfg.Minimum,
	}
	apex.add(z.soa)
	apex.add(nsSet(name, cfg)...)

	var dnskeys, cds, cdnskeys []dns.RR
	var signing []SigningKey
	var ds []*dns.DS
	for _, k := range z.keys {
		inDNSKEY := k.key.InDNSKEY()
		if k.key.Signs() && k.signer != nil {
			signing = append(signing, SigningKey{ID: k.key.ID, Role: k.key.Role, DNSKEY: k.dnskey, Private: k.signer, Published: inDNSKEY})
		}
		dk := *k.dnskey
		dk.Hdr = hdr(name, dns.TypeDNSKEY, cfg.DNSKEYTTL)
		if inDNSKEY {
			dnskeys = append(dnskeys, &dk)
		}
		inCDS := k.key.InCDS()
		if inCDS {
			d := dk.ToDS(dns.SHA256)
			cds = append(cds, d.ToCDS())
			cdnskeys = append(cdnskeys, dk.ToCDNSKEY())
		}
		publishDS := inCDS // parent: the DS for the registry
		if z.rec.Kind == KindShard {
			publishDS = k.key.DSAtParent()
		}
		if publishDS {
			d := dk.ToDS(dns.SHA256)
			d.Hdr.Ttl = cfg.DSTTL
			ds = append(ds, d)
		}
	}
	apex.add(dnskeys...)
	apex.add(cds...)
	apex.add(cdnskeys...)
	z.apex, z.signing, z.ds = apex, signing, ds
}

func nsSet(owner string, cfg Config) []dns.RR {
	rrs := make([]dns.RR, len(cfg.NameServers))
	for i, ns := range cfg.NameServers {
		rrs[i] = &dns.NS{Hdr: hdr(owner, dns.TypeNS, cfg.NSTTL), Ns: ns.Name}
	}
	return rrs
}

// rebuildParentNodes recomputes the parent zone's names: apex, glue of
// in-zone name servers, delegations (NS and DS) of every shard, and the
// empty non-terminals above them.
func (ix *index) rebuildParentNodes() {
	p := ix.zones[ix.parent]
	if p == nil {
		return
	}
	cfg := ix.cfg
	nodes := map[string]*node{ix.parent: p.apex}
	get := func(name string) *node {
		n := nodes[name]
		if n == nil {
			n = newNode()
			nodes[name] = n
		}
		return n
	}
	for _, ns := range cfg.NameServers {
		if !dns.IsSubDomain(ix.parent, ns.Name) {
			continue
		}
		var a, aaaa []dns.RR
		for _, s := range ns.A {
			a = append(a, &dns.A{Hdr: hdr(ns.Name, dns.TypeA, cfg.NSTTL), A: net.ParseIP(s).To4()})
		}
		for _, s := range ns.AAAA {
			aaaa = append(aaaa, &dns.AAAA{Hdr: hdr(ns.Name, dns.TypeAAAA, cfg.NSTTL), AAAA: net.ParseIP(s)})
		}
		n := get(ns.Name)
		if n == p.apex {
			// Glue at the apex itself: extend a copy of the apex node.
			n = &node{rrsets: cloneRRsets(p.apex.rrsets), types: slices.Clone(p.apex.types)}
			nodes[ns.Name] = n
		}
		n.add(a...)
		n.add(aaaa...)
	}
	for _, name := range ix.shards {
		n := get(name)
		n.add(nsSet(name, cfg)...)
		for _, d := range ix.zones[name].ds {
			n.add(d)
		}
	}
	for name := range nodes {
		for a := parentName(name); a != "" && a != ix.parent && dns.IsSubDomain(ix.parent, a); a = parentName(a) {
			get(a)
		}
	}
	ix.pnodes = nodes
}

func cloneRRsets(m map[uint16][]dns.RR) map[uint16][]dns.RR {
	c := make(map[uint16][]dns.RR, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// parentName strips the first label of an FQDN ("" for the root).
func parentName(name string) string {
	i := strings.IndexByte(name, '.')
	if i < 0 || i == len(name)-1 {
		return ""
	}
	return name[i+1:]
}

// rebuildAll recomputes every zone and the parent's names.
func (ix *index) rebuildAll() {
	for _, z := range ix.zones {
		ix.rebuildZone(z)
	}
	ix.rebuildParentNodes()
}
