package cluster

import "errors"

// Sentinel errors; test for them with errors.Is.
var (
	// ErrNotLeader is returned by writes on a node that is not the leader.
	// The error names the leader's id and API address when they are known.
	ErrNotLeader = errors.New("cluster: not the leader")
	// ErrNoLeader means no leader is known (an election is running, or this
	// node is cut off from a quorum). It comes wrapped with ErrNotLeader from
	// writes.
	ErrNoLeader = errors.New("cluster: no leader")
	// ErrConfig is wrapped by Open for an invalid Config.
	ErrConfig = errors.New("cluster: invalid config")
	// ErrStoreNotEmpty is returned by Open when a node without raft state
	// that is not bootstrapping (so it will join a cluster) has a store with
	// applied commands: the cluster's log would be skipped over.
	ErrStoreNotEmpty = errors.New("cluster: store has data but no raft state")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("cluster: node closed")
)
