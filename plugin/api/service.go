package api

import (
	"context"
	"errors"
)

// Errors a Service returns, possibly wrapped with %w, so that the handler can
// map them to HTTP status codes.
var (
	ErrNotFound    = errors.New("api: not found")       // 404 Not Found
	ErrConflict    = errors.New("api: already exists")  // 409 Conflict
	ErrInvalid     = errors.New("api: invalid request") // 400 Bad Request
	ErrUnavailable = errors.New("api: unavailable")     // 503 Service Unavailable
)

// Service is what the admin API serves. The plugin implements it; the handler
// only translates between HTTP and these calls.
//
// The handler guarantees: domain arguments are non-empty strings exactly as
// the client sent them (validation and normalisation are the service's job);
// the zone passed to DS is fully qualified (a missing trailing dot is added);
// limit is in [1, MaxListLimit]; AddDomains gets 1..Options.MaxBatch domains.
type Service interface {
	// AddDomains adds the domains and returns one item per domain, in order,
	// with Status 201 (Result set), 400 or 409 (Error set). A non-nil error
	// fails the whole request.
	AddDomains(ctx context.Context, domains []string) ([]BatchItem, error)
	// GetDomain returns ErrNotFound for an unknown domain.
	GetDomain(ctx context.Context, domain string) (Domain, error)
	// ListDomains returns up to limit domains sorted by name, starting after
	// the domain named after ("" for the first page).
	ListDomains(ctx context.Context, after string, limit int) (DomainList, error)
	// DeleteDomain returns ErrNotFound for an unknown domain.
	DeleteDomain(ctx context.Context, domain string) error
	// Zones lists the parent zone and its shards.
	Zones(ctx context.Context) (ZoneList, error)
	// DS returns the DS records of zone; ErrNotFound for an unknown zone.
	DS(ctx context.Context, zone string) (DSList, error)
}
