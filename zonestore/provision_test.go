package zonestore

import (
	"bytes"
	"context"
	"errors"
	mrand "math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestProvisionerInit(t *testing.T) {
	s, _, _ := newTestProvisioner(t, nil)
	zones := s.Zones()
	if len(zones) != 1 || zones[0].Name != "mx.example." || zones[0].Kind != KindParent || zones[0].KeyGen != 1 {
		t.Fatalf("zones after Init: %+v", zones)
	}
	keys, _ := s.Keys("mx.example.")
	roles := map[KeyRole]int{}
	for _, k := range keys {
		roles[k.Role]++
		if k.DSPublished || k.State != StateActive || k.Sealed != nil {
			t.Errorf("parent key %+v", k)
		}
	}
	if roles[RoleKSK] != 1 || roles[RoleZSK] != 1 {
		t.Errorf("parent key roles %v", roles)
	}
	cfg, prof, ok := s.Config()
	if !ok || cfg.ShardSize != DefaultShardSize || cfg.Algorithm != dns.ECDSAP256SHA256 || prof.TTL != DefaultHostTTL {
		t.Errorf("stored config %+v %+v", cfg, prof)
	}
}

func TestProvisionerInitRejectsOtherParent(t *testing.T) {
	_, p, _ := newTestProvisioner(t, nil)
	cfg, prof := testConfig()
	cfg.Parent = "mx.other."
	cfg.NameServers = []NameServer{{Name: "ns.elsewhere."}}
	if err := p.Init(context.Background(), cfg, prof); !errors.Is(err, ErrBadCommand) {
		t.Fatalf("Init with another parent: %v", err)
	}
}

func TestProvisionerInitInvalid(t *testing.T) {
	s := openTestStore(t)
	p := &Provisioner{Store: s, Applier: NewLocalApplier(s), Keys: testKeys(t, testKEK), Now: func() time.Time { return t0 }}
	cfg, prof := testConfig()
	prof.A = []string{"2001:db8::1"}
	if err := p.Init(context.Background(), cfg, prof); !errors.Is(err, ErrBadCommand) {
		t.Fatalf("Init with an IPv6 address in A: %v", err)
	}
	if s.AppliedIndex() != 0 {
		t.Fatal("an invalid config was proposed")
	}
}

func TestProvisionerErrors(t *testing.T) {
	t.Run("not initialized", func(t *testing.T) {
		s := openTestStore(t)
		p := &Provisioner{Store: s, Applier: NewLocalApplier(s)}
		if _, err := p.AddDomains(context.Background(), []string{"a.com"}); !errors.Is(err, ErrNotInitialized) {
			t.Errorf("AddDomains: %v", err)
		}
		if _, err := p.DeleteDomains(context.Background(), []string{"a.com"}); !errors.Is(err, ErrNotInitialized) {
			t.Errorf("DeleteDomains: %v", err)
		}
	})
	t.Run("key factory fails", func(t *testing.T) {
		s, p, _ := newTestProvisioner(t, nil)
		boom := errors.New("hsm offline")
		p.Keys = func(string, KeyRole, uint8, time.Time) (Key, error) { return Key{}, boom }
		if _, err := p.AddDomains(context.Background(), []string{"a.com"}); !errors.Is(err, boom) {
			t.Errorf("AddDomains: %v", err)
		}
		if len(s.Zones()) != 1 {
			t.Error("a shard was created")
		}
	})
	t.Run("random source fails", func(t *testing.T) {
		_, p, _ := newTestProvisioner(t, nil)
		p.Rand = bytes.NewReader(nil)
		if _, err := p.AddDomains(context.Background(), []string{"a.com"}); err == nil {
			t.Error("AddDomains succeeded without randomness")
		}
	})
	t.Run("shard id collision redrawn", func(t *testing.T) {
		s, p, _ := newTestProvisioner(t, func(c *Config) { c.ShardSize = 1 })
		// The first two draws give "aaaa", the third "bbbb": the second
		// shard must skip the id the first one took.
		p.Rand = bytes.NewReader(append(bytes.Repeat([]byte{0}, 32), bytes.Repeat([]byte{1}, 16)...))
		res := mustAdd(t, p, "a.com", "b.com")
		if res[0].Host.Shard != "aaaa.mx.example." || res[1].Host.Shard != "bbbb.mx.example." || len(s.Zones()) != 3 {
			t.Errorf("shards %s %s", res[0].Host.Shard, res[1].Host.Shard)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		s, p, _ := newTestProvisioner(t, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		idx := s.AppliedIndex()
		if _, err := p.AddDomains(ctx, []string{"a.com"}); !errors.Is(err, context.Canceled) || s.AppliedIndex() != idx {
			t.Errorf("AddDomains with a cancelled context: %v", err)
		}
	})
}

// TestDeterministicReplicas applies the same command log to two stores and
// checks they end identical: Apply must not depend on the local clock or
// randomness.
func TestDeterministicReplicas(t *testing.T) {
	leader := openTestStore(t)
	var log []*Command
	rec := &recordingApplier{next: NewLocalApplier(leader), log: &log}
	p := &Provisioner{Store: leader, Applier: rec, Keys: testKeys(t, testKEK), Now: func() time.Time { return t0 },
		Rand: mrand.NewChaCha8([32]byte{7})}
	cfg, prof := testConfig()
	cfg.ShardSize = 2
	if err := p.Init(context.Background(), cfg, prof); err != nil {
		t.Fatal(err)
	}
	mustAdd(t, p, "a.com", "b.com", "c.com")
	p.DeleteDomains(context.Background(), []string{"b.com"})

	follower := openTestStore(t)
	for i, c := range log {
		if _, err := follower.Apply(uint64(i+1), c); err != nil {
			t.Fatal(err)
		}
	}
	if len(log) != 3 {
		t.Fatalf("%d commands logged, want 3", len(log))
	}
	leaderState, followerState := captureState(t, leader), captureState(t, follower)
	if !reflect.DeepEqual(leaderState, followerState) {
		t.Fatalf("replicas differ:\n%+v\n%+v", leaderState, followerState)
	}
	for _, probe := range []string{"a.com", "c.com"} {
		h, _ := leader.Host(probe)
		if x, y := leader.Lookup(h.Name(), dns.TypeA), follower.Lookup(h.Name(), dns.TypeA); x.Rcode != Success || rrStrings(x.RRsets[0]) != rrStrings(y.RRsets[0]) {
			t.Errorf("answers for %s differ", h.Name())
		}
	}
}

type recordingApplier struct {
	next Applier
	log  *[]*Command
}

func (r *recordingApplier) Apply(ctx context.Context, c *Command) (*Result, error) {
	*r.log = append(*r.log, c)
	return r.next.Apply(ctx, c)
}

// TestConcurrentReadsAndApply runs lookups and reads against Apply; run
// with -race.
func TestConcurrentReadsAndApply(t *testing.T) {
	s, p, _ := newTestProvisioner(t, func(c *Config) { c.ShardSize = 5 })
	h := *mustAdd(t, p, "seed.com")[0].Host
	var wg sync.WaitGroup
	done := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				a := s.Lookup(h.Name(), dns.TypeA)
				if a.Rcode != Success {
					t.Errorf("lookup: %s", a.Rcode)
					return
				}
				_ = a.RRsets[0][0].String()
				s.Zones()
				s.ListHosts("", 10)
				s.SigningKeys(h.Shard)
			}
		})
	}
	for i := range 20 {
		mustAdd(t, p, "c"+itoa3(i)+".com")
	}
	close(done)
	wg.Wait()
}

func itoa3(i int) string {
	return string([]byte{byte('a' + i/26/26%26), byte('a' + i/26%26), byte('a' + i%26)})
}
