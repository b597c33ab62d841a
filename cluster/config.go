package cluster

import (
	"crypto/tls"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/mxsign/mxsign/zonestore"
)

// Config configures Open.
type Config struct {
	ID        string           // node id (required), the raft server id
	RaftAddr  string           // bind and advertise address, "127.0.0.1:7000"; port 0 picks one (see Node.RaftAddr)
	APIAddr   string           // this node's admin API address, replicated via zonestore.NodeCmd
	Dir       string           // raft dir: raft.db (log and stable store) and snapshots/
	Store     *zonestore.Store // the state machine; Close does not close it
	Bootstrap bool             // bootstrap a single-node cluster if there is no raft state yet
	Voter     bool             // informational: the role this node asks for when it joins
	TLS       *tls.Config      // optional mutual TLS for the raft transport
	Transport raft.Transport   // injected transport (tests); nil: TCP (with TLS if set) on RaftAddr
	Logger    hclog.Logger     // nil: NewLogger at Warn to the standard logger

	// RaftConfig, if set, adjusts the raft configuration after the defaults
	// (see DefaultRaftConfig) and LocalID/Logger are set.
	RaftConfig func(*raft.Config)

	// Now is the proposer clock for the node commands this package writes;
	// nil is time.Now.
	Now func() time.Time
}

// Default raft timings: raft.DefaultConfig() with these changes.
const (
	DefaultHeartbeatTimeout   = time.Second
	DefaultElectionTimeout    = time.Second
	DefaultLeaderLeaseTimeout = 500 * time.Millisecond
	DefaultSnapshotThreshold  = 8192
	DefaultTrailingLogs       = 10240
	// DefaultApplyTimeout bounds a write whose context has no deadline.
	DefaultApplyTimeout = 30 * time.Second
)

// DefaultRaftConfig returns the raft configuration a node starts from.
func DefaultRaftConfig() *raft.Config {
	c := raft.DefaultConfig()
	c.HeartbeatTimeout = DefaultHeartbeatTimeout
	c.ElectionTimeout = DefaultElectionTimeout
	c.LeaderLeaseTimeout = DefaultLeaderLeaseTimeout
	c.SnapshotThreshold = DefaultSnapshotThreshold
	c.TrailingLogs = DefaultTrailingLogs
	return c
}

func (c *Config) validate() error {
	switch {
	case c.ID == "":
		return fmt.Errorf("%w: ID is required", ErrConfig)
	case c.Dir == "":
		return fmt.Errorf("%w: Dir is required", ErrConfig)
	case c.Store == nil:
		return fmt.Errorf("%w: Store is required", ErrConfig)
	case c.Transport == nil && c.RaftAddr == "":
		return fmt.Errorf("%w: RaftAddr is required", ErrConfig)
	}
	return nil
}

func (c *Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}
