package zonestore

import (
	"errors"
	"io"
	"path/filepath"
	"reflect"
	"testing"
)

func nodeCmd(c NodeCmd) *Command {
	return &Command{V: CommandVersion, Op: OpNode, Time: t0, Node: &c}
}

func TestNodes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "zones.db")
	s, err := Open(Options{Path: path, KEK: testKEK})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		cmd  NodeCmd
		err  error
		want []Node
	}{
		{name: "first", cmd: NodeCmd{ID: "n2", Raft: "10.0.0.2:7000", API: "10.0.0.2:8080"},
			want: []Node{{ID: "n2", Raft: "10.0.0.2:7000", API: "10.0.0.2:8080"}}},
		{name: "second sorts first", cmd: NodeCmd{ID: "n1", Raft: "10.0.0.1:7000"},
			want: []Node{{ID: "n1", Raft: "10.0.0.1:7000"}, {ID: "n2", Raft: "10.0.0.2:7000", API: "10.0.0.2:8080"}}},
		{name: "replace", cmd: NodeCmd{ID: "n1", Raft: "10.0.0.1:7000", API: "10.0.0.1:8080"},
			want: []Node{{ID: "n1", Raft: "10.0.0.1:7000", API: "10.0.0.1:8080"}, {ID: "n2", Raft: "10.0.0.2:7000", API: "10.0.0.2:8080"}}},
		{name: "remove", cmd: NodeCmd{ID: "n2", Remove: true},
			want: []Node{{ID: "n1", Raft: "10.0.0.1:7000", API: "10.0.0.1:8080"}}},
		{name: "remove missing", cmd: NodeCmd{ID: "n9", Remove: true},
			want: []Node{{ID: "n1", Raft: "10.0.0.1:7000", API: "10.0.0.1:8080"}}},
		{name: "no id", cmd: NodeCmd{Raft: "10.0.0.3:7000"}, err: ErrBadCommand,
			want: []Node{{ID: "n1", Raft: "10.0.0.1:7000", API: "10.0.0.1:8080"}}},
		{name: "no raft address", cmd: NodeCmd{ID: "n3"}, err: ErrBadCommand,
			want: []Node{{ID: "n1", Raft: "10.0.0.1:7000", API: "10.0.0.1:8080"}}},
	}
	for i, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			index := uint64(i + 1)
			_, err := s.Apply(index, nodeCmd(st.cmd))
			if !errors.Is(err, st.err) {
				t.Fatalf("Apply: %v, want %v", err, st.err)
			}
			if got := s.AppliedIndex(); got != index {
				t.Errorf("AppliedIndex = %d, want %d", got, index)
			}
			if got := s.Nodes(); !reflect.DeepEqual(got, st.want) {
				t.Errorf("Nodes = %+v, want %+v", got, st.want)
			}
		})
	}
	want := s.Nodes()
	if len(s.Zones()) != 0 {
		t.Errorf("node commands created zones: %v", s.Zones())
	}
	// Nodes survive a restart (before the parent zone exists) and a restore.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTestStoreAt(t, path)
	if got := s.Nodes(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after reopen: %+v, want %+v", got, want)
	}
	snap, err := s.BeginSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	other := openTestStore(t)
	pr, pw := io.Pipe()
	go func() { _, err := snap.WriteTo(pw); pw.CloseWithError(err) }()
	if err := other.Restore(pr); err != nil {
		t.Fatal(err)
	}
	if got := other.Nodes(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after restore: %+v, want %+v", got, want)
	}
}

func TestNodesWithZones(t *testing.T) {
	s, p, _ := newTestProvisioner(t, nil)
	mustAdd(t, p, "a.com")
	before := captureState(t, s)
	next := s.AppliedIndex() + 1
	if _, err := s.Apply(next, nodeCmd(NodeCmd{ID: "n1", Raft: "127.0.0.1:7000"})); err != nil {
		t.Fatal(err)
	}
	after := captureState(t, s)
	after.Applied = before.Applied
	if !reflect.DeepEqual(after, before) {
		t.Errorf("a node command changed the zones:\n got %+v\nwant %+v", after, before)
	}
	if got := s.Nodes(); len(got) != 1 || got[0].ID != "n1" {
		t.Errorf("Nodes = %+v", got)
	}
}
