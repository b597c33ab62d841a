package zonestore

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// Defaults applied by Config.WithDefaults and Profile.WithDefaults.
const (
	DefaultTTL       = 3600
	DefaultRefresh   = 3600
	DefaultRetry     = 600
	DefaultExpire    = 1209600
	DefaultMinimum   = 300
	DefaultShardSize = 10000
	DefaultAlgorithm = dns.ECDSAP256SHA256
	DefaultHostTTL   = 300
)

// WithDefaults returns c with zero fields set to their defaults and names in
// canonical form (lower-case FQDN); addresses are written canonically and
// empty lists become nil, so two equivalent configs compare equal.
func (c Config) WithDefaults() Config {
	c.Parent = canonicalName(c.Parent)
	if len(c.NameServers) == 0 {
		c.NameServers = nil
	} else {
		ns := make([]NameServer, len(c.NameServers))
		for i, n := range c.NameServers {
			ns[i] = NameServer{Name: canonicalName(n.Name), A: canonicalAddrs(n.A), AAAA: canonicalAddrs(n.AAAA)}
		}
		c.NameServers = ns
	}
	if c.Hostmaster == "" && c.Parent != "" {
		c.Hostmaster = "hostmaster." + c.Parent
	}
	c.Hostmaster = canonicalName(c.Hostmaster)
	setDefault(&c.SOATTL, DefaultTTL)
	setDefault(&c.NSTTL, DefaultTTL)
	setDefault(&c.DNSKEYTTL, DefaultTTL)
	setDefault(&c.DSTTL, DefaultTTL)
	setDefault(&c.Refresh, DefaultRefresh)
	setDefault(&c.Retry, DefaultRetry)
	setDefault(&c.Expire, DefaultExpire)
	setDefault(&c.Minimum, DefaultMinimum)
	if c.ShardSize == 0 {
		c.ShardSize = DefaultShardSize
	}
	if c.Algorithm == 0 {
		c.Algorithm = DefaultAlgorithm
	}
	return c
}

// Validate checks a config (normally after WithDefaults). The error wraps
// ErrBadCommand, since an invalid config is never applied.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if !validFQDN(c.Parent) || c.Parent == "." {
		bad("parent %q is not a domain name", c.Parent)
	}
	if len(c.NameServers) == 0 {
		bad("at least one name server is required")
	}
	seen := make(map[string]bool)
	for _, ns := range c.NameServers {
		name := canonicalName(ns.Name)
		if !validFQDN(name) || name == "." {
			bad("name server %q is not a domain name", ns.Name)
			continue
		}
		if seen[name] {
			bad("name server %q listed twice", ns.Name)
		}
		seen[name] = true
		if validFQDN(c.Parent) && dns.IsSubDomain(c.Parent, name) && len(ns.A)+len(ns.AAAA) == 0 {
			bad("name server %q is inside %s and needs glue addresses", ns.Name, c.Parent)
		}
		if err := checkAddrs(ns.A, false); err != nil {
			bad("name server %q: %v", ns.Name, err)
		}
		if err := checkAddrs(ns.AAAA, true); err != nil {
			bad("name server %q: %v", ns.Name, err)
		}
	}
	if !validFQDN(c.Hostmaster) {
		bad("hostmaster %q is not a domain name", c.Hostmaster)
	}
	for _, f := range []struct {
		name string
		v    uint32
	}{
		{"soaTTL", c.SOATTL}, {"nsTTL", c.NSTTL}, {"dnskeyTTL", c.DNSKEYTTL}, {"dsTTL", c.DSTTL},
		{"refresh", c.Refresh}, {"retry", c.Retry}, {"expire", c.Expire}, {"minimum", c.Minimum},
	} {
		if f.v == 0 || f.v > 1<<31-1 {
			bad("%s %d out of range", f.name, f.v)
		}
	}
	if c.ShardSize < 1 || c.ShardSize > 1<<20 {
		bad("shardSize %d out of range 1..%d", c.ShardSize, 1<<20)
	}
	if c.Algorithm != dns.ECDSAP256SHA256 && c.Algorithm != dns.ED25519 {
		bad("algorithm %d not supported (13 or 15)", c.Algorithm)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: config: %w", ErrBadCommand, errors.Join(errs...))
	}
	return nil
}

// WithDefaults returns p with the default TTL and canonical rdata.
func (p Profile) WithDefaults() Profile {
	if p.TTL == 0 {
		p.TTL = DefaultHostTTL
	}
	p.A = canonicalAddrs(p.A)
	p.AAAA = canonicalAddrs(p.AAAA)
	if len(p.TLSA) == 0 {
		p.TLSA = nil
	} else {
		t := make([]string, len(p.TLSA))
		for i, s := range p.TLSA {
			if rr, err := parseTLSA(s); err == nil {
				s = tlsaRdata(rr)
			}
			t[i] = s
		}
		p.TLSA = t
	}
	return p
}

// Validate checks the profile's addresses and TLSA rdata.
func (p Profile) Validate() error {
	var errs []error
	if p.TTL == 0 || p.TTL > 1<<31-1 {
		errs = append(errs, fmt.Errorf("ttl %d out of range", p.TTL))
	}
	if err := checkAddrs(p.A, false); err != nil {
		errs = append(errs, err)
	}
	if err := checkAddrs(p.AAAA, true); err != nil {
		errs = append(errs, err)
	}
	for _, s := range p.TLSA {
		if _, err := parseTLSA(s); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: profile: %w", ErrBadCommand, errors.Join(errs...))
	}
	return nil
}

func setDefault(v *uint32, d uint32) {
	if *v == 0 {
		*v = d
	}
}

// canonicalName returns name as a lower-case FQDN ("" stays "").
func canonicalName(name string) string {
	if name == "" {
		return ""
	}
	return strings.ToLower(dns.Fqdn(name))
}

func validFQDN(name string) bool {
	if name == "" || !dns.IsFqdn(name) {
		return false
	}
	_, ok := dns.IsDomainName(name)
	return ok && name == strings.ToLower(name)
}

func canonicalAddrs(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		if a, err := netip.ParseAddr(s); err == nil {
			s = a.String()
		}
		out[i] = s
	}
	return out
}

func checkAddrs(addrs []string, v6 bool) error {
	seen := make(map[netip.Addr]bool, len(addrs))
	for _, s := range addrs {
		a, err := netip.ParseAddr(s)
		switch {
		case err != nil:
			return fmt.Errorf("address %q: %w", s, err)
		case a.Zone() != "":
			return fmt.Errorf("address %q has a zone", s)
		case v6 && !(a.Is6() && !a.Is4In6()):
			return fmt.Errorf("address %q is not IPv6", s)
		case !v6 && !a.Is4():
			return fmt.Errorf("address %q is not IPv4", s)
		case seen[a]:
			return fmt.Errorf("address %q listed twice", s)
		}
		seen[a] = true
	}
	return nil
}

// parseTLSA parses TLSA rdata "usage selector matching-type hex...".
func parseTLSA(s string) (*dns.TLSA, error) {
	f := strings.Fields(s)
	if len(f) < 4 {
		return nil, fmt.Errorf("tlsa %q: want \"usage selector type data\"", s)
	}
	var n [3]uint8
	for i := range n {
		v, err := strconv.ParseUint(f[i], 10, 8)
		if err != nil {
			return nil, fmt.Errorf("tlsa %q: field %d: %w", s, i+1, err)
		}
		n[i] = uint8(v)
	}
	data := strings.ToLower(strings.Join(f[3:], ""))
	b, err := hex.DecodeString(data)
	if err != nil || len(b) == 0 {
		return nil, fmt.Errorf("tlsa %q: certificate data is not hex", s)
	}
	if n[2] == 1 && len(b) != 32 || n[2] == 2 && len(b) != 64 {
		return nil, fmt.Errorf("tlsa %q: digest length %d does not match matching type %d", s, len(b), n[2])
	}
	return &dns.TLSA{
		Hdr:          dns.RR_Header{Rrtype: dns.TypeTLSA, Class: dns.ClassINET},
		Usage:        n[0],
		Selector:     n[1],
		MatchingType: n[2],
		Certificate:  data,
	}, nil
}

func tlsaRdata(rr *dns.TLSA) string {
	return fmt.Sprintf("%d %d %d %s", rr.Usage, rr.Selector, rr.MatchingType, rr.Certificate)
}
