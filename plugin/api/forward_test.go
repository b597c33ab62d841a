package api

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
)

// forwardRecorder is an Options.Forward that records what it was offered.
type forwardRecorder struct {
	answer bool // whether Forward answers (true) or declines
	calls  []string
	bodies []string
}

func (f *forwardRecorder) forward(w http.ResponseWriter, r *http.Request) bool {
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	if !f.answer {
		return false
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		WriteError(w, http.StatusBadGateway, "forwarding: "+err.Error())
		return true
	}
	f.bodies = append(f.bodies, string(b))
	w.Header().Set("X-Forwarded-To", "ns1")
	w.WriteHeader(http.StatusAccepted)
	return true
}

func TestForward(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		token      string // "" means testToken; "-" sends none
		answer     bool
		wantCalled bool
		wantStatus int
		wantBody   string // what Forward read, when it answers
	}{
		{name: "GET not offered", method: "GET", path: "/v1/domains/fabrikam.com", answer: true, wantStatus: 200},
		{name: "HEAD not offered", method: "HEAD", path: "/v1/zones", answer: true, wantStatus: 200},
		{name: "OPTIONS not offered", method: "OPTIONS", path: "/v1/zones", answer: true, wantStatus: 405},
		{name: "cluster status not offered", method: "GET", path: "/v1/cluster", answer: true, wantStatus: 200},
		{name: "POST answered", method: "POST", path: "/v1/domains", body: `{"domain":"contoso.com"}`, answer: true, wantCalled: true, wantStatus: 202, wantBody: `{"domain":"contoso.com"}`},
		{name: "batch answered", method: "POST", path: "/v1/domains:batch", body: `{"domains":["a.com"]}`, answer: true, wantCalled: true, wantStatus: 202, wantBody: `{"domains":["a.com"]}`},
		{name: "DELETE answered", method: "DELETE", path: "/v1/domains/fabrikam.com", answer: true, wantCalled: true, wantStatus: 202, wantBody: ""},
		{name: "PUT answered before routing", method: "PUT", path: "/v1/domains/fabrikam.com", body: "{}", answer: true, wantCalled: true, wantStatus: 202, wantBody: "{}"},
		{name: "PATCH unknown path answered", method: "PATCH", path: "/v2/nothing", body: "x", answer: true, wantCalled: true, wantStatus: 202, wantBody: "x"},
		{name: "join answered", method: "POST", path: "/v1/cluster/join", body: `{"id":"ns3"}`, answer: true, wantCalled: true, wantStatus: 202, wantBody: `{"id":"ns3"}`},
		{name: "remove answered", method: "DELETE", path: "/v1/cluster/nodes/ns2", answer: true, wantCalled: true, wantStatus: 202},
		{name: "POST declined", method: "POST", path: "/v1/domains", body: `{"domain":"contoso.com"}`, wantCalled: true, wantStatus: 201},
		{name: "DELETE declined", method: "DELETE", path: "/v1/domains/fabrikam.com", wantCalled: true, wantStatus: 204},
		{name: "join declined", method: "POST", path: "/v1/cluster/join", body: `{"id":"ns3","raft":"10.0.0.3:7000","api":"10.0.0.3:8053"}`, wantCalled: true, wantStatus: 204},
		{name: "unauthenticated not offered", method: "POST", path: "/v1/domains", body: `{"domain":"contoso.com"}`, token: "-", answer: true, wantStatus: 401},
		{name: "wrong token not offered", method: "DELETE", path: "/v1/domains/fabrikam.com", token: "guess", answer: true, wantStatus: 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svc := newFakeService("fabrikam.com")
			fw := &forwardRecorder{answer: tc.answer}
			h := NewHandler(svc, Options{Token: testToken, Cluster: newFakeCluster(), Forward: fw.forward})
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
			if called := len(fw.calls) == 1; called != tc.wantCalled || len(fw.calls) > 1 {
				t.Fatalf("Forward calls %q, want called: %t", fw.calls, tc.wantCalled)
			}
			if !tc.wantCalled || !tc.answer {
				return
			}
			if rec.Header().Get("X-Forwarded-To") != "ns1" {
				t.Error("Forward's answer was not sent")
			}
			if len(fw.bodies) != 1 || fw.bodies[0] != tc.wantBody {
				t.Errorf("Forward read %q, want %q", fw.bodies, tc.wantBody)
			}
			if _, ok := svc.domains["contoso.com"]; ok || len(svc.domains) != 1 {
				t.Error("an answered write reached the service")
			}
		})
	}
}

// TestForwardProxy forwards a follower's writes to a leader through
// httputil.ReverseProxy, as the plugin does.
func TestForwardProxy(t *testing.T) {
	leaderSvc := newFakeService()
	leader := httptest.NewServer(NewHandler(leaderSvc, Options{Token: testToken}))
	defer leader.Close()
	target, err := url.Parse(leader.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, err error) {
		WriteError(w, http.StatusBadGateway, "forwarding to the leader: "+err.Error())
	}
	followerSvc := newFakeService()
	follower := httptest.NewServer(NewHandler(followerSvc, Options{
		Token: testToken,
		Forward: func(w http.ResponseWriter, r *http.Request) bool {
			proxy.ServeHTTP(w, r)
			return true
		},
	}))
	defer follower.Close()

	do := func(method, path, body string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, follower.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := follower.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	if resp := do("POST", "/v1/domains", `{"domain":"contoso.com"}`); resp.StatusCode != 201 {
		t.Fatalf("POST through the follower: status %d", resp.StatusCode)
	}
	if _, ok := leaderSvc.domains["contoso.com"]; !ok {
		t.Error("the write did not reach the leader")
	}
	if _, ok := followerSvc.domains["contoso.com"]; ok {
		t.Error("the follower applied the write itself")
	}
	if resp := do("GET", "/v1/domains/contoso.com", ""); resp.StatusCode != 404 {
		t.Errorf("GET through the follower: status %d, want 404 from its own state", resp.StatusCode)
	}
	if resp := do("DELETE", "/v1/domains/contoso.com", ""); resp.StatusCode != 204 {
		t.Errorf("DELETE through the follower: status %d", resp.StatusCode)
	}
}

func TestForwardBodyLimit(t *testing.T) {
	fw := &forwardRecorder{answer: true}
	h := NewHandler(newFakeService(), Options{Token: testToken, MaxBody: 16, Forward: fw.forward})
	rec := request(h, "POST", "/v1/domains", strings.Repeat("x", 17), testToken)
	if rec.Code != http.StatusBadGateway {
		t.Fatalf("status = %d, want 502; body %s", rec.Code, rec.Body)
	}
	checkError(t, rec, "too large")
}

func TestForwardPanic(t *testing.T) {
	var logged []string
	h := NewHandler(newFakeService(), Options{
		Token:   testToken,
		Forward: func(http.ResponseWriter, *http.Request) bool { panic("proxy broke") },
		Logf:    func(format string, args ...any) { logged = append(logged, fmt.Sprintf(format, args...)) },
	})
	rec := request(h, "DELETE", "/v1/domains/a.com", "", testToken)
	if rec.Code != 500 {
		t.Fatalf("status = %d, want 500", rec.Code)
	}
	checkError(t, rec, "mxsign log")
	if len(logged) != 1 || !strings.Contains(logged[0], "proxy broke") {
		t.Errorf("logged %q", logged)
	}
}

func TestWriteError(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteError(rec, http.StatusServiceUnavailable, "no leader")
	if rec.Code != 503 {
		t.Fatalf("status = %d, want 503", rec.Code)
	}
	if rec.Body.String() != "{\"error\":\"no leader\"}\n" {
		t.Errorf("body %q", rec.Body)
	}
	for k, want := range map[string]string{"Content-Type": "application/json", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}
