package zonestore

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/miekg/dns"
)

// TestOwners: every name with records, with the types Lookup serves there, for the
// parent and two shards in one call; no empty non-terminal, no deleted host.
func TestOwners(t *testing.T) {
	s, p, _ := newTestProvisioner(t, func(c *Config) { c.ShardSize = 2 })
	res := mustAdd(t, p, "contoso.com", "fabrikam.com", "example.org")
	if _, err := p.DeleteDomains(context.Background(), []string{"fabrikam.com"}); err != nil {
		t.Fatal(err)
	}
	const parent = "mx.example."
	want := map[string][]string{parent: {parent, "ns1.mx.example."}}
	for i, r := range res {
		h := r.Host
		if want[h.Shard] == nil {
			want[h.Shard] = []string{h.Shard}
			want[parent] = append(want[parent], h.Shard)
		}
		if i != 1 { // fabrikam.com was deleted
			want[h.Shard] = append(want[h.Shard], h.Name(), "_25._tcp."+h.Name())
		}
	}
	if len(want) != 3 {
		t.Fatalf("want the parent and two shards, got %v", want)
	}
	var zones []string
	for z := range want {
		zones = append(zones, z)
	}
	got, err := s.Owners(zones)
	if err != nil {
		t.Fatal(err)
	}
	for i, zo := range got {
		if zo.Zone != zones[i] {
			t.Fatalf("zone %d is %s, want %s", i, zo.Zone, zones[i])
		}
		z, err := s.Zone(zo.Zone)
		if err != nil || zo.SOA == nil || zo.SOA.Serial != z.Serial || zo.SOA.Hdr.Name != zo.Zone {
			t.Fatalf("%s: SOA %v, zone %+v (%v)", zo.Zone, zo.SOA, z, err)
		}
		var names []string
		for _, o := range zo.Owners {
			names = append(names, o.Name)
			qtype := uint16(dns.TypeNULL) // never present: Lookup gives the types
			if o.Name != zo.Zone && zo.Zone == parent && o.Name != "ns1.mx.example." {
				qtype = dns.TypeDS // a delegation: the parent's side
			}
			ans := s.Lookup(o.Name, qtype)
			if ans.Zone != zo.Zone || !slices.Equal(ans.Types, o.Types) {
				t.Errorf("%s: types %v, Lookup says zone %s types %v", o.Name, o.Types, ans.Zone, ans.Types)
			}
		}
		slices.Sort(names)
		w := slices.Clone(want[zo.Zone])
		slices.Sort(w)
		if !slices.Equal(names, w) {
			t.Errorf("%s: owners %q, want %q", zo.Zone, names, w)
		}
	}
	if _, err := s.Owners([]string{"nope.mx.example."}); !errors.Is(err, ErrZoneNotFound) {
		t.Fatalf("unknown zone: %v", err)
	}
}
