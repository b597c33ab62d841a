package cluster

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

func TestNewLogger(t *testing.T) {
	var lines []string
	l := NewLogger("raft", hclog.Warn, func(format string, args ...any) {
		lines = append(lines, fmt.Sprintf(format, args...))
	})
	l.Info("hidden")
	l.Warn("heartbeat failed", "peer", "n2")
	l.Named("transport").Error("dial")
	if len(lines) != 2 {
		t.Fatalf("lines = %q", lines)
	}
	for i, want := range []string{"[WARN]  raft: heartbeat failed: peer=n2", "[ERROR] raft.transport: dial"} {
		if lines[i] != want || strings.HasSuffix(lines[i], "\n") {
			t.Errorf("line %d = %q, want %q", i, lines[i], want)
		}
	}
}
