package anscache

import (
	"fmt"
	"testing"
)

func TestDoorkeeper(t *testing.T) {
	d := NewDoorkeeper(1 << 16)
	if d.Admit([]byte("a.example.")) {
		t.Fatal("a key seen for the first time was admitted")
	}
	if !d.Admit([]byte("a.example.")) {
		t.Fatal("a key seen for the second time was not admitted")
	}
	// A flood of distinct keys: few are admitted on first sight, and the filter
	// clears itself instead of filling up.
	admitted := 0
	const n = 200000
	for i := range n {
		if d.Admit(fmt.Appendf(nil, "nx%d.example.", i)) {
			admitted++
		}
	}
	if admitted > n/16 {
		t.Errorf("%d of %d distinct keys admitted on first sight, want at most 1/16", admitted, n)
	}
	if s := d.set.Load(); s >= d.limit {
		t.Errorf("%d bits set, the filter should have cleared at %d", s, d.limit)
	}
	// A repeated key is still admitted between clears.
	d.Admit([]byte("hot.example."))
	if !d.Admit([]byte("hot.example.")) {
		t.Error("a repeated key was not admitted")
	}
}

func BenchmarkDoorkeeper(b *testing.B) {
	d := NewDoorkeeper(1 << 21)
	keys := make([][]byte, 4096)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "nx%d.shard.mx.example.", i)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		d.Admit(keys[i%len(keys)])
	}
}
