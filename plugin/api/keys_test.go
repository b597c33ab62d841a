package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeKeys is an in-memory KeyService. Zones not in lists are unknown;
// zones in lists with Managed false refuse writes with a bare ErrConflict.
type fakeKeys struct {
	mu    sync.Mutex
	lists map[string]KeyList
	err   error // returned by every call when set

	// Every call, for assertions.
	calls  []string // "Keys mx.example.", "Rollover mx.example.", "DSSeen mx.example."
	rolls  []RolloverRequest
	dsSeen []string
}

var (
	t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t1 = t0.Add(24 * time.Hour)
)

func newFakeKeys() *fakeKeys {
	return &fakeKeys{lists: map[string]KeyList{
		"mx.example.": {
			Zone: "mx.example.", Managed: true,
			Phase: "ksk-roll", Waiting: "the new DS at the registry", NextStep: &t1,
			Keys: []KeyDetail{
				{ID: "k1", Tag: 12345, Algorithm: 13, Role: "ksk", State: "active", Created: &t0, Published: &t0, Activated: &t0, DSSubmitted: &t0, DSPublished: &t0, DSSeen: true},
				{ID: "k2", Tag: 54321, Algorithm: 13, Role: "zsk", State: "active", Created: &t0, Published: &t0, Activated: &t0},
			},
		},
		"1j2b.mx.example.": {Zone: "1j2b.mx.example.", Managed: false},
	}}
}

func (f *fakeKeys) list(call, zone string) (KeyList, error) {
	f.calls = append(f.calls, call+" "+zone)
	if f.err != nil {
		return KeyList{}, f.err
	}
	l, ok := f.lists[zone]
	if !ok {
		return KeyList{}, ErrNotFound
	}
	return l, nil
}

func (f *fakeKeys) Keys(_ context.Context, zone string) (KeyList, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, err := f.list("Keys", zone)
	l.Zone = "" // the handler fills it in
	l.Keys = slices.Clone(l.Keys)
	return l, err
}

func (f *fakeKeys) Rollover(_ context.Context, zone string, req RolloverRequest) (KeyList, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rolls = append(f.rolls, req)
	l, err := f.list("Rollover", zone)
	if err != nil {
		return KeyList{}, err
	}
	if !l.Managed {
		return KeyList{}, ErrConflict
	}
	l.Keys = slices.Clone(l.Keys)
	for i := range l.Keys {
		if req.Role == "" || l.Keys[i].Role == req.Role {
			l.Keys[i].RollRequested = &t1
			l.Keys[i].Emergency = req.Now
		}
	}
	if req.Now {
		l.Emergency = testEmergency(req.Role)
	}
	f.lists[zone] = l
	return l, nil
}

// testEmergency is the window the fake announces for an emergency roll at t1.
func testEmergency(role string) *EmergencyWindow {
	return &EmergencyWindow{Role: role, Start: t1, Until: t1.Add(65 * time.Minute), Seconds: 3900,
		Causes: []string{"old DNSKEY RRset in caches: propagation-delay 5m + dnskey-ttl 1h = 1h5m"}}
}

func (f *fakeKeys) DSSeen(_ context.Context, zone string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, err := f.list("DSSeen", zone)
	if err != nil {
		return err
	}
	if !l.Managed {
		return fmt.Errorf("%w: zone %s has no key policy", ErrConflict, zone)
	}
	f.dsSeen = append(f.dsSeen, zone)
	return nil
}

func TestKeys(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		wantStatus int
		wantError  string // substring of the error message when status >= 400
		wantHeader map[string]string
		wantCalls  []string // the KeyService calls made
		check      func(t *testing.T, rec *httptest.ResponseRecorder, k *fakeKeys)
	}{
		{
			name: "keys", method: "GET", path: "/v1/zones/mx.example./keys", wantStatus: 200, wantCalls: []string{"Keys mx.example."},
			check: func(t *testing.T, rec *httptest.ResponseRecorder, _ *fakeKeys) {
				var l KeyList
				checkJSON(t, rec, &l)
				if want := newFakeKeys().lists["mx.example."]; !reflect.DeepEqual(l, want) {
					t.Errorf("got %+v, want %+v", l, want)
				}
			},
		},
		{name: "keys without dot", method: "GET", path: "/v1/zones/mx.example/keys", wantStatus: 200, wantCalls: []string{"Keys mx.example."}},
		{
			name: "keys unmanaged and empty", method: "GET", path: "/v1/zones/1j2b.mx.example/keys", wantStatus: 200, wantCalls: []string{"Keys 1j2b.mx.example."},
			check: func(t *testing.T, rec *httptest.ResponseRecorder, _ *fakeKeys) {
				if got, want := rec.Body.String(), `{"zone":"1j2b.mx.example.","managed":false,"keys":[]}`+"\n"; got != want {
					t.Errorf("body %s, want %s", got, want)
				}
			},
		},
		{name: "keys head", method: "HEAD", path: "/v1/zones/mx.example./keys", wantStatus: 200, wantCalls: []string{"Keys mx.example."}},
		{name: "keys unknown zone", method: "GET", path: "/v1/zones/other.example/keys", wantStatus: 404, wantError: "not found: zone other.example.", wantCalls: []string{"Keys other.example."}},
		{name: "keys wrong method", method: "DELETE", path: "/v1/zones/mx.example./keys", wantStatus: 405, wantHeader: map[string]string{"Allow": "GET, HEAD"}},
		{
			name: "roll zsk", method: "POST", path: "/v1/zones/mx.example/rollover", body: `{"role":"zsk"}`, wantStatus: 202, wantCalls: []string{"Rollover mx.example."},
			check: func(t *testing.T, rec *httptest.ResponseRecorder, k *fakeKeys) {
				if want := []RolloverRequest{{Role: "zsk"}}; !reflect.DeepEqual(k.rolls, want) {
					t.Errorf("service got %+v, want %+v", k.rolls, want)
				}
				var l KeyList
				checkJSON(t, rec, &l)
				if len(l.Keys) != 2 || l.Keys[0].RollRequested != nil || l.Keys[1].RollRequested == nil || !l.Keys[1].RollRequested.Equal(t1) {
					t.Errorf("answer is not the list after the request: %+v", l.Keys)
				}
			},
		},
		{
			name: "roll ksk to ed25519", method: "POST", path: "/v1/zones/mx.example./rollover", body: `{"role":"ksk","algorithm":15}`, wantStatus: 202,
			check: func(t *testing.T, _ *httptest.ResponseRecorder, k *fakeKeys) {
				if want := []RolloverRequest{{Role: "ksk", Algorithm: 15}}; !reflect.DeepEqual(k.rolls, want) {
					t.Errorf("service got %+v, want %+v", k.rolls, want)
				}
			},
		},
		{
			name: "algorithm roll", method: "POST", path: "/v1/zones/mx.example./rollover", body: `{"algorithm":13}`, wantStatus: 202,
			check: func(t *testing.T, _ *httptest.ResponseRecorder, k *fakeKeys) {
				if want := []RolloverRequest{{Algorithm: 13}}; !reflect.DeepEqual(k.rolls, want) {
					t.Errorf("service got %+v, want %+v", k.rolls, want)
				}
			},
		},
		{
			name: "role normalised", method: "POST", path: "/v1/zones/mx.example./rollover", body: `{"role":" CSK ","algorithm":0}`, wantStatus: 202,
			check: func(t *testing.T, _ *httptest.ResponseRecorder, k *fakeKeys) {
				if want := []RolloverRequest{{Role: "csk"}}; !reflect.DeepEqual(k.rolls, want) {
					t.Errorf("service got %+v, want %+v", k.rolls, want)
				}
			},
		},
		{name: "roll bad role", method: "POST", path: "/v1/zones/mx.example./rollover", body: `{"role":"kzk"}`, wantStatus: 400, wantError: `invalid role "kzk"`},
		{name: "roll bad algorithm", method: "POST", path: "/v1/zones/mx.example./rollover", body: `{"role":"zsk","algorithm":8}`, wantStatus: 400, wantError: "invalid algorithm 8"},
		{name: "roll algorithm too large", method: "POST", path: "/v1/zones/mx.example./rollover", body: `{"algorithm":256}`, wantStatus: 400, wantError: `field "algorithm"`},
		{name: "roll algorithm string", method: "POST", path: "/v1/zones/mx.example./rollover", body: `{"algorithm":"13"}`, wantStatus: 400, wantError: `field "algorithm"`},
		{name: "roll nothing", method: "POST", path: "/v1/zones/mx.example./rollover", body: `{}`, wantStatus: 400, wantError: "say what to roll"},
		{name: "roll no body", method: "POST", path: "/v1/zones/mx.example./rollover", wantStatus: 400, wantError: "empty"},
		{name: "roll unknown field", method: "POST", path: "/v1/zones/mx.example./rollover", body: `{"role":"zsk","urgent":true}`, wantStatus: 400, wantError: `"urgent"`},
		{
			name: "emergency zsk", method: "POST", path: "/v1/zones/mx.example/rollover", body: `{"role":"zsk","now":true}`, wantStatus: 202, wantCalls: []string{"Rollover mx.example."},
			check: func(t *testing.T, rec *httptest.ResponseRecorder, k *fakeKeys) {
				if want := []RolloverRequest{{Role: "zsk", Now: true}}; !reflect.DeepEqual(k.rolls, want) {
					t.Errorf("service got %+v, want %+v", k.rolls, want)
				}
				const want = `"emergency":{"role":"zsk","start":"2026-01-02T00:00:00Z","until":"2026-01-02T01:05:00Z","seconds":3900,` +
					`"causes":["old DNSKEY RRset in caches: propagation-delay 5m + dnskey-ttl 1h = 1h5m"]}`
				if !strings.Contains(rec.Body.String(), want) || !strings.Contains(rec.Body.String(), `"emergency":true`) {
					t.Errorf("body %s lacks the window %s and the marked key", rec.Body, want)
				}
			},
		},
		{
			name: "emergency false is a planned roll", method: "POST", path: "/v1/zones/mx.example/rollover", body: `{"role":"ksk","now":false}`, wantStatus: 202,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, k *fakeKeys) {
				if want := []RolloverRequest{{Role: "ksk"}}; !reflect.DeepEqual(k.rolls, want) || strings.Contains(rec.Body.String(), "emergency") {
					t.Errorf("service got %+v, body %s", k.rolls, rec.Body)
				}
			},
		},
		{name: "emergency without role", method: "POST", path: "/v1/zones/mx.example./rollover", body: `{"now":true}`, wantStatus: 400, wantError: "say what to roll"},
		{name: "emergency algorithm roll", method: "POST", path: "/v1/zones/mx.example./rollover", body: `{"algorithm":15,"now":true}`, wantStatus: 400, wantError: `give a role and no algorithm`},
		{name: "emergency with algorithm", method: "POST", path: "/v1/zones/mx.example./rollover", body: `{"role":"ksk","algorithm":13,"now":true}`, wantStatus: 400, wantError: `emergency rollover ("now")`},
		{name: "emergency now not a bool", method: "POST", path: "/v1/zones/mx.example./rollover", body: `{"role":"zsk","now":"yes"}`, wantStatus: 400, wantError: `field "now"`},
		{name: "emergency unmanaged", method: "POST", path: "/v1/zones/1j2b.mx.example/rollover", body: `{"role":"csk","now":true}`, wantStatus: 409, wantCalls: []string{"Rollover 1j2b.mx.example."}},
		{name: "roll unknown zone", method: "POST", path: "/v1/zones/other.example/rollover", body: `{"role":"zsk"}`, wantStatus: 404, wantError: "zone other.example.", wantCalls: []string{"Rollover other.example."}},
		{
			name: "roll unmanaged", method: "POST", path: "/v1/zones/1j2b.mx.example/rollover", body: `{"role":"csk"}`, wantStatus: 409,
			wantError: "automatic key management is off for 1j2b.mx.example. (no key policy)", wantCalls: []string{"Rollover 1j2b.mx.example."},
		},
		{name: "roll wrong method", method: "GET", path: "/v1/zones/mx.example./rollover", wantStatus: 405, wantHeader: map[string]string{"Allow": "POST"}},
		{
			name: "ds seen", method: "POST", path: "/v1/zones/mx.example/ds-seen", wantStatus: 204, wantCalls: []string{"DSSeen mx.example."},
			check: func(t *testing.T, rec *httptest.ResponseRecorder, k *fakeKeys) {
				if rec.Body.Len() != 0 {
					t.Errorf("204 with body %q", rec.Body)
				}
				if !reflect.DeepEqual(k.dsSeen, []string{"mx.example."}) {
					t.Errorf("recorded %q", k.dsSeen)
				}
			},
		},
		{name: "ds seen empty object", method: "POST", path: "/v1/zones/mx.example./ds-seen", body: ` { } `, wantStatus: 204, wantCalls: []string{"DSSeen mx.example."}},
		{name: "ds seen blank body", method: "POST", path: "/v1/zones/mx.example./ds-seen", body: "\n", wantStatus: 204, wantCalls: []string{"DSSeen mx.example."}},
		{name: "ds seen with a field", method: "POST", path: "/v1/zones/mx.example./ds-seen", body: `{"tag":12345}`, wantStatus: 400, wantError: `"tag"`},
		{name: "ds seen array", method: "POST", path: "/v1/zones/mx.example./ds-seen", body: `[]`, wantStatus: 400, wantError: "JSON object"},
		{name: "ds seen trailing data", method: "POST", path: "/v1/zones/mx.example./ds-seen", body: `{}{}`, wantStatus: 400, wantError: "after the JSON object"},
		{name: "ds seen unknown zone", method: "POST", path: "/v1/zones/other.example/ds-seen", wantStatus: 404, wantError: "zone other.example."},
		{
			name: "ds seen unmanaged", method: "POST", path: "/v1/zones/1j2b.mx.example./ds-seen", wantStatus: 409, wantError: "zone 1j2b.mx.example. has no key policy",
			check: func(t *testing.T, rec *httptest.ResponseRecorder, _ *fakeKeys) {
				if strings.Contains(rec.Body.String(), "already exists") {
					t.Errorf("a key conflict reads as a duplicate: %s", rec.Body)
				}
			},
		},
		{name: "ds seen wrong method", method: "PUT", path: "/v1/zones/mx.example./ds-seen", body: "{}", wantStatus: 405, wantHeader: map[string]string{"Allow": "POST"}},
		{name: "ds route unchanged", method: "GET", path: "/v1/zones/mx.example/ds", wantStatus: 200},
		{name: "unknown key route", method: "GET", path: "/v1/zones/mx.example./keys/12345", wantStatus: 404, wantError: "no such endpoint"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := newFakeKeys()
			h := NewHandler(newFakeService(), Options{Token: testToken, Keys: k})
			rec := request(h, tc.method, tc.path, tc.body, testToken)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tc.wantStatus, rec.Body)
			}
			if rec.Code >= 400 {
				checkError(t, rec, tc.wantError)
				if strings.Contains(rec.Body.String(), "api: ") {
					t.Errorf("package prefix leaked to the client: %s", rec.Body)
				}
			}
			if rec.Code >= 400 && rec.Code != 404 && rec.Code != 409 && len(k.calls) != 0 {
				t.Errorf("a refused request reached the service: %q", k.calls)
			}
			if tc.wantCalls != nil && !reflect.DeepEqual(k.calls, tc.wantCalls) {
				t.Errorf("service calls %q, want %q", k.calls, tc.wantCalls)
			}
			for hk, v := range tc.wantHeader {
				if got := rec.Header().Get(hk); got != v {
					t.Errorf("header %s = %q, want %q", hk, got, v)
				}
			}
			if tc.check != nil {
				tc.check(t, rec, k)
			}
		})
	}
}

func TestKeysDisabled(t *testing.T) {
	h := NewHandler(newFakeService(), Options{Token: testToken})
	tests := []struct{ method, path, body string }{
		{"GET", "/v1/zones/mx.example./keys", ""},
		{"POST", "/v1/zones/mx.example./keys", "{}"},
		{"POST", "/v1/zones/mx.example./rollover", `{"role":"zsk"}`},
		{"GET", "/v1/zones/mx.example./rollover", ""},
		{"POST", "/v1/zones/mx.example/ds-seen", ""},
		{"DELETE", "/v1/zones/mx.example/ds-seen", ""},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			rec := request(h, tc.method, tc.path, tc.body, testToken)
			if rec.Code != 404 {
				t.Fatalf("status = %d, want 404; body %s", rec.Code, rec.Body)
			}
			var e Error
			checkJSON(t, rec, &e)
			if e.Error != "key management is not available on this node" {
				t.Errorf("error %q", e.Error)
			}
		})
	}
	t.Run("ds still served", func(t *testing.T) {
		if rec := request(h, "GET", "/v1/zones/mx.example./ds", "", testToken); rec.Code != 200 {
			t.Errorf("status = %d, want 200", rec.Code)
		}
	})
	t.Run("still needs the token", func(t *testing.T) {
		if rec := request(h, "GET", "/v1/zones/mx.example./keys", "", ""); rec.Code != 401 {
			t.Errorf("status = %d, want 401", rec.Code)
		}
	})
}

func TestKeysForward(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		answer     bool
		wantCalled bool
		wantStatus int
		wantCalls  int // KeyService calls
	}{
		{name: "keys not offered", method: "GET", path: "/v1/zones/mx.example./keys", answer: true, wantStatus: 200, wantCalls: 1},
		{name: "rollover answered", method: "POST", path: "/v1/zones/mx.example./rollover", body: `{"role":"zsk"}`, answer: true, wantCalled: true, wantStatus: 202},
		{name: "ds-seen answered", method: "POST", path: "/v1/zones/mx.example./ds-seen", answer: true, wantCalled: true, wantStatus: 202},
		{name: "invalid rollover answered before checking", method: "POST", path: "/v1/zones/mx.example./rollover", body: `{"role":"x"}`, answer: true, wantCalled: true, wantStatus: 202},
		{name: "rollover declined", method: "POST", path: "/v1/zones/mx.example./rollover", body: `{"role":"zsk"}`, wantCalled: true, wantStatus: 202, wantCalls: 1},
		{name: "ds-seen declined", method: "POST", path: "/v1/zones/mx.example./ds-seen", wantCalled: true, wantStatus: 204, wantCalls: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := newFakeKeys()
			fw := &forwardRecorder{answer: tc.answer}
			h := NewHandler(newFakeService(), Options{Token: testToken, Keys: k, Forward: fw.forward})
			rec := request(h, tc.method, tc.path, tc.body, testToken)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tc.wantStatus, rec.Body)
			}
			if want := []string{tc.method + " " + tc.path}; tc.wantCalled != reflect.DeepEqual(fw.calls, want) {
				t.Errorf("Forward calls %q, want called: %t", fw.calls, tc.wantCalled)
			}
			if tc.answer && tc.wantCalled && (len(fw.bodies) != 1 || fw.bodies[0] != tc.body) {
				t.Errorf("Forward read %q, want %q", fw.bodies, tc.body)
			}
			if len(k.calls) != tc.wantCalls {
				t.Errorf("service calls %q, want %d", k.calls, tc.wantCalls)
			}
		})
	}
}

func TestKeysServiceErrors(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantError  string
		wantLog    bool
	}{
		{name: "invalid", err: fmt.Errorf("%w: the zone's policy forbids algorithm 15", ErrInvalid), wantStatus: 400, wantError: "invalid request: the zone's policy forbids algorithm 15"},
		{name: "not found with reason", err: fmt.Errorf("%w: zone x.mx.example.", ErrNotFound), wantStatus: 404, wantError: "not found: zone x.mx.example."},
		{name: "bare conflict", err: ErrConflict, wantStatus: 409, wantError: "automatic key management is off for mx.example."},
		{name: "wrapped conflict", err: fmt.Errorf("%w: a rollover is already in progress", ErrConflict), wantStatus: 409, wantError: "a rollover is already in progress"},
		{name: "emergency refused", err: fmt.Errorf("%w: keymgr: emergency roll refused: an algorithm rollover is in progress", ErrConflict), wantStatus: 409, wantError: "emergency roll refused: an algorithm rollover is in progress"},
		{name: "conflict inside", err: fmt.Errorf("keymgr: %w", ErrConflict), wantStatus: 409, wantError: "keymgr: api: already exists"},
		{name: "unavailable", err: fmt.Errorf("%w: no leader", ErrUnavailable), wantStatus: 503, wantError: "no leader"},
		{name: "timeout", err: fmt.Errorf("waiting for commit: %w", context.DeadlineExceeded), wantStatus: 504, wantError: "deadline exceeded"},
		{name: "unexpected", err: errors.New("bbolt: disk on fire"), wantStatus: 500, wantError: "mxsign log", wantLog: true},
	}
	paths := []struct{ method, path, body string }{
		{"GET", "/v1/zones/mx.example/keys", ""},
		{"POST", "/v1/zones/mx.example/rollover", `{"role":"zsk"}`},
		{"POST", "/v1/zones/mx.example/rollover", `{"role":"ksk","now":true}`},
		{"POST", "/v1/zones/mx.example/ds-seen", ""},
	}
	for _, tc := range tests {
		for _, p := range paths {
			t.Run(tc.name+" "+p.method+" "+p.path, func(t *testing.T) {
				k := newFakeKeys()
				k.err = tc.err
				var mu sync.Mutex
				var logged []string
				h := NewHandler(newFakeService(), Options{Token: testToken, Keys: k, Logf: func(format string, args ...any) {
					mu.Lock()
					defer mu.Unlock()
					logged = append(logged, fmt.Sprintf(format, args...))
				}})
				rec := request(h, p.method, p.path, p.body, testToken)
				if rec.Code != tc.wantStatus {
					t.Fatalf("status = %d, want %d; body %s", rec.Code, tc.wantStatus, rec.Body)
				}
				checkError(t, rec, tc.wantError)
				if tc.wantLog != (len(logged) == 1) || len(logged) > 1 {
					t.Errorf("logged %q; want a line: %t", logged, tc.wantLog)
				}
				if tc.wantLog && strings.Contains(rec.Body.String(), "disk on fire") {
					t.Errorf("internal error leaked to the client: %s", rec.Body)
				}
			})
		}
	}
}

func TestKeysJSONContract(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{name: "empty detail", v: KeyDetail{ID: "k1", Tag: 1, Algorithm: 13, Role: "zsk", State: "created"}, want: `{"id":"k1","tag":1,"algorithm":13,"role":"zsk","state":"created"}`},
		{
			name: "full detail",
			v: KeyDetail{ID: "k1", Tag: 1, Algorithm: 15, Role: "ksk", State: "retired",
				Created: &t0, Published: &t0, Activated: &t0, Retired: &t1, Removed: &t1,
				DSSubmitted: &t0, DSPublished: &t0, DSWithdrawn: &t1, DSSeen: true, RollRequested: &t1},
			want: `{"id":"k1","tag":1,"algorithm":15,"role":"ksk","state":"retired",` +
				`"created":"2026-01-01T00:00:00Z","published":"2026-01-01T00:00:00Z","activated":"2026-01-01T00:00:00Z",` +
				`"retired":"2026-01-02T00:00:00Z","removed":"2026-01-02T00:00:00Z","dsSubmitted":"2026-01-01T00:00:00Z",` +
				`"dsPublished":"2026-01-01T00:00:00Z","dsWithdrawn":"2026-01-02T00:00:00Z","dsSeen":true,"rollRequested":"2026-01-02T00:00:00Z"}`,
		},
		{name: "unmanaged list", v: KeyList{Zone: "mx.example.", Keys: []KeyDetail{}}, want: `{"zone":"mx.example.","managed":false,"keys":[]}`},
		{
			name: "managed list", v: KeyList{Zone: "mx.example.", Managed: true, Phase: "zsk-roll", Waiting: "ttl", NextStep: &t1, Keys: []KeyDetail{}},
			want: `{"zone":"mx.example.","managed":true,"phase":"zsk-roll","waiting":"ttl","nextStep":"2026-01-02T00:00:00Z","keys":[]}`,
		},
		{name: "rollover role", v: RolloverRequest{Role: "zsk"}, want: `{"role":"zsk"}`},
		{name: "rollover algorithm", v: RolloverRequest{Algorithm: 15}, want: `{"algorithm":15}`},
		{name: "rollover both", v: RolloverRequest{Role: "ksk", Algorithm: 13}, want: `{"role":"ksk","algorithm":13}`},
		{name: "rollover now", v: RolloverRequest{Role: "zsk", Now: true}, want: `{"role":"zsk","now":true}`},
		{name: "compromised key", v: KeyDetail{ID: "k1", Tag: 1, Algorithm: 13, Role: "zsk", State: "removed", RollRequested: &t1, Emergency: true},
			want: `{"id":"k1","tag":1,"algorithm":13,"role":"zsk","state":"removed","rollRequested":"2026-01-02T00:00:00Z","emergency":true}`},
		{
			name: "list in an emergency", v: KeyList{Zone: "mx.example.", Managed: true, Keys: []KeyDetail{}, Emergency: testEmergency("zsk")},
			want: `{"zone":"mx.example.","managed":true,"keys":[],"emergency":{"role":"zsk","start":"2026-01-02T00:00:00Z",` +
				`"until":"2026-01-02T01:05:00Z","seconds":3900,"causes":["old DNSKEY RRset in caches: propagation-delay 5m + dnskey-ttl 1h = 1h5m"]}}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Errorf("got  %s\nwant %s", b, tc.want)
			}
		})
	}
}

func BenchmarkKeys(b *testing.B) {
	h := NewHandler(newFakeService(), Options{Token: testToken, Keys: newFakeKeys()})
	r := httptest.NewRequest("GET", "/v1/zones/mx.example/keys", nil)
	r.Header.Set("Authorization", "Bearer "+testToken)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != 200 {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
