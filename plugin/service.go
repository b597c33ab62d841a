package mxsign

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/hashicorp/raft"
	"github.com/miekg/dns"

	"github.com/mxsign/mxsign/cluster"
	"github.com/mxsign/mxsign/plugin/api"
	"github.com/mxsign/mxsign/zonestore"
)

// mxTTL is the TTL suggested for the MX record customers publish in their own zone.
const mxTTL = 3600

// service implements api.Service over the store (reads) and the provisioner (writes).
type service struct {
	store *zonestore.Store
	prov  *zonestore.Provisioner
}

var _ api.Service = (*service)(nil)

func (s *service) AddDomains(ctx context.Context, domains []string) ([]api.BatchItem, error) {
	res, err := s.prov.AddDomains(ctx, domains)
	if err != nil {
		return nil, apiError(err)
	}
	out := make([]api.BatchItem, len(res))
	for i, r := range res {
		out[i] = api.BatchItem{Domain: r.Domain}
		switch {
		case r.Err == nil && r.Host != nil:
			d := s.domain(*r.Host)
			out[i].Status = http.StatusCreated
			out[i].Result = &d
		case errors.Is(r.Err, zonestore.ErrExists):
			out[i].Status = http.StatusConflict
			out[i].Error = errText(r.Err)
		case errors.Is(r.Err, zonestore.ErrShardFull):
			// Another write filled the planned shard first: nothing was written, a
			// retry plans again.
			out[i].Status = http.StatusServiceUnavailable
			out[i].Error = errText(r.Err) + ": not added; retry"
		case r.Err == nil:
			out[i].Status = http.StatusInternalServerError
			out[i].Error = "no result"
		default:
			out[i].Status = http.StatusBadRequest
			out[i].Error = errText(r.Err)
		}
	}
	return out, nil
}

func (s *service) GetDomain(_ context.Context, domain string) (api.Domain, error) {
	h, err := s.store.Host(domain)
	if err != nil {
		return api.Domain{}, apiError(err)
	}
	return s.domain(h), nil
}

func (s *service) ListDomains(_ context.Context, after string, limit int) (api.DomainList, error) {
	if after != "" {
		n, err := zonestore.NormalizeDomain(after)
		if err != nil {
			return api.DomainList{}, apiError(err)
		}
		after = n
	}
	hosts, next := s.store.ListHosts(after, limit)
	out := api.DomainList{Domains: make([]api.Domain, 0, len(hosts)), Next: next}
	for _, h := range hosts {
		out.Domains = append(out.Domains, s.domain(h))
	}
	return out, nil
}

func (s *service) DeleteDomain(ctx context.Context, domain string) error {
	res, err := s.prov.DeleteDomains(ctx, []string{domain})
	if err != nil {
		return apiError(err)
	}
	if len(res) != 1 {
		return fmt.Errorf("mxsign: delete %s: %d results", domain, len(res))
	}
	return apiError(res[0].Err)
}

func (s *service) Zones(context.Context) (api.ZoneList, error) {
	zones := s.store.Zones()
	out := api.ZoneList{Zones: make([]api.Zone, 0, len(zones))}
	for _, z := range zones {
		az := api.Zone{Name: z.Name, Kind: string(z.Kind), Hosts: z.Hosts, Serial: z.Serial, Keys: []api.KeyInfo{}}
		keys, err := s.store.Keys(z.Name)
		if err != nil {
			return api.ZoneList{}, apiError(err)
		}
		for _, k := range keys {
			az.Keys = append(az.Keys, api.KeyInfo{Tag: k.Tag, Algorithm: k.Algorithm, Role: string(k.Role), State: string(k.State)})
		}
		out.Zones = append(out.Zones, az)
	}
	return out, nil
}

func (s *service) DS(_ context.Context, zone string) (api.DSList, error) {
	zone = dns.Fqdn(strings.ToLower(zone))
	ds, err := s.store.DS(zone)
	if err != nil {
		return api.DSList{}, apiError(err)
	}
	out := api.DSList{DS: make([]string, 0, len(ds))}
	for _, d := range ds {
		out.DS = append(out.DS, d.String())
	}
	return out, nil
}

// domain renders a host the way the API returns it: the MX target, its records, and the
// MX record the customer publishes in their own zone.
func (s *service) domain(h zonestore.Host) api.Domain {
	d := api.Domain{Domain: h.Domain, MailExchange: h.Name(), Shard: h.Shard}
	d.Records = append(d.Records, api.Record{Name: h.Domain + ".", Type: "MX", TTL: mxTTL, Data: "10 " + h.Name()})
	for _, rr := range s.store.HostRecords(h) {
		hdr := rr.Header()
		d.Records = append(d.Records, api.Record{
			Name: hdr.Name,
			Type: dns.TypeToString[hdr.Rrtype],
			TTL:  hdr.Ttl,
			Data: strings.TrimPrefix(rr.String(), hdr.String()),
		})
	}
	return d
}

// apiError maps store errors onto the API's sentinels (status codes) and keeps the message.
func apiError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, zonestore.ErrHostNotFound), errors.Is(err, zonestore.ErrZoneNotFound):
		return fmt.Errorf("%w: %s", api.ErrNotFound, errText(err))
	case errors.Is(err, zonestore.ErrExists):
		return fmt.Errorf("%w: %s", api.ErrConflict, errText(err))
	case errors.Is(err, zonestore.ErrInvalidDomain), errors.Is(err, zonestore.ErrInOwnZone):
		return fmt.Errorf("%w: %s", api.ErrInvalid, errText(err))
	case errors.Is(err, zonestore.ErrNotInitialized):
		return fmt.Errorf("%w: %s", api.ErrUnavailable, errText(err))
	case errors.Is(err, cluster.ErrConfig):
		return fmt.Errorf("%w: %v", api.ErrInvalid, err)
	case errors.Is(err, cluster.ErrNotLeader), errors.Is(err, cluster.ErrNoLeader):
		return fmt.Errorf("%w: %s: the write was not made; retry", api.ErrUnavailable, err)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, cluster.ErrClosed), errors.Is(err, raft.ErrRaftShutdown):
		return fmt.Errorf("%w: %v: the write may or may not have been made; retry (a repeat answers 409 if it was)", api.ErrUnavailable, err)
	case errors.Is(err, raft.ErrLeadershipLost):
		return fmt.Errorf("%w: leadership was lost while committing: the write may or may not have been made; retry (a repeat answers 409 if it was)", api.ErrUnavailable)
	}
	return err
}

// errText drops the package prefix so API clients get "contoso..com: invalid domain name".
func errText(err error) string {
	return strings.ReplaceAll(err.Error(), "zonestore: ", "")
}
