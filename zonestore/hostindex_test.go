package zonestore

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// indexDomains mixes every kind of host the index treats differently: plain
// labels, hyphens and dots in orders that differ between the domain and a
// naive label order, IDN, and hashed labels (two sharing their 46-octet
// prefix).
func indexDomains() []string {
	long := strings.Repeat("a", 50) + "." + strings.Repeat("b", 40)
	return append(slices.Clone(orderDomains),
		"contoso.com", "fabrikam.co.uk", "xn--80ak6aa92e.com",
		long+".com", long+".net", long+"-c.com", strings.Repeat("z-", 30)+"z.com",
	)
}

// listAll pages through ListHosts from after with limit.
func listAll(t *testing.T, s *Store, after string, limit int) []Host {
	t.Helper()
	var all []Host
	for pages := 0; ; pages++ {
		hosts, next := s.ListHosts(after, limit)
		if limit > 0 && len(hosts) > limit {
			t.Fatalf("ListHosts(%q, %d) returned %d hosts", after, limit, len(hosts))
		}
		all = append(all, hosts...)
		if next == "" {
			return all
		}
		if len(hosts) == 0 || next != hosts[len(hosts)-1].Domain || pages > 1000 {
			t.Fatalf("ListHosts(%q, %d): next %q after %d hosts", after, limit, next, len(hosts))
		}
		after = next
	}
}

// wantList is ListHosts's contract on a sorted slice of domains: those
// greater than after, in order.
func wantList(sorted []string, after string) []string {
	i, found := slices.BinarySearch(sorted, after)
	if found {
		i++
	}
	return sorted[i:]
}

func checkHostList(t *testing.T, s *Store, domains map[string]Host) {
	t.Helper()
	sorted := make([]string, 0, len(domains))
	for d := range domains {
		sorted = append(sorted, d)
	}
	slices.Sort(sorted)
	afters := append([]string{"", "a", "a-", "a.", "a.c", "m", "~", "A.COM", "0", "a-b.com", "xn--bcher-kva.de", "zzzz"}, sorted...)
	for _, after := range afters {
		for _, limit := range []int{1, 2, 3, 7, 0} {
			got := listAll(t, s, after, limit)
			want := wantList(sorted, after)
			if len(got) != len(want) {
				t.Fatalf("ListHosts from %q, limit %d: %d hosts, want %d", after, limit, len(got), len(want))
			}
			for i, h := range got {
				if h.Domain != want[i] {
					t.Fatalf("ListHosts from %q, limit %d: host %d is %q, want %q", after, limit, i, h.Domain, want[i])
				}
				if h != domains[h.Domain] {
					t.Fatalf("ListHosts: %+v, Host: %+v", h, domains[h.Domain])
				}
			}
		}
	}
	// One page of everything: next is "" exactly when nothing is left.
	if hosts, next := s.ListHosts("", len(sorted)); len(hosts) != len(sorted) || next != "" {
		t.Fatalf("ListHosts(\"\", %d) = %d hosts, next %q", len(sorted), len(hosts), next)
	}
	if len(sorted) > 1 {
		if _, next := s.ListHosts("", len(sorted)-1); next != sorted[len(sorted)-2] {
			t.Fatalf("ListHosts(\"\", %d): next %q, want %q", len(sorted)-1, next, sorted[len(sorted)-2])
		}
	}
}

// TestHostIndex checks the host index against a plain map through adds,
// deletes, a restart and a restore: ListHosts order and `after` semantics
// (every domain greater than after, compared as strings), Host, the label
// checks of Apply, Zone host counts and lookups.
func TestHostIndex(t *testing.T) {
	s, p, clk := newTestProvisioner(t, func(c *Config) { c.ShardSize = 3 })
	domains := map[string]Host{}
	add := func(ds []string) {
		for _, r := range mustAdd(t, p, ds...) {
			domains[r.Domain] = *r.Host
		}
		clk.now = clk.now.Add(1500e6) // creation times with nanoseconds
	}
	all := indexDomains()
	add(all[:len(all)/2])
	add(all[len(all)/2:])
	check := func(t *testing.T, s *Store) {
		t.Helper()
		checkHostList(t, s, domains)
		perShard := map[string]int{}
		for d, want := range domains {
			h, err := s.Host(d)
			if err != nil || h != want {
				t.Fatalf("Host(%s) = %+v, %v; want %+v", d, h, err, want)
			}
			if h.Label != hostLabel(d) {
				t.Fatalf("Host(%s).Label = %q, want %q", d, h.Label, hostLabel(d))
			}
			perShard[h.Shard]++
			if a := s.Lookup(h.Name(), dns.TypeA); a.Rcode != Success || a.Zone != h.Shard {
				t.Fatalf("Lookup(%s) = %v in %s", h.Name(), a.Rcode, a.Zone)
			}
		}
		for _, z := range s.Zones() {
			if z.Kind == KindShard && z.Hosts != perShard[z.Name] {
				t.Fatalf("zone %s: Hosts %d, want %d", z.Name, z.Hosts, perShard[z.Name])
			}
		}
	}
	check(t, s)

	// Every domain is taken, by domain and by label.
	res, err := p.AddDomains(context.Background(), all)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if !errors.Is(r.Err, ErrExists) {
			t.Fatalf("adding %s again: %v", r.Domain, r.Err)
		}
	}

	// Deletes, then more adds into the gaps.
	var gone []string
	for i, d := range all {
		if i%3 == 0 {
			gone = append(gone, d)
		}
	}
	dres, err := p.DeleteDomains(context.Background(), gone)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range dres {
		if r.Err != nil {
			t.Fatalf("delete %s: %v", r.Domain, r.Err)
		}
		delete(domains, r.Domain)
		if _, err := s.Host(r.Domain); !errors.Is(err, ErrHostNotFound) {
			t.Fatalf("Host(%s) after delete: %v", r.Domain, err)
		}
		if a := s.Lookup(r.Host.Name(), dns.TypeA); a.Rcode != NXDomain {
			t.Fatalf("Lookup(%s) after delete: %v", r.Host.Name(), a.Rcode)
		}
	}
	check(t, s)
	add(gone[:len(gone)/2])
	check(t, s)

	var snap bytes.Buffer
	if err := s.Snapshot(&snap); err != nil {
		t.Fatal(err)
	}
	t.Run("restart", func(t *testing.T) {
		path := s.path
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		check(t, openTestStoreAt(t, path))
	})
	t.Run("restore", func(t *testing.T) {
		other := openTestStore(t)
		if err := other.Restore(&snap); err != nil {
			t.Fatal(err)
		}
		check(t, other)
	})
}

// TestHostIndexLabels covers what the label-keyed index must not confuse: a
// label asked for in another shard, and a hashed label asked for with a
// domain other than its owner's (a SHA-256 prefix collision, which Apply
// rejects as ErrExists).
func TestHostIndexLabels(t *testing.T) {
	s, p, _ := newTestProvisioner(t, func(c *Config) { c.ShardSize = 1 })
	long := strings.Repeat("a", 60) + ".example.com"
	res := mustAdd(t, p, "contoso.com", long)
	a, b := *res[0].Host, *res[1].Host
	if a.Shard == b.Shard {
		t.Fatal("setup: hosts share a shard")
	}
	if q := a.Label + "." + b.Shard; s.Lookup(q, dns.TypeA).Rcode != NXDomain {
		t.Errorf("Lookup(%s): a label of another shard answers", q)
	}
	if _, err := s.Host(strings.Repeat("a", 60) + ".example.net"); !errors.Is(err, ErrHostNotFound) {
		t.Errorf("Host of a long domain that is not stored: %v", err)
	}
	// "my..shop.com" is not a domain, but its plain form is my-shop.com's label.
	mustAdd(t, p, "my-shop.com")
	del := &Command{V: CommandVersion, Op: OpDeleteHosts, Time: t0, DeleteHosts: &DeleteHostsCmd{Domains: []string{"my..shop.com"}}}
	if res, err := s.Apply(s.AppliedIndex()+1, del); err != nil || !errors.Is(res.Items[0].Err, ErrHostNotFound) {
		t.Fatalf("deleting my..shop.com: %+v, %v", res, err)
	}
	if _, err := s.Host("my-shop.com"); err != nil {
		t.Fatalf("my-shop.com after deleting my..shop.com: %v", err)
	}

	// A colliding domain: same hashed label, other domain.
	other := strings.Repeat("a", 60) + ".example.org"
	s.mu.RLock()
	_, found := s.ix.hosts.find(other, b.Label)
	owner := s.ix.hosts.owner(b.Label)
	s.mu.RUnlock()
	if found || owner != long {
		t.Fatalf("find(%s, %s) = %v, owner %q; want false, %q", other, b.Label, found, owner, long)
	}
	cmd := &Command{V: CommandVersion, Op: OpAddHosts, Time: t0, AddHosts: &AddHostsCmd{
		Hosts: []Host{{Domain: other, Label: b.Label, Shard: b.Shard}},
	}}
	// Apply checks the label against hostLabel first; a collision would pass
	// that and must still be refused.
	s.mu.RLock()
	_, err := s.ix.checkNewHost(Host{Domain: other, Label: b.Label, Shard: b.Shard}, map[string]bool{}, map[string]bool{}, map[string]int{b.Shard: 0})
	s.mu.RUnlock()
	if err == nil {
		t.Fatal("checkNewHost accepted a label another domain holds")
	}
	if res, err := s.Apply(s.AppliedIndex()+1, cmd); err != nil || res.Items[0].Err == nil {
		t.Fatalf("Apply of a host with another domain's label: %+v, %v", res, err)
	}
}
