package zonestore

import (
	"cmp"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// NodeCmd records (or, with Remove, forgets) the addresses of one cluster
// member, so that every replica knows each member's admin API address and a
// follower can forward writes to the leader. It touches no zone.
type NodeCmd struct {
	ID     string `json:"id"`               // raft server id
	Raft   string `json:"raft"`             // raft address "host:port"
	API    string `json:"api"`              // admin API address, "" if none
	Remove bool   `json:"remove,omitempty"` // forget ID (a missing ID is not an error)
}

// Node is one cluster member as recorded by NodeCmd.
type Node struct {
	ID   string `json:"id"`
	Raft string `json:"raft"`
	API  string `json:"api"`
}

// Nodes returns the recorded cluster members sorted by ID.
func (s *Store) Nodes() []Node {
	s.mu.RLock()
	out := make([]Node, 0, len(s.ix.nodes))
	for _, n := range s.ix.nodes {
		out = append(out, n)
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b Node) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// planNode checks a node command. It needs no initialized parent zone:
// members join before the first provisioning.
func planNode(c *NodeCmd) (*change, error) {
	if c.ID == "" {
		return nil, fmt.Errorf("%w: node command without id", ErrBadCommand)
	}
	if !c.Remove && c.Raft == "" {
		return nil, fmt.Errorf("%w: node %s without raft address", ErrBadCommand, c.ID)
	}
	n := *c
	return &change{node: &n, result: &Result{}}, nil
}

func writeNode(tx *bolt.Tx, c *NodeCmd) error {
	b := tx.Bucket(bucketNodes)
	if c.Remove {
		return b.Delete([]byte(c.ID))
	}
	return putJSON(b, []byte(c.ID), Node{ID: c.ID, Raft: c.Raft, API: c.API})
}

// updateNode applies a committed node command to the index.
func (ix *index) updateNode(c *NodeCmd) {
	if c.Remove {
		delete(ix.nodes, c.ID)
		return
	}
	ix.nodes[c.ID] = Node{ID: c.ID, Raft: c.Raft, API: c.API}
}

// loadNodes reads the nodes bucket into ix.
func loadNodes(tx *bolt.Tx, ix *index) error {
	b := tx.Bucket(bucketNodes)
	return b.ForEach(func(k, _ []byte) error {
		var n Node
		if _, err := getJSON(b, k, &n); err != nil {
			return err
		}
		if n.ID != string(k) || n.Raft == "" {
			return fmt.Errorf("%w: node record %q", ErrCorrupt, k)
		}
		ix.nodes[n.ID] = n
		return nil
	})
}
