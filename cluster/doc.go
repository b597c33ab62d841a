// Package cluster replicates mxsign's zonestore with hashicorp/raft.
//
// A Node runs one raft server whose finite-state machine is a
// *zonestore.Store: every zonestore.Command is encoded into a raft log entry,
// committed by a quorum and applied by Store.Apply with the entry's index, so
// every replica that applies the same log holds the same zones, keys and
// hosts. Node implements zonestore.Applier on the leader; on a follower Apply
// returns an error wrapping ErrNotLeader that names the leader, whose admin
// API address (replicated with a zonestore "node" command) Leader reports so
// the caller can forward the write.
//
// The raft log and stable store live in <Dir>/raft.db (raft-boltdb), the
// snapshots in <Dir>/snapshots. A snapshot is a consistent copy of the store's
// bbolt file. See DESIGN.md for the FSM contract, the snapshot design and
// join idempotence.
package cluster
