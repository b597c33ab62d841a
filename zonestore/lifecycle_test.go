package zonestore

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// ring names the keys of a lifecycle test; tags map DNS records back to names.
type ring struct {
	t    testing.TB
	keys map[string]Key
	tags map[uint16]string
}

func newRing(t testing.TB) *ring {
	return &ring{t: t, keys: make(map[string]Key), tags: make(map[uint16]string)}
}

// add names an existing or new key; tags must be unique within a test.
func (r *ring) add(name string, k Key) {
	r.t.Helper()
	if other, ok := r.tags[k.Tag]; ok && other != name {
		r.t.Fatalf("key tag %d of %s collides with %s", k.Tag, name, other)
	}
	r.keys[name], r.tags[k.Tag] = k, name
}

// fresh makes a new key that has only been generated at at.
func (r *ring) fresh(name, zone string, role KeyRole, at time.Time) {
	r.t.Helper()
	for {
		k := makeKey(r.t, testKEK, zone, role, at)
		if _, taken := r.tags[k.Tag]; taken {
			continue
		}
		k.State, k.Published, k.Activated = "", time.Time{}, time.Time{}
		r.add(name, k)
		return
	}
}

// adopt names the stored (untimed) keys of zone by role: "<prefix>ksk", "<prefix>zsk".
func (r *ring) adopt(s *Store, zone, prefix string) {
	r.t.Helper()
	ks, err := s.Keys(zone)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, k := range ks {
		r.add(prefix+string(k.Role), k)
	}
}

func (r *ring) names(tags []uint16) []string {
	out := make([]string, 0, len(tags))
	for _, tag := range tags {
		n, ok := r.tags[tag]
		if !ok {
			n = "?"
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// applyKeys applies a keys command for zone with the named keys at the next index.
func applyKeys(s *Store, at time.Time, zone string, keys ...Key) error {
	_, err := s.Apply(s.AppliedIndex()+1, &Command{V: CommandVersion, Op: OpKeys, Time: at, Keys: &KeysCmd{Zone: zone, Keys: keys}})
	return err
}

// served is what a zone's keys put into DNS, as key names.
type served struct {
	DNSKEY, CDS, CDNSKEY, DS, Signing, Unpublished []string
}

func observe(t testing.TB, s *Store, r *ring, zone string) served {
	t.Helper()
	var v served
	var tags []uint16
	collect := func(qtype uint16) []string {
		tags = tags[:0]
		a := s.Lookup(zone, qtype)
		if a.Rcode == Success {
			for _, rr := range a.RRsets[0] {
				switch rr := rr.(type) {
				case *dns.DNSKEY:
					tags = append(tags, rr.KeyTag())
				case *dns.CDNSKEY:
					tags = append(tags, rr.KeyTag())
				case *dns.CDS:
					tags = append(tags, rr.KeyTag)
				case *dns.DS:
					tags = append(tags, rr.KeyTag)
				}
			}
		}
		return r.names(tags)
	}
	v.DNSKEY, v.CDS, v.CDNSKEY = collect(dns.TypeDNSKEY), collect(dns.TypeCDS), collect(dns.TypeCDNSKEY)
	ds, err := s.DS(zone)
	if err != nil {
		t.Fatal(err)
	}
	tags = tags[:0]
	for _, d := range ds {
		tags = append(tags, d.KeyTag)
	}
	v.DS = r.names(tags)
	if z, _ := s.Zone(zone); z.Kind == KindShard {
		// The parent serves the same DS at the delegation.
		if got := collect(dns.TypeDS); !slices.Equal(got, v.DS) {
			t.Errorf("DS lookup %v, DS() %v", got, v.DS)
		}
	}
	sk, _, err := s.SigningKeys(zone)
	if err != nil {
		t.Fatal(err)
	}
	tags = tags[:0]
	var unpub []uint16
	for _, k := range sk {
		tags = append(tags, k.DNSKEY.KeyTag())
		if !k.Published {
			unpub = append(unpub, k.DNSKEY.KeyTag())
		}
	}
	v.Signing, v.Unpublished = r.names(tags), r.names(unpub)
	return v
}

// lifeStep is one keys command of a lifecycle table and what it must serve.
type lifeStep struct {
	name       string
	edit       func(r *ring, at time.Time) []string // change keys, return the names to send
	want       served
	bump       bool                // the zone's serial changes
	parentBump bool                // the parent's serial changes
	states     map[string]KeyState // stored states after the step
}

func runLifecycle(t *testing.T, s *Store, r *ring, zone string, steps []lifeStep) {
	t.Helper()
	parent := "mx.example."
	var notified []string
	s.Subscribe(func(z []string) { notified = z })
	for i, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			at := t0.Add(time.Duration(i+1) * time.Hour)
			before, pbefore := mustZone(t, s, zone), mustZone(t, s, parent)
			names := st.edit(r, at)
			keys := make([]Key, len(names))
			for j, n := range names {
				keys[j] = r.keys[n]
			}
			if err := applyKeys(s, at, zone, keys...); err != nil {
				t.Fatalf("Apply keys: %v", err)
			}
			for _, n := range names { // stored now: later updates omit the material
				k := r.keys[n]
				k.Sealed = nil
				r.keys[n] = k
			}
			got := observe(t, s, r, zone)
			if st.want.Signing == nil {
				st.want.Signing = []string{}
			}
			for _, p := range []*[]string{&st.want.DNSKEY, &st.want.CDS, &st.want.DS, &st.want.Signing, &st.want.Unpublished} {
				if *p == nil {
					*p = []string{}
				}
				slices.Sort(*p)
			}
			st.want.CDNSKEY = st.want.CDS
			if !reflect.DeepEqual(got, st.want) {
				t.Errorf("served\n got %+v\nwant %+v", got, st.want)
			}
			after, pafter := mustZone(t, s, zone), mustZone(t, s, parent)
			if after.KeyGen != s.AppliedIndex() {
				t.Errorf("KeyGen %d, want the command's index %d", after.KeyGen, s.AppliedIndex())
			}
			if a := s.Lookup(zone, dns.TypeSOA); a.KeyGen != after.KeyGen || a.SOA.Serial != after.Serial {
				t.Errorf("Lookup KeyGen %d serial %d, zone %+v", a.KeyGen, a.SOA.Serial, after)
			}
			if zone != parent {
				if bumped := after.Serial != before.Serial; bumped != st.bump {
					t.Errorf("zone serial %d -> %d, want bump %v", before.Serial, after.Serial, st.bump)
				}
			}
			wantParentBump := st.parentBump || (zone == parent && st.bump)
			if bumped := pafter.Serial != pbefore.Serial; bumped != wantParentBump {
				t.Errorf("parent serial %d -> %d, want bump %v", pbefore.Serial, pafter.Serial, wantParentBump)
			}
			wantNotified := []string{zone}
			if st.parentBump {
				wantNotified = []string{parent, zone}
			}
			if !slices.Equal(notified, wantNotified) {
				t.Errorf("notified %v, want %v", notified, wantNotified)
			}
			stored, _ := s.Keys(zone)
			byTag := make(map[string]Key)
			for _, k := range stored {
				byTag[r.tags[k.Tag]] = k
			}
			for _, n := range names {
				if k := byTag[n]; !k.Timed || k.State != k.DeriveState() {
					t.Errorf("stored %s: timed %v state %q, derived %q", n, k.Timed, k.State, k.DeriveState())
				}
			}
			for n, want := range st.states {
				if got := byTag[n].State; got != want {
					t.Errorf("state of %s = %q, want %q", n, got, want)
				}
			}
		})
	}
}

// TestKeysShardLifecycle walks a shard through a ZSK pre-publication roll, an
// active-unpublished key and a double-DS KSK roll, starting from the untimed
// keys addHosts created.
func TestKeysShardLifecycle(t *testing.T) {
	s, p, _ := newTestProvisioner(t, nil)
	shard := *mustAdd(t, p, "a.com")[0].Host
	zone := shard.Shard
	r := newRing(t)
	r.adopt(s, zone, "")
	steps := []lifeStep{
		{
			name:   "generated zsk2 is neither published nor signing",
			edit:   func(r *ring, at time.Time) []string { r.fresh("zsk2", zone, RoleZSK, at); return []string{"zsk2"} },
			want:   served{DNSKEY: []string{"ksk", "zsk"}, CDS: []string{"ksk"}, DS: []string{"ksk"}, Signing: []string{"ksk", "zsk"}},
			states: map[string]KeyState{"zsk2": StateGenerated, "zsk": StateActive},
		},
		{
			name: "published zsk2 is in DNSKEY but does not sign",
			edit: func(r *ring, at time.Time) []string {
				setKey(r, "zsk2", func(k *Key) { k.Published = at })
				return []string{"zsk2"}
			},
			want: served{DNSKEY: []string{"ksk", "zsk", "zsk2"}, CDS: []string{"ksk"}, DS: []string{"ksk"}, Signing: []string{"ksk", "zsk"}},
			bump: true, states: map[string]KeyState{"zsk2": StatePublished},
		},
		{
			name: "zsk2 signs, retired zsk stays in DNSKEY",
			edit: func(r *ring, at time.Time) []string {
				setKey(r, "zsk2", func(k *Key) { k.Activated = at })
				setKey(r, "zsk", func(k *Key) { k.Retired = at })
				return []string{"zsk2", "zsk"}
			},
			want:   served{DNSKEY: []string{"ksk", "zsk", "zsk2"}, CDS: []string{"ksk"}, DS: []string{"ksk"}, Signing: []string{"ksk", "zsk2"}},
			states: map[string]KeyState{"zsk2": StateActive, "zsk": StateRetired},
		},
		{
			name: "removed zsk disappears",
			edit: func(r *ring, at time.Time) []string {
				setKey(r, "zsk", func(k *Key) { k.Removed = at })
				return []string{"zsk"}
			},
			want:   served{DNSKEY: []string{"ksk", "zsk2"}, CDS: []string{"ksk"}, DS: []string{"ksk"}, Signing: []string{"ksk", "zsk2"}},
			bump:   true,
			states: map[string]KeyState{"zsk": StateRemoved},
		},
		{
			name: "active unpublished zsk3 signs but is not in DNSKEY",
			edit: func(r *ring, at time.Time) []string {
				r.fresh("zsk3", zone, RoleZSK, at)
				setKey(r, "zsk3", func(k *Key) { k.Activated = at })
				return []string{"zsk3"}
			},
			want: served{DNSKEY: []string{"ksk", "zsk2"}, CDS: []string{"ksk"}, DS: []string{"ksk"},
				Signing: []string{"ksk", "zsk2", "zsk3"}, Unpublished: []string{"zsk3"}},
			states: map[string]KeyState{"zsk3": StateActive},
		},
		{
			name: "ksk2 DS submitted and published at the parent first (double-DS)",
			edit: func(r *ring, at time.Time) []string {
				r.fresh("ksk2", zone, RoleKSK, at)
				setKey(r, "ksk2", func(k *Key) { k.DSSubmitted, k.DSPublishedAt = at, at })
				return []string{"ksk2"}
			},
			want: served{DNSKEY: []string{"ksk", "zsk2"}, CDS: []string{"ksk", "ksk2"}, DS: []string{"ksk", "ksk2"},
				Signing: []string{"ksk", "zsk2", "zsk3"}, Unpublished: []string{"zsk3"}},
			bump: true, parentBump: true,
		},
		{
			name: "ksk2 published and active",
			edit: func(r *ring, at time.Time) []string {
				setKey(r, "ksk2", func(k *Key) { k.Published, k.Activated = at, at })
				return []string{"ksk2"}
			},
			want: served{DNSKEY: []string{"ksk", "ksk2", "zsk2"}, CDS: []string{"ksk", "ksk2"}, DS: []string{"ksk", "ksk2"},
				Signing: []string{"ksk", "ksk2", "zsk2", "zsk3"}, Unpublished: []string{"zsk3"}},
			bump: true,
		},
		{
			name: "old ksk retired and its DS withdrawn",
			edit: func(r *ring, at time.Time) []string {
				setKey(r, "ksk", func(k *Key) {
					k.DSPublished = false
					k.DSSubmitted, k.DSPublishedAt = k.Published, k.Published
					k.DSWithdrawn, k.Retired = at, at
				})
				return []string{"ksk"}
			},
			want: served{DNSKEY: []string{"ksk", "ksk2", "zsk2"}, CDS: []string{"ksk2"}, DS: []string{"ksk2"},
				Signing: []string{"ksk2", "zsk2", "zsk3"}, Unpublished: []string{"zsk3"}},
			bump: true, parentBump: true, states: map[string]KeyState{"ksk": StateRetired},
		},
		{
			name: "old ksk removed",
			edit: func(r *ring, at time.Time) []string {
				setKey(r, "ksk", func(k *Key) { k.Removed = at })
				return []string{"ksk"}
			},
			want: served{DNSKEY: []string{"ksk2", "zsk2"}, CDS: []string{"ksk2"}, DS: []string{"ksk2"},
				Signing: []string{"ksk2", "zsk2", "zsk3"}, Unpublished: []string{"zsk3"}},
			bump: true,
		},
		{
			name: "roll requested changes nothing served",
			edit: func(r *ring, at time.Time) []string {
				setKey(r, "ksk2", func(k *Key) { k.RollRequested = at })
				return []string{"ksk2"}
			},
			want: served{DNSKEY: []string{"ksk2", "zsk2"}, CDS: []string{"ksk2"}, DS: []string{"ksk2"},
				Signing: []string{"ksk2", "zsk2", "zsk3"}, Unpublished: []string{"zsk3"}},
		},
		{
			name: "zsk marked compromised changes nothing served",
			edit: func(r *ring, at time.Time) []string {
				setKey(r, "zsk2", func(k *Key) { k.RollRequested, k.Emergency = at, true })
				return []string{"zsk2"}
			},
			want: served{DNSKEY: []string{"ksk2", "zsk2"}, CDS: []string{"ksk2"}, DS: []string{"ksk2"},
				Signing: []string{"ksk2", "zsk2", "zsk3"}, Unpublished: []string{"zsk3"}},
		},
		{
			name: "emergency zsk swap in one command",
			edit: func(r *ring, at time.Time) []string {
				r.fresh("zsk4", zone, RoleZSK, at)
				setKey(r, "zsk4", func(k *Key) { k.Published, k.Activated = at, at })
				setKey(r, "zsk2", func(k *Key) { k.Retired, k.Removed = at, at })
				return []string{"zsk4", "zsk2"}
			},
			want: served{DNSKEY: []string{"ksk2", "zsk4"}, CDS: []string{"ksk2"}, DS: []string{"ksk2"},
				Signing: []string{"ksk2", "zsk3", "zsk4"}, Unpublished: []string{"zsk3"}},
			bump: true, states: map[string]KeyState{"zsk2": StateRemoved, "zsk4": StateActive},
		},
		{
			name: "emergency shard ksk swap with its DS in one command",
			edit: func(r *ring, at time.Time) []string {
				r.fresh("ksk3", zone, RoleKSK, at)
				setKey(r, "ksk3", func(k *Key) { k.Published, k.Activated, k.DSSubmitted, k.DSPublishedAt = at, at, at, at })
				setKey(r, "ksk2", func(k *Key) { k.RollRequested, k.Emergency, k.Retired, k.Removed, k.DSWithdrawn = at, true, at, at, at })
				return []string{"ksk3", "ksk2"}
			},
			want: served{DNSKEY: []string{"ksk3", "zsk4"}, CDS: []string{"ksk3"}, DS: []string{"ksk3"},
				Signing: []string{"ksk3", "zsk3", "zsk4"}, Unpublished: []string{"zsk3"}},
			bump: true, parentBump: true, states: map[string]KeyState{"ksk2": StateRemoved, "ksk3": StateActive},
		},
	}
	runLifecycle(t, s, r, zone, steps)
}

// TestKeyEmergencyRecord: the emergency mark is an optional field of the
// versioned key record. Records written before it existed decode as not
// compromised and a key without it encodes as before (TestKeysReopenAndRestore
// keeps a marked key through a reopen and a restore).
func TestKeyEmergencyRecord(t *testing.T) {
	const old = `{"zone":"a.mx.example.","id":"k1","tag":1,"algorithm":13,"role":"zsk","state":"active","dnskey":"","sealed":null,"dsPublished":false,"timed":true,"rollRequested":"2026-01-01T00:00:00Z"}`
	var k Key
	if err := json.Unmarshal([]byte(old), &k); err != nil || k.Emergency || k.RollRequested.IsZero() {
		t.Fatalf("old record: %+v, %v", k, err)
	}
	b, err := json.Marshal(k)
	if err != nil || bytes.Contains(b, []byte("emergency")) {
		t.Fatalf("a key that is not compromised encodes the field: %s, %v", b, err)
	}
	k.Emergency = true
	if b, _ = json.Marshal(k); !bytes.Contains(b, []byte(`"emergency":true`)) {
		t.Fatalf("encoded %s", b)
	}
}

// TestKeysParentLifecycle rolls the parent's KSK with CDS/CDNSKEY: a new KSK
// is in DS(parent) (what the registry gets) only once its DS is submitted.
func TestKeysParentLifecycle(t *testing.T) {
	s, _, _ := newTestProvisioner(t, nil)
	const zone = "mx.example."
	r := newRing(t)
	r.adopt(s, zone, "")
	steps := []lifeStep{
		{
			name: "generated ksk2",
			edit: func(r *ring, at time.Time) []string { r.fresh("ksk2", zone, RoleKSK, at); return []string{"ksk2"} },
			want: served{DNSKEY: []string{"ksk", "zsk"}, CDS: []string{"ksk"}, DS: []string{"ksk"}, Signing: []string{"ksk", "zsk"}},
		},
		{
			name: "published ksk2 without submitted DS is not in CDS",
			edit: func(r *ring, at time.Time) []string {
				setKey(r, "ksk2", func(k *Key) { k.Published = at })
				return []string{"ksk2"}
			},
			want: served{DNSKEY: []string{"ksk", "ksk2", "zsk"}, CDS: []string{"ksk"}, DS: []string{"ksk"}, Signing: []string{"ksk", "zsk"}},
			bump: true,
		},
		{
			name: "ksk2 DS submitted: CDS and DS(parent) follow",
			edit: func(r *ring, at time.Time) []string {
				setKey(r, "ksk2", func(k *Key) { k.DSSubmitted = at })
				return []string{"ksk2"}
			},
			want: served{DNSKEY: []string{"ksk", "ksk2", "zsk"}, CDS: []string{"ksk", "ksk2"}, DS: []string{"ksk", "ksk2"}, Signing: []string{"ksk", "zsk"}},
			bump: true,
		},
		{
			name: "ksk2 DS seen at the registry changes nothing served",
			edit: func(r *ring, at time.Time) []string {
				setKey(r, "ksk2", func(k *Key) { k.DSSeen, k.DSPublishedAt, k.Activated = true, at, at })
				return []string{"ksk2"}
			},
			want: served{DNSKEY: []string{"ksk", "ksk2", "zsk"}, CDS: []string{"ksk", "ksk2"}, DS: []string{"ksk", "ksk2"}, Signing: []string{"ksk", "ksk2", "zsk"}},
		},
		{
			name: "old ksk withdrawn and retired",
			edit: func(r *ring, at time.Time) []string {
				setKey(r, "ksk", func(k *Key) { k.DSSubmitted, k.DSWithdrawn, k.Retired = k.Published, at, at })
				return []string{"ksk"}
			},
			want: served{DNSKEY: []string{"ksk", "ksk2", "zsk"}, CDS: []string{"ksk2"}, DS: []string{"ksk2"}, Signing: []string{"ksk2", "zsk"}},
			bump: true,
		},
	}
	runLifecycle(t, s, r, zone, steps)
}

func setKey(r *ring, name string, f func(*Key)) {
	k := r.keys[name]
	f(&k)
	r.keys[name] = k
}

// TestUntimedKeysServeAsBefore checks records in the format written before
// the keys command (State and DSPublished, old timestamps, no Timed): served
// by State exactly as before, after Apply and after a reopen.
func TestUntimedKeysServeAsBefore(t *testing.T) {
	const parent, shard = "mx.example.", "abcd.mx.example."
	type want struct{ dnskey, signs, cds, ds bool }
	tests := []struct {
		name  string
		zone  string
		role  KeyRole
		state KeyState
		dsPub bool
		times bool // Created, Published, Activated set (as every proposer wrote them)
		want  want
	}{
		{name: "parent ksk active", zone: parent, role: RoleKSK, state: StateActive, times: true, want: want{dnskey: true, signs: true, cds: true, ds: true}},
		{name: "parent ksk active dsPublished", zone: parent, role: RoleKSK, state: StateActive, dsPub: true, times: true, want: want{dnskey: true, signs: true, cds: true, ds: true}},
		{name: "parent zsk active", zone: parent, role: RoleZSK, state: StateActive, times: true, want: want{dnskey: true, signs: true}},
		{name: "parent ksk active no timestamps", zone: parent, role: RoleKSK, state: StateActive, want: want{dnskey: true, signs: true, cds: true, ds: true}},
		{name: "parent ksk published", zone: parent, role: RoleKSK, state: StatePublished, want: want{dnskey: true, cds: true, ds: true}},
		{name: "parent zsk retired", zone: parent, role: RoleZSK, state: StateRetired, times: true, want: want{dnskey: true}},
		{name: "parent ksk removed", zone: parent, role: RoleKSK, state: StateRemoved, dsPub: true, times: true, want: want{}},
		{name: "shard ksk active dsPublished", zone: shard, role: RoleKSK, state: StateActive, dsPub: true, times: true, want: want{dnskey: true, signs: true, cds: true, ds: true}},
		{name: "shard ksk active no dsPublished", zone: shard, role: RoleKSK, state: StateActive, times: true, want: want{dnskey: true, signs: true, cds: true}},
		{name: "shard csk active no timestamps", zone: shard, role: RoleCSK, state: StateActive, dsPub: true, want: want{dnskey: true, signs: true, cds: true, ds: true}},
		{name: "shard ksk retired dsPublished", zone: shard, role: RoleKSK, state: StateRetired, dsPub: true, times: true, want: want{dnskey: true, ds: true}},
		{name: "shard ksk removed dsPublished", zone: shard, role: RoleKSK, state: StateRemoved, dsPub: true, times: true, want: want{}},
		{name: "shard zsk published", zone: shard, role: RoleZSK, state: StatePublished, want: want{dnskey: true}},
	}
	r := newRing(t)
	byZone := map[string][]Key{}
	for _, tt := range tests {
		for {
			k := makeKey(t, testKEK, tt.zone, tt.role, t0)
			if _, taken := r.tags[k.Tag]; taken {
				continue
			}
			k.State, k.DSPublished = tt.state, tt.dsPub
			if !tt.times {
				k.Created, k.Published, k.Activated = time.Time{}, time.Time{}, time.Time{}
			}
			r.add(tt.name, k)
			byZone[tt.zone] = append(byZone[tt.zone], k)
			break
		}
	}
	s := openTestStore(t)
	cfg, prof := testConfig()
	if _, err := s.Apply(1, &Command{V: CommandVersion, Op: OpInit, Time: t0, Init: &InitCmd{Config: cfg, Profile: prof, Keys: byZone[parent]}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apply(2, &Command{V: CommandVersion, Op: OpAddHosts, Time: t0, AddHosts: &AddHostsCmd{NewShards: []NewShard{{Name: shard, Keys: byZone[shard]}}}}); err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, s *Store) {
		views := map[string]served{parent: observe(t, s, r, parent), shard: observe(t, s, r, shard)}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				v := views[tt.zone]
				got := want{
					dnskey: slices.Contains(v.DNSKEY, tt.name), signs: slices.Contains(v.Signing, tt.name),
					cds: slices.Contains(v.CDS, tt.name) && slices.Contains(v.CDNSKEY, tt.name), ds: slices.Contains(v.DS, tt.name),
				}
				if got != tt.want {
					t.Errorf("served %+v, want %+v", got, tt.want)
				}
				if slices.Contains(v.Unpublished, tt.name) {
					t.Errorf("an untimed signing key is reported unpublished")
				}
			})
		}
		ks, _ := s.Keys(shard)
		for _, k := range ks {
			if k.Timed {
				t.Errorf("key %s became timed", k.ID)
			}
		}
	}
	t.Run("applied", func(t *testing.T) { check(t, s) })
	path := s.path
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openTestStoreAt(t, path)
	t.Run("reopened", func(t *testing.T) { check(t, s2) })
}

func TestKeysCommandErrors(t *testing.T) {
	s, p, _ := newTestProvisioner(t, nil)
	zone := mustAdd(t, p, "a.com")[0].Host.Shard
	stored, _ := s.Keys(zone)
	var ksk, zsk Key
	for _, k := range stored {
		if k.Role == RoleKSK {
			ksk = k
		} else {
			zsk = k
		}
	}
	at := t0.Add(time.Hour)
	gen := func(role KeyRole) Key { return makeKey(t, testKEK, zone, role, at) }
	otherKEK := []byte("fedcba9876543210fedcba9876543210")
	with := func(k Key, f func(*Key)) Key { f(&k); return k }
	dup := gen(RoleZSK)
	otherKey := gen(RoleZSK)

	tests := []struct {
		name string
		zone string
		keys []Key
		err  error
	}{
		{name: "unknown zone", zone: "zzzz.mx.example.", keys: []Key{gen(RoleZSK)}, err: ErrZoneNotFound},
		{name: "no keys", zone: zone, err: ErrBadCommand},
		{name: "duplicate id", zone: zone, keys: []Key{dup, dup}, err: ErrBadCommand},
		{name: "empty id", zone: zone, keys: []Key{with(gen(RoleZSK), func(k *Key) { k.ID = "" })}, err: ErrBadCommand},
		{name: "bad role", zone: zone, keys: []Key{with(gen(RoleZSK), func(k *Key) { k.Role = "boss" })}, err: ErrBadCommand},
		{name: "key of another zone", zone: zone, keys: []Key{makeKey(t, testKEK, "mx.example.", RoleZSK, at)}, err: ErrBadCommand},
		{name: "published in the future", zone: zone, keys: []Key{with(gen(RoleZSK), func(k *Key) { k.Published = at.Add(time.Second) })}, err: ErrBadCommand},
		{name: "ds withdrawn in the future", zone: zone, keys: []Key{with(ksk, func(k *Key) { k.DSPublished, k.DSWithdrawn = false, at.Add(time.Nanosecond) })}, err: ErrBadCommand},
		{name: "new key without sealed material", zone: zone, keys: []Key{with(gen(RoleZSK), func(k *Key) { k.Sealed = nil })}, err: ErrBadCommand},
		{name: "dnskey of an existing id changes", zone: zone, keys: []Key{with(otherKey, func(k *Key) { k.ID, k.Sealed = zsk.ID, nil })}, err: ErrBadCommand},
		{name: "role of an existing id changes", zone: zone, keys: []Key{with(ksk, func(k *Key) { k.Role = RoleCSK })}, err: ErrBadCommand},
		{name: "zsk with a DS", zone: zone, keys: []Key{with(zsk, func(k *Key) { k.DSSubmitted = at })}, err: ErrBadCommand},
		{name: "ds withdrawn while dsPublished", zone: zone, keys: []Key{with(ksk, func(k *Key) { k.DSWithdrawn = at })}, err: ErrBadCommand},
		{name: "emergency without rollRequested", zone: zone, keys: []Key{with(zsk, func(k *Key) { k.Emergency = true })}, err: ErrBadCommand},
		{name: "sealed with another kek", zone: zone, keys: []Key{makeKey(t, otherKEK, zone, RoleZSK, at)}, err: ErrSeal},
		{name: "sealed material of another key", zone: zone, keys: []Key{with(zsk, func(k *Key) { k.Sealed = otherKey.Sealed })}, err: ErrSeal},
		{name: "one bad key fails the command", zone: zone, keys: []Key{gen(RoleZSK), with(gen(RoleZSK), func(k *Key) { k.Role = "boss" })}, err: ErrBadCommand},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := captureState(t, s)
			err := applyKeys(s, at, tt.zone, tt.keys...)
			if !errors.Is(err, tt.err) || !errors.Is(err, ErrBadCommand) && !errors.Is(err, ErrSeal) {
				t.Fatalf("Apply: %v, want %v", err, tt.err)
			}
			after := captureState(t, s)
			if after.Applied != before.Applied+1 {
				t.Errorf("applied index %d -> %d: a rejected command still advances it", before.Applied, after.Applied)
			}
			after.Applied = before.Applied
			if !reflect.DeepEqual(after, before) {
				t.Errorf("a rejected command changed the store:\nbefore %+v\n after %+v", before, after)
			}
		})
	}
	t.Run("before init", func(t *testing.T) {
		if err := applyKeys(openTestStore(t), at, "mx.example.", gen(RoleZSK)); !errors.Is(err, ErrNotInitialized) {
			t.Fatalf("Apply: %v, want ErrNotInitialized", err)
		}
	})
	t.Run("time equal to the command is allowed", func(t *testing.T) {
		k := with(gen(RoleZSK), func(k *Key) { k.Published = at })
		if err := applyKeys(s, at, zone, k); err != nil {
			t.Fatal(err)
		}
	})
}

// lifecycleStore returns a store whose shard went through keys commands:
// a published ZSK, an active unpublished ZSK, a KSK with its DS at the parent
// and a withdrawn old KSK.
func lifecycleStore(t *testing.T) (*Store, string) {
	t.Helper()
	s, p, _ := newTestProvisioner(t, nil)
	zone := mustAdd(t, p, "a.com")[0].Host.Shard
	r := newRing(t)
	r.adopt(s, zone, "")
	at := t0.Add(time.Hour)
	r.fresh("zsk2", zone, RoleZSK, at)
	r.fresh("zsk3", zone, RoleZSK, at)
	r.fresh("ksk2", zone, RoleKSK, at)
	setKey(r, "zsk2", func(k *Key) { k.Published = at })
	setKey(r, "zsk3", func(k *Key) { k.Activated = at })
	setKey(r, "ksk2", func(k *Key) {
		k.Published, k.Activated, k.DSSubmitted, k.DSPublishedAt, k.DSSeen = at, at, at, at, true
	})
	if err := applyKeys(s, at, zone, r.keys["zsk2"], r.keys["zsk3"], r.keys["ksk2"]); err != nil {
		t.Fatal(err)
	}
	setKey(r, "ksk", func(k *Key) { k.DSPublished, k.DSSubmitted, k.DSWithdrawn, k.Retired = false, t0, at, at })
	if err := applyKeys(s, at.Add(time.Hour), zone, r.keys["ksk"]); err != nil {
		t.Fatal(err)
	}
	return s, zone
}

func TestKeysReopenAndRestore(t *testing.T) {
	s, zone := lifecycleStore(t)
	// One key marked compromised: the mark is kept too.
	ks, _ := s.Keys(zone)
	marked, at := ks[0], t0.Add(3*time.Hour)
	marked.RollRequested, marked.Emergency = at, true
	if err := applyKeys(s, at, zone, marked); err != nil {
		t.Fatal(err)
	}
	want := captureState(t, s)
	if len(want.Signing[zone]) != 3 || len(want.DS[zone]) != 1 {
		t.Fatalf("setup: signing %v, DS %v", want.Signing[zone], want.DS[zone])
	}
	unpublished := func(s *Store) int {
		sk, _, _ := s.SigningKeys(zone)
		n := 0
		for _, k := range sk {
			if !k.Published {
				n++
			}
		}
		return n
	}
	var snap bytes.Buffer
	if err := s.Snapshot(&snap); err != nil {
		t.Fatal(err)
	}
	path := s.path
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openTestStoreAt(t, path)
	if got := captureState(t, s2); !reflect.DeepEqual(got, want) {
		t.Fatalf("after reopen:\n got %+v\nwant %+v", got, want)
	}
	other := openTestStore(t)
	if err := other.Restore(&snap); err != nil {
		t.Fatal(err)
	}
	if got := captureState(t, other); !reflect.DeepEqual(got, want) {
		t.Fatalf("after restore:\n got %+v\nwant %+v", got, want)
	}
	for name, st := range map[string]*Store{"reopened": s2, "restored": other} {
		if n := unpublished(st); n != 1 {
			t.Errorf("%s: %d unpublished signing keys, want 1", name, n)
		}
		ks, _ := st.Keys(zone)
		for _, k := range ks {
			if want := k.ID == marked.ID; k.Emergency != want || want && !k.RollRequested.Equal(at) {
				t.Errorf("%s: key %s emergency %v rollRequested %v", name, k.ID, k.Emergency, k.RollRequested)
			}
		}
		// The kept material still signs: an update without Sealed.
		if err := applyKeys(st, t0.Add(4*time.Hour), zone, ks[0]); err != nil {
			t.Errorf("%s: update after reopen: %v", name, err)
		}
	}
}

func TestKeysReplayIsIdempotent(t *testing.T) {
	s, zone := lifecycleStore(t)
	want := captureState(t, s)
	ks, _ := s.Keys(zone)
	k := ks[len(ks)-1]
	k.Removed = t0.Add(5 * time.Hour)
	cmd := &Command{V: CommandVersion, Op: OpKeys, Time: t0.Add(5 * time.Hour), Keys: &KeysCmd{Zone: zone, Keys: []Key{k}}}
	for _, old := range []uint64{1, want.Applied} {
		if _, err := s.Apply(old, cmd); err != nil {
			t.Fatalf("replay at %d: %v", old, err)
		}
	}
	if got := captureState(t, s); !reflect.DeepEqual(got, want) {
		t.Fatalf("replay changed the store:\n got %+v\nwant %+v", got, want)
	}
	// The same command at a new index is applied; applying it again there is not.
	if _, err := s.Apply(want.Applied+1, cmd); err != nil {
		t.Fatal(err)
	}
	after := captureState(t, s)
	if _, err := s.Apply(want.Applied+1, cmd); err != nil {
		t.Fatal(err)
	}
	if got := captureState(t, s); !reflect.DeepEqual(got, after) || reflect.DeepEqual(after, want) {
		t.Fatal("a replay at the applied index changed the store, or the new index was not applied")
	}
}

func BenchmarkApplyKeys(b *testing.B) {
	s, p, _ := newTestProvisioner(b, nil)
	zone := mustAdd(b, p, "a.com")[0].Host.Shard
	ks, _ := s.Keys(zone)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k := ks[0]
		k.RollRequested = t0.Add(time.Duration(i) * time.Second)
		if err := applyKeys(s, t0.Add(time.Duration(i+1)*time.Second), zone, k); err != nil {
			b.Fatal(err)
		}
	}
}

// TestKeysCompareAndSet: a keys command carrying the KeyGen it was computed from
// applies only while the zone's keys are unchanged; a stale one changes nothing.
func TestKeysCompareAndSet(t *testing.T) {
	s, p, _ := newTestProvisioner(t, nil)
	zone := mustAdd(t, p, "a.com")[0].Host.Shard
	at := t0.Add(time.Hour)
	cas := func(gen uint64, keys ...Key) error {
		_, err := s.Apply(s.AppliedIndex()+1, &Command{V: CommandVersion, Op: OpKeys, Time: at,
			Keys: &KeysCmd{Zone: zone, Keys: keys, KeyGen: gen}})
		return err
	}
	keys, gen, err := s.KeysGen(zone)
	if err != nil || gen == 0 || len(keys) == 0 {
		t.Fatalf("KeysGen: %d keys, gen %d, %v", len(keys), gen, err)
	}
	k := keys[0]
	k.RollRequested = at
	if err := cas(gen, k); err != nil {
		t.Fatalf("a command computed from the current keys: %v", err)
	}
	_, gen2, _ := s.KeysGen(zone)
	if gen2 == gen {
		t.Fatalf("KeyGen still %d after a keys change", gen)
	}
	// A second proposer computed from the first read: it would drop RollRequested.
	before := captureState(t, s)
	stale := keys[0]
	stale.Published = at
	if err := cas(gen, stale); !errors.Is(err, ErrKeysChanged) {
		t.Fatalf("a stale command: %v, want ErrKeysChanged", err)
	}
	after := captureState(t, s)
	if after.Applied != before.Applied+1 {
		t.Errorf("applied index %d -> %d: a rejected command still advances it", before.Applied, after.Applied)
	}
	after.Applied = before.Applied
	if !reflect.DeepEqual(after, before) {
		t.Errorf("a stale command changed the store")
	}
	if got, _ := s.Keys(zone); got[0].RollRequested.IsZero() {
		t.Error("the roll request was lost")
	}
	if err := cas(0, stale); err != nil {
		t.Fatalf("an unconditional command: %v", err)
	}
}
