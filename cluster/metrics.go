package cluster

import (
	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Metrics of the raft node in this process. They carry no labels: a
// process runs one node.
var (
	raftState = promauto.NewGauge(prometheus.GaugeOpts{
		Namespace: "coredns",
		Subsystem: "mxsign_cluster",
		Name:      "raft_state",
		Help:      "Raft state of this node: 0 follower, 1 candidate, 2 leader, 3 shutdown.",
	})
	leaderChanges = promauto.NewCounter(prometheus.CounterOpts{
		Namespace: "coredns",
		Subsystem: "mxsign_cluster",
		Name:      "leader_changes_total",
		Help:      "Leader changes observed by this node.",
	})
	appliedIndex = promauto.NewGauge(prometheus.GaugeOpts{
		Namespace: "coredns",
		Subsystem: "mxsign_cluster",
		Name:      "applied_index",
		Help:      "Raft log index last applied to the zone store.",
	})
	commitDuration = promauto.NewHistogram(prometheus.HistogramOpts{
		Namespace: "coredns",
		Subsystem: "mxsign_cluster",
		Name:      "commit_duration_seconds",
		Help:      "Time from proposing a command on the leader to its commit and local apply.",
		Buckets:   prometheus.ExponentialBuckets(0.0005, 2, 16), // 0.5 ms .. 16 s
	})
)

// stateValue maps a raft state to the raft_state gauge value.
func stateValue(s raft.RaftState) float64 {
	switch s {
	case raft.Follower:
		return 0
	case raft.Candidate:
		return 1
	case raft.Leader:
		return 2
	default:
		return 3
	}
}
