package testzones

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ParentZone is the zone that holds every shard in the mxsign and peer
// benchmark data sets.
const ParentZone = "mx.example."

// Errors returned by the query file writers.
var (
	ErrNoHosts = errors.New("testzones: no hosts")
	ErrNoZones = errors.New("testzones: no zones")
	ErrBadMix  = errors.New("testzones: query mix does not add up to 100")
	ErrBadHost = errors.New("testzones: host name has no zone")
)

// Mix gives the share, in percent, of each kind of query in a query file.
// The shares must add up to 100.
type Mix struct {
	A      int // <host> A
	TLSA   int // _25._tcp.<host> TLSA
	AAAA   int // <host> AAAA
	NoData int // <host> TLSA: the host exists, the type does not
	NX     int // <random label>.<shard zone> A: the name does not exist
	Apex   int // <shard zone> DNSKEY, SOA or NS
}

// PeerMix is the mix of the peer benchmark (shared/bench-peers genzones):
// 60 % A, 20 % TLSA, 10 % AAAA, 5 % non-existent names, 5 % apex queries.
var PeerMix = Mix{A: 60, TLSA: 20, AAAA: 10, NX: 5, Apex: 5}

func (m Mix) total() int { return m.A + m.TLSA + m.AAAA + m.NoData + m.NX + m.Apex }

// QueryCounts reports how many queries of each kind a file holds.
type QueryCounts struct {
	A, TLSA, AAAA, NoData, NX, Apex int
}

// String formats the counts like the peers' SUMMARY file.
func (c QueryCounts) String() string {
	return fmt.Sprintf("A:%d AAAA:%d NODATA:%d NX:%d TLSA:%d apex:%d", c.A, c.AAAA, c.NoData, c.NX, c.TLSA, c.Apex)
}

// QueryOptions configure QueryFile.
type QueryOptions struct {
	Seed string // random stream; the same seed gives the same file
	N    int    // number of queries
	Mix  Mix    // zero value means PeerMix
}

// nxAlphabet never contains '-': host labels mxsign assigns always do, so a
// generated non-existent label never hits a real host.
const nxAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// QueryFile writes a dnsperf query file ("<name> <type>" lines) of opt.N
// queries over hosts, the fully qualified host names mxsign returned (the
// trailing dot is optional). A host's shard zone is the host name without its
// first label. It returns how many queries of each kind it wrote.
func QueryFile(hosts []string, w io.Writer, opt QueryOptions) (QueryCounts, error) {
	var c QueryCounts
	if len(hosts) == 0 {
		return c, ErrNoHosts
	}
	mix := opt.Mix
	if mix == (Mix{}) {
		mix = PeerMix
	}
	if mix.total() != 100 {
		return c, fmt.Errorf("%+v: %w", mix, ErrBadMix)
	}
	type hz struct{ host, zone string }
	hs := make([]hz, len(hosts))
	for i, h := range hosts {
		h = fqdn(h)
		_, zone, ok := strings.Cut(h, ".")
		if !ok || zone == "" {
			return c, fmt.Errorf("%q: %w", h, ErrBadHost)
		}
		hs[i] = hz{h, zone}
	}
	r := newRand(opt.Seed, "queries")
	bw := bufio.NewWriter(w)
	lab := make([]byte, 0, 16)
	for range opt.N {
		h := hs[r.IntN(len(hs))]
		p := r.IntN(100)
		switch {
		case p < mix.A:
			fmt.Fprintf(bw, "%s A\n", h.host)
			c.A++
		case p < mix.A+mix.TLSA:
			fmt.Fprintf(bw, "_25._tcp.%s TLSA\n", h.host)
			c.TLSA++
		case p < mix.A+mix.TLSA+mix.AAAA:
			fmt.Fprintf(bw, "%s AAAA\n", h.host)
			c.AAAA++
		case p < mix.A+mix.TLSA+mix.AAAA+mix.NoData:
			fmt.Fprintf(bw, "%s TLSA\n", h.host)
			c.NoData++
		case p < mix.A+mix.TLSA+mix.AAAA+mix.NoData+mix.NX:
			lab = lab[:0]
			for range 6 + r.IntN(10) {
				lab = append(lab, nxAlphabet[r.IntN(len(nxAlphabet))])
			}
			fmt.Fprintf(bw, "%s.%s A\n", lab, h.zone)
			c.NX++
		default:
			fmt.Fprintf(bw, "%s %s\n", h.zone, pick(r, []string{"DNSKEY", "SOA", "NS"}))
			c.Apex++
		}
	}
	if err := bw.Flush(); err != nil {
		return c, fmt.Errorf("testzones: writing query file: %w", err)
	}
	return c, nil
}

// NXFloodFile writes a random-subdomain flood: n queries of type A for
// distinct names that do not exist ("nx<i>-<12 random>.<zone>"), spread
// uniformly over zones, like shared/bench-peers gen-nxflood.
func NXFloodFile(zones []string, w io.Writer, seed string, n int) error {
	if len(zones) == 0 {
		return ErrNoZones
	}
	zs := make([]string, len(zones))
	for i, z := range zones {
		zs[i] = fqdn(z)
	}
	r := newRand(seed, "nxflood")
	bw := bufio.NewWriter(w)
	lab := make([]byte, 12)
	for i := range n {
		for j := range lab {
			lab[j] = nxAlphabet[r.IntN(len(nxAlphabet))]
		}
		fmt.Fprintf(bw, "nx%d-%s.%s A\n", i, lab, zs[r.IntN(len(zs))])
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("testzones: writing flood file: %w", err)
	}
	return nil
}

// Zones returns the distinct shard zones of hosts in first-seen order,
// followed by ParentZone if it is not among them.
func Zones(hosts []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, h := range hosts {
		_, z, ok := strings.Cut(fqdn(h), ".")
		if !ok || z == "" || seen[z] {
			continue
		}
		seen[z] = true
		out = append(out, z)
	}
	if !seen[ParentZone] {
		out = append(out, ParentZone)
	}
	return out
}

func fqdn(s string) string {
	s = strings.TrimSpace(s)
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
