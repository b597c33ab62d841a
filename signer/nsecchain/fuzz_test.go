package nsecchain

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxsign/mxsign/signer"
)

// FuzzProofs: for any name below a shard apex the chain's NXDOMAIN or NODATA proof is
// the reference's, and the packed answer unpacks.
func FuzzProofs(f *testing.F) {
	for _, s := range []string{"nothere", "contoso-com", "_tcp.contoso-com", "_25._tcp.contoso-com", "x._tcp.contoso-com",
		"*", `\000`, `a\000`, "ZZZ", "-", "~", "a.b.c.d", `\255\255`, "contoso-com0", "contoso-co", "_25._tcp.zz", `\.`, "*.contoso-com"} {
		f.Add(s)
	}
	ts := newTestSigning(f, shardApex, signer.Options{})
	ch := mustBuild(f, shardContent(1, "a", "contoso-com", "fabrikam-com", "z0"), nil)
	if _, err := ch.Presign(ts.at(t0), time.Hour, 0); err != nil {
		f.Fatal(err)
	}
	ref := newReference(ch)
	f.Fuzz(func(t *testing.T, rel string) {
		qname := rel + "." + shardApex
		if _, ok := dns.IsDomainName(qname); !ok || strings.HasPrefix(rel, ".") || rel == "" {
			return
		}
		var b [256]byte
		if w, err := packName(qname, b[:]); err != nil || !endsIn(w, ch.apexWire) {
			if _, err := ch.NXDomain(qname); !errors.Is(err, ErrName) {
				t.Fatalf("NXDomain(%q) outside the zone: %v", qname, err)
			}
			return
		}
		lower, _, err := dns.UnpackDomainName(wireOf(t, qname), 0) // the reference works on plain presentation
		if err != nil {
			t.Fatal(err)
		}
		lower = strings.ToLower(lower)
		rcode := dns.RcodeNameError
		p, err := ch.NXDomain(qname)
		switch {
		case ref.exists(lower):
			if !errors.Is(err, ErrExists) {
				t.Fatalf("NXDomain(%q) of an existing name: %v", qname, err)
			}
			if p, err = ch.NoData(qname); err != nil {
				t.Fatalf("NoData(%q): %v", qname, err)
			}
			rcode = dns.RcodeSuccess
		case err != nil:
			t.Fatalf("NXDomain(%q): %v", qname, err)
		default:
			if got, want := proofNames(ch, p), ref.nx(lower); !slices.Equal(got, want) {
				t.Fatalf("NXDomain(%q) = %q, want %q", qname, got, want)
			}
		}
		q := WireQuery{Name: wireOf(t, qname), Qtype: dns.TypeA, Qclass: dns.ClassINET, OPT: true, DO: true, BufSize: 1232}
		wire, err := ch.AppendNegative(nil, &q, rcode, p, ts.at(t0))
		if err != nil {
			t.Fatal(err)
		}
		m := new(dns.Msg)
		if err := m.Unpack(wire); err != nil {
			t.Fatalf("unpack the answer to %q: %v", qname, err)
		}
		sameMessage(t, m, messageOf(t, ch, &q, qname, rcode, p, ts.at(t0)))
	})
}
