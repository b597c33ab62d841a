package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps mxctl a thin client: the standard library and the API
// packages only.
func TestImports(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found")
	}
	out, err := exec.Command(goTool, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{
		"github.com/mxsign/mxsign/cmd/mxctl":         true,
		"github.com/mxsign/mxsign/plugin/api":        true,
		"github.com/mxsign/mxsign/plugin/api/client": true,
	}
	for _, p := range strings.Fields(string(out)) {
		if !allowed[p] {
			t.Errorf("mxctl depends on %s", p)
		}
	}
}
