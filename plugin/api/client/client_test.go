package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mxsign/mxsign/plugin/api"
)

const testToken = "t0ken"

// fakeService is a small in-memory api.Service.
type fakeService struct {
	mu       sync.Mutex
	domains  map[string]api.Domain
	lastZone string
}

func fakeDomain(name string) api.Domain {
	host := strings.ReplaceAll(name, ".", "-") + ".1j2b.mx.example."
	return api.Domain{
		Domain: name, MailExchange: host, Shard: "1j2b.mx.example.",
		Records: []api.Record{
			{Name: host, Type: "A", TTL: 300, Data: "192.0.2.25"},
			{Name: name + ".", Type: "MX", TTL: 3600, Data: "10 " + host},
		},
	}
}

func (f *fakeService) AddDomains(_ context.Context, domains []string) ([]api.BatchItem, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	items := make([]api.BatchItem, len(domains))
	for i, d := range domains {
		items[i].Domain = d
		if _, ok := f.domains[d]; ok {
			items[i].Status, items[i].Error = 409, "already exists"
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
	return api.ZoneList{Zones: []api.Zone{{Name: "mx.example.", Kind: "parent", Serial: 1, Keys: []api.KeyInfo{{Tag: 7, Algorithm: 13, Role: "ksk", State: "active"}}}}}, nil
}

func (f *fakeService) DS(_ context.Context, zone string) (api.DSList, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastZone = zone
	if zone != "mx.example." {
		return api.DSList{}, fmt.Errorf("%w: zone %s", api.ErrNotFound, zone)
	}
	return api.DSList{DS: []string{"mx.example.\t3600\tIN\tDS\t7 13 2 ABCD"}}, nil
}

// newServer starts the real API handler over a fake service holding domains.
func newServer(t testing.TB, domains ...string) (*httptest.Server, *fakeService) {
	t.Helper()
	svc := &fakeService{domains: map[string]api.Domain{}}
	for _, d := range domains {
		svc.domains[d] = fakeDomain(d)
	}
	srv := httptest.NewServer(api.NewHandler(svc, api.Options{Token: testToken}))
	t.Cleanup(srv.Close)
	return srv, svc
}

func TestNew(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{in: "127.0.0.1:8053", want: "http://127.0.0.1:8053"},
		{in: "http://127.0.0.1:8053", want: "http://127.0.0.1:8053"},
		{in: "http://127.0.0.1:8053/", want: "http://127.0.0.1:8053"},
		{in: "https://api.mx.example", want: "https://api.mx.example"},
		{in: "localhost:8053", want: "http://localhost:8053"},
		{in: "[::1]:8053", want: "http://[::1]:8053"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			c := New(tc.in, "tok")
			if c.BaseURL != tc.want || c.Token != "tok" {
				t.Errorf("New(%q) = %+v, want BaseURL %q", tc.in, c, tc.want)
			}
		})
	}
}

func TestClient(t *testing.T) {
	ctx := context.Background()
	srv, svc := newServer(t, "fabrikam.com", "northwind.example", "tailspin.example")
	c := New(strings.TrimPrefix(srv.URL, "http://"), testToken)

	t.Run("AddDomain", func(t *testing.T) {
		d, err := c.AddDomain(ctx, "contoso.com")
		if err != nil {
			t.Fatal(err)
		}
		if want := fakeDomain("contoso.com"); !reflect.DeepEqual(d, want) {
			t.Errorf("got %+v, want %+v", d, want)
		}
		_, err = c.AddDomain(ctx, "contoso.com")
		checkStatus(t, err, 409, "already exists")
	})
	t.Run("AddDomains", func(t *testing.T) {
		resp, err := c.AddDomains(ctx, []string{"new.example", "fabrikam.com"})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Results) != 2 || resp.Results[0].Status != 201 || resp.Results[0].Result == nil ||
			resp.Results[1].Status != 409 || resp.Results[1].Error != "already exists" {
			t.Errorf("got %+v", resp)
		}
		_, err = c.AddDomains(ctx, nil)
		checkStatus(t, err, 400, "at least one")
	})
	t.Run("GetDomain", func(t *testing.T) {
		d, err := c.GetDomain(ctx, "fabrikam.com")
		if err != nil || d.MailExchange != "fabrikam-com.1j2b.mx.example." {
			t.Fatalf("got %+v, %v", d, err)
		}
		_, err = c.GetDomain(ctx, "nope.example")
		checkStatus(t, err, 404, "not found: domain nope.example")
	})
	t.Run("GetDomain escapes the name", func(t *testing.T) {
		_, err := c.GetDomain(ctx, "a/b?c")
		checkStatus(t, err, 404, "domain a/b?c")
	})
	t.Run("ListDomains", func(t *testing.T) {
		var got []string
		after := ""
		for range 10 {
			l, err := c.ListDomains(ctx, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range l.Domains {
				got = append(got, d.Domain)
			}
			if l.Next == "" {
				break
			}
			after = l.Next
		}
		want := []string{"contoso.com", "fabrikam.com", "new.example", "northwind.example", "tailspin.example"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("paged through %q, want %q", got, want)
		}
		l, err := c.ListDomains(ctx, "", 0)
		if err != nil || len(l.Domains) != 5 {
			t.Errorf("default limit: %d domains, %v", len(l.Domains), err)
		}
		_, err = c.ListDomains(ctx, "", -1)
		checkStatus(t, err, 400, "invalid limit")
	})
	t.Run("DeleteDomain", func(t *testing.T) {
		if err := c.DeleteDomain(ctx, "tailspin.example"); err != nil {
			t.Fatal(err)
		}
		if _, ok := svc.domains["tailspin.example"]; ok {
			t.Error("not deleted")
		}
		checkStatus(t, c.DeleteDomain(ctx, "tailspin.example"), 404, "not found")
	})
	t.Run("Zones", func(t *testing.T) {
		z, err := c.Zones(ctx)
		if err != nil || len(z.Zones) != 1 || z.Zones[0].Keys[0].Tag != 7 {
			t.Fatalf("got %+v, %v", z, err)
		}
	})
	t.Run("DS", func(t *testing.T) {
		for _, zone := range []string{"mx.example", "mx.example."} {
			ds, err := c.DS(ctx, zone)
			if err != nil || len(ds.DS) != 1 || !strings.HasSuffix(ds.DS[0], "7 13 2 ABCD") {
				t.Fatalf("%s: got %+v, %v", zone, ds, err)
			}
			if svc.lastZone != "mx.example." {
				t.Errorf("service got %q", svc.lastZone)
			}
		}
		_, err := c.DS(ctx, "other.example")
		checkStatus(t, err, 404, "other.example.")
	})
}

func checkStatus(t *testing.T, err error, status int, msg string) {
	t.Helper()
	se, ok := errors.AsType[*StatusError](err)
	if !ok {
		t.Fatalf("err = %v (%T), want *StatusError", err, err)
	}
	if se.Status != status || !strings.Contains(se.Message, msg) {
		t.Errorf("got %d %q, want %d containing %q", se.Status, se.Message, status, msg)
	}
	if want := fmt.Sprintf("%d: %s", se.Status, se.Message); se.Error() != want {
		t.Errorf("Error() = %q, want %q", se.Error(), want)
	}
}

func TestClientErrors(t *testing.T) {
	ctx := context.Background()
	srv, _ := newServer(t)

	t.Run("wrong token", func(t *testing.T) {
		_, err := New(srv.URL, "wrong").Zones(ctx)
		checkStatus(t, err, 401, "invalid bearer token")
	})
	t.Run("no token", func(t *testing.T) {
		_, err := New(srv.URL, "").Zones(ctx)
		checkStatus(t, err, 401, "missing bearer token")
	})
	t.Run("oversize body", func(t *testing.T) {
		names := make([]string, api.DefaultMaxBatch)
		for i := range names {
			names[i] = fmt.Sprintf("%01100d.example", i) // 1000 x 1.1 kB > 1 MiB
		}
		_, err := New(srv.URL, testToken).AddDomains(ctx, names)
		checkStatus(t, err, 413, "too large")
	})
	t.Run("not the API", func(t *testing.T) {
		html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v1/zones" {
				w.Write([]byte("<html>hello</html>"))
				return
			}
			http.Error(w, "<html>bad gateway</html>", http.StatusBadGateway)
		}))
		defer html.Close()
		c := New(html.URL, testToken)
		if _, err := c.Zones(ctx); !errors.Is(err, ErrBadResponse) {
			t.Errorf("200 with HTML: err = %v, want ErrBadResponse", err)
		}
		_, err := c.DS(ctx, "mx.example")
		checkStatus(t, err, 502, "Bad Gateway")
	})
	t.Run("server down", func(t *testing.T) {
		down := httptest.NewServer(http.NotFoundHandler())
		addr := down.URL
		down.Close()
		_, err := New(addr, testToken).Zones(ctx)
		if err == nil {
			t.Fatal("no error from a closed server")
		}
		if _, ok := errors.AsType[*url.Error](err); !ok {
			t.Errorf("err = %v (%T), want *url.Error", err, err)
		}
		if _, ok := errors.AsType[*StatusError](err); ok || errors.Is(err, ErrBadResponse) {
			t.Errorf("transport error %v classified as an API error", err)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := New(srv.URL, testToken).Zones(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
	t.Run("bad base URL", func(t *testing.T) {
		if _, err := New("http://[::1", testToken).Zones(ctx); err == nil {
			t.Error("no error for a malformed base URL")
		}
	})
}

func BenchmarkGetDomain(b *testing.B) {
	srv, _ := newServer(b, "contoso.com")
	c := New(srv.URL, testToken)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.GetDomain(ctx, "contoso.com"); err != nil {
			b.Fatal(err)
		}
	}
}
