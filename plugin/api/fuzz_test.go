package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzHandler feeds arbitrary methods, paths, queries and bodies to the
// handler with a valid token: it must never panic, every status of 400 or
// more must come with a JSON error body, and Options.Forward must be offered
// the writes and only them. The high bit of the method byte runs the handler
// without a ClusterService, the next one without a KeyService.
func FuzzHandler(f *testing.F) {
	seeds := []struct {
		method byte
		path   string
		body   string
	}{
		{0, "/v1/domains", ""},
		{0, "/v1/domains?limit=5&after=a.com", ""},
		{0, "/v1/domains?limit=-1", ""},
		{1, "/v1/domains", `{"domain":"contoso.com"}`},
		{1, "/v1/domains", `{"domain":"fabrikam.com"}`},
		{1, "/v1/domains", `{"domain":"contoso.com","x":1}`},
		{1, "/v1/domains", `{"domain":"contoso.com"}]`},
		{1, "/v1/domains", `{"domain":null}`},
		{1, "/v1/domains:batch", `{"domains":["a.com","b c",""]}`},
		{1, "/v1/domains:batch", `{"domains":[1,2]}`},
		{1, "/v1/domains:batch", `{"domains":[]}`},
		{0, "/v1/domains/fabrikam.com", ""},
		{2, "/v1/domains/fabrikam.com", ""},
		{2, "/v1/domains/%2F%2E%2E", ""},
		{0, "/v1/zones", ""},
		{0, "/v1/zones/mx.example/ds", ""},
		{0, "/v1/zones//ds", ""},
		{3, "/v1/domains", "{}"},
		{0, "/../v1/zones", ""},
		{0, "/v1/domains:batch", "\x00\xff"},
		{0, "/v1/cluster", ""},
		{0x80, "/v1/cluster", ""},
		{1, "/v1/cluster/join", `{"id":"ns3","raft":"10.0.0.3:7000","api":"10.0.0.3:8053"}`},
		{1, "/v1/cluster/join", `{"id":"ns3","raft":"10.0.0.3:7000","api":"10.0.0.3:8053","voter":false}`},
		{1, "/v1/cluster/join", `{"id":"ns3","raft":"nowhere","api":""}`},
		{1, "/v1/cluster/join", `{"voter":1}`},
		{0x81, "/v1/cluster/join", `{"id":"ns3","raft":"10.0.0.3:7000","api":"10.0.0.3:8053"}`},
		{2, "/v1/cluster/nodes/ns2", ""},
		{2, "/v1/cluster/nodes/%2F", ""},
		{0x82, "/v1/cluster/nodes/ns2", ""},
		{4, "/v1/cluster/nodes/ns2", "{}"},
		{0, "/v1/zones/mx.example./keys", ""},
		{0, "/v1/zones/other.example/keys", ""},
		{0x40, "/v1/zones/mx.example/keys", ""},
		{1, "/v1/zones/mx.example/rollover", `{"role":"zsk"}`},
		{1, "/v1/zones/mx.example/rollover", `{"role":"ksk","algorithm":15}`},
		{1, "/v1/zones/mx.example/rollover", `{"algorithm":300}`},
		{1, "/v1/zones/1j2b.mx.example/rollover", `{"role":"csk"}`},
		{1, "/v1/zones/mx.example/rollover", `{}`},
		{0x41, "/v1/zones/mx.example/rollover", `{"role":"zsk"}`},
		{1, "/v1/zones/mx.example/rollover", `{"role":"zsk","now":true}`},
		{1, "/v1/zones/1j2b.mx.example/rollover", `{"role":"ksk","now":true}`},
		{1, "/v1/zones/mx.example/rollover", `{"role":"csk","algorithm":15,"now":true}`},
		{1, "/v1/zones/mx.example/rollover", `{"now":true}`},
		{1, "/v1/zones/mx.example/rollover", `{"role":"zsk","now":"true"}`},
		{1, "/v1/zones/mx.example/rollover", `{"role":"ksk","now":false}`},
		{0x41, "/v1/zones/mx.example/rollover", `{"role":"zsk","now":true}`},
		{1, "/v1/zones/mx.example/ds-seen", ""},
		{1, "/v1/zones/mx.example/ds-seen", "{}"},
		{1, "/v1/zones/mx.example/ds-seen", `{"x":1}`},
		{1, "/v1/zones/%2E/ds-seen", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, []byte(s.body))
	}
	methods := []string{"GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"}
	f.Fuzz(func(t *testing.T, m byte, target string, body []byte) {
		method := methods[int(m&0x3f)%len(methods)]
		path, query, _ := strings.Cut(target, "?")
		u := &url.URL{Path: "/" + strings.TrimPrefix(path, "/"), RawQuery: query}
		r := httptest.NewRequest("GET", "/", nil)
		r.Method = method
		r.URL = u
		r.RequestURI = u.RequestURI()
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.Header.Set("Authorization", "Bearer "+testToken)

		opts := Options{Token: testToken, MaxBody: 4096, MaxBatch: 10}
		if m&0x80 == 0 {
			opts.Cluster = newFakeCluster()
		}
		if m&0x40 == 0 {
			opts.Keys = newFakeKeys()
		}
		forwarded := false
		opts.Forward = func(http.ResponseWriter, *http.Request) bool {
			forwarded = true
			return false
		}
		h := NewHandler(newFakeService("fabrikam.com"), opts)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)

		if forwarded != isWrite(method) {
			t.Fatalf("%s %s: Forward called: %t", method, u, forwarded)
		}

		if rec.Code < 400 {
			return
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%s %s: status %d with Content-Type %q", method, u, rec.Code, ct)
		}
		var e Error
		dec := json.NewDecoder(rec.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil || e.Error == "" {
			t.Fatalf("%s %s: status %d with body that is no JSON error (%v)", method, u, rec.Code, err)
		}
		if rec.Code == http.StatusInternalServerError {
			t.Fatalf("%s %s: 500: %s", method, u, e.Error)
		}
	})
}
