package zonestore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	bolt "go.etcd.io/bbolt"
)

func TestAddDomainsBatch(t *testing.T) {
	s, p, _ := newTestProvisioner(t, nil)
	mustAdd(t, p, "existing.com")
	before := s.AppliedIndex()

	in := []string{
		"contoso.com",     // ok
		"Contoso.COM.",    // duplicate of the first within the batch
		"existing.com",    // already stored
		"bad_name.com",    // invalid
		"foo.mx.example",  // inside our parent
		"mx.example",      // the parent itself
		"bücher.de",       // ok, IDN
		"localhost",       // one label
		"*.wild.com",      // wildcard
		"fabrikam.co.uk.", // ok
	}
	res, err := p.AddDomains(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	want := []error{nil, ErrExists, ErrExists, ErrInvalidDomain, ErrInOwnZone, ErrInOwnZone, nil, ErrInvalidDomain, ErrInvalidDomain, nil}
	if len(res) != len(want) {
		t.Fatalf("%d results for %d inputs", len(res), len(in))
	}
	for i, r := range res {
		t.Run(in[i], func(t *testing.T) {
			if want[i] == nil {
				if r.Err != nil || r.Host == nil {
					t.Fatalf("result %+v, want success", r)
				}
				if h, err := s.Host(in[i]); err != nil || h != *r.Host {
					t.Fatalf("Host(%q) = %+v, %v; want %+v", in[i], h, err, *r.Host)
				}
				return
			}
			if !errors.Is(r.Err, want[i]) || r.Host != nil {
				t.Fatalf("result %+v, want error %v", r, want[i])
			}
		})
	}
	if got := s.AppliedIndex(); got != before+1 {
		t.Errorf("AppliedIndex = %d, want %d (one command)", got, before+1)
	}
	hosts, _ := s.ListHosts("", 0)
	var names []string
	for _, h := range hosts {
		names = append(names, h.Domain)
	}
	wantNames := []string{"contoso.com", "existing.com", "fabrikam.co.uk", "xn--bcher-kva.de"}
	if !slices.Equal(names, wantNames) {
		t.Errorf("hosts = %v, want %v", names, wantNames)
	}
}

// TestApplyRechecksItems applies hand-made commands that a proposer with a
// stale view could send: Apply must fail exactly the bad items.
func TestApplyRechecksItems(t *testing.T) {
	s, p, _ := newTestProvisioner(t, func(c *Config) { c.ShardSize = 2 })
	res := mustAdd(t, p, "a.com")
	shard := res[0].Host.Shard
	long := strings.Repeat("a", 50) + ".example.com"
	hosts := []Host{
		{Domain: "b.com", Label: "b-com", Shard: shard},                        // ok: fills the shard
		{Domain: "c.com", Label: "c-com", Shard: shard},                        // shard full
		{Domain: "a.com", Label: "a-com", Shard: shard},                        // exists
		{Domain: "d.com", Label: "wrong", Shard: shard},                        // label mismatch
		{Domain: "e.com", Label: "e-com", Shard: "zzzz.mx.example."},           // no such shard
		{Domain: "x.mx.example", Label: "x-mx-example", Shard: shard},          // own zone
		{Domain: "UPPER.com", Label: "UPPER-com", Shard: shard},                // not normalized
		{Domain: long, Label: hostLabel(long) + "x", Shard: shard},             // label mismatch
		{Domain: "b.com", Label: "b-com", Shard: shard},                        // duplicate in command
		{Domain: "mx.example", Label: "mx-example", Shard: "zzzz.mx.example."}, // parent itself
	}
	want := []error{nil, ErrShardFull, ErrExists, ErrInvalidDomain, ErrZoneNotFound, ErrInOwnZone, ErrInvalidDomain, ErrInvalidDomain, ErrExists, ErrInOwnZone}
	serial := mustZone(t, s, shard).Serial
	r, err := s.Apply(s.AppliedIndex()+1, &Command{V: CommandVersion, Op: OpAddHosts, Time: t0.Add(time.Minute), AddHosts: &AddHostsCmd{Hosts: hosts}})
	if err != nil {
		t.Fatal(err)
	}
	for i, item := range r.Items {
		if want[i] == nil && item.Err != nil || want[i] != nil && !errors.Is(item.Err, want[i]) {
			t.Errorf("item %d (%s): %v, want %v", i, hosts[i].Domain, item.Err, want[i])
		}
	}
	if z := mustZone(t, s, shard); z.Hosts != 2 || z.Serial <= serial {
		t.Errorf("shard after apply: %+v (serial before %d)", z, serial)
	}
	for _, d := range []string{"c.com", "d.com", "e.com"} {
		if _, err := s.Host(d); !errors.Is(err, ErrHostNotFound) {
			t.Errorf("Host(%s) = %v, want ErrHostNotFound", d, err)
		}
	}
}

func mustZone(t testing.TB, s *Store, name string) Zone {
	t.Helper()
	z, err := s.Zone(name)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func TestShardOverflow(t *testing.T) {
	s, p, clk := newTestProvisioner(t, func(c *Config) { c.ShardSize = 3 })
	parentSerial := mustZone(t, s, "mx.example.").Serial

	clk.now = t0.Add(time.Hour)
	var domains []string
	for i := range 7 {
		domains = append(domains, fmt.Sprintf("d%d.com", i))
	}
	res := mustAdd(t, p, domains...)

	zones := s.Zones()
	if len(zones) != 4 || zones[0].Kind != KindParent {
		t.Fatalf("zones = %+v, want parent + 3 shards", zones)
	}
	perShard := map[string]int{}
	for _, r := range res {
		perShard[r.Host.Shard]++
	}
	counts := []int{}
	for _, z := range zones[1:] {
		if z.Kind != KindShard || z.Hosts != perShard[z.Name] || !validShardName(z.Name, "mx.example.") {
			t.Errorf("shard %+v, hosts by result %d", z, perShard[z.Name])
		}
		counts = append(counts, z.Hosts)
		if ds, err := s.DS(z.Name); err != nil || len(ds) != 1 {
			t.Errorf("DS(%s) = %v, %v; want the KSK's DS", z.Name, ds, err)
		}
		// The parent delegates the shard and holds its DS.
		a := s.Lookup(z.Name, dns.TypeDS)
		if a.Zone != "mx.example." || a.Rcode != Success || len(a.RRsets[0]) != 1 {
			t.Errorf("DS lookup at %s: %+v", z.Name, a)
		}
		keys, _ := s.Keys(z.Name)
		if len(keys) != 2 {
			t.Errorf("keys of %s: %+v", z.Name, keys)
		}
		for _, k := range keys {
			if k.DSPublished != (k.Role == RoleKSK) {
				t.Errorf("key %s role %s DSPublished %v", k.ID, k.Role, k.DSPublished)
			}
		}
	}
	slices.Sort(counts)
	if !slices.Equal(counts, []int{1, 3, 3}) {
		t.Errorf("shard sizes %v, want [1 3 3]", counts)
	}
	if got := mustZone(t, s, "mx.example.").Serial; got != uint32(clk.now.Unix()) || got <= parentSerial {
		t.Errorf("parent serial %d, want %d", got, clk.now.Unix())
	}

	// The next domain goes to the shard with room, not a new one.
	r := mustAdd(t, p, "next.com")
	var open string
	for _, z := range zones[1:] {
		if z.Hosts == 1 {
			open = z.Name
		}
	}
	if r[0].Host.Shard != open || len(s.Zones()) != 4 {
		t.Errorf("next.com went to %s, want %s; zones %d", r[0].Host.Shard, open, len(s.Zones()))
	}
}

func TestSerials(t *testing.T) {
	s, p, clk := newTestProvisioner(t, nil)
	if got := mustZone(t, s, "mx.example.").Serial; got != uint32(t0.Unix()) {
		t.Fatalf("initial parent serial %d, want %d", got, t0.Unix())
	}
	res := mustAdd(t, p, "a.com") // same clock: serial must still increase
	shard := res[0].Host.Shard
	s1 := mustZone(t, s, shard).Serial
	mustAdd(t, p, "b.com")
	if s2 := mustZone(t, s, shard).Serial; s2 != s1+1 {
		t.Errorf("serial after a change at the same time: %d, want %d", s2, s1+1)
	}
	clk.now = t0.Add(24 * time.Hour)
	parent := mustZone(t, s, "mx.example.").Serial
	if _, err := p.DeleteDomains(context.Background(), []string{"a.com"}); err != nil {
		t.Fatal(err)
	}
	if got := mustZone(t, s, shard).Serial; got != uint32(clk.now.Unix()) {
		t.Errorf("serial after delete %d, want %d", got, clk.now.Unix())
	}
	if got := mustZone(t, s, "mx.example.").Serial; got != parent {
		t.Errorf("parent serial changed on a host delete: %d -> %d", parent, got)
	}
	// A clock that went backwards still increments.
	clk.now = t0
	before := mustZone(t, s, shard).Serial
	mustAdd(t, p, "c.com")
	if got := mustZone(t, s, shard).Serial; got != before+1 {
		t.Errorf("serial with an older clock %d, want %d", got, before+1)
	}
}

func TestDeleteDomains(t *testing.T) {
	s, p, _ := newTestProvisioner(t, nil)
	res := mustAdd(t, p, "a.com", "b.com")
	name := res[0].Host.Name()
	out, err := p.DeleteDomains(context.Background(), []string{"A.com.", "a.com", "nope.com", "bad..com", "x.mx.example"})
	if err != nil {
		t.Fatal(err)
	}
	want := []error{nil, ErrHostNotFound, ErrHostNotFound, ErrInvalidDomain, ErrInOwnZone}
	for i, r := range out {
		if want[i] == nil && (r.Err != nil || r.Host == nil || r.Host.Domain != "a.com") || want[i] != nil && !errors.Is(r.Err, want[i]) {
			t.Errorf("item %d: %+v, want %v", i, r, want[i])
		}
	}
	if _, err := s.Host("a.com"); !errors.Is(err, ErrHostNotFound) {
		t.Errorf("Host(a.com) after delete: %v", err)
	}
	if a := s.Lookup(name, dns.TypeA); a.Rcode != NXDomain {
		t.Errorf("lookup of deleted host: %v", a.Rcode)
	}
	if z := mustZone(t, s, res[0].Host.Shard); z.Hosts != 1 {
		t.Errorf("shard hosts %d, want 1", z.Hosts)
	}
	// The label is free again.
	mustAdd(t, p, "a.com")
}

func TestApplyWholeCommandErrors(t *testing.T) {
	s := openTestStore(t)
	cfg, prof := testConfig()
	key := makeKey(t, testKEK, "mx.example.", RoleKSK, t0)
	otherKEK := []byte("fedcba9876543210fedcba9876543210")
	foreign := makeKey(t, otherKEK, "mx.example.", RoleKSK, t0)
	badCfg := cfg
	badCfg.Algorithm = 8

	tests := []struct {
		name  string
		cmd   *Command
		err   error
		stops bool // the index must not advance: the node stops (raft's FSM panics)
	}{
		{name: "nil", cmd: nil, err: ErrBadCommand},
		{name: "version", cmd: &Command{V: 9, Op: OpInit, Time: t0, Init: &InitCmd{}}, err: ErrBadCommand},
		{name: "add before init", cmd: &Command{V: 1, Op: OpAddHosts, Time: t0, AddHosts: &AddHostsCmd{}}, err: ErrNotInitialized},
		{name: "delete before init", cmd: &Command{V: 1, Op: OpDeleteHosts, Time: t0, DeleteHosts: &DeleteHostsCmd{}}, err: ErrNotInitialized},
		{name: "config before init", cmd: &Command{V: 1, Op: OpConfig, Time: t0, Config: &ConfigCmd{Config: cfg, Profile: prof}}, err: ErrNotInitialized},
		{name: "init bad config", cmd: &Command{V: 1, Op: OpInit, Time: t0, Init: &InitCmd{Config: badCfg, Profile: prof, Keys: []Key{key}}}, err: ErrBadCommand},
		{name: "init no keys", cmd: &Command{V: 1, Op: OpInit, Time: t0, Init: &InitCmd{Config: cfg, Profile: prof}}, err: ErrBadCommand},
		{name: "init key of another zone", cmd: &Command{V: 1, Op: OpInit, Time: t0, Init: &InitCmd{Config: cfg, Profile: prof, Keys: []Key{makeKey(t, testKEK, "other.", RoleKSK, t0)}}}, err: ErrBadCommand},
		{name: "init key sealed with another kek", cmd: &Command{V: 1, Op: OpInit, Time: t0, Init: &InitCmd{Config: cfg, Profile: prof, Keys: []Key{foreign}}}, err: ErrSeal, stops: true},
		{name: "init", cmd: &Command{V: 1, Op: OpInit, Time: t0, Init: &InitCmd{Config: cfg, Profile: prof, Keys: []Key{key}}}},
		{name: "init twice", cmd: &Command{V: 1, Op: OpInit, Time: t0, Init: &InitCmd{Config: cfg, Profile: prof, Keys: []Key{key}}}, err: ErrExists},
		{name: "config changes parent", cmd: &Command{V: 1, Op: OpConfig, Time: t0, Config: &ConfigCmd{Config: Config{Parent: "other.example.", NameServers: cfg.NameServers}, Profile: prof}}, err: ErrBadCommand},
		{name: "bad shard name", cmd: &Command{V: 1, Op: OpAddHosts, Time: t0, AddHosts: &AddHostsCmd{NewShards: []NewShard{{Name: "toolong.mx.example.", Keys: []Key{makeKey(t, testKEK, "toolong.mx.example.", RoleKSK, t0)}}}}}, err: ErrBadCommand},
		{name: "shard without keys", cmd: &Command{V: 1, Op: OpAddHosts, Time: t0, AddHosts: &AddHostsCmd{NewShards: []NewShard{{Name: "abcd.mx.example."}}}}, err: ErrBadCommand},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			index := uint64(i + 1)
			zones := s.Zones()
			_, err := s.Apply(index, tt.cmd)
			if tt.err == nil {
				if err != nil {
					t.Fatalf("Apply: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.err) {
				t.Fatalf("Apply: %v, want %v", err, tt.err)
			}
			want := index
			if tt.stops { // nothing proves this node's KEK yet: it must stop, not skip
				want = index - 1
			}
			if got := s.AppliedIndex(); got != want {
				t.Errorf("AppliedIndex = %d, want %d", got, want)
			}
			if !slices.Equal(s.Zones(), zones) {
				t.Errorf("zones changed by a rejected command: %+v", s.Zones())
			}
		})
	}
	// The index advanced on disk too.
	path := s.path
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openTestStoreAt(t, path)
	if got := s2.AppliedIndex(); got != uint64(len(tests)) {
		t.Errorf("AppliedIndex after reopen = %d, want %d", got, len(tests))
	}
}

func TestIdempotentReplay(t *testing.T) {
	s, p, _ := newTestProvisioner(t, nil)
	mustAdd(t, p, "a.com")
	idx := s.AppliedIndex()
	zones := s.Zones()
	cmd := &Command{V: 1, Op: OpDeleteHosts, Time: t0, DeleteHosts: &DeleteHostsCmd{Domains: []string{"a.com"}}}
	for _, old := range []uint64{0, 1, idx} {
		res, err := s.Apply(old, cmd)
		if err != nil || res == nil || len(res.Items) != 0 {
			t.Fatalf("Apply(%d) replay: %+v, %v", old, res, err)
		}
	}
	if _, err := s.Host("a.com"); err != nil || s.AppliedIndex() != idx || !slices.Equal(s.Zones(), zones) {
		t.Fatalf("replay changed the store: %v, index %d", err, s.AppliedIndex())
	}
	if _, err := s.Apply(idx+1, cmd); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Host("a.com"); !errors.Is(err, ErrHostNotFound) {
		t.Fatalf("new index not applied: %v", err)
	}
}

func TestConfigCommand(t *testing.T) {
	s, p, clk := newTestProvisioner(t, nil)
	mustAdd(t, p, "a.com")
	idx := s.AppliedIndex()
	cfg, prof := testConfig()

	// Unchanged config (in another spelling): nothing proposed.
	cfg2 := cfg
	cfg2.Parent = "MX.example"
	if err := p.Init(context.Background(), cfg2, prof); err != nil {
		t.Fatal(err)
	}
	if s.AppliedIndex() != idx {
		t.Fatalf("Init with an unchanged config proposed a command")
	}

	var notified [][]string
	s.Subscribe(func(z []string) { notified = append(notified, z) })
	clk.now = t0.Add(time.Hour)
	prof.TTL = 600
	prof.A = []string{"198.51.100.1"}
	cfg.NSTTL = 7200
	if err := p.Init(context.Background(), cfg, prof); err != nil {
		t.Fatal(err)
	}
	if s.AppliedIndex() != idx+1 {
		t.Fatalf("changed config not applied")
	}
	gotCfg, gotProf, _ := s.Config()
	if gotCfg.NSTTL != 7200 || gotProf.TTL != 600 {
		t.Errorf("config %+v profile %+v", gotCfg, gotProf)
	}
	for _, z := range s.Zones() {
		if z.Serial != uint32(clk.now.Unix()) {
			t.Errorf("zone %s serial %d, want %d", z.Name, z.Serial, clk.now.Unix())
		}
	}
	if len(notified) != 1 || len(notified[0]) != 2 {
		t.Errorf("notified %v, want both zones once", notified)
	}
	h, _ := s.Host("a.com")
	a := s.Lookup(h.Name(), dns.TypeA)
	if a.Rcode != Success || len(a.RRsets[0]) != 1 || a.RRsets[0][0].Header().Ttl != 600 ||
		a.RRsets[0][0].(*dns.A).A.String() != "198.51.100.1" {
		t.Errorf("A after profile change: %v", a.RRsets)
	}
	if ns := s.Lookup("mx.example.", dns.TypeNS); ns.RRsets[0][0].Header().Ttl != 7200 {
		t.Errorf("NS TTL %d", ns.RRsets[0][0].Header().Ttl)
	}
}

func BenchmarkAddDomains(b *testing.B) {
	_, p, _ := newTestProvisioner(b, nil)
	batch := make([]string, 100)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for i := range batch {
			batch[i] = fmt.Sprintf("d%d.example.com", n)
			n++
		}
		if _, err := p.AddDomains(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
}

func TestApplySkipsTakenShardNames(t *testing.T) {
	s, p, _ := newTestProvisioner(t, func(c *Config) {
		c.NameServers = append(c.NameServers, NameServer{Name: "abcd.mx.example.", A: []string{"192.0.2.54"}})
	})
	existing := mustAdd(t, p, "a.com")[0].Host.Shard
	newShard := func(name string) NewShard {
		return NewShard{Name: name, Keys: []Key{makeKey(t, testKEK, name, RoleKSK, t0), makeKey(t, testKEK, name, RoleZSK, t0)}}
	}
	cmd := &Command{V: CommandVersion, Op: OpAddHosts, Time: t0, AddHosts: &AddHostsCmd{
		NewShards: []NewShard{newShard(existing), newShard("abcd.mx.example.")},
		Hosts: []Host{
			{Domain: "b.com", Label: "b-com", Shard: existing},
			{Domain: "c.com", Label: "c-com", Shard: "abcd.mx.example."},
		},
	}}
	res, err := s.Apply(s.AppliedIndex()+1, cmd)
	if err != nil {
		t.Fatal(err)
	}
	if res.Items[0].Err != nil || !errors.Is(res.Items[1].Err, ErrZoneNotFound) {
		t.Fatalf("items %+v", res.Items)
	}
	if keys, _ := s.Keys(existing); len(keys) != 2 {
		t.Errorf("existing shard got %d keys, want its own 2", len(keys))
	}
	if len(s.Zones()) != 2 {
		t.Errorf("zones %+v", s.Zones())
	}
	// The glue name is still answered by the parent.
	if a := s.Lookup("abcd.mx.example.", dns.TypeA); a.Rcode != Success || a.Zone != "mx.example." {
		t.Errorf("glue lookup %+v", a)
	}
	// The planner never draws an id that clashes with the name server.
	if s.shardNameFree("abcd.mx.example.") || s.shardNameFree(existing) || !s.shardNameFree("zzzz.mx.example.") {
		t.Fatal("shardNameFree ignores a name server or an existing shard")
	}
	// A name server may not move inside a shard.
	cfg, prof, _ := s.Config()
	cfg.NameServers = append(cfg.NameServers, NameServer{Name: "ns." + existing, A: []string{"192.0.2.55"}})
	if _, err := s.Apply(s.AppliedIndex()+1, &Command{V: CommandVersion, Op: OpConfig, Time: t0, Config: &ConfigCmd{Config: cfg, Profile: prof}}); !errors.Is(err, ErrBadCommand) {
		t.Fatalf("config with a name server inside a shard: %v", err)
	}
}

func TestOpenCorruptRecord(t *testing.T) {
	s, p, _ := newTestProvisioner(t, nil)
	shard := mustAdd(t, p, "a.com")[0].Host.Shard
	path := s.path
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketShards).Bucket([]byte(shard)).Put([]byte("a.com"), []byte("{"))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(Options{Path: path, KEK: testKEK}); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open with a corrupt record: %v", err)
	}
}
