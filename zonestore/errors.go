package zonestore

import "errors"

// Sentinel errors. Errors returned by this package wrap one of these with %w;
// test for them with errors.Is.
var (
	ErrZoneNotFound   = errors.New("zonestore: zone not found")
	ErrHostNotFound   = errors.New("zonestore: domain not found")
	ErrExists         = errors.New("zonestore: already exists")
	ErrInvalidDomain  = errors.New("zonestore: invalid domain name")
	ErrInOwnZone      = errors.New("zonestore: domain is inside a zone served here")
	ErrNotInitialized = errors.New("zonestore: parent zone not initialized")
	ErrBadCommand     = errors.New("zonestore: bad command")
	ErrCorrupt        = errors.New("zonestore: corrupt store")
	ErrSeal           = errors.New("zonestore: cannot unseal key")

	// ErrShardFull is the per-item error of a host whose target shard has no
	// room left when the command is applied (another command filled it since
	// the proposer planned the batch).
	ErrShardFull = errors.New("zonestore: shard full")
	// ErrKeysChanged fails a keys command whose KeyGen no longer matches the
	// zone's: another change to the zone's keys was applied after the proposer
	// read the records the command was computed from.
	ErrKeysChanged = errors.New("zonestore: the zone's keys changed since they were read")
	// ErrClosed is returned by Apply, Snapshot and Restore after Close.
	ErrClosed = errors.New("zonestore: store closed")
)
