package nsecchain

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxsign/mxsign/signer"
)

const (
	shardApex  = "1j2b.mx.example."
	parentApex = "mx.example."
)

var t0 = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

func soaOf(apex string, serial uint32) *dns.SOA {
	return &dns.SOA{
		Hdr: dns.RR_Header{Name: apex, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 3600},
		Ns:  "ns1.mx.example.", Mbox: "hostmaster.mx.example.",
		Serial: serial, Refresh: 3600, Retry: 600, Expire: 1209600, Minttl: 300,
	}
}

var (
	apexTypes = []uint16{dns.TypeSOA, dns.TypeNS, dns.TypeDNSKEY, dns.TypeCDS, dns.TypeCDNSKEY}
	hostTypes = []uint16{dns.TypeA, dns.TypeAAAA}
	tlsaTypes = []uint16{dns.TypeTLSA}
)

// shardContent is a shard with the given host labels, each with its TLSA name.
func shardContent(serial uint32, labels ...string) Content {
	c := Content{Apex: shardApex, SOA: soaOf(shardApex, serial), Owners: []Owner{{Name: shardApex, Types: apexTypes}}}
	for _, l := range labels {
		c.Owners = append(c.Owners,
			Owner{Name: l + "." + shardApex, Types: hostTypes},
			Owner{Name: "_25._tcp." + l + "." + shardApex, Types: tlsaTypes})
	}
	return c
}

// parentContent: apex, a name server with its address, a signed and an unsigned
// delegation, glue below the unsigned one, and a name server under an empty
// non-terminal.
func parentContent() Content {
	return Content{Apex: parentApex, SOA: soaOf(parentApex, 7), Owners: []Owner{
		{Name: parentApex, Types: apexTypes},
		{Name: "ns1.mx.example.", Types: []uint16{dns.TypeA}},
		{Name: "1j2b.mx.example.", Types: []uint16{dns.TypeNS, dns.TypeDS}},
		{Name: "9zzz.mx.example.", Types: []uint16{dns.TypeNS}},
		{Name: "ns.9zzz.mx.example.", Types: []uint16{dns.TypeA}},
		{Name: "ns2.dns.mx.example.", Types: []uint16{dns.TypeAAAA}},
	}}
}

func mustBuild(t testing.TB, c Content, old *Chain) *Chain {
	t.Helper()
	ch, err := Build(c, old)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func names(ch *Chain) []string {
	out := make([]string, ch.Len())
	for i := range out {
		out[i] = ch.Name(i)
	}
	return out
}

// TestBuildOrderAndBitmaps: canonical order, no empty non-terminals, RRSIG and NSEC in
// every bitmap, delegation bitmaps of NS and DS only, no glue, TTL per RFC 9077.
func TestBuildOrderAndBitmaps(t *testing.T) {
	tests := []struct {
		name    string
		content Content
		want    []string
		bitmaps map[string][]uint16
	}{
		{
			name:    "shard",
			content: shardContent(1, "fabrikam-com", "contoso-com", "a0"),
			want: []string{shardApex,
				"a0." + shardApex, "_25._tcp.a0." + shardApex,
				"contoso-com." + shardApex, "_25._tcp.contoso-com." + shardApex,
				"fabrikam-com." + shardApex, "_25._tcp.fabrikam-com." + shardApex},
			bitmaps: map[string][]uint16{
				shardApex:                           {dns.TypeNS, dns.TypeSOA, dns.TypeRRSIG, dns.TypeNSEC, dns.TypeDNSKEY, dns.TypeCDS, dns.TypeCDNSKEY},
				"a0." + shardApex:                   {dns.TypeA, dns.TypeAAAA, dns.TypeRRSIG, dns.TypeNSEC},
				"_25._tcp.contoso-com." + shardApex: {dns.TypeRRSIG, dns.TypeNSEC, dns.TypeTLSA},
			},
		},
		{
			name:    "parent",
			content: parentContent(),
			want:    []string{parentApex, "1j2b.mx.example.", "9zzz.mx.example.", "ns2.dns.mx.example.", "ns1.mx.example."},
			bitmaps: map[string][]uint16{
				"1j2b.mx.example.": {dns.TypeNS, dns.TypeDS, dns.TypeRRSIG, dns.TypeNSEC},
				"9zzz.mx.example.": {dns.TypeNS, dns.TypeRRSIG, dns.TypeNSEC},
				"ns1.mx.example.":  {dns.TypeA, dns.TypeRRSIG, dns.TypeNSEC},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ch := mustBuild(t, tc.content, nil)
			got := names(ch)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("names\n got %q\nwant %q", got, tc.want)
			}
			if !slices.IsSortedFunc(got, canonicalCompare) {
				t.Fatalf("not in canonical order: %q", got)
			}
			if ch.TTL() != 300 {
				t.Fatalf("TTL %d, want min(SOA TTL 3600, MINIMUM 300)", ch.TTL())
			}
			for i, n := range got {
				nsec := ch.NSEC(i, "")
				if want := got[(i+1)%len(got)]; nsec.NextDomain != want {
					t.Errorf("NSEC %s next %s, want %s", n, nsec.NextDomain, want)
				}
				if !slices.Contains(nsec.TypeBitMap, dns.TypeRRSIG) || !slices.Contains(nsec.TypeBitMap, dns.TypeNSEC) {
					t.Errorf("NSEC %s bitmap %v lacks RRSIG or NSEC", n, nsec.TypeBitMap)
				}
				if want, ok := tc.bitmaps[n]; ok {
					slices.Sort(want)
					if !slices.Equal(nsec.TypeBitMap, want) {
						t.Errorf("NSEC %s bitmap %v, want %v", n, nsec.TypeBitMap, want)
					}
				}
				// The packed bitmap is what miekg/dns packs.
				packed := make([]byte, 512)
				off, err := dns.PackRR(nsec, packed, 0, nil, false)
				if err != nil {
					t.Fatal(err)
				}
				bm := ch.bitmaps[ch.bm[i]].wire
				if !strings.HasSuffix(string(packed[:off]), string(bm)) {
					t.Errorf("NSEC %s: packed bitmap %x is not the end of miekg's %x", n, bm, packed[:off])
				}
			}
		})
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name string
		c    Content
	}{
		{name: "no SOA", c: Content{Apex: shardApex, Owners: []Owner{{Name: shardApex, Types: apexTypes}}}},
		{name: "no apex", c: Content{Apex: shardApex, SOA: soaOf(shardApex, 1), Owners: []Owner{{Name: "a." + shardApex, Types: hostTypes}}}},
		{name: "outside", c: Content{Apex: shardApex, SOA: soaOf(shardApex, 1), Owners: []Owner{{Name: shardApex, Types: apexTypes}, {Name: "x.example.", Types: hostTypes}}}},
		{name: "suffix not at a label", c: Content{Apex: shardApex, SOA: soaOf(shardApex, 1), Owners: []Owner{{Name: shardApex, Types: apexTypes}, {Name: "x1j2b.mx.example.", Types: hostTypes}}}},
		{name: "twice", c: Content{Apex: shardApex, SOA: soaOf(shardApex, 1), Owners: []Owner{{Name: shardApex, Types: apexTypes}, {Name: "a." + shardApex, Types: hostTypes}, {Name: "A." + shardApex, Types: hostTypes}}}},
		{name: "empty non-terminal", c: Content{Apex: shardApex, SOA: soaOf(shardApex, 1), Owners: []Owner{{Name: shardApex, Types: apexTypes}, {Name: "_tcp.a." + shardApex}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Build(tc.c, nil); err == nil {
				t.Fatal("built")
			}
		})
	}
}

// reference answers the proofs from the owner names alone, by RFC 4035 §3.1.3 and the
// canonical order, with none of the chain's machinery.
type reference struct {
	apex   string
	owners []string // canonical order
}

func newReference(ch *Chain) reference { return reference{apex: ch.Apex(), owners: names(ch)} }

// covers reports whether the NSEC owner -> next covers name (strictly between, or
// after the last owner when next is the apex).
func covers(owner, next, name string) bool {
	if canonicalCompare(owner, name) >= 0 {
		return false
	}
	return canonicalCompare(name, next) < 0 || strings.EqualFold(next, owner) || canonicalCompare(next, owner) <= 0
}

func (r reference) exists(name string) bool {
	for _, o := range r.owners {
		if strings.EqualFold(o, name) || dns.IsSubDomain(name, o) {
			return true
		}
	}
	return false
}

// nx returns the owners of the NSECs that deny name: the one covering it, then the one
// covering the wildcard at the closest encloser.
func (r reference) nx(name string) []string {
	ce := name
	for !r.exists(ce) {
		idx := dns.Split(ce) // label starts, escapes respected
		if len(idx) < 2 {
			panic("no closest encloser")
		}
		ce = ce[idx[1]:]
		if !dns.IsSubDomain(r.apex, ce) {
			panic("no closest encloser")
		}
	}
	var out []string
	for _, target := range []string{name, "*." + ce} {
		for i, o := range r.owners {
			if covers(o, r.owners[(i+1)%len(r.owners)], target) {
				if !slices.Contains(out, o) {
					out = append(out, o)
				}
				break
			}
		}
	}
	return out
}

func proofNames(ch *Chain, p Proof) []string {
	var out []string
	for i := 0; i < p.Len(); i++ {
		out = append(out, ch.Name(p.Index(i)))
	}
	return out
}

// TestProofs: every NXDOMAIN and NODATA proof equals the reference's, for names around
// every owner: below, beside, in empty non-terminals, with 0x20 case.
func TestProofs(t *testing.T) {
	for _, c := range []Content{shardContent(1, "fabrikam-com", "contoso-com", "a0", "z"), parentContent()} {
		ch := mustBuild(t, c, nil)
		ref := newReference(ch)
		var queries []string
		for _, o := range ref.owners {
			queries = append(queries, "x."+o, "*."+o, "zz."+o, "-."+o, "a.b."+o, "_tcp."+o, "x._tcp."+o,
				strings.ToUpper(o), `\000.`+o, "~."+o)
			if first, _, _ := strings.Cut(o, "."); o != ref.apex && len(first) > 1 { // beside the owner: a label just before and just after it
				first, rest, _ := strings.Cut(o, ".")
				queries = append(queries, first[:len(first)-1]+"."+rest, first+"0."+rest, first+`\000.`+rest)
			}
		}
		queries = append(queries, "0."+ref.apex, "~~~."+ref.apex, "*."+ref.apex)
		for _, q := range queries {
			t.Run(q, func(t *testing.T) {
				if !ref.exists(q) {
					p, err := ch.NXDomain(q)
					if err != nil {
						t.Fatal(err)
					}
					if got, want := proofNames(ch, p), ref.nx(strings.ToLower(q)); !slices.Equal(got, want) {
						t.Fatalf("NXDOMAIN proof %q, want %q", got, want)
					}
					if _, err := ch.NoData(q); !errors.Is(err, ErrNotExists) {
						t.Fatalf("NoData of a name that does not exist: %v", err)
					}
					return
				}
				if _, err := ch.NXDomain(q); !errors.Is(err, ErrExists) {
					t.Fatalf("NXDomain of an existing name: %v", err)
				}
				p, err := ch.NoData(q)
				if err != nil {
					t.Fatal(err)
				}
				got := proofNames(ch, p)
				if len(got) != 1 {
					t.Fatalf("NODATA proof %q", got)
				}
				i := p.Index(0)
				if i, ok := ch.Find(q); ok {
					if !strings.EqualFold(ch.Name(i), q) {
						t.Fatalf("Find(%s) = %s", q, ch.Name(i))
					}
					return
				}
				// An empty non-terminal: covered, and the next name is below it.
				next := ref.owners[(i+1)%len(ref.owners)]
				if !covers(got[0], next, strings.ToLower(q)) || !dns.IsSubDomain(strings.ToLower(q), next) {
					t.Fatalf("ENT %s: NSEC %s -> %s", q, got[0], next)
				}
			})
		}
	}
}

// TestProofOutsideZone: names not in the zone are errors, not proofs.
func TestProofOutsideZone(t *testing.T) {
	ch := mustBuild(t, shardContent(1, "a"), nil)
	for _, q := range []string{"example.", "x.mx.example.", "x1j2b.mx.example."} {
		if _, err := ch.NXDomain(q); !errors.Is(err, ErrName) {
			t.Errorf("NXDomain(%s): %v", q, err)
		}
		if _, err := ch.NoData(q); !errors.Is(err, ErrName) {
			t.Errorf("NoData(%s): %v", q, err)
		}
	}
}

type testSigning struct {
	s    *signer.Signer
	keys []*signer.Key
}

func newTestSigning(t testing.TB, zone string, opts signer.Options) *testSigning {
	return &testSigning{s: signer.New(opts), keys: []*signer.Key{newZSK(t, zone)}}
}

func newZSK(t testing.TB, zone string) *signer.Key {
	t.Helper()
	dk, priv, err := signer.GenerateKey(zone, dns.ECDSAP256SHA256, false, 3600, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := signer.NewKey(dk, priv)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (ts *testSigning) at(now time.Time) Signing {
	return Signing{Signer: ts.s, Keys: ts.keys, Now: now}
}

// verifyAll checks that every NSEC and the SOA carry a valid signature by each key.
func verifyAll(t *testing.T, ch *Chain, ts *testSigning, now time.Time) {
	t.Helper()
	for i := 0; i <= ch.Len(); i++ {
		var rrs []dns.RR
		var err error
		if i == ch.Len() {
			rrs, _, err = ch.AppendDenial(nil, Proof{}, "", true, ts.at(now))
		} else {
			rrs, _, err = ch.AppendNSEC(nil, i, "", true, ts.at(now))
		}
		if err != nil {
			t.Fatal(err)
		}
		set, sigs := splitSigs(rrs)
		if len(sigs) != len(ts.keys) {
			t.Fatalf("%s: %d RRSIGs, want %d", set[0].Header().Name, len(sigs), len(ts.keys))
		}
		for j, sig := range sigs {
			if err := sig.Verify(ts.keys[j].DNSKEY, set); err != nil {
				t.Fatalf("%s %s: %v", set[0].Header().Name, dns.TypeToString[set[0].Header().Rrtype], err)
			}
			if !sig.ValidityPeriod(now) {
				t.Fatalf("%s: signature not valid at %v", set[0].Header().Name, now)
			}
		}
	}
}

func splitSigs(rrs []dns.RR) (set []dns.RR, sigs []*dns.RRSIG) {
	for _, rr := range rrs {
		if s, ok := rr.(*dns.RRSIG); ok {
			sigs = append(sigs, s)
		} else {
			set = append(set, rr)
		}
	}
	return set, sigs
}

// TestPresignAndReuse: Presign signs every NSEC and the SOA once; a later version of
// the zone re-signs only the NSECs that changed (and the SOA, whose serial moved).
func TestPresignAndReuse(t *testing.T) {
	ts := newTestSigning(t, shardApex, signer.Options{})
	labels := []string{"b", "d", "f", "h"}
	ch := mustBuild(t, shardContent(1, labels...), nil)
	if n, err := ch.Presign(ts.at(t0), time.Hour, 0); err != nil || n != ch.Len()+1 {
		t.Fatalf("Presign signed %d (%v), want %d", n, err, ch.Len()+1)
	}
	verifyAll(t, ch, ts, t0)
	if n, _ := ch.Presign(ts.at(t0), time.Hour, 0); n != 0 {
		t.Fatalf("a second Presign signed %d", n)
	}

	tests := []struct {
		name   string
		labels []string
		serial uint32
		want   int // new signatures
	}{
		{name: "same names, new serial", labels: labels, serial: 2, want: 1},                      // the SOA
		{name: "host added", labels: []string{"b", "d", "e", "f", "h"}, serial: 3, want: 4},       // _25._tcp.d, e, _25._tcp.e, SOA
		{name: "host deleted", labels: []string{"b", "d", "f", "h"}, serial: 4, want: 2},          // _25._tcp.d, SOA
		{name: "first host added", labels: []string{"a", "b", "d", "f", "h"}, serial: 5, want: 4}, // apex, a, _25._tcp.a, SOA
		{name: "unchanged", labels: []string{"a", "b", "d", "f", "h"}, serial: 5, want: 0},
		{name: "last host deleted", labels: []string{"a", "b", "d", "f"}, serial: 6, want: 2},    // _25._tcp.f, SOA
		{name: "two apart", labels: []string{"a", "b", "c", "d", "dd", "f"}, serial: 7, want: 7}, // _25._tcp.b, c x2, _25._tcp.d, dd x2, SOA
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			next := mustBuild(t, shardContent(tc.serial, tc.labels...), ch)
			if got := next.Unsigned(ts.keys, t0, time.Hour); got != tc.want {
				var due []string
				for i := range next.sigs {
					if c := next.sigs[i].Load(); c == nil || !c.covers(ts.keys, t0.Add(time.Hour).Unix()) {
						due = append(due, next.rrAt(i).Header().Name)
					}
				}
				t.Fatalf("%d to sign, want %d: %q", got, tc.want, due)
			}
			if n, err := next.Presign(ts.at(t0), time.Hour, 0); err != nil || n != tc.want {
				t.Fatalf("Presign signed %d (%v), want %d", n, err, tc.want)
			}
			verifyAll(t, next, ts, t0)
			ch = next
		})
	}
}

// TestResignOnKeyChangeAndRefresh: a new ZSK (a roll) needs every signature again; and
// signatures are made again when they near the end of what the refresh rule allows,
// before an answer would have to.
func TestResignOnKeyChangeAndRefresh(t *testing.T) {
	opts := signer.Options{Validity: 10 * time.Minute, Refresh: 8 * time.Minute, Skew: time.Second}
	ts := newTestSigning(t, shardApex, opts)
	ch := mustBuild(t, shardContent(1, "a", "b"), nil)
	total := ch.Len() + 1
	if n, _ := ch.Presign(ts.at(t0), 30*time.Second, 0); n != total {
		t.Fatalf("signed %d, want %d", n, total)
	}
	// Handed out until 8 minutes (the refresh) before the expiration, 10 minutes after
	// signing less a jitter of up to a tenth of the validity: for at least a minute.
	if n := ch.Unsigned(ts.keys, t0.Add(50*time.Second), 0); n != 0 {
		t.Fatalf("%d signatures expired within a minute", n)
	}
	later := t0.Add(2 * time.Minute)
	if n := ch.Unsigned(ts.keys, later, 0); n != total {
		t.Fatalf("%d of %d due after 2 minutes", n, total)
	}
	if n, _ := ch.Presign(ts.at(later), 30*time.Second, 0); n != total {
		t.Fatalf("refresh signed %d, want %d", n, total)
	}
	verifyAll(t, ch, ts, later)

	old := ts.keys[0]
	ts.keys = []*signer.Key{newZSK(t, shardApex)}
	if n := ch.Unsigned(ts.keys, later, 0); n != total {
		t.Fatalf("after a key change %d of %d to sign", n, total)
	}
	// The budget bounds one pass; the next pass goes on.
	if n, _ := ch.Presign(ts.at(later), 30*time.Second, 2); n != 2 {
		t.Fatalf("budget 2: signed %d", n)
	}
	if n, _ := ch.Presign(ts.at(later), 30*time.Second, 0); n != total-2 {
		t.Fatalf("second pass signed %d, want %d", n, total-2)
	}
	verifyAll(t, ch, ts, later)
	// Both keys (the old one back in use, e.g. an algorithm roll): the new key's
	// signatures stay, the old key's are made again.
	ts.keys = append(ts.keys, old)
	if n, _ := ch.Presign(ts.at(later), 30*time.Second, 0); n != total {
		t.Fatalf("second key: signed %d, want %d", n, total)
	}
	verifyAll(t, ch, ts, later)
}

// TestAnswerSignsOnDemand: an answer from a chain nobody pre-signed signs what it
// needs, once; the next answer uses it.
func TestAnswerSignsOnDemand(t *testing.T) {
	ts := newTestSigning(t, shardApex, signer.Options{})
	ch := mustBuild(t, shardContent(1, "a", "b"), nil)
	p, err := ch.NXDomain("zz." + shardApex)
	if err != nil {
		t.Fatal(err)
	}
	var signed = new(countingUint64)
	sg := ts.at(t0)
	sg.Signed = &signed.Uint64
	first, _, err := ch.AppendDenial(nil, p, "zz."+shardApex, true, sg)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := signed.Load(), uint64(1+p.Len()); got != want {
		t.Fatalf("signed %d, want %d (SOA and the proof)", got, want)
	}
	second, _, err := ch.AppendDenial(nil, p, "zz."+shardApex, true, sg)
	if err != nil {
		t.Fatal(err)
	}
	if signed.Load() != uint64(1+p.Len()) {
		t.Fatal("the second answer signed again")
	}
	if fmt.Sprint(first) != fmt.Sprint(second) {
		t.Fatalf("answers differ:\n%v\n%v", first, second)
	}
	if n := ch.Unsigned(ts.keys, t0, 0); n != ch.Len()+1-(1+p.Len()) {
		t.Fatalf("%d unsigned", n)
	}
}
