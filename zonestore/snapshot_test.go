package zonestore

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strconv"
	"testing"
)

// TestBeginSnapshot checks that a snapshot handle holds the state of the
// moment it was taken while later commands are applied.
func TestBeginSnapshot(t *testing.T) {
	s, p, _ := newTestProvisioner(t, func(c *Config) { c.ShardSize = 2 })
	mustAdd(t, p, "a.com", "b.com", "c.com")
	want := captureState(t, s)
	snap, err := s.BeginSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := snap.Applied(); err != nil || got != want.Applied {
		t.Errorf("Applied = %d, %v; want %d", got, err, want.Applied)
	}

	// Writes after the snapshot began, while the handle is still open.
	mustAdd(t, p, "d.com", "e.com")
	var buf bytes.Buffer
	n, err := snap.WriteTo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) || n == 0 {
		t.Errorf("WriteTo = %d, wrote %d", n, buf.Len())
	}
	if err := snap.Close(); err != nil {
		t.Fatal(err)
	}
	if err := snap.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := snap.WriteTo(io.Discard); !errors.Is(err, ErrClosed) {
		t.Errorf("WriteTo after Close: %v, want ErrClosed", err)
	}
	mustAdd(t, p, "f.com")

	other := openTestStore(t)
	if err := other.Restore(&buf); err != nil {
		t.Fatal(err)
	}
	if got := captureState(t, other); !reflect.DeepEqual(got, want) {
		t.Fatalf("restored snapshot:\n got %+v\nwant %+v", got, want)
	}
	if _, err := other.Host("d.com"); !errors.Is(err, ErrHostNotFound) {
		t.Errorf("Host(d.com) in the snapshot: %v", err)
	}
}

func TestBeginSnapshotClosed(t *testing.T) {
	s := openTestStore(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.BeginSnapshot(); !errors.Is(err, ErrClosed) {
		t.Fatalf("BeginSnapshot after Close: %v, want ErrClosed", err)
	}
}

func BenchmarkSnapshotWriteTo(b *testing.B) {
	s, p, _ := newTestProvisioner(b, nil)
	domains := make([]string, 1000)
	for i := range domains {
		domains[i] = "d" + strconv.Itoa(i) + ".com"
	}
	mustAdd(b, p, domains...)
	b.ReportAllocs()
	for b.Loop() {
		snap, err := s.BeginSnapshot()
		if err != nil {
			b.Fatal(err)
		}
		n, err := snap.WriteTo(io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(n)
		snap.Close()
	}
}
