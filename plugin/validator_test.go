package mxsign

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mxsign/mxsign/signer"
)

// validator is an independent DNSSEC validator for tests: it trusts only the parent's DS
// (the trust anchor) and walks DS -> DNSKEY -> RRSIG down to every answer, fetching
// DS and DNSKEY RRsets from the server over the network like a resolver would.
type validator struct {
	t      testing.TB
	addr   string
	anchor []*dns.DS // DS of the parent zone
	parent string
	now    time.Time
	keys   map[string][]*dns.DNSKEY // validated DNSKEY RRsets by zone
	// ask, if set, answers queries instead of the network (in-process tests).
	ask func(m *dns.Msg) (*dns.Msg, error)
}

func newValidator(t testing.TB, addr, parent string, anchor []*dns.DS, now time.Time) *validator {
	return &validator{t: t, addr: addr, anchor: anchor, parent: parent, now: now, keys: map[string][]*dns.DNSKEY{}}
}

func (v *validator) query(name string, qtype uint16, do bool) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = false
	m.SetEdns0(1232, do)
	if v.ask != nil {
		return v.ask(m)
	}
	c := &dns.Client{Net: "tcp", Timeout: 5 * time.Second}
	r, _, err := c.Exchange(m, v.addr)
	return r, err
}

// zoneKeys returns the validated DNSKEY RRset of zone.
func (v *validator) zoneKeys(zone string) ([]*dns.DNSKEY, error) {
	zone = strings.ToLower(zone)
	if k, ok := v.keys[zone]; ok {
		return k, nil
	}
	var ds []*dns.DS
	if zone == v.parent {
		ds = v.anchor
	} else {
		r, err := v.query(zone, dns.TypeDS, true)
		if err != nil {
			return nil, err
		}
		if r.Rcode != dns.RcodeSuccess || !r.Authoritative {
			return nil, fmt.Errorf("DS %s: rcode %s aa=%v", zone, dns.RcodeToString[r.Rcode], r.Authoritative)
		}
		set, sigs := split(r.Answer, dns.TypeDS)
		if len(set) == 0 {
			return nil, fmt.Errorf("DS %s: no DS in the parent: %v", zone, r)
		}
		if err := v.verifySet(set, sigs, v.parent); err != nil {
			return nil, fmt.Errorf("DS %s: %w", zone, err)
		}
		for _, rr := range set {
			ds = append(ds, rr.(*dns.DS))
		}
	}
	r, err := v.query(zone, dns.TypeDNSKEY, true)
	if err != nil {
		return nil, err
	}
	set, sigs := split(r.Answer, dns.TypeDNSKEY)
	var keys []*dns.DNSKEY
	for _, rr := range set {
		keys = append(keys, rr.(*dns.DNSKEY))
	}
	// The DNSKEY RRset must be signed by a key that a DS points at.
	for _, sig := range sigs {
		for _, k := range keys {
			if k.KeyTag() != sig.KeyTag || !matchesDS(k, ds) {
				continue
			}
			if err := sig.Verify(k, set); err == nil && sig.ValidityPeriod(v.now) {
				v.keys[zone] = keys
				return keys, nil
			}
		}
	}
	return nil, fmt.Errorf("DNSKEY %s: no RRSIG by a key matching the DS set", zone)
}

func matchesDS(k *dns.DNSKEY, ds []*dns.DS) bool {
	for _, d := range ds {
		if got := k.ToDS(d.DigestType); got != nil && strings.EqualFold(got.Digest, d.Digest) && got.KeyTag == d.KeyTag {
			return true
		}
	}
	return false
}

// verifySet checks that at least one RRSIG made by zone's validated keys covers set.
func (v *validator) verifySet(set []dns.RR, sigs []*dns.RRSIG, zone string) error {
	if len(sigs) == 0 {
		return fmt.Errorf("%s %s: no RRSIG", set[0].Header().Name, dns.TypeToString[set[0].Header().Rrtype])
	}
	for _, sig := range sigs {
		if !strings.EqualFold(sig.SignerName, zone) {
			return fmt.Errorf("RRSIG signer %s, want %s", sig.SignerName, zone)
		}
		if sig.SignerName != strings.ToLower(sig.SignerName) {
			return fmt.Errorf("RRSIG signer name %q is not canonical", sig.SignerName)
		}
	}
	keys, err := v.zoneKeys(zone)
	if err != nil {
		return err
	}
	// Every RRSIG by a key of the RRset must verify, and at least one must. Key tags
	// collide (16 bits over random keys), so every key with the tag is tried.
	name, rtype := set[0].Header().Name, dns.TypeToString[set[0].Header().Rrtype]
	verified := false
	for _, sig := range sigs {
		matched, ok := false, false
		for _, k := range keys {
			if k.KeyTag() == sig.KeyTag && k.Algorithm == sig.Algorithm {
				matched = true
				if sig.Verify(k, set) == nil {
					ok = true
					break
				}
			}
		}
		switch {
		case !matched:
			continue // a key not (or not yet) in the DNSKEY RRset: ignored, as by a resolver
		case !ok:
			return fmt.Errorf("%s %s: RRSIG by %d: bad signature", name, rtype, sig.KeyTag)
		case !sig.ValidityPeriod(v.now):
			return fmt.Errorf("RRSIG outside its validity period at %v", v.now)
		case sig.Hdr.Ttl > sig.OrigTtl || set[0].Header().Ttl > sig.OrigTtl:
			return fmt.Errorf("TTL above the RRSIG's original TTL")
		case time.Unix(int64(sig.Expiration), 0).Sub(v.now) < time.Duration(sig.OrigTtl)*time.Second:
			return fmt.Errorf("RRSIG expires within its TTL")
		}
		verified = true
	}
	if verified {
		return nil
	}
	return fmt.Errorf("%s %s: no RRSIG by a known key of %s", set[0].Header().Name, dns.TypeToString[set[0].Header().Rrtype], zone)
}

// split returns the RRs of type t (the RRset) and the RRSIGs covering t.
func split(rrs []dns.RR, t uint16) (set []dns.RR, sigs []*dns.RRSIG) {
	for _, rr := range rrs {
		switch x := rr.(type) {
		case *dns.RRSIG:
			if x.TypeCovered == t {
				sigs = append(sigs, x)
			}
		default:
			if rr.Header().Rrtype == t {
				set = append(set, rr)
			}
		}
	}
	return set, sigs
}

// validatePositive checks every RRset in the answer section.
func (v *validator) validatePositive(r *dns.Msg) error {
	types := map[uint16]bool{}
	for _, rr := range r.Answer {
		if rr.Header().Rrtype != dns.TypeRRSIG {
			types[rr.Header().Rrtype] = true
		}
	}
	if len(types) == 0 {
		return fmt.Errorf("empty answer")
	}
	for t := range types {
		set, sigs := split(r.Answer, t)
		if len(sigs) == 0 {
			return fmt.Errorf("%s: unsigned", dns.TypeToString[t])
		}
		if err := v.verifySet(set, sigs, sigs[0].SignerName); err != nil {
			return err
		}
	}
	return nil
}

// validateDenial checks a compact denial (RFC 9824): signed SOA, one NSEC owned by qname
// with next "\000.qname", bitmap per nx, and never the queried type.
func (v *validator) validateDenial(r *dns.Msg, qname string, qtype uint16, nx bool) error {
	soa, soaSigs := split(r.Ns, dns.TypeSOA)
	if len(soa) != 1 {
		return fmt.Errorf("want one SOA in authority, got %d", len(soa))
	}
	zone := soa[0].Header().Name
	if err := v.verifySet(soa, soaSigs, zone); err != nil {
		return fmt.Errorf("SOA: %w", err)
	}
	nsecs, nsecSigs := split(r.Ns, dns.TypeNSEC)
	if len(nsecs) != 1 {
		return fmt.Errorf("want one NSEC, got %d", len(nsecs))
	}
	nsec := nsecs[0].(*dns.NSEC)
	if !strings.EqualFold(nsec.Hdr.Name, qname) {
		return fmt.Errorf("NSEC owner %s, want %s", nsec.Hdr.Name, qname)
	}
	if want := "\\000." + strings.ToLower(qname); nsec.NextDomain != want {
		return fmt.Errorf("NSEC next %q, want %q", nsec.NextDomain, want)
	}
	if slices.Contains(nsec.TypeBitMap, qtype) {
		return fmt.Errorf("NSEC bitmap %v lists the queried type", nsec.TypeBitMap)
	}
	hasNX := slices.Contains(nsec.TypeBitMap, signer.TypeNXNAME)
	if hasNX != nx {
		return fmt.Errorf("NSEC bitmap %v: NXNAME present=%v, want %v", nsec.TypeBitMap, hasNX, nx)
	}
	if nx && len(nsec.TypeBitMap) != 3 {
		return fmt.Errorf("NXNAME bitmap %v, want exactly RRSIG NSEC NXNAME", nsec.TypeBitMap)
	}
	if !slices.Contains(nsec.TypeBitMap, dns.TypeRRSIG) || !slices.Contains(nsec.TypeBitMap, dns.TypeNSEC) {
		return fmt.Errorf("NSEC bitmap %v lacks RRSIG/NSEC", nsec.TypeBitMap)
	}
	minTTL := min(soa[0].(*dns.SOA).Minttl, soa[0].Header().Ttl)
	if nsec.Hdr.Ttl != minTTL {
		return fmt.Errorf("NSEC TTL %d, want min(SOA MINIMUM, SOA TTL) = %d", nsec.Hdr.Ttl, minTTL)
	}
	return v.verifySet(nsecs, nsecSigs, zone)
}
