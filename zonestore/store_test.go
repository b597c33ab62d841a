package zonestore

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	os.WriteFile(garbage, bytes.Repeat([]byte("not a bolt file "), 1024), 0o600)
	short := filepath.Join(dir, "short.db")
	os.WriteFile(short, []byte("x"), 0o600)

	tests := []struct {
		name string
		opts Options
		err  error
	}{
		{name: "garbage", opts: Options{Path: garbage, KEK: testKEK}, err: ErrCorrupt},
		{name: "short", opts: Options{Path: short, KEK: testKEK}, err: ErrCorrupt},
		{name: "short kek", opts: Options{Path: filepath.Join(dir, "new.db"), KEK: testKEK[:16]}, err: ErrSeal},
		{name: "directory missing", opts: Options{Path: filepath.Join(dir, "no", "such", "x.db"), KEK: testKEK}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(tt.opts)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Fatalf("Open: %v, want %v", err, tt.err)
			}
			if tt.err == ErrCorrupt && !strings.Contains(err.Error(), tt.opts.Path) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestOpenWrongKEK(t *testing.T) {
	s, p, _ := newTestProvisioner(t, nil)
	mustAdd(t, p, "a.com")
	path := s.path
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := Open(Options{Path: path, KEK: []byte("fedcba9876543210fedcba9876543210")})
	if !errors.Is(err, ErrSeal) || !strings.Contains(err.Error(), "key-encryption key") {
		t.Fatalf("Open with a wrong KEK: %v", err)
	}
}

// storeState captures everything a restart or restore must preserve.
type storeState struct {
	Applied uint64
	Config  Config
	Profile Profile
	Zones   []Zone
	Keys    map[string][]Key
	DS      map[string][]string
	Hosts   []Host
	Signing map[string][]string
}

func captureState(t testing.TB, s *Store) storeState {
	t.Helper()
	st := storeState{Applied: s.AppliedIndex(), Zones: s.Zones(), Keys: map[string][]Key{}, DS: map[string][]string{}, Signing: map[string][]string{}}
	st.Config, st.Profile, _ = s.Config()
	for _, z := range st.Zones {
		st.Keys[z.Name], _ = s.Keys(z.Name)
		ds, _ := s.DS(z.Name)
		for _, d := range ds {
			st.DS[z.Name] = append(st.DS[z.Name], d.String())
		}
		sk, gen, _ := s.SigningKeys(z.Name)
		if gen != z.KeyGen {
			t.Errorf("SigningKeys(%s) gen %d, zone KeyGen %d", z.Name, gen, z.KeyGen)
		}
		for _, k := range sk {
			st.Signing[z.Name] = append(st.Signing[z.Name], k.ID+" "+k.DNSKEY.String())
		}
	}
	st.Hosts, _ = s.ListHosts("", 1<<20)
	return st
}

func TestRestart(t *testing.T) {
	s, p, _ := newTestProvisioner(t, func(c *Config) { c.ShardSize = 2 })
	mustAdd(t, p, "a.com", "b.com", "c.com", "bücher.de")
	before := captureState(t, s)
	if len(before.Zones) != 3 || len(before.Hosts) != 4 {
		t.Fatalf("setup: %+v", before)
	}
	path := s.path
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openTestStoreAt(t, path)
	after := captureState(t, s2)
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("state after reopen differs:\nbefore %+v\n after %+v", before, after)
	}
	for _, k := range after.Keys["mx.example."] {
		if k.Sealed != nil {
			t.Errorf("Keys returned sealed material for %s", k.ID)
		}
	}
	// Signing keys work after the reopen.
	sk, _, _ := s2.SigningKeys("mx.example.")
	if len(sk) != 2 {
		t.Fatalf("signing keys: %d", len(sk))
	}
	soa := s2.Lookup("mx.example.", dns.TypeSOA).RRsets[0]
	sig := &dns.RRSIG{Hdr: dns.RR_Header{Name: "mx.example.", Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: 3600},
		KeyTag: sk[1].DNSKEY.KeyTag(), SignerName: "mx.example.", Algorithm: sk[1].DNSKEY.Algorithm,
		Inception: uint32(t0.Unix()), Expiration: uint32(t0.Unix()) + 86400}
	if err := sig.Sign(sk[1].Private, soa); err != nil {
		t.Fatal(err)
	}
	if err := sig.Verify(sk[1].DNSKEY, soa); err != nil {
		t.Fatalf("signature with the reopened key does not verify: %v", err)
	}
}

func TestSnapshotRestore(t *testing.T) {
	s, p, _ := newTestProvisioner(t, func(c *Config) { c.ShardSize = 2 })
	mustAdd(t, p, "a.com", "b.com", "c.com")
	want := captureState(t, s)
	var snap bytes.Buffer
	if err := s.Snapshot(&snap); err != nil {
		t.Fatal(err)
	}

	// Diverge, then restore.
	mustAdd(t, p, "d.com", "e.com", "f.com")
	var notified []string
	s.Subscribe(func(z []string) { notified = z })
	if err := s.Restore(bytes.NewReader(snap.Bytes())); err != nil {
		t.Fatal(err)
	}
	if got := captureState(t, s); !reflect.DeepEqual(got, want) {
		t.Fatalf("after restore:\n got %+v\nwant %+v", got, want)
	}
	if _, err := s.Host("d.com"); !errors.Is(err, ErrHostNotFound) {
		t.Errorf("Host(d.com) after restore: %v", err)
	}
	if len(notified) != len(want.Zones) {
		t.Errorf("restore notified %v", notified)
	}
	// The restored store takes writes, and a new store can restore too.
	mustAdd(t, p, "g.com")
	other := openTestStore(t)
	if err := other.Restore(bytes.NewReader(snap.Bytes())); err != nil {
		t.Fatal(err)
	}
	if got := captureState(t, other); !reflect.DeepEqual(got, want) {
		t.Fatalf("restore into a new store:\n got %+v\nwant %+v", got, want)
	}

	// A bad snapshot leaves the store as it was.
	before := captureState(t, s)
	if err := s.Restore(strings.NewReader(strings.Repeat("junk", 4096))); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Restore(junk): %v, want ErrCorrupt", err)
	}
	if got := captureState(t, s); !reflect.DeepEqual(got, before) {
		t.Fatal("failed restore changed the store")
	}
	mustAdd(t, p, "h.com")
	entries, _ := os.ReadDir(filepath.Dir(s.path))
	if len(entries) != 1 {
		t.Errorf("restore left files behind: %v", entries)
	}
}

func TestSubscribe(t *testing.T) {
	s, p, _ := newTestProvisioner(t, func(c *Config) { c.ShardSize = 1 })
	var calls [][]string
	s.Subscribe(func(z []string) { calls = append(calls, z) })
	res := mustAdd(t, p, "a.com", "b.com")
	want := []string{"mx.example.", res[0].Host.Shard, res[1].Host.Shard}
	slices.Sort(want[1:])
	if len(calls) != 1 || !slices.Equal(calls[0], want) {
		t.Fatalf("calls %v, want [%v]", calls, want)
	}
	p.DeleteDomains(t.Context(), []string{"a.com", "zzz.com"})
	if len(calls) != 2 || !slices.Equal(calls[1], []string{res[0].Host.Shard}) {
		t.Fatalf("calls %v after delete", calls)
	}
	p.DeleteDomains(t.Context(), []string{"zzz.com"})
	if len(calls) != 2 {
		t.Fatalf("a command that changed nothing notified: %v", calls)
	}
}

func TestListHosts(t *testing.T) {
	s, p, _ := newTestProvisioner(t, nil)
	mustAdd(t, p, "e.com", "a.com", "c.com", "d.com", "b.com")
	var got []string
	after := ""
	for pages := 0; ; pages++ {
		hosts, next := s.ListHosts(after, 2)
		for _, h := range hosts {
			got = append(got, h.Domain)
		}
		if next == "" {
			if pages != 2 {
				t.Errorf("%d pages, want 3", pages+1)
			}
			break
		}
		after = next
	}
	if want := []string{"a.com", "b.com", "c.com", "d.com", "e.com"}; !slices.Equal(got, want) {
		t.Fatalf("ListHosts pages = %v, want %v", got, want)
	}
	if hosts, next := s.ListHosts("bb.com", 10); len(hosts) != 3 || hosts[0].Domain != "c.com" || next != "" {
		t.Fatalf("ListHosts(bb.com) = %v, %q", hosts, next)
	}
}

func TestHostRecords(t *testing.T) {
	s, p, _ := newTestProvisioner(t, nil)
	h := *mustAdd(t, p, "contoso.com")[0].Host
	rrs := s.HostRecords(h)
	name := "contoso-com." + h.Shard
	want := []string{
		name + "\t300\tIN\tA\t192.0.2.25",
		name + "\t300\tIN\tA\t192.0.2.26",
		name + "\t300\tIN\tAAAA\t2001:db8::25",
		"_25._tcp." + name + "\t300\tIN\tTLSA\t" + testTLSA,
	}
	if got := strings.Split(rrStrings(rrs), "\n"); !slices.Equal(got, want) {
		t.Fatalf("HostRecords:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Returned records are copies.
	rrs[0].Header().Name = "mutated."
	if a := s.Lookup(name, dns.TypeA); a.RRsets[0][0].Header().Name != name {
		t.Fatal("HostRecords shares records with the index")
	}
}

func TestClosed(t *testing.T) {
	s := openTestStore(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apply(1, &Command{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Apply after Close: %v", err)
	}
	if err := s.Snapshot(&bytes.Buffer{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Snapshot after Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
