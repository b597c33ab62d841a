package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mxsign/mxsign/testzones"
)

func TestRolloverSimulate(t *testing.T) {
	dir := t.TempDir()
	fast := filepath.Join(dir, "fast.policy")
	// A Corefile block pasted as is must parse too.
	if err := os.WriteFile(fast, []byte("policy {\n"+testzones.FastPolicy+"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tooShort := filepath.Join(dir, "short.policy")
	if err := os.WriteFile(tooShort, []byte("zsk-lifetime 1m\ndnskey-ttl 1h\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	svg := filepath.Join(dir, "t.svg")
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string // substrings
		wantStderr string
	}{
		{name: "defaults for a year", args: []string{"rollover", "simulate", "--days", "365", "--quiet"}, wantStdout: []string{"instants checked", "no resolver"}},
		{name: "fast policy with a KSK roll, svg", args: []string{"rollover", "simulate", "--policy", fast, "--days", "1", "--svg", svg},
			wantStdout: []string{"ds-submitted", "ds-withdrawn", "retired", "removed", "no resolver"}},
		{name: "parent zone with a manual ZSK roll", args: []string{"rollover", "simulate", "--parent", "--days", "60", "--roll", "10d:zsk", "--quiet"}, wantStdout: []string{"(parent)", "no resolver"}},
		{name: "algorithm roll", args: []string{"rollover", "simulate", "--days", "30", "--roll", "1d:alg=15", "--quiet"}, wantStdout: []string{"no resolver"}},
		{name: "emergency rolls report their window", args: []string{"rollover", "simulate", "--policy", fast, "--days", "1", "--tick", "1s", "--roll", "100s:zsk-now", "--roll", "200s:ksk-now", "--quiet"},
			wantStdout: []string{"emergency zsk roll at 2026-01-01T00:01:40Z: resolvers may fail to validate for 7s (announced), measured 7s: 7 check instants inside flagged, none after",
				"emergency ksk roll at 2026-01-01T00:03:20Z: resolvers may fail to validate for 7s (announced), measured 7s: 7 check instants inside flagged, none after",
				"outside the announced emergency windows"}},
		{name: "bad tick", args: []string{"rollover", "simulate", "--tick", "0s"}, wantCode: 2},
		{name: "emergency roll in the timeline", args: []string{"rollover", "simulate", "--days", "30", "--roll", "10d:zsk-now"},
			wantStdout: []string{"compromised", "# emergency zsk roll at 2026-01-11T00:00:00Z: resolvers may fail to validate until 2026-01-12T00:05:00Z"}},
		{name: "emergency of the parent ksk refused", args: []string{"rollover", "simulate", "--parent", "--days", "30", "--roll", "10d:ksk-now"}, wantCode: 1, wantStderr: "emergency roll refused"},
		{name: "bad emergency roll", args: []string{"rollover", "simulate", "--roll", "1d:alg=15-now"}, wantCode: 2},
		{name: "policy refused", args: []string{"rollover", "simulate", "--policy", tooShort}, wantCode: 1, wantStderr: "zsk-lifetime 1m is shorter than Ipub"},
		{name: "missing policy file", args: []string{"rollover", "simulate", "--policy", filepath.Join(dir, "nope")}, wantCode: 1, wantStderr: "no such file"},
		{name: "bad roll", args: []string{"rollover", "simulate", "--roll", "soon:zsk"}, wantCode: 2},
		{name: "no subcommand", args: []string{"rollover"}, wantCode: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, &stdout, &stderr, func(string) string { return "" })
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.wantCode, stdout.String(), stderr.String())
			}
			for _, w := range tc.wantStdout {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout lacks %q:\n%.2000s", w, stdout.String())
				}
			}
			if tc.wantStderr != "" && !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tc.wantStderr)
			}
		})
	}
	if b, err := os.ReadFile(svg); err != nil || !bytes.HasPrefix(b, []byte("<svg")) {
		t.Fatalf("svg: %v %.40q", err, b)
	}
}
