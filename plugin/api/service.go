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

// ClusterService is the cluster membership the admin API serves under
// /v1/cluster. It is optional: with Options.Cluster nil those routes answer
// 404. Errors follow the Service conventions: ErrInvalid (400), ErrNotFound
// (404), ErrUnavailable (503, e.g. no leader), anything else 500.
//
// The handler guarantees: the JoinRequest has non-blank ID, Raft and API
// and a non-nil Voter; the id passed to RemoveNode is non-empty. Writes
// reach the service only when Options.Forward, if set, declined them.
type ClusterService interface {
	// ClusterStatus returns the leader and every configured node.
	ClusterStatus(ctx context.Context) (ClusterStatus, error)
	// Join adds the node, or does nothing when a node with the same ID,
	// addresses and suffrage is already a member (join is idempotent).
	// It returns ErrUnavailable when there is no leader to add it.
	Join(ctx context.Context, req JoinRequest) error
	// RemoveNode removes the node; ErrNotFound for an unknown id.
	RemoveNode(ctx context.Context, id string) error
}

// KeyService is the key management the admin API serves under
// /v1/zones/{zone}/keys, /rollover and /ds-seen. It is optional: with
// Options.Keys nil those routes answer 404. Errors follow the Service
// conventions: ErrNotFound (404) for an unknown zone, ErrConflict (409) when
// the zone has no key policy (automatic key management is off), ErrInvalid
// (400), ErrUnavailable (503), anything else 500.
//
// The handler guarantees: zone is fully qualified (a missing trailing dot is
// added); a RolloverRequest has Role "", "zsk", "ksk" or "csk" (lower case)
// and Algorithm 0, 13 or 15, not both empty; with Now, a Role and Algorithm
// 0. Writes (Rollover, DSSeen) reach the service only when Options.Forward,
// if set, declined them.
type KeyService interface {
	// Keys returns the zone's keys and where its rollover stands.
	Keys(ctx context.Context, zone string) (KeyList, error)
	// Rollover records a request to roll the zone's keys early and returns
	// the key list once it is recorded; the rollover itself proceeds in
	// the background at the pace the policy allows (with Now: at once, and
	// the list carries the emergency window).
	Rollover(ctx context.Context, zone string, req RolloverRequest) (KeyList, error)
	// DSSeen records that the operator saw the zone's new DS published at
	// the parent (the registry), which a KSK rollover of the parent zone
	// waits for.
	DSSeen(ctx context.Context, zone string) error
}
