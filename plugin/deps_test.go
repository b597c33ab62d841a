package mxsign

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportDirection keeps STYLE.md's import rules true:
// signer -> miekg/dns + std; zonestore -> bbolt, miekg/dns, x/net + std; neither imports
// the other, and nothing imports the plugin or the commands. mxctl uses only the API client.
func TestImportDirection(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go tool not in PATH")
	}
	const mod = "github.com/mxsign/mxsign/"
	tests := []struct {
		pkg     string
		allowed []string // module-internal packages allowed (besides itself)
		foreign []string // third-party prefixes allowed; std is always allowed; nil = any
	}{
		{pkg: "signer", foreign: []string{"github.com/miekg/dns", "golang.org/x/"}},
		{pkg: "signer/keymgr", foreign: []string{}},
		{pkg: "signer/nsecchain", allowed: []string{"signer"}, foreign: []string{"github.com/miekg/dns", "golang.org/x/"}},
		{pkg: "cluster", allowed: []string{"zonestore"}},
		{pkg: "zonestore", foreign: []string{"github.com/miekg/dns", "go.etcd.io/bbolt", "golang.org/x/"}},
		{pkg: "plugin/api", foreign: []string{}},
		{pkg: "plugin/anscache", foreign: []string{"github.com/miekg/dns", "golang.org/x/"}},
		{pkg: "plugin/api/client", allowed: []string{"plugin/api"}, foreign: []string{}},
		{pkg: "cmd/mxctl", allowed: []string{"plugin/api", "plugin/api/client", "signer/keymgr"}, foreign: []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", mod+tc.pkg).CombinedOutput()
			if err != nil {
				t.Fatalf("go list: %v\n%s", err, out)
			}
			for _, dep := range strings.Fields(string(out)) {
				if dep == mod+tc.pkg {
					continue
				}
				ok := false
				for _, a := range tc.allowed {
					ok = ok || dep == mod+a
				}
				for _, f := range tc.foreign {
					ok = ok || strings.HasPrefix(dep, f)
				}
				if tc.foreign == nil && !strings.HasPrefix(dep, mod) {
					ok = true
				}
				if !ok {
					t.Errorf("%s imports %s", tc.pkg, dep)
				}
			}
		})
	}
}

// TestNothingImportsPluginOrCmd: the plugin is imported only by cmd/mxsign, and no
// package imports a command.
func TestNothingImportsPluginOrCmd(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go tool not in PATH")
	}
	const mod = "github.com/mxsign/mxsign/"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, mod+"...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		for _, imp := range f[1:] {
			if imp == mod+"plugin" && f[0] != mod+"cmd/mxsign" {
				t.Errorf("%s imports the plugin", f[0])
			}
			if strings.HasPrefix(imp, mod+"cmd/") {
				t.Errorf("%s imports the command %s", f[0], imp)
			}
		}
	}
}
