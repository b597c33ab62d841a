package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
)

const testToken = "s3cret-token"

// request runs one request through h with the given bearer token ("" for
// none).
func request(h http.Handler, method, path, body, token string) *httptest.ResponseRecorder {
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, path, nil)
	} else {
		r = httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// checkJSON asserts a JSON Content-Type and decodes the body strictly into v.
func checkJSON(t *testing.T, rec *httptest.ResponseRecorder, v any) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q, want application/json; body %q", ct, rec.Body)
	}
	dec := json.NewDecoder(strings.NewReader(rec.Body.String()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decoding %q: %v", rec.Body, err)
	}
}

// checkError asserts a JSON error body whose message contains want.
func checkError(t *testing.T, rec *httptest.ResponseRecorder, want string) {
	t.Helper()
	var e Error
	checkJSON(t, rec, &e)
	if e.Error == "" {
		t.Fatalf("empty error message in %q", rec.Body)
	}
	if !strings.Contains(e.Error, want) {
		t.Errorf("error %q does not contain %q", e.Error, want)
	}
}

func TestHandler(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		token      string // defaults to testToken; "-" sends none
		wantStatus int
		wantError  string // substring of the error message when status >= 400
		wantHeader map[string]string
		check      func(t *testing.T, rec *httptest.ResponseRecorder, svc *fakeService)
	}{
		{
			name: "add", method: "POST", path: "/v1/domains", body: `{"domain":"contoso.com"}`,
			wantStatus: 201,
			wantHeader: map[string]string{"Location": "/v1/domains/contoso.com"},
			check: func(t *testing.T, rec *httptest.ResponseRecorder, svc *fakeService) {
				var d Domain
				checkJSON(t, rec, &d)
				if want := fakeDomain("contoso.com"); !reflect.DeepEqual(d, want) {
					t.Errorf("got %+v, want %+v", d, want)
				}
				if _, ok := svc.domains["contoso.com"]; !ok {
					t.Error("domain not added to the service")
				}
			},
		},
		{name: "add existing", method: "POST", path: "/v1/domains", body: `{"domain":"fabrikam.com"}`, wantStatus: 409, wantError: "already exists"},
		{name: "add invalid name", method: "POST", path: "/v1/domains", body: `{"domain":"no dots"}`, wantStatus: 400, wantError: "not a domain name"},
		{name: "add empty domain", method: "POST", path: "/v1/domains", body: `{"domain":""}`, wantStatus: 400, wantError: `"domain" is required`},
		{name: "add empty object", method: "POST", path: "/v1/domains", body: `{}`, wantStatus: 400, wantError: `"domain" is required`},
		{name: "add no body", method: "POST", path: "/v1/domains", wantStatus: 400, wantError: "empty"},
		{name: "add not JSON", method: "POST", path: "/v1/domains", body: `domain=contoso.com`, wantStatus: 400, wantError: "JSON object"},
		{name: "add bad JSON", method: "POST", path: "/v1/domains", body: `{"domain":`, wantStatus: 400, wantError: "JSON"},
		{name: "add syntax error", method: "POST", path: "/v1/domains", body: `{"domain" "x"}`, wantStatus: 400, wantError: "not valid JSON"},
		{name: "add array", method: "POST", path: "/v1/domains", body: `["contoso.com"]`, wantStatus: 400, wantError: "JSON object"},
		{name: "add null", method: "POST", path: "/v1/domains", body: `null`, wantStatus: 400, wantError: "JSON object"},
		{name: "add unknown field", method: "POST", path: "/v1/domains", body: `{"domain":"contoso.com","shard":"x"}`, wantStatus: 400, wantError: `"shard"`},
		{name: "add wrong type", method: "POST", path: "/v1/domains", body: `{"domain":42}`, wantStatus: 400, wantError: `"domain"`},
		{name: "add trailing garbage", method: "POST", path: "/v1/domains", body: `{"domain":"contoso.com"} x`, wantStatus: 400, wantError: "after the JSON object"},
		{name: "add two objects", method: "POST", path: "/v1/domains", body: `{"domain":"a.com"}{"domain":"b.com"}`, wantStatus: 400, wantError: "after the JSON object"},
		{name: "add trailing newline", method: "POST", path: "/v1/domains", body: "{\"domain\":\"contoso.com\"}\n", wantStatus: 201},
		{
			name: "add oversize", method: "POST", path: "/v1/domains",
			body:       `{"domain":"` + strings.Repeat("a", DefaultMaxBody) + `"}`,
			wantStatus: 413, wantError: "too large",
		},
		{
			name: "batch", method: "POST", path: "/v1/domains:batch", body: `{"domains":["contoso.com","fabrikam.com","bad name"]}`,
			wantStatus: 200,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, svc *fakeService) {
				var resp BatchResponse
				checkJSON(t, rec, &resp)
				var got []string
				for _, it := range resp.Results {
					got = append(got, fmt.Sprintf("%s %d %t %q", it.Domain, it.Status, it.Result != nil, it.Error))
				}
				want := []string{
					`contoso.com 201 true ""`,
					`fabrikam.com 409 false "already exists"`,
					`bad name 400 false "bad name: not a domain name"`,
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("results\n got %q\nwant %q", got, want)
				}
			},
		},
		{name: "batch empty list", method: "POST", path: "/v1/domains:batch", body: `{"domains":[]}`, wantStatus: 400, wantError: "at least one"},
		{name: "batch no list", method: "POST", path: "/v1/domains:batch", body: `{}`, wantStatus: 400, wantError: "at least one"},
		{name: "batch too many", method: "POST", path: "/v1/domains:batch", body: batchBody(DefaultMaxBatch + 1), wantStatus: 400, wantError: "too many domains: 1001"},
		{name: "batch at limit", method: "POST", path: "/v1/domains:batch", body: batchBody(DefaultMaxBatch), wantStatus: 200},
		{name: "batch unknown field", method: "POST", path: "/v1/domains:batch", body: `{"domain":"a.com"}`, wantStatus: 400, wantError: `"domain"`},
		{name: "batch wrong type", method: "POST", path: "/v1/domains:batch", body: `{"domains":"a.com"}`, wantStatus: 400, wantError: `"domains"`},
		{
			name: "batch is not a domain", method: "GET", path: "/v1/domains:batch",
			wantStatus: 405, wantError: "GET not allowed", wantHeader: map[string]string{"Allow": "POST"},
		},
		{
			name: "get", method: "GET", path: "/v1/domains/fabrikam.com", wantStatus: 200,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, _ *fakeService) {
				var d Domain
				checkJSON(t, rec, &d)
				if want := fakeDomain("fabrikam.com"); !reflect.DeepEqual(d, want) {
					t.Errorf("got %+v, want %+v", d, want)
				}
			},
		},
		{name: "get unknown", method: "GET", path: "/v1/domains/contoso.com", wantStatus: 404, wantError: "not found: domain contoso.com"},
		{name: "get escaped slash", method: "GET", path: "/v1/domains/a%2Fb.com", wantStatus: 404, wantError: "a/b.com"},
		{name: "get extra segment", method: "GET", path: "/v1/domains/fabrikam.com/x", wantStatus: 404, wantError: "no such endpoint"},
		{
			name: "delete", method: "DELETE", path: "/v1/domains/fabrikam.com", wantStatus: 204,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, svc *fakeService) {
				if rec.Body.Len() != 0 {
					t.Errorf("204 with body %q", rec.Body)
				}
				if _, ok := svc.domains["fabrikam.com"]; ok {
					t.Error("domain still present")
				}
			},
		},
		{name: "delete unknown", method: "DELETE", path: "/v1/domains/contoso.com", wantStatus: 404, wantError: "not found"},
		{name: "domain wrong method", method: "PUT", path: "/v1/domains/fabrikam.com", wantStatus: 405, wantHeader: map[string]string{"Allow": "DELETE, GET, HEAD"}},
		{
			name: "list", method: "GET", path: "/v1/domains", wantStatus: 200,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, svc *fakeService) {
				var l DomainList
				checkJSON(t, rec, &l)
				if len(l.Domains) != 3 || l.Next != "" {
					t.Errorf("got %d domains, next %q; want 3 and none", len(l.Domains), l.Next)
				}
				if svc.lastLimit != DefaultListLimit || svc.lastAfter != "" {
					t.Errorf("service got after=%q limit=%d", svc.lastAfter, svc.lastLimit)
				}
			},
		},
		{
			name: "list page", method: "GET", path: "/v1/domains?limit=1&after=a.example", wantStatus: 200,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, svc *fakeService) {
				var l DomainList
				checkJSON(t, rec, &l)
				if len(l.Domains) != 1 || l.Domains[0].Domain != "fabrikam.com" || l.Next != "fabrikam.com" {
					t.Errorf("got %+v", l)
				}
				if svc.lastLimit != 1 || svc.lastAfter != "a.example" {
					t.Errorf("service got after=%q limit=%d", svc.lastAfter, svc.lastLimit)
				}
			},
		},
		{name: "list max limit", method: "GET", path: "/v1/domains?limit=1000", wantStatus: 200},
		{name: "list limit zero", method: "GET", path: "/v1/domains?limit=0", wantStatus: 400, wantError: "invalid limit"},
		{name: "list limit too big", method: "GET", path: "/v1/domains?limit=1001", wantStatus: 400, wantError: "1 to 1000"},
		{name: "list limit not a number", method: "GET", path: "/v1/domains?limit=ten", wantStatus: 400, wantError: `"ten"`},
		{name: "domains wrong method", method: "PATCH", path: "/v1/domains", wantStatus: 405, wantHeader: map[string]string{"Allow": "GET, HEAD, POST"}},
		{
			name: "zones", method: "GET", path: "/v1/zones", wantStatus: 200,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, svc *fakeService) {
				var z ZoneList
				checkJSON(t, rec, &z)
				if len(z.Zones) != 2 || z.Zones[0].Name != "mx.example." || z.Zones[0].Keys[0].Tag != 12345 {
					t.Errorf("got %+v", z)
				}
				if !strings.Contains(rec.Body.String(), `"keys":[]`) {
					t.Errorf("nil keys not encoded as []: %s", rec.Body)
				}
			},
		},
		{name: "zones wrong method", method: "POST", path: "/v1/zones", wantStatus: 405},
		{
			name: "ds", method: "GET", path: "/v1/zones/mx.example./ds", wantStatus: 200,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, svc *fakeService) {
				var l DSList
				checkJSON(t, rec, &l)
				if len(l.DS) != 1 || !strings.Contains(l.DS[0], "12345 13 2") {
					t.Errorf("got %+v", l)
				}
			},
		},
		{
			name: "ds without trailing dot", method: "GET", path: "/v1/zones/mx.example/ds", wantStatus: 200,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, svc *fakeService) {
				if svc.lastZone != "mx.example." {
					t.Errorf("service got zone %q, want mx.example.", svc.lastZone)
				}
			},
		},
		{name: "ds unknown zone", method: "GET", path: "/v1/zones/nope.example/ds", wantStatus: 404, wantError: "nope.example."},
		{name: "ds wrong method", method: "DELETE", path: "/v1/zones/mx.example/ds", wantStatus: 405},
		{name: "unknown path", method: "GET", path: "/v2/domains", wantStatus: 404, wantError: "no such endpoint: /v2/domains"},
		{name: "root", method: "GET", path: "/", wantStatus: 404},
		{name: "no token", method: "GET", path: "/v1/zones", token: "-", wantStatus: 401, wantError: "missing bearer token", wantHeader: map[string]string{"WWW-Authenticate": "Bearer"}},
		{name: "wrong token", method: "GET", path: "/v1/zones", token: "guess", wantStatus: 401, wantError: "invalid bearer token", wantHeader: map[string]string{"WWW-Authenticate": "Bearer"}},
		{name: "token prefix", method: "GET", path: "/v1/zones", token: testToken[:4], wantStatus: 401},
		{name: "no token unknown path", method: "GET", path: "/nope", token: "-", wantStatus: 401},
		{name: "no token add", method: "POST", path: "/v1/domains", body: `{"domain":"contoso.com"}`, token: "-", wantStatus: 401,
			check: func(t *testing.T, _ *httptest.ResponseRecorder, svc *fakeService) {
				if len(svc.domains) != 3 {
					t.Error("unauthenticated request reached the service")
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svc := newFakeService("fabrikam.com", "northwind.example", "tailspin.example")
			h := NewHandler(svc, Options{Token: testToken})
			token := tc.token
			switch token {
			case "":
				token = testToken
			case "-":
				token = ""
			}
			rec := request(h, tc.method, tc.path, tc.body, token)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tc.wantStatus, rec.Body)
			}
			if rec.Code >= 400 {
				checkError(t, rec, tc.wantError)
			}
			for k, v := range tc.wantHeader {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if tc.check != nil {
				tc.check(t, rec, svc)
			}
		})
	}
}

func batchBody(n int) string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("d%d.example", i)
	}
	b, _ := json.Marshal(BatchRequest{Domains: names})
	return string(b)
}

func TestHandlerAuthScheme(t *testing.T) {
	h := NewHandler(newFakeService(), Options{Token: testToken})
	tests := []struct {
		name   string
		header string
		want   int
	}{
		{name: "bearer", header: "Bearer " + testToken, want: 200},
		{name: "lower-case scheme", header: "bearer " + testToken, want: 200},
		{name: "basic", header: "Basic " + testToken, want: 401},
		{name: "no scheme", header: testToken, want: 401},
		{name: "empty token", header: "Bearer ", want: 401},
		{name: "token with suffix", header: "Bearer " + testToken + "x", want: 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/v1/zones", nil)
			r.Header.Set("Authorization", tc.header)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != tc.want {
				t.Errorf("status = %d, want %d", rec.Code, tc.want)
			}
		})
	}
}

func TestHandlerServiceErrors(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		panicWith  string
		wantStatus int
		wantError  string
		wantLog    string
	}{
		{name: "invalid", err: fmt.Errorf("%w: label too long", ErrInvalid), wantStatus: 400, wantError: "invalid request: label too long"},
		{name: "conflict", err: ErrConflict, wantStatus: 409, wantError: "already exists"},
		{name: "unavailable", err: fmt.Errorf("%w: no leader", ErrUnavailable), wantStatus: 503, wantError: "no leader"},
		{name: "unexpected", err: errors.New("bbolt: disk on fire"), wantStatus: 500, wantError: "mxsign log", wantLog: "disk on fire"},
		{name: "panic", panicWith: "boom", wantStatus: 500, wantError: "mxsign log", wantLog: "panic: boom"},
	}
	paths := []struct{ method, path, body string }{
		{"POST", "/v1/domains", `{"domain":"contoso.com"}`},
		{"POST", "/v1/domains:batch", `{"domains":["contoso.com"]}`},
		{"GET", "/v1/domains", ""},
		{"GET", "/v1/domains/contoso.com", ""},
		{"DELETE", "/v1/domains/contoso.com", ""},
		{"GET", "/v1/zones", ""},
		{"GET", "/v1/zones/mx.example/ds", ""},
	}
	for _, tc := range tests {
		for _, p := range paths {
			t.Run(tc.name+" "+p.method+" "+p.path, func(t *testing.T) {
				svc := newFakeService()
				svc.err, svc.panicWith = tc.err, tc.panicWith
				var mu sync.Mutex
				var logged []string
				h := NewHandler(svc, Options{Token: testToken, Logf: func(format string, args ...any) {
					mu.Lock()
					defer mu.Unlock()
					logged = append(logged, fmt.Sprintf(format, args...))
				}})
				rec := request(h, p.method, p.path, p.body, testToken)
				if rec.Code != tc.wantStatus {
					t.Fatalf("status = %d, want %d; body %s", rec.Code, tc.wantStatus, rec.Body)
				}
				checkError(t, rec, tc.wantError)
				if strings.Contains(rec.Body.String(), "api: ") {
					t.Errorf("package prefix leaked to the client: %s", rec.Body)
				}
				if tc.wantLog == "" {
					if len(logged) != 0 {
						t.Errorf("logged %q for an expected error", logged)
					}
					return
				}
				if len(logged) != 1 || !strings.Contains(logged[0], tc.wantLog) {
					t.Errorf("logged %q, want one line containing %q", logged, tc.wantLog)
				}
				if strings.Contains(rec.Body.String(), tc.wantLog) {
					t.Errorf("internal error leaked to the client: %s", rec.Body)
				}
			})
		}
	}
}

// badService returns results that break the Service contract.
type badService struct {
	*fakeService
	items []BatchItem
}

func (b *badService) AddDomains(_ context.Context, _ []string) ([]BatchItem, error) {
	return b.items, nil
}

func TestHandlerServiceContract(t *testing.T) {
	tests := []struct {
		name       string
		items      []BatchItem
		path, body string
		wantStatus int
	}{
		{name: "no result", items: nil, path: "/v1/domains", body: `{"domain":"a.com"}`, wantStatus: 500},
		{name: "created without result", items: []BatchItem{{Status: 201}}, path: "/v1/domains", body: `{"domain":"a.com"}`, wantStatus: 500},
		{name: "nonsense status", items: []BatchItem{{Status: 42}}, path: "/v1/domains", body: `{"domain":"a.com"}`, wantStatus: 500},
		{name: "error without message", items: []BatchItem{{Status: 409}}, path: "/v1/domains", body: `{"domain":"a.com"}`, wantStatus: 409},
		{name: "batch count mismatch", items: []BatchItem{{Status: 409}}, path: "/v1/domains:batch", body: `{"domains":["a.com","b.com"]}`, wantStatus: 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHandler(&badService{fakeService: newFakeService(), items: tc.items}, Options{Token: testToken})
			rec := request(h, "POST", tc.path, tc.body, testToken)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tc.wantStatus, rec.Body)
			}
			checkError(t, rec, "")
		})
	}
}

func TestHandlerOptions(t *testing.T) {
	t.Run("no token refuses everything", func(t *testing.T) {
		h := NewHandler(newFakeService(), Options{})
		for _, tok := range []string{"", "x"} {
			rec := request(h, "GET", "/v1/zones", "", tok)
			if rec.Code != 500 {
				t.Fatalf("token %q: status = %d, want 500", tok, rec.Code)
			}
			checkError(t, rec, "no API token")
		}
	})
	t.Run("max body", func(t *testing.T) {
		h := NewHandler(newFakeService(), Options{Token: testToken, MaxBody: 64})
		rec := request(h, "POST", "/v1/domains:batch", batchBody(10), testToken)
		if rec.Code != 413 {
			t.Fatalf("status = %d, want 413", rec.Code)
		}
		checkError(t, rec, "64 bytes")
	})
	t.Run("max batch", func(t *testing.T) {
		h := NewHandler(newFakeService(), Options{Token: testToken, MaxBatch: 2})
		if rec := request(h, "POST", "/v1/domains:batch", batchBody(2), testToken); rec.Code != 200 {
			t.Fatalf("2 domains: status = %d, want 200", rec.Code)
		}
		rec := request(h, "POST", "/v1/domains:batch", batchBody(3), testToken)
		if rec.Code != 400 {
			t.Fatalf("3 domains: status = %d, want 400", rec.Code)
		}
		checkError(t, rec, "at most 2")
	})
}

// TestJSONContract pins the field names that clients outside the project
// rely on.
func TestJSONContract(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{
			name: "domain",
			v:    Domain{Domain: "contoso.com", MailExchange: "h.", Shard: "s.", Records: []Record{{Name: "h.", Type: "A", TTL: 300, Data: "192.0.2.1"}}},
			want: `{"domain":"contoso.com","mailExchange":"h.","shard":"s.","records":[{"name":"h.","type":"A","ttl":300,"data":"192.0.2.1"}]}`,
		},
		{name: "list", v: DomainList{Domains: []Domain{}, Next: "a.com"}, want: `{"domains":[],"next":"a.com"}`},
		{name: "list last page", v: DomainList{Domains: []Domain{}}, want: `{"domains":[]}`},
		{name: "batch request", v: BatchRequest{Domains: []string{"a.com"}}, want: `{"domains":["a.com"]}`},
		{
			name: "batch response",
			v:    BatchResponse{Results: []BatchItem{{Domain: "a.com", Status: 409, Error: "already exists"}, {Domain: "contoso.com", Status: 201, Result: &Domain{Domain: "contoso.com"}}}},
			want: `{"results":[{"domain":"a.com","status":409,"error":"already exists"},{"domain":"contoso.com","status":201,"result":{"domain":"contoso.com","mailExchange":"","shard":"","records":null}}]}`,
		},
		{
			name: "zones",
			v:    ZoneList{Zones: []Zone{{Name: "mx.example.", Kind: "parent", Hosts: 2, Serial: 9, Keys: []KeyInfo{{Tag: 1, Algorithm: 13, Role: "ksk", State: "active"}}}}},
			want: `{"zones":[{"name":"mx.example.","kind":"parent","hosts":2,"serial":9,"keys":[{"tag":1,"algorithm":13,"role":"ksk","state":"active"}]}]}`,
		},
		{name: "ds", v: DSList{DS: []string{"x"}}, want: `{"ds":["x"]}`},
		{name: "error", v: Error{Error: "nope"}, want: `{"error":"nope"}`},
		{name: "add request", v: AddRequest{Domain: "contoso.com"}, want: `{"domain":"contoso.com"}`},
		{
			name: "cluster status",
			v:    ClusterStatus{Leader: "ns1", Nodes: []ClusterNode{{ID: "ns1", Raft: "10.0.0.1:7000", API: "10.0.0.1:8053", State: "leader", Voter: true, Applied: 42}}},
			want: `{"leader":"ns1","nodes":[{"id":"ns1","raft":"10.0.0.1:7000","api":"10.0.0.1:8053","state":"leader","voter":true,"applied":42}]}`,
		},
		{name: "join request", v: JoinRequest{ID: "ns2", Raft: "10.0.0.2:7000", API: "10.0.0.2:8053"}, want: `{"id":"ns2","raft":"10.0.0.2:7000","api":"10.0.0.2:8053"}`},
		{name: "join request nonvoter", v: JoinRequest{ID: "ns2", Raft: "r:1", API: "a:2", Voter: new(false)}, want: `{"id":"ns2","raft":"r:1","api":"a:2","voter":false}`},
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

func BenchmarkGetDomain(b *testing.B) {
	h := NewHandler(newFakeService("contoso.com"), Options{Token: testToken})
	r := httptest.NewRequest("GET", "/v1/domains/contoso.com", nil)
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

func BenchmarkBatch(b *testing.B) {
	body := batchBody(DefaultMaxBatch)
	b.ReportAllocs()
	for b.Loop() {
		h := NewHandler(newFakeService(), Options{Token: testToken})
		rec := request(h, "POST", "/v1/domains:batch", body, testToken)
		if rec.Code != 200 {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
