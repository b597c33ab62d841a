package zonestore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// CommandVersion is the version of the command encoding this build writes
// and the only one it applies.
const CommandVersion = 1

// Command operations.
const (
	OpInit        = "init"
	OpConfig      = "config"
	OpAddHosts    = "addHosts"
	OpDeleteHosts = "deleteHosts"
	OpNode        = "node"
	OpKeys        = "keys"
)

// Command is one replicated change: a tagged union with exactly one payload,
// the one named by Op. Time is the proposer's clock; serials and creation
// times come from it, never from the applying node's clock.
type Command struct {
	V    int       `json:"v"`
	Op   string    `json:"op"`
	Time time.Time `json:"time"`

	Init        *InitCmd        `json:"init,omitempty"`        // create the parent zone
	Config      *ConfigCmd      `json:"config,omitempty"`      // replace config and profile
	AddHosts    *AddHostsCmd    `json:"addHosts,omitempty"`    // new shards and hosts
	DeleteHosts *DeleteHostsCmd `json:"deleteHosts,omitempty"` // remove hosts
	Node        *NodeCmd        `json:"node,omitempty"`        // cluster member addresses
	Keys        *KeysCmd        `json:"keys,omitempty"`        // key lifecycle steps of one zone
}

// InitCmd creates the parent zone with its config, profile and keys.
type InitCmd struct {
	Config  Config  `json:"config"`
	Profile Profile `json:"profile"`
	Keys    []Key   `json:"keys"`
}

// ConfigCmd replaces config and profile; zones, keys and hosts stay. Every
// zone's serial is bumped.
type ConfigCmd struct {
	Config  Config  `json:"config"`
	Profile Profile `json:"profile"`
}

// NewShard is a shard created by an AddHostsCmd: its name and keys (a KSK
// with DSPublished set and a ZSK).
type NewShard struct {
	Name string `json:"name"`
	Keys []Key  `json:"keys"`
}

// AddHostsCmd creates NewShards, then adds Hosts. Each host is an item of
// the Result: Apply re-checks it and a failed item writes nothing.
type AddHostsCmd struct {
	NewShards []NewShard `json:"newShards,omitempty"`
	Hosts     []Host     `json:"hosts"`
}

// DeleteHostsCmd removes the hosts of Domains (normalized).
type DeleteHostsCmd struct {
	Domains []string `json:"domains"`
}

// KeysCmd upserts whole key records of one zone: the key manager's way to
// add keys and move them through their lifecycle. A new key carries its
// Sealed material; an update may omit Sealed to keep the stored one, and
// must not change the DNSKEY, role or algorithm of the key. State is derived
// from the timestamps and Timed is set on every key written (see Key).
type KeysCmd struct {
	Zone string `json:"zone"`
	Keys []Key  `json:"keys"`
	// KeyGen, when set, makes the command conditional (compare-and-set): it
	// applies only if the zone's KeyGen is still this value, the one of the
	// records the command was computed from, and fails with ErrKeysChanged
	// otherwise. Whole records are written, so without it a change made in
	// between (a roll request, a DS confirmation) would be overwritten.
	KeyGen uint64 `json:"keyGen,omitempty"`
}

// ItemResult is the outcome of one item of an addHosts or deleteHosts
// command. Err is nil on success; Host is the added or deleted host.
type ItemResult struct {
	Domain string `json:"domain"`
	Host   *Host  `json:"host,omitempty"`
	Err    error  `json:"-"`
}

// Result holds the per-item outcomes, in command order.
type Result struct {
	Items []ItemResult
}

// Encode returns the wire form of c after checking its shape.
func (c *Command) Encode() ([]byte, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCommand, err)
	}
	return b, nil
}

// DecodeCommand parses a command. Unknown fields, trailing data, another
// version, or an op without its payload give an error wrapping ErrBadCommand.
func DecodeCommand(b []byte) (*Command, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c Command
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCommand, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: trailing data after the command", ErrBadCommand)
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return &c, nil
}

// check validates the envelope: version, time, and exactly one payload
// matching Op. Payload contents are validated by Apply.
func (c *Command) check() error {
	if c == nil {
		return fmt.Errorf("%w: nil command", ErrBadCommand)
	}
	if c.V != CommandVersion {
		return fmt.Errorf("%w: version %d, want %d", ErrBadCommand, c.V, CommandVersion)
	}
	if c.Time.IsZero() || c.Time.Unix() <= 0 {
		return fmt.Errorf("%w: missing or invalid time", ErrBadCommand)
	}
	payloads := map[string]bool{
		OpInit:        c.Init != nil,
		OpConfig:      c.Config != nil,
		OpAddHosts:    c.AddHosts != nil,
		OpDeleteHosts: c.DeleteHosts != nil,
		OpNode:        c.Node != nil,
		OpKeys:        c.Keys != nil,
	}
	has, known := payloads[c.Op]
	if !known {
		return fmt.Errorf("%w: unknown op %q", ErrBadCommand, c.Op)
	}
	if !has {
		return fmt.Errorf("%w: op %q without its payload", ErrBadCommand, c.Op)
	}
	for op, set := range payloads {
		if set && op != c.Op {
			return fmt.Errorf("%w: op %q carries a %q payload", ErrBadCommand, c.Op, op)
		}
	}
	return nil
}
