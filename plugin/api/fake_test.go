package api

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// fakeService is an in-memory Service for the handler tests.
type fakeService struct {
	mu      sync.Mutex
	domains map[string]Domain
	ds      map[string][]string
	zones   []Zone

	err       error  // returned by every call when set
	panicWith string // every call panics with it when set

	// Arguments of the last calls, for assertions.
	lastAfter string
	lastLimit int
	lastZone  string
	lastAdd   []string
}

func newFakeService(domains ...string) *fakeService {
	f := &fakeService{
		domains: map[string]Domain{},
		ds: map[string][]string{
			"mx.example.": {"mx.example.\t86400\tIN\tDS\t12345 13 2 0123456789ABCDEF"},
		},
		zones: []Zone{
			{Name: "mx.example.", Kind: "parent", Hosts: 0, Serial: 7, Keys: []KeyInfo{{Tag: 12345, Algorithm: 13, Role: "ksk", State: "active"}}},
			{Name: "1j2b.mx.example.", Kind: "shard", Hosts: len(domains), Serial: 3},
		},
	}
	for _, d := range domains {
		f.domains[d] = fakeDomain(d)
	}
	return f
}

// fakeDomain is what the fake service answers for name.
func fakeDomain(name string) Domain {
	host := strings.ReplaceAll(name, ".", "-") + ".1j2b.mx.example."
	return Domain{
		Domain:       name,
		MailExchange: host,
		Shard:        "1j2b.mx.example.",
		Records: []Record{
			{Name: host, Type: "A", TTL: 300, Data: "192.0.2.25"},
			{Name: "_25._tcp." + host, Type: "TLSA", TTL: 300, Data: "3 1 1 abcdef"},
			{Name: name + ".", Type: "MX", TTL: 3600, Data: "10 " + host},
		},
	}
}

func (f *fakeService) check() error {
	if f.panicWith != "" {
		panic(f.panicWith)
	}
	return f.err
}

func (f *fakeService) AddDomains(_ context.Context, domains []string) ([]BatchItem, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(); err != nil {
		return nil, err
	}
	f.lastAdd = slices.Clone(domains)
	items := make([]BatchItem, len(domains))
	for i, d := range domains {
		items[i].Domain = d
		switch _, ok := f.domains[d]; {
		case !strings.Contains(d, ".") || strings.ContainsAny(d, " /"):
			items[i].Status, items[i].Error = 400, fmt.Sprintf("%s: not a domain name", d)
		case ok:
			items[i].Status, items[i].Error = 409, "already exists"
		default:
			dom := fakeDomain(d)
			f.domains[d] = dom
			items[i].Status, items[i].Result = 201, &dom
		}
	}
	return items, nil
}

func (f *fakeService) GetDomain(_ context.Context, domain string) (Domain, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(); err != nil {
		return Domain{}, err
	}
	d, ok := f.domains[domain]
	if !ok {
		return Domain{}, fmt.Errorf("%w: domain %s", ErrNotFound, domain)
	}
	return d, nil
}

func (f *fakeService) ListDomains(_ context.Context, after string, limit int) (DomainList, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(); err != nil {
		return DomainList{}, err
	}
	f.lastAfter, f.lastLimit = after, limit
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range f.domains {
			if n > after && !yield(n) {
				return
			}
		}
	})
	var list DomainList
	for i, n := range names {
		if i == limit {
			list.Next = names[i-1]
			break
		}
		list.Domains = append(list.Domains, f.domains[n])
	}
	return list, nil
}

func (f *fakeService) DeleteDomain(_ context.Context, domain string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(); err != nil {
		return err
	}
	if _, ok := f.domains[domain]; !ok {
		return fmt.Errorf("%w: domain %s", ErrNotFound, domain)
	}
	delete(f.domains, domain)
	return nil
}

func (f *fakeService) Zones(context.Context) (ZoneList, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(); err != nil {
		return ZoneList{}, err
	}
	return ZoneList{Zones: slices.Clone(f.zones)}, nil
}

func (f *fakeService) DS(_ context.Context, zone string) (DSList, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(); err != nil {
		return DSList{}, err
	}
	f.lastZone = zone
	ds, ok := f.ds[zone]
	if !ok {
		return DSList{}, fmt.Errorf("%w: zone %s", ErrNotFound, zone)
	}
	return DSList{DS: ds}, nil
}
