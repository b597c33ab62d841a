package mxsign

import (
	"runtime/debug"
	"testing"
)

// TestMemoryLimit: `memory-limit` sets the Go runtime's soft memory limit when the
// server starts and on a reload; a reload without it puts back the limit the
// process started with (GOMEMLIMIT or none), and a server without it leaves that.
func TestMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	limit := func() int64 { return debug.SetMemoryLimit(-1) }

	dir := t.TempDir()
	s := startServer(t, dir, 100, "memory-limit 256m")
	if got := limit(); got != 256<<20 {
		t.Fatalf("limit after start: %d, want %d", got, 256<<20)
	}
	steps := []struct {
		name  string
		extra string
		want  int64
	}{
		{name: "changed", extra: "memory-limit 1g", want: 1 << 30},
		{name: "removed", extra: "", want: startMemoryLimit},
		{name: "still absent", extra: "", want: startMemoryLimit},
		{name: "set again", extra: "memory-limit 64m", want: 64 << 20},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			ni, err := s.inst.Restart(caddyInput(corefile(dir, 100, st.extra)))
			if err != nil {
				t.Fatalf("reload: %v", err)
			}
			s.inst = ni
			if got := limit(); got != st.want {
				t.Fatalf("limit %d, want %d", got, st.want)
			}
		})
	}
}
