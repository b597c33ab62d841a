package mxsign

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/coredns/coredns/core/dnsserver"
	"github.com/miekg/dns"
)

// serverView is what batched UDP serving must know of a CoreDNS server that dnsserver
// does not export: every server block on its address, by zone (CoreDNS routes each
// query to the longest zone, DS queries upwards, views by their filters), and the
// opcodes its plugins accept. Read by reflection, read-only, like the writer walk in
// writer.go: if the fields are not what this CoreDNS version has, viewServer reports
// false and the server's own socket serves UDP.
type serverView struct {
	configs []*dnsserver.Config
	opcodes map[int]struct{}
}

func viewServer(s *dnsserver.Server) (serverView, bool) {
	var v serverView
	sv := reflect.ValueOf(s).Elem()
	zones := sv.FieldByName("zones")
	if !zones.IsValid() || zones.Type() != reflect.TypeFor[map[string][]*dnsserver.Config]() {
		return v, false
	}
	for it := zones.MapRange(); it.Next(); {
		list := it.Value()
		for i := range list.Len() {
			v.configs = append(v.configs, (*dnsserver.Config)(list.Index(i).UnsafePointer()))
		}
	}
	ops := sv.FieldByName("allowedOpcodes")
	if !ops.IsValid() || ops.Type() != reflect.TypeFor[map[int]struct{}]() {
		return v, false
	}
	v.opcodes = make(map[int]struct{}, ops.Len())
	for it := ops.MapRange(); it.Next(); {
		v.opcodes[int(it.Key().Int())] = struct{}{}
	}
	return v, true
}

// unsupported says why the server's UDP cannot be served by a Front, or "".
func (v serverView) unsupported() string {
	for _, c := range v.configs {
		switch {
		case c.NumSockets > 1:
			return fmt.Sprintf("multisocket in the block for %s", c.Zone)
		case c.ProxyProtoConnPolicy != nil:
			return fmt.Sprintf("the PROXY protocol in the block for %s", c.Zone)
		}
	}
	return ""
}

// overlapping names the other blocks that may be routed queries for names under the
// parent: for the parent itself or below it, and views (their filters run first).
func (v serverView) overlapping(ours *dnsserver.Config, parent string) string {
	var names []string
	for _, c := range v.configs {
		if c == ours {
			continue
		}
		if dns.IsSubDomain(parent, c.Zone) {
			names = append(names, c.Zone)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return "other server blocks serve " + strings.Join(names, ", ")
}

// hasAncestor reports whether a block serves a zone above the parent: CoreDNS hands DS
// queries to the highest block that matches.
func (v serverView) hasAncestor(parent string) bool {
	for _, c := range v.configs {
		if dns.IsSubDomain(c.Zone, parent) && !strings.EqualFold(dns.Fqdn(c.Zone), dns.Fqdn(parent)) {
			return true
		}
	}
	return false
}
