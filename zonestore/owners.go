package zonestore

import (
	"fmt"

	"github.com/miekg/dns"
)

// Owner is one name of a zone that holds records, and the types it holds.
type Owner struct {
	Name  string   // lower-case FQDN
	Types []uint16 // sorted; shared with the store: do not modify
}

// ZoneOwners is one zone's names with records, at the version its SOA's serial names.
type ZoneOwners struct {
	Zone   string   // apex, lower-case FQDN
	SOA    *dns.SOA // shared: do not modify
	Owners []Owner  // in no particular order
}

// Owners returns, for each zone named (apexes, any case), every name of the zone that
// holds records with its types, and the zone's SOA, all read at one instant: what an
// NSEC chain of the zone covers (RFC 4035 §2.3). For a shard: the apex, each host's
// name and, when the profile has TLSA records, its _25._tcp name. For the parent: the
// apex, the addresses of in-zone name servers, and each shard's delegation (NS, and DS
// when the parent holds one). Empty non-terminals are not listed.
//
// The index keeps no per-shard list of hosts (it is built to stay small): the hosts of
// every shard asked for are found in one pass over all hosts, under the read lock, so
// ask for many zones at once rather than one at a time.
func (s *Store) Owners(zones []string) ([]ZoneOwners, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ix := s.ix
	out := make([]ZoneOwners, len(zones))
	byID := make([]*ZoneOwners, len(ix.byID)) // shards asked for, by zoneState.id
	asked := false
	for i, name := range zones {
		z, err := ix.zone(name)
		if err != nil {
			return nil, err
		}
		zo := &out[i]
		zo.Zone, zo.SOA = z.rec.Name, z.soa
		switch z.rec.Kind {
		case KindParent:
			for n, nd := range ix.pnodes {
				if len(nd.types) > 0 {
					zo.Owners = append(zo.Owners, Owner{Name: n, Types: nd.types})
				}
			}
		case KindShard:
			zo.Owners = make([]Owner, 0, 1+2*z.nhosts)
			zo.Owners = append(zo.Owners, Owner{Name: z.rec.Name, Types: z.apex.types})
			byID[z.id], asked = zo, true
		default:
			return nil, fmt.Errorf("zonestore: zone %s: kind %q", z.rec.Name, z.rec.Kind)
		}
	}
	if !asked {
		return out, nil
	}
	t := &ix.tmpl
	ix.hosts.byLabel.each(func(label string, r hostRec) bool {
		zo := byID[r.shard]
		if zo == nil { // a shard not asked for
			return true
		}
		name := label + "." + zo.Zone
		zo.Owners = append(zo.Owners, Owner{Name: name, Types: t.hostTypes})
		if len(t.tlsaTypes) > 0 {
			zo.Owners = append(zo.Owners, Owner{Name: "_25._tcp." + name, Types: t.tlsaTypes})
		}
		return true
	})
	return out, nil
}
