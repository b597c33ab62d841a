package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mxsign/mxsign/plugin/api"
)

// fakeKeys is an in-memory api.KeyService: mx.example. has a key policy,
// 1j2b.mx.example. none, any other zone is unknown.
type fakeKeys struct {
	mu     sync.Mutex
	rolls  []api.RolloverRequest
	dsSeen []string
}

var (
	kt0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	kt1 = kt0.Add(36 * time.Hour)
	kt2 = kt0.Add(72*time.Hour + 30*time.Second)
)

func testKeyList(zone string) api.KeyList {
	if zone == "1j2b.mx.example." {
		return api.KeyList{Zone: zone, Keys: []api.KeyDetail{
			{ID: "c1", Tag: 1111, Algorithm: 13, Role: "csk", State: "active", Created: &kt0, Published: &kt0, Activated: &kt0},
		}}
	}
	return api.KeyList{
		Zone: zone, Managed: true, Phase: "ksk-roll", Waiting: "the new DS at the registry", NextStep: &kt2,
		Keys: []api.KeyDetail{
			{ID: "k1", Tag: 12345, Algorithm: 13, Role: "ksk", State: "active", Created: &kt0, Published: &kt0, Activated: &kt0, DSSubmitted: &kt0, DSPublished: &kt0, DSSeen: true},
			{ID: "k2", Tag: 23456, Algorithm: 13, Role: "ksk", State: "published", Created: &kt1, Published: &kt1, DSSubmitted: &kt2},
			{ID: "z1", Tag: 54321, Algorithm: 13, Role: "zsk", State: "active", Created: &kt0, Published: &kt0, Activated: &kt1},
		},
	}
}

func (f *fakeKeys) zone(zone string, write bool) error {
	switch {
	case zone == "1j2b.mx.example." && write:
		return api.ErrConflict
	case zone != "mx.example." && zone != "1j2b.mx.example.":
		return fmt.Errorf("%w: zone %s", api.ErrNotFound, zone)
	}
	return nil
}

func (f *fakeKeys) Keys(_ context.Context, zone string) (api.KeyList, error) {
	if err := f.zone(zone, false); err != nil {
		return api.KeyList{}, err
	}
	return testKeyList(zone), nil
}

func (f *fakeKeys) Rollover(_ context.Context, zone string, req api.RolloverRequest) (api.KeyList, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.zone(zone, true); err != nil {
		return api.KeyList{}, err
	}
	f.rolls = append(f.rolls, req)
	if req.Now && req.Role == "ksk" {
		return api.KeyList{}, fmt.Errorf("%w: keymgr: emergency roll refused: the DS of the parent zone's ksk is at the registry", api.ErrInvalid)
	}
	l := testKeyList(zone)
	l.Phase, l.Waiting, l.NextStep = "", "", nil
	l.Keys = l.Keys[2:]
	l.Keys[0].RollRequested = &kt2
	if req.Now {
		l.Keys[0].Emergency = true
		l.Emergency = &api.EmergencyWindow{Role: req.Role, Start: kt2, Until: kt2.Add(65 * time.Minute), Seconds: 3900, Causes: []string{
			"old DNSKEY RRset in caches: propagation-delay 5m + dnskey-ttl 1h = 1h5m",
			"answers signed by the old key in caches: propagation-delay 5m + max-zone-ttl 1h = 1h5m",
		}}
	}
	return l, nil
}

func (f *fakeKeys) DSSeen(_ context.Context, zone string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.zone(zone, true); err != nil {
		return err
	}
	f.dsSeen = append(f.dsSeen, zone)
	return nil
}

const (
	keysText = "TAG    ROLE  ALG  STATE      LIFECYCLE\n" +
		"12345  ksk   13   active     created+published+active+ds-submitted+ds-published 2026-01-01T00:00:00Z\n" +
		"23456  ksk   13   published  created+published 2026-01-02T12:00:00Z, ds-submitted 2026-01-04T00:00:30Z\n" +
		"54321  zsk   13   active     created+published 2026-01-01T00:00:00Z, active 2026-01-02T12:00:00Z\n" +
		"phase:     ksk-roll\n" +
		"waiting:   the new DS at the registry\n" +
		"next step: 2026-01-04T00:00:30Z\n"
	rollText = "TAG    ROLE  ALG  STATE   LIFECYCLE\n" +
		"54321  zsk   13   active  created+published 2026-01-01T00:00:00Z, active 2026-01-02T12:00:00Z, roll-requested 2026-01-04T00:00:30Z\n" +
		"phase:     -\n" +
		"waiting:   -\n" +
		"next step: -\n"
	emergencyText = "requested an emergency zsk rollover of mx.example.\n" +
		"TAG    ROLE  ALG  STATE   LIFECYCLE\n" +
		"54321  zsk   13   active  created+published 2026-01-01T00:00:00Z, active 2026-01-02T12:00:00Z, compromised 2026-01-04T00:00:30Z\n" +
		"phase:     -\n" +
		"waiting:   -\n" +
		"next step: -\n" +
		"emergency: zsk replaced 2026-01-04T00:00:30Z; resolvers may fail to validate until 2026-01-04T01:05:30Z (1h5m)\n"
	emergencyWarning = "mxctl: warning: emergency: resolvers that cached the old keys of mx.example. may fail to validate it for up to 1h5m, until 2026-01-04T01:05:30Z:\n" +
		"  old DNSKEY RRset in caches: propagation-delay 5m + dnskey-ttl 1h = 1h5m\n" +
		"  answers signed by the old key in caches: propagation-delay 5m + max-zone-ttl 1h = 1h5m\n"
)

func TestKeyCommands(t *testing.T) {
	tests := []struct {
		name       string
		args       []string // after --api URL --token testToken
		disabled   bool     // serve without a KeyService
		wantCode   int
		wantStdout string // exact, unless empty
		wantStderr string // exact, unless empty
		stderrHas  []string
		check      func(t *testing.T, fk *fakeKeys, stdout string)
	}{
		{name: "keys", args: []string{"keys", "mx.example."}, wantStdout: keysText},
		{name: "keys without dot", args: []string{"keys", "mx.example"}, wantStdout: keysText},
		{name: "key list", args: []string{"key", "list", "mx.example"}, wantStdout: keysText},
		{
			name: "keys unmanaged", args: []string{"keys", "1j2b.mx.example"},
			wantStdout: "TAG   ROLE  ALG  STATE   LIFECYCLE\n" +
				"1111  csk   13   active  created+published+active 2026-01-01T00:00:00Z\n" +
				"automatic key management is off for 1j2b.mx.example. (no key policy)\n",
		},
		{
			name: "keys json", args: []string{"keys", "--json", "mx.example"},
			check: func(t *testing.T, _ *fakeKeys, stdout string) {
				var l api.KeyList
				dec := json.NewDecoder(strings.NewReader(stdout))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&l); err != nil {
					t.Fatal(err)
				}
				if want := testKeyList("mx.example."); !reflect.DeepEqual(l, want) {
					t.Errorf("got %+v, want %+v", l, want)
				}
			},
		},
		{name: "keys unknown zone", args: []string{"keys", "other.example"}, wantCode: 1, wantStderr: "mxctl: not found: zone other.example. (404)\n"},
		{name: "keys no zone", args: []string{"keys"}, wantCode: 2, stderrHas: []string{"exactly one ZONE"}},
		{name: "keys two zones", args: []string{"keys", "a.", "b."}, wantCode: 2},
		{name: "keys disabled", args: []string{"keys", "mx.example"}, disabled: true, wantCode: 1, wantStderr: "mxctl: mx.example: key management is not available on this node (404)\n"},
		{
			name: "roll zsk", args: []string{"key", "roll", "mx.example", "--zsk"},
			wantStdout: "requested a zsk rollover of mx.example.\n" + rollText,
			check: func(t *testing.T, fk *fakeKeys, _ string) {
				if want := []api.RolloverRequest{{Role: "zsk"}}; !reflect.DeepEqual(fk.rolls, want) {
					t.Errorf("service got %+v, want %+v", fk.rolls, want)
				}
			},
		},
		{
			name: "roll ksk to ed25519", args: []string{"key", "roll", "--ksk", "--algorithm", "15", "mx.example."},
			wantStdout: "requested a ksk rollover to algorithm 15 of mx.example.\n" + rollText,
			check: func(t *testing.T, fk *fakeKeys, _ string) {
				if want := []api.RolloverRequest{{Role: "ksk", Algorithm: 15}}; !reflect.DeepEqual(fk.rolls, want) {
					t.Errorf("service got %+v, want %+v", fk.rolls, want)
				}
			},
		},
		{
			name: "roll algorithm", args: []string{"key", "roll", "mx.example", "--algorithm=13"},
			wantStdout: "requested an algorithm rollover to 13 of mx.example.\n" + rollText,
			check: func(t *testing.T, fk *fakeKeys, _ string) {
				if want := []api.RolloverRequest{{Algorithm: 13}}; !reflect.DeepEqual(fk.rolls, want) {
					t.Errorf("service got %+v, want %+v", fk.rolls, want)
				}
			},
		},
		{
			name: "roll json", args: []string{"--json", "key", "roll", "mx.example", "--csk"},
			check: func(t *testing.T, fk *fakeKeys, stdout string) {
				var l api.KeyList
				if err := json.Unmarshal([]byte(stdout), &l); err != nil || len(l.Keys) != 1 || l.Keys[0].RollRequested == nil {
					t.Errorf("got %+v, %v from %q", l, err, stdout)
				}
				if len(fk.rolls) != 1 || fk.rolls[0].Role != "csk" {
					t.Errorf("service got %+v", fk.rolls)
				}
			},
		},
		{name: "roll bad algorithm", args: []string{"key", "roll", "mx.example", "--zsk", "--algorithm", "8"}, wantCode: 1, stderrHas: []string{"invalid algorithm 8", "(400)"}},
		{
			name: "emergency roll warns with the window", args: []string{"key", "roll", "mx.example", "--zsk", "--now"},
			wantStdout: emergencyText, wantStderr: emergencyWarning,
			check: func(t *testing.T, fk *fakeKeys, _ string) {
				if want := []api.RolloverRequest{{Role: "zsk", Now: true}}; !reflect.DeepEqual(fk.rolls, want) {
					t.Errorf("service got %+v, want %+v", fk.rolls, want)
				}
			},
		},
		{
			name: "emergency roll json still warns", args: []string{"--json", "key", "roll", "--now", "--csk", "mx.example."}, wantStderr: emergencyWarning,
			check: func(t *testing.T, fk *fakeKeys, stdout string) {
				var l api.KeyList
				if err := json.Unmarshal([]byte(stdout), &l); err != nil || l.Emergency == nil || l.Emergency.Seconds != 3900 || !l.Keys[0].Emergency {
					t.Errorf("got %+v, %v from %q", l, err, stdout)
				}
			},
		},
		{name: "emergency roll refused", args: []string{"key", "roll", "mx.example", "--ksk", "--now"}, wantCode: 1, stderrHas: []string{"emergency roll refused", "registry", "(400)"}},
		{name: "emergency roll with an algorithm", args: []string{"key", "roll", "mx.example", "--zsk", "--now", "--algorithm", "15"}, wantCode: 2, stderrHas: []string{"leave out --algorithm"}},
		{name: "emergency roll of nothing", args: []string{"key", "roll", "mx.example", "--now"}, wantCode: 2, stderrHas: []string{"--zsk, --ksk or --csk"}},
		{name: "emergency algorithm roll", args: []string{"key", "roll", "mx.example", "--now", "--algorithm", "13"}, wantCode: 2, stderrHas: []string{"--now replaces the key of one role"}},
		{name: "roll unmanaged", args: []string{"key", "roll", "1j2b.mx.example", "--csk"}, wantCode: 1, wantStderr: "mxctl: automatic key management is off for 1j2b.mx.example. (no key policy): its keys are not rolled (409)\n"},
		{name: "roll unknown zone", args: []string{"key", "roll", "other.example", "--zsk"}, wantCode: 1, wantStderr: "mxctl: not found: zone other.example. (404)\n"},
		{name: "roll disabled", args: []string{"key", "roll", "mx.example", "--zsk"}, disabled: true, wantCode: 1, stderrHas: []string{"key management is not available", "(404)"}},
		{name: "roll nothing", args: []string{"key", "roll", "mx.example"}, wantCode: 2, stderrHas: []string{"--zsk, --ksk or --csk"}},
		{name: "roll two roles", args: []string{"key", "roll", "mx.example", "--zsk", "--ksk"}, wantCode: 2, stderrHas: []string{"one of --zsk, --ksk and --csk"}},
		{name: "roll algorithm too large", args: []string{"key", "roll", "mx.example", "--algorithm", "300"}, wantCode: 2, stderrHas: []string{"300"}},
		{name: "roll algorithm not a number", args: []string{"key", "roll", "mx.example", "--algorithm", "ed25519"}, wantCode: 2, stderrHas: []string{"algorithm"}},
		{name: "roll no zone", args: []string{"key", "roll", "--zsk"}, wantCode: 2, stderrHas: []string{"exactly one ZONE"}},
		{name: "key no subcommand", args: []string{"key"}, wantCode: 2, stderrHas: []string{"roll or list"}},
		{name: "key bad subcommand", args: []string{"key", "frob"}, wantCode: 2, stderrHas: []string{`"frob"`}},
		{
			name: "ds seen", args: []string{"ds", "seen", "mx.example"},
			wantStdout: "confirmed: the parent publishes the new DS of mx.example\n",
			check: func(t *testing.T, fk *fakeKeys, _ string) {
				if !reflect.DeepEqual(fk.dsSeen, []string{"mx.example."}) {
					t.Errorf("recorded %q", fk.dsSeen)
				}
			},
		},
		{
			name: "ds seen json", args: []string{"--json", "ds", "seen", "mx.example."},
			check: func(t *testing.T, fk *fakeKeys, stdout string) {
				if stdout != "" || len(fk.dsSeen) != 1 {
					t.Errorf("stdout %q, recorded %q", stdout, fk.dsSeen)
				}
			},
		},
		{name: "ds seen unmanaged", args: []string{"ds", "seen", "1j2b.mx.example."}, wantCode: 1, stderrHas: []string{"automatic key management is off", "(409)"}},
		{name: "ds seen unknown zone", args: []string{"ds", "seen", "other.example"}, wantCode: 1, wantStderr: "mxctl: not found: zone other.example. (404)\n"},
		{name: "ds seen disabled", args: []string{"ds", "seen", "mx.example"}, disabled: true, wantCode: 1, stderrHas: []string{"key management is not available"}},
		{name: "ds seen no zone", args: []string{"ds", "seen"}, wantCode: 2, stderrHas: []string{"ds seen needs exactly one ZONE"}},
		{name: "ds seen two zones", args: []string{"ds", "seen", "a.", "b."}, wantCode: 2},
		{name: "ds seen trust anchors", args: []string{"ds", "seen", "mx.example", "--trust-anchors"}, wantCode: 2},
		{name: "ds still prints DS", args: []string{"ds", "mx.example"}, wantStdout: testDS[0] + "\n" + testDS[1] + "\n"},
		{name: "wrong token", args: []string{"keys", "mx.example", "--token", "wrong"}, wantCode: 3, wantStderr: "mxctl: unauthorized: check --token or the token file\n"},
		{name: "help", args: []string{"help"}, wantCode: 0, check: func(t *testing.T, _ *fakeKeys, stdout string) {
			for _, s := range []string{"keys ZONE", "key roll ZONE --zsk|--ksk|--csk [--algorithm N]", "key roll ZONE --zsk|--ksk|--csk --now", "ds seen ZONE"} {
				if !strings.Contains(stdout, s) {
					t.Errorf("usage lacks %q", s)
				}
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fk := &fakeKeys{}
			opts := api.Options{Token: testToken, Keys: fk}
			if tc.disabled {
				opts.Keys = nil
			}
			srv := httptest.NewServer(api.NewHandler(&fakeService{domains: map[string]api.Domain{}}, opts))
			t.Cleanup(srv.Close)

			res := invocation{
				dir:  t.TempDir(),
				args: append([]string{"--api", srv.URL, "--token", testToken}, tc.args...),
			}.run()
			if res.code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", res.code, tc.wantCode, res.stdout, res.stderr)
			}
			if tc.wantStdout != "" && res.stdout != tc.wantStdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", res.stdout, tc.wantStdout)
			}
			if tc.wantStderr != "" && res.stderr != tc.wantStderr {
				t.Errorf("stderr:\n%q\nwant:\n%q", res.stderr, tc.wantStderr)
			}
			for _, s := range tc.stderrHas {
				if !strings.Contains(res.stderr, s) {
					t.Errorf("stderr %q lacks %q", res.stderr, s)
				}
			}
			if tc.wantCode == 0 && tc.wantStderr == "" && res.stderr != "" {
				t.Errorf("unexpected stderr %q", res.stderr)
			}
			if tc.wantCode == exitUsage && (len(fk.rolls) != 0 || len(fk.dsSeen) != 0) {
				t.Errorf("a usage error reached the server: rolls %+v, ds seen %q", fk.rolls, fk.dsSeen)
			}
			if tc.check != nil {
				tc.check(t, fk, res.stdout)
			}
		})
	}
}

func TestLifecycle(t *testing.T) {
	tests := []struct {
		name string
		key  api.KeyDetail
		want string
	}{
		{name: "nothing yet", key: api.KeyDetail{}, want: "-"},
		{name: "ds seen without time", key: api.KeyDetail{Created: &kt0, DSSeen: true}, want: "created 2026-01-01T00:00:00Z, ds-seen"},
		{
			name: "whole life", key: api.KeyDetail{Created: &kt0, Published: &kt0, Activated: &kt1, Retired: &kt2, Removed: &kt2},
			want: "created+published 2026-01-01T00:00:00Z, active 2026-01-02T12:00:00Z, retired+removed 2026-01-04T00:00:30Z",
		},
		{
			name: "local times printed in UTC", key: api.KeyDetail{Published: new(kt0.In(time.FixedZone("CET", 3600)))},
			want: "published 2026-01-01T00:00:00Z",
		},
		{
			name: "compromised", key: api.KeyDetail{Created: &kt0, Published: &kt0, Activated: &kt0, RollRequested: &kt1, Retired: &kt1, Removed: &kt1, Emergency: true},
			want: "created+published+active 2026-01-01T00:00:00Z, compromised+retired+removed 2026-01-02T12:00:00Z",
		},
		{
			name: "same instant, not adjacent", key: api.KeyDetail{Created: &kt0, Published: &kt1, Activated: &kt0},
			want: "created 2026-01-01T00:00:00Z, published 2026-01-02T12:00:00Z, active 2026-01-01T00:00:00Z",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := lifecycle(tc.key); got != tc.want {
				t.Errorf("lifecycle = %q\nwant        %q", got, tc.want)
			}
		})
	}
}
