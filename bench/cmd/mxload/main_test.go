package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// fakeAPI answers the batch endpoint like mxsign's admin API; domains that
// start with "bad" fail.
func fakeAPI(t *testing.T, token string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/domains:batch" {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		var req batchRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Domains) > maxBatch {
			http.Error(w, `{"error":"bad request"}`, http.StatusBadRequest)
			return
		}
		var resp batchResponse
		for _, d := range req.Domains {
			if strings.HasPrefix(d, "bad") {
				resp.Results = append(resp.Results, batchItem{Domain: d, Status: json.RawMessage(`400`), Error: "invalid domain"})
				continue
			}
			host := strings.ReplaceAll(d, ".", "-") + ".1j2b.mx.example."
			resp.Results = append(resp.Results, batchItem{Domain: d, Status: json.RawMessage(`201`), Result: &domainResult{Domain: d, MailExchange: host, Shard: "1j2b.mx.example."}})
		}
		_ = json.NewEncoder(w).Encode(resp)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestLoad(t *testing.T) {
	var many []string
	for i := range 2500 {
		many = append(many, fmt.Sprintf("d%d.com", i))
	}
	tests := []struct {
		name       string
		token      string
		domains    []string
		size       int
		parallel   int
		wantHosts  int
		wantFailed int
		wantErr    error
	}{
		{name: "one batch", token: "t", domains: []string{"contoso.com", "fabrikam.net"}, size: 1000, parallel: 1, wantHosts: 2},
		{name: "several batches in parallel", token: "t", domains: many, size: 1000, parallel: 3, wantHosts: 2500},
		{name: "some fail", token: "t", domains: []string{"ok.com", "bad.com", "ok2.com"}, size: 2, parallel: 2, wantHosts: 2, wantFailed: 1},
		{name: "wrong token", token: "nope", domains: []string{"ok.com"}, size: 10, parallel: 1, wantErr: errStatus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakeAPI(t, "t")
			c := &client{base: srv.URL, token: tt.token, http: srv.Client()}
			hosts, failed, err := c.load(context.Background(), tt.domains, tt.size, tt.parallel)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if len(hosts) != tt.wantHosts || len(failed) != tt.wantFailed {
				t.Fatalf("%d hosts, %d failed (%q); want %d, %d", len(hosts), len(failed), failed, tt.wantHosts, tt.wantFailed)
			}
			if tt.wantErr == nil && tt.wantFailed == 0 {
				var want []string
				for _, d := range tt.domains {
					want = append(want, strings.ReplaceAll(d, ".", "-")+".1j2b.mx.example.")
				}
				if !slices.Equal(hosts, want) {
					t.Error("hosts are not in input order")
				}
			}
		})
	}
}
