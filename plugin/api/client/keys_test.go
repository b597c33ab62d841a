package client

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
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

var testTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func testKeyList(zone string) api.KeyList {
	return api.KeyList{
		Zone: zone, Managed: zone == "mx.example.", Phase: "zsk-roll", Waiting: "the DNSKEY TTL", NextStep: &testTime,
		Keys: []api.KeyDetail{{ID: "k1", Tag: 7, Algorithm: 13, Role: "csk", State: "active", Created: &testTime, Published: &testTime, Activated: &testTime}},
	}
}

func (f *fakeKeys) zone(zone string, write bool) error {
	switch {
	case zone == "1j2b.mx.example." && write:
		return fmt.Errorf("%w: zone %s has no key policy", api.ErrConflict, zone)
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
	l := testKeyList(zone)
	l.Keys[0].RollRequested = &testTime
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

// newKeysServer serves the real API handler with a KeyService; forwarded
// records the writes offered to Options.Forward.
func newKeysServer(t testing.TB) (*Client, *fakeKeys, *[]string) {
	t.Helper()
	fk := &fakeKeys{}
	var mu sync.Mutex
	var forwarded []string
	srv := httptest.NewServer(api.NewHandler(&fakeService{domains: map[string]api.Domain{}}, api.Options{
		Token: testToken,
		Keys:  fk,
		Forward: func(_ http.ResponseWriter, r *http.Request) bool {
			mu.Lock()
			defer mu.Unlock()
			forwarded = append(forwarded, r.Method+" "+r.URL.Path)
			return false
		},
	}))
	t.Cleanup(srv.Close)
	return New(srv.URL, testToken), fk, &forwarded
}

func TestClientKeys(t *testing.T) {
	ctx := context.Background()
	c, fk, forwarded := newKeysServer(t)

	t.Run("Keys", func(t *testing.T) {
		for _, zone := range []string{"mx.example", "mx.example."} {
			l, err := c.Keys(ctx, zone)
			if err != nil {
				t.Fatal(err)
			}
			if want := testKeyList("mx.example."); !reflect.DeepEqual(l, want) {
				t.Errorf("%s: got %+v, want %+v", zone, l, want)
			}
		}
		_, err := c.Keys(ctx, "other.example")
		checkStatus(t, err, 404, "zone other.example.")
		_, err = c.Keys(ctx, "a/b?c")
		checkStatus(t, err, 404, "zone a/b?c.")
	})
	t.Run("Rollover", func(t *testing.T) {
		tests := []struct {
			name string
			req  api.RolloverRequest
		}{
			{name: "zsk", req: api.RolloverRequest{Role: "zsk"}},
			{name: "ksk to ed25519", req: api.RolloverRequest{Role: "ksk", Algorithm: 15}},
			{name: "algorithm", req: api.RolloverRequest{Algorithm: 13}},
			{name: "emergency zsk", req: api.RolloverRequest{Role: "zsk", Now: true}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				l, err := c.Rollover(ctx, "mx.example", tc.req)
				if err != nil {
					t.Fatal(err)
				}
				if len(l.Keys) != 1 || l.Keys[0].RollRequested == nil || !l.Keys[0].RollRequested.Equal(testTime) {
					t.Errorf("got %+v, want the list after the request", l)
				}
				if got := fk.rolls[len(fk.rolls)-1]; got != tc.req {
					t.Errorf("service got %+v, want %+v", got, tc.req)
				}
			})
		}
		_, err := c.Rollover(ctx, "mx.example", api.RolloverRequest{Role: "zsk", Algorithm: 8})
		checkStatus(t, err, 400, "invalid algorithm 8")
		_, err = c.Rollover(ctx, "mx.example", api.RolloverRequest{})
		checkStatus(t, err, 400, "say what to roll")
		_, err = c.Rollover(ctx, "1j2b.mx.example", api.RolloverRequest{Role: "csk"})
		checkStatus(t, err, 409, "no key policy")
		_, err = c.Rollover(ctx, "other.example", api.RolloverRequest{Role: "csk"})
		checkStatus(t, err, 404, "zone other.example.")
	})
	t.Run("DSSeen", func(t *testing.T) {
		if err := c.DSSeen(ctx, "mx.example"); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fk.dsSeen, []string{"mx.example."}) {
			t.Errorf("recorded %q", fk.dsSeen)
		}
		checkStatus(t, c.DSSeen(ctx, "1j2b.mx.example."), 409, "no key policy")
		checkStatus(t, c.DSSeen(ctx, "other.example"), 404, "zone other.example.")
	})
	t.Run("writes offered to Forward", func(t *testing.T) {
		for _, p := range *forwarded {
			if p != "POST /v1/zones/mx.example/rollover" && p != "POST /v1/zones/1j2b.mx.example/rollover" &&
				p != "POST /v1/zones/other.example/rollover" && p != "POST /v1/zones/mx.example/ds-seen" &&
				p != "POST /v1/zones/1j2b.mx.example./ds-seen" && p != "POST /v1/zones/other.example/ds-seen" {
				t.Errorf("Forward offered %q", p)
			}
		}
		if len(*forwarded) != 11 {
			t.Errorf("Forward offered %d writes, want 11: %q", len(*forwarded), *forwarded)
		}
	})
}

func TestClientKeysDisabled(t *testing.T) {
	ctx := context.Background()
	srv, _ := newServer(t)
	c := New(srv.URL, testToken)
	_, err := c.Keys(ctx, "mx.example")
	checkStatus(t, err, 404, "key management is not available")
	_, err = c.Rollover(ctx, "mx.example", api.RolloverRequest{Role: "zsk"})
	checkStatus(t, err, 404, "key management is not available")
	checkStatus(t, c.DSSeen(ctx, "mx.example"), 404, "key management is not available")
}
