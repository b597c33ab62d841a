package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mxsign/mxsign/plugin/api"
)

const testToken = "0123456789abcdef"

// fakeService is an in-memory api.Service.
type fakeService struct {
	mu      sync.Mutex
	domains map[string]api.Domain
	batches []int // sizes of the AddDomains calls
}

func fakeDomain(name string) api.Domain {
	host := strings.ReplaceAll(name, ".", "-") + ".1j2b.mx.example."
	return api.Domain{
		Domain: name, MailExchange: host, Shard: "1j2b.mx.example.",
		Records: []api.Record{
			{Name: host, Type: "A", TTL: 300, Data: "192.0.2.25"},
			{Name: "_25._tcp." + host, Type: "TLSA", TTL: 300, Data: "3 1 1 ABCD"},
			{Name: name + ".", Type: "MX", TTL: 3600, Data: "10 " + host},
		},
	}
}

func (f *fakeService) AddDomains(_ context.Context, domains []string) ([]api.BatchItem, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches = append(f.batches, len(domains))
	items := make([]api.BatchItem, len(domains))
	for i, d := range domains {
		items[i].Domain = d
		if _, ok := f.domains[d]; ok {
			items[i].Status, items[i].Error = 409, "already exists"
			continue
		}
		if !strings.Contains(d, ".") {
			items[i].Status, items[i].Error = 400, "not a domain name"
			continue
		}
		dom := fakeDomain(d)
		f.domains[d] = dom
		items[i].Status, items[i].Result = 201, &dom
	}
	return items, nil
}

func (f *fakeService) GetDomain(_ context.Context, domain string) (api.Domain, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.domains[domain]
	if !ok {
		return api.Domain{}, fmt.Errorf("%w: domain %s", api.ErrNotFound, domain)
	}
	return d, nil
}

func (f *fakeService) ListDomains(_ context.Context, after string, limit int) (api.DomainList, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var names []string
	for n := range f.domains {
		if n > after {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var l api.DomainList
	for i, n := range names {
		if i == limit {
			l.Next = names[i-1]
			break
		}
		l.Domains = append(l.Domains, f.domains[n])
	}
	return l, nil
}

func (f *fakeService) DeleteDomain(_ context.Context, domain string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.domains[domain]; !ok {
		return fmt.Errorf("%w: domain %s", api.ErrNotFound, domain)
	}
	delete(f.domains, domain)
	return nil
}

func (f *fakeService) Zones(context.Context) (api.ZoneList, error) {
	return api.ZoneList{Zones: []api.Zone{
		{Name: "mx.example.", Kind: "parent", Hosts: 0, Serial: 2026010101, Keys: []api.KeyInfo{
			{Tag: 12345, Algorithm: 13, Role: "ksk", State: "active"},
			{Tag: 54321, Algorithm: 13, Role: "zsk", State: "active"},
		}},
		{Name: "1j2b.mx.example.", Kind: "shard", Hosts: 3, Serial: 7, Keys: []api.KeyInfo{{Tag: 1111, Algorithm: 13, Role: "csk", State: "active"}}},
	}}, nil
}

var testDS = []string{
	"mx.example.\t86400\tIN\tDS\t12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
	"mx.example.\t86400\tIN\tDS\t23456 13 2 FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210",
}

func (f *fakeService) DS(_ context.Context, zone string) (api.DSList, error) {
	if zone != "mx.example." {
		return api.DSList{}, fmt.Errorf("%w: zone %s", api.ErrNotFound, zone)
	}
	return api.DSList{DS: testDS}, nil
}

// newServer serves the real API handler over a fake service holding
// domains.
func newServer(t *testing.T, domains ...string) (*httptest.Server, *fakeService) {
	t.Helper()
	svc := &fakeService{domains: map[string]api.Domain{}}
	for _, d := range domains {
		svc.domains[d] = fakeDomain(d)
	}
	srv := httptest.NewServer(api.NewHandler(svc, api.Options{Token: testToken}))
	t.Cleanup(srv.Close)
	return srv, svc
}

type result struct {
	code           int
	stdout, stderr string
}

// invocation describes one mxctl run.
type invocation struct {
	dir   string            // working directory for relative paths
	env   map[string]string // environment
	stdin string
	args  []string
}

func (in invocation) run() result {
	var stdout, stderr bytes.Buffer
	c := &cli{
		stdin:  strings.NewReader(in.stdin),
		stdout: &stdout,
		stderr: &stderr,
		env:    func(k string) string { return in.env[k] },
		dir:    in.dir,
	}
	code := c.run(in.args)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// domainText is what mxctl prints for fakeDomain(name).
func domainText(name string) string {
	var b strings.Builder
	d := fakeDomain(name)
	fmt.Fprintf(&b, "%s -> %s\n", d.Domain, d.MailExchange)
	for _, r := range d.Records {
		fmt.Fprintf(&b, "%s\t%d\tIN\t%s\t%s\n", r.Name, r.TTL, r.Type, r.Data)
	}
	return b.String()
}

func TestCommands(t *testing.T) {
	importFile := "contoso.com\n# a comment\n\n  tailspin.example  # trailing comment\nfabrikam.com\nnodots\n"
	tests := []struct {
		name       string
		args       []string // after --api URL --token testToken
		stdin      string
		files      map[string]string // created in the working directory
		wantCode   int
		wantStdout string // exact, unless empty
		stdoutHas  []string
		wantStderr string // exact, unless empty
		stderrHas  []string
		check      func(t *testing.T, svc *fakeService, stdout string)
	}{
		{
			name: "domain add", args: []string{"domain", "add", "contoso.com"},
			wantStdout: domainText("contoso.com"),
			check: func(t *testing.T, svc *fakeService, _ string) {
				if _, ok := svc.domains["contoso.com"]; !ok {
					t.Error("not added")
				}
			},
		},
		{
			name: "domain add several", args: []string{"domain", "add", "contoso.com", "tailspin.example"},
			wantStdout: domainText("contoso.com") + "\n" + domainText("tailspin.example"),
		},
		{
			name: "domain add existing", args: []string{"domain", "add", "fabrikam.com"},
			wantCode: 1, wantStderr: "mxctl: fabrikam.com: already exists (409)\n",
		},
		{
			name: "domain add goes on after a failure", args: []string{"domain", "add", "fabrikam.com", "contoso.com"},
			wantCode: 1, wantStdout: domainText("contoso.com"), wantStderr: "mxctl: fabrikam.com: already exists (409)\n",
		},
		{
			name: "domain add with flag after", args: []string{"domain", "add", "contoso.com", "--json"},
			check: func(t *testing.T, _ *fakeService, stdout string) {
				var d api.Domain
				if err := json.Unmarshal([]byte(stdout), &d); err != nil || !reflect.DeepEqual(d, fakeDomain("contoso.com")) {
					t.Errorf("got %+v, %v from %q", d, err, stdout)
				}
			},
		},
		{
			name: "domain add after --", args: []string{"domain", "add", "--", "-x.example", "--json"},
			wantCode: 1, stdoutHas: []string{"-x.example -> "}, wantStderr: "mxctl: --json: not a domain name (400)\n",
		},
		{name: "domain add nothing", args: []string{"domain", "add"}, wantCode: 2, stderrHas: []string{"at least one DOMAIN"}},
		{name: "domain get", args: []string{"domain", "get", "fabrikam.com"}, wantStdout: domainText("fabrikam.com")},
		{name: "domain get unknown", args: []string{"domain", "get", "nope.example"}, wantCode: 1, wantStderr: "mxctl: not found: domain nope.example (404)\n"},
		{name: "domain get two", args: []string{"domain", "get", "a.com", "b.com"}, wantCode: 2},
		{
			name: "domain list", args: []string{"domain", "list"},
			wantStdout: "DOMAIN             MAIL EXCHANGE                       SHARD\n" +
				"fabrikam.com       fabrikam-com.1j2b.mx.example.       1j2b.mx.example.\n" +
				"northwind.example  northwind-example.1j2b.mx.example.  1j2b.mx.example.\n",
		},
		{
			name: "domain list page", args: []string{"domain", "list", "--limit", "1"},
			stdoutHas: []string{"fabrikam.com"}, wantStderr: "mxctl: more domains follow: use --after fabrikam.com, or --all\n",
			check: func(t *testing.T, _ *fakeService, stdout string) {
				if strings.Contains(stdout, "northwind") {
					t.Errorf("more than one domain: %q", stdout)
				}
			},
		},
		{name: "domain list after", args: []string{"domain", "list", "--after", "fabrikam.com"}, stdoutHas: []string{"northwind.example"},
			check: func(t *testing.T, _ *fakeService, stdout string) {
				if strings.Contains(stdout, "fabrikam.com") {
					t.Errorf("--after ignored: %q", stdout)
				}
			},
		},
		{
			name: "domain list all json", args: []string{"--json", "domain", "list", "--all", "--limit", "1"},
			check: func(t *testing.T, _ *fakeService, stdout string) {
				var l api.DomainList
				if err := json.Unmarshal([]byte(stdout), &l); err != nil {
					t.Fatal(err)
				}
				if len(l.Domains) != 2 || l.Next != "" {
					t.Errorf("got %d domains, next %q", len(l.Domains), l.Next)
				}
			},
		},
		{name: "domain list bad limit", args: []string{"domain", "list", "--limit", "5000"}, wantCode: 2, stderrHas: []string{"--limit"}},
		{name: "domain list argument", args: []string{"domain", "list", "x"}, wantCode: 2},
		{
			name: "domain rm", args: []string{"domain", "rm", "fabrikam.com"}, wantStdout: "removed fabrikam.com\n",
			check: func(t *testing.T, svc *fakeService, _ string) {
				if _, ok := svc.domains["fabrikam.com"]; ok {
					t.Error("not removed")
				}
			},
		},
		{
			name: "domain rm partly unknown", args: []string{"domain", "rm", "nope.example", "northwind.example"},
			wantCode: 1, wantStdout: "removed northwind.example\n", wantStderr: "mxctl: not found: domain nope.example (404)\n",
		},
		{name: "domain rm nothing", args: []string{"domain", "rm"}, wantCode: 2},
		{
			name: "domain import", args: []string{"domain", "import", "list.txt"}, files: map[string]string{"list.txt": "contoso.com\n# x\n\ntailspin.example # y\n"},
			wantStdout: "contoso.com -> contoso-com.1j2b.mx.example.\ntailspin.example -> tailspin-example.1j2b.mx.example.\nimported 2 of 2 domains\n",
			check: func(t *testing.T, svc *fakeService, _ string) {
				if !reflect.DeepEqual(svc.batches, []int{2}) {
					t.Errorf("batches %v, want [2]", svc.batches)
				}
			},
		},
		{
			name: "domain import with failures", args: []string{"domain", "import", "list.txt"}, files: map[string]string{"list.txt": importFile},
			wantCode:   1,
			wantStdout: "contoso.com -> contoso-com.1j2b.mx.example.\ntailspin.example -> tailspin-example.1j2b.mx.example.\nimported 2 of 4 domains, 2 failed\n",
			wantStderr: "mxctl: fabrikam.com: already exists (409)\nmxctl: nodots: not a domain name (400)\n",
		},
		{
			name: "domain import stdin", args: []string{"domain", "import", "-"}, stdin: "contoso.com\n",
			wantStdout: "contoso.com -> contoso-com.1j2b.mx.example.\nimported 1 of 1 domains\n",
		},
		{
			name: "domain import batches", args: []string{"domain", "import", "-"}, stdin: manyDomains(2500),
			stdoutHas: []string{"imported 2500 of 2500 domains\n"},
			check: func(t *testing.T, svc *fakeService, _ string) {
				if !reflect.DeepEqual(svc.batches, []int{1000, 1000, 500}) {
					t.Errorf("batches %v, want [1000 1000 500]", svc.batches)
				}
			},
		},
		{
			name: "domain import json", args: []string{"--json", "domain", "import", "-"}, stdin: "contoso.com\nfabrikam.com\n",
			wantCode: 1, wantStderr: "mxctl: fabrikam.com: already exists (409)\n",
			check: func(t *testing.T, _ *fakeService, stdout string) {
				var r api.BatchResponse
				if err := json.Unmarshal([]byte(stdout), &r); err != nil || len(r.Results) != 2 {
					t.Errorf("got %+v, %v", r, err)
				}
			},
		},
		{name: "domain import missing file", args: []string{"domain", "import", "nope.txt"}, wantCode: 1, stderrHas: []string{"nope.txt"}},
		{name: "domain import no file", args: []string{"domain", "import"}, wantCode: 2},
		{name: "domain import empty", args: []string{"domain", "import", "-"}, stdin: "# nothing\n", wantStdout: "imported 0 of 0 domains\n"},
		{name: "domain no subcommand", args: []string{"domain"}, wantCode: 2, stderrHas: []string{"add, get, list, rm or import"}},
		{name: "domain bad subcommand", args: []string{"domain", "frob"}, wantCode: 2, stderrHas: []string{`"frob"`}},
		{
			name: "zones", args: []string{"zones"},
			wantStdout: "ZONE              KIND    HOSTS  SERIAL      KEYS\n" +
				"mx.example.       parent  0      2026010101  ksk 12345/13 active, zsk 54321/13 active\n" +
				"1j2b.mx.example.  shard   3      7           csk 1111/13 active\n",
		},
		{
			name: "zones json", args: []string{"zones", "--json"},
			check: func(t *testing.T, _ *fakeService, stdout string) {
				var z api.ZoneList
				if err := json.Unmarshal([]byte(stdout), &z); err != nil || len(z.Zones) != 2 {
					t.Errorf("got %+v, %v", z, err)
				}
			},
		},
		{name: "zones argument", args: []string{"zones", "x"}, wantCode: 2},
		{name: "ds", args: []string{"ds", "mx.example."}, wantStdout: testDS[0] + "\n" + testDS[1] + "\n"},
		{name: "ds without dot", args: []string{"ds", "mx.example"}, wantStdout: testDS[0] + "\n" + testDS[1] + "\n"},
		{name: "ds unknown", args: []string{"ds", "other.example"}, wantCode: 1, wantStderr: "mxctl: not found: zone other.example. (404)\n"},
		{name: "ds no zone", args: []string{"ds"}, wantCode: 2},
		{name: "ds trust anchors", args: []string{"ds", "--trust-anchors", "mx.example."}, wantStdout: "trust-anchors {\n" +
			"    mx.example. static-ds 12345 13 2 \"0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\";\n" +
			"    mx.example. static-ds 23456 13 2 \"FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210\";\n};\n"},
		{name: "version", args: []string{"version"}, stdoutHas: []string{"mxctl "}},
		{name: "version argument", args: []string{"version", "x"}, wantCode: 2},
		{name: "help", args: []string{"help"}, stdoutHas: []string{"Usage: mxctl", "domain import FILE"}},
		{name: "-h", args: []string{"-h"}, stdoutHas: []string{"Usage: mxctl"}},
		{name: "subcommand -h", args: []string{"zones", "-h"}, stdoutHas: []string{"Usage: mxctl"}},
		{name: "no command", args: nil, wantCode: 2, stderrHas: []string{"Usage: mxctl"}},
		{name: "unknown command", args: []string{"frob"}, wantCode: 2, stderrHas: []string{`unknown command "frob"`}},
		{name: "unknown flag", args: []string{"--frob", "zones"}, wantCode: 2, stderrHas: []string{"frob"}},
		{name: "bad timeout", args: []string{"--timeout", "0s", "zones"}, wantCode: 2, stderrHas: []string{"--timeout"}},
		{name: "wrong token", args: []string{"--token", "wrong", "zones"}, wantCode: 3, wantStderr: "mxctl: unauthorized: check --token or the token file\n"},
		{name: "wrong token after command", args: []string{"domain", "add", "a.example", "--token", "wrong"}, wantCode: 3, wantStderr: "mxctl: unauthorized: check --token or the token file\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, svc := newServer(t, "fabrikam.com", "northwind.example")
			dir := t.TempDir()
			for name, content := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			res := invocation{
				dir:   dir,
				stdin: tc.stdin,
				args:  append([]string{"--api", srv.URL, "--token", testToken}, tc.args...),
			}.run()
			if res.code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", res.code, tc.wantCode, res.stdout, res.stderr)
			}
			if tc.wantStdout != "" && res.stdout != tc.wantStdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", res.stdout, tc.wantStdout)
			}
			for _, s := range tc.stdoutHas {
				if !strings.Contains(res.stdout, s) {
					t.Errorf("stdout %q lacks %q", res.stdout, s)
				}
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
			if tc.check != nil {
				tc.check(t, svc, res.stdout)
			}
		})
	}
}

func manyDomains(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "d%04d.example\n", i)
	}
	return b.String()
}

func TestTokenDiscovery(t *testing.T) {
	const wrong = "wrong-token"
	tests := []struct {
		name     string
		files    map[string]string // relative to the working directory
		env      map[string]string
		args     []string // before "zones"
		wantCode int
		stderr   string
	}{
		{name: "data/token", files: map[string]string{"data/token": testToken + "\n"}},
		{name: "token", files: map[string]string{"token": "  " + testToken + "\n"}},
		{name: "data/token before token", files: map[string]string{"data/token": testToken, "token": wrong}},
		{name: "nothing", wantCode: 3, stderr: "no API token"},
		{name: "empty data/token", files: map[string]string{"data/token": "\n"}, wantCode: 3, stderr: "empty"},
		{name: "env token", env: map[string]string{"MXSIGN_TOKEN": testToken}, files: map[string]string{"data/token": wrong}},
		{name: "env token file", env: map[string]string{"MXSIGN_TOKEN_FILE": "secret/t"}, files: map[string]string{"secret/t": testToken, "data/token": wrong}},
		{name: "env token before env token file", env: map[string]string{"MXSIGN_TOKEN": testToken, "MXSIGN_TOKEN_FILE": "t"}, files: map[string]string{"t": wrong}},
		{name: "flag token file before env token", env: map[string]string{"MXSIGN_TOKEN": wrong}, files: map[string]string{"t": testToken}, args: []string{"--token-file", "t"}},
		{name: "flag token before flag token file", files: map[string]string{"t": wrong}, args: []string{"--token-file", "t", "--token", testToken}},
		{name: "flag token file missing", args: []string{"--token-file", "nope"}, files: map[string]string{"data/token": testToken}, wantCode: 3, stderr: "nope"},
		{name: "flag token empty", args: []string{"--token", ""}, files: map[string]string{"data/token": testToken}, wantCode: 3, stderr: "--token is empty"},
		{name: "wrong token from file", files: map[string]string{"data/token": wrong}, wantCode: 3, stderr: "unauthorized"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := newServer(t)
			dir := t.TempDir()
			for name, content := range tc.files {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			env := map[string]string{"MXSIGN_API": srv.URL}
			for k, v := range tc.env {
				env[k] = v
			}
			res := invocation{dir: dir, env: env, args: append(tc.args, "zones")}.run()
			if res.code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstderr: %s", res.code, tc.wantCode, res.stderr)
			}
			if !strings.Contains(res.stderr, tc.stderr) {
				t.Errorf("stderr %q lacks %q", res.stderr, tc.stderr)
			}
			if tc.wantCode == 0 && !strings.Contains(res.stdout, "mx.example.") {
				t.Errorf("stdout %q", res.stdout)
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	addr := strings.TrimPrefix(down.URL, "http://")
	down.Close()

	notAPI := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("<html>welcome</html>"))
	}))
	defer notAPI.Close()

	tests := []struct {
		name     string
		api      string
		wantCode int
		stderr   string
	}{
		{name: "closed port", api: addr, wantCode: 3, stderr: "mxctl: cannot reach the admin API at " + addr + ": "},
		{name: "not the API", api: notAPI.URL, wantCode: 1, stderr: "the mxsign admin API?"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run([]string{"--api", tc.api, "--token", testToken, "zones"}, &stdout, &stderr, func(string) string { return "" })
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stderr %q", code, tc.wantCode, stderr.String())
			}
			if !strings.HasPrefix(stderr.String(), tc.stderr) && !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tc.stderr)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q", stdout.String())
			}
		})
	}
}

func TestRunEnvAPI(t *testing.T) {
	srv, _ := newServer(t)
	var stdout, stderr bytes.Buffer
	env := map[string]string{"MXSIGN_API": strings.TrimPrefix(srv.URL, "http://"), "MXSIGN_TOKEN": testToken}
	code := run([]string{"ds", "mx.example"}, &stdout, &stderr, func(k string) string { return env[k] })
	if code != 0 || stdout.String() != testDS[0]+"\n"+testDS[1]+"\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}
