package cluster

import (
	"time"

	"github.com/hashicorp/raft"
)

// EmbeddedTransport returns an in-memory transport for the embedded single-node
// default: the node is alone, so it needs no port. Such a node cannot be joined; a
// cluster is configured with a TCP raft address instead.
func EmbeddedTransport(id string) raft.Transport {
	_, t := raft.NewInmemTransport(raft.ServerAddress(id))
	return t
}

// SingleNodeTimeouts shortens raft's timeouts for a node that is its only voter: it
// elects itself after one heartbeat timeout, so a short one makes start-up fast. There
// is no peer whose lease or heartbeats could be disturbed by it.
func SingleNodeTimeouts(c *raft.Config) {
	c.HeartbeatTimeout = 50 * time.Millisecond
	c.ElectionTimeout = 50 * time.Millisecond
	c.LeaderLeaseTimeout = 50 * time.Millisecond
	c.CommitTimeout = 5 * time.Millisecond
}
