package zonestore

import (
	"strings"

	"github.com/miekg/dns"
)

// Rcode is the outcome of a Lookup.
type Rcode int

// Lookup outcomes.
const (
	Success  Rcode = iota // RRsets hold the answer
	NoData                // the name exists, the type does not (or an empty non-terminal)
	NXDomain              // the name does not exist in the zone
	NotOurs               // not at or below a zone served here
)

// String returns the outcome's name.
func (r Rcode) String() string {
	switch r {
	case Success:
		return "Success"
	case NoData:
		return "NoData"
	case NXDomain:
		return "NXDomain"
	case NotOurs:
		return "NotOurs"
	}
	return "Rcode(?)"
}

// Answer is the unsigned authoritative answer to one question.
type Answer struct {
	Zone   string     // apex of the zone that answers (lower-case FQDN); "" if NotOurs
	KeyGen uint64     // the answering zone's KeyGen
	Rcode  Rcode      //
	RRsets [][]dns.RR // answer RRsets, owners lower-case; shared: copy before mutating
	Types  []uint16   // sorted types present at qname; empty for NXDOMAIN and ENTs; shared
	SOA    *dns.SOA   // the answering zone's SOA; shared
}

// Lookup answers qname/qtype with authoritative semantics, unsigned. qname
// is matched case-insensitively. The most specific zone served here that
// contains qname answers, except that DS at a shard apex is answered by the
// parent and DS at the parent apex is NotOurs (it lives in the grandparent).
// qtype ANY returns a single RRset (RFC 8482): the first type present.
func (s *Store) Lookup(qname string, qtype uint16) Answer {
	name := strings.ToLower(dns.Fqdn(qname))
	s.mu.RLock()
	defer s.mu.RUnlock()
	ix := s.ix
	if !ix.initialized {
		return Answer{Rcode: NotOurs}
	}
	parent := ix.parent
	if name != parent && !(len(name) > len(parent) && name[len(name)-len(parent)-1] == '.' && strings.HasSuffix(name, parent)) {
		return Answer{Rcode: NotOurs}
	}
	if name == parent {
		if qtype == dns.TypeDS {
			return Answer{Rcode: NotOurs}
		}
		return ix.lookupParent(name, qtype)
	}
	// rest is qname relative to the parent, e.g. "_25._tcp.contoso-com.1j2b".
	rest := name[:len(name)-len(parent)-1]
	i := strings.LastIndexByte(rest, '.')
	if z := ix.zones[name[i+1:]]; z != nil && z.rec.Kind == KindShard {
		if i < 0 {
			if qtype == dns.TypeDS {
				return ix.lookupParent(name, qtype)
			}
			return z.answerNode(z.apex, qtype)
		}
		return ix.lookupShard(z, name, rest[:i], qtype)
	}
	return ix.lookupParent(name, qtype)
}

func (ix *index) lookupParent(name string, qtype uint16) Answer {
	z := ix.zones[ix.parent]
	n := ix.pnodes[name]
	if n == nil {
		return z.answer(NXDomain, nil, nil)
	}
	return z.answerNode(n, qtype)
}

func (z *zoneState) answer(rc Rcode, rrsets [][]dns.RR, types []uint16) Answer {
	return Answer{Zone: z.rec.Name, KeyGen: z.rec.KeyGen, Rcode: rc, RRsets: rrsets, Types: types, SOA: z.soa}
}

func (z *zoneState) answerNode(n *node, qtype uint16) Answer {
	if len(n.types) == 0 {
		return z.answer(NoData, nil, nil)
	}
	t := qtype
	if qtype == dns.TypeANY {
		t = n.types[0]
	}
	if rrs, ok := n.rrsets[t]; ok {
		return z.answer(Success, [][]dns.RR{rrs}, n.types)
	}
	return z.answer(NoData, nil, n.types)
}

// lookupShard answers a name below a shard apex; rel is the part of the name
// above the shard label ("contoso-com", "_tcp.contoso-com", ...).
func (ix *index) lookupShard(z *zoneState, name, rel string, qtype uint16) Answer {
	t := &ix.tmpl
	var label string
	var types []uint16
	var sets [][]dns.RR
	switch {
	case strings.HasPrefix(rel, "_25._tcp."):
		label = rel[len("_25._tcp."):]
		types, sets = t.tlsaTypes, [][]dns.RR{t.tlsa}
	case strings.HasPrefix(rel, "_tcp."):
		label = rel[len("_tcp."):] // empty non-terminal above the TLSA
	default:
		label = rel
		types, sets = t.hostTypes, [][]dns.RR{t.a, t.aaaa}
	}
	if label != rel && len(t.tlsaTypes) == 0 {
		return z.answer(NXDomain, nil, nil) // no TLSA in the profile: no _tcp names
	}
	if strings.IndexByte(label, '.') >= 0 {
		return z.answer(NXDomain, nil, nil)
	}
	if r, ok := ix.hosts.get(label); !ok || r.shard != z.id {
		return z.answer(NXDomain, nil, nil)
	}
	if len(types) == 0 {
		return z.answer(NoData, nil, nil)
	}
	want := qtype
	if qtype == dns.TypeANY {
		want = types[0]
	}
	for _, set := range sets {
		if len(set) == 0 || set[0].Header().Rrtype != want {
			continue
		}
		return z.answer(Success, [][]dns.RR{withOwner(set, name)}, types)
	}
	return z.answer(NoData, nil, types)
}

// withOwner copies a template RRset and sets the owner name. Copying the
// structs is all the work done per query: no text is parsed.
func withOwner(set []dns.RR, name string) []dns.RR {
	out := make([]dns.RR, len(set))
	switch set[0].(type) {
	case *dns.A:
		rrs := make([]dns.A, len(set))
		for i, rr := range set {
			rrs[i] = *rr.(*dns.A)
			rrs[i].Hdr.Name = name
			out[i] = &rrs[i]
		}
	case *dns.AAAA:
		rrs := make([]dns.AAAA, len(set))
		for i, rr := range set {
			rrs[i] = *rr.(*dns.AAAA)
			rrs[i].Hdr.Name = name
			out[i] = &rrs[i]
		}
	case *dns.TLSA:
		rrs := make([]dns.TLSA, len(set))
		for i, rr := range set {
			rrs[i] = *rr.(*dns.TLSA)
			rrs[i].Hdr.Name = name
			out[i] = &rrs[i]
		}
	default:
		for i, rr := range set {
			c := dns.Copy(rr)
			c.Header().Name = name
			out[i] = c
		}
	}
	return out
}
