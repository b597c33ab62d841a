package api

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps the API and its client free of the store, the signer and
// CoreDNS: the standard library and these two packages only.
func TestImports(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found")
	}
	out, err := exec.Command(goTool, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./...").Output()
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{
		"github.com/mxsign/mxsign/plugin/api":        true,
		"github.com/mxsign/mxsign/plugin/api/client": true,
	}
	for _, p := range strings.Fields(string(out)) {
		if !allowed[p] {
			t.Errorf("depends on %s", p)
		}
	}
}
