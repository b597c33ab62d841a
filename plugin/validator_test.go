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

// Classic NSEC proofs (`denial nsec`), checked as a validator does (RFC 4035 §5.4),
// from the records alone: canonical order (RFC 4034 §6.1), coverage, the closest
// encloser and the wildcard below it.

// canonicalCmp orders two names as RFC 4034 §6.1 says: labels compared from the right
// as octet strings with A-Z folded to a-z, an absent label first.
func canonicalCmp(a, b string) int {
	la, lb := labelsOf(a), labelsOf(b)
	for i := 1; ; i++ {
		switch {
		case i > len(la) && i > len(lb):
			return 0
		case i > len(la):
			return -1
		case i > len(lb):
			return 1
		}
		x, y := la[len(la)-i], lb[len(lb)-i]
		for j := 0; j < len(x) && j < len(y); j++ {
			if cx, cy := foldASCII(x[j]), foldASCII(y[j]); cx != cy {
				if cx < cy {
					return -1
				}
				return 1
			}
		}
		if len(x) != len(y) {
			if len(x) < len(y) {
				return -1
			}
			return 1
		}
	}
}

func foldASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// labelsOf returns the labels of a presentation name as octet strings (escapes undone).
func labelsOf(name string) [][]byte {
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(dns.Fqdn(name), buf, 0, nil, false)
	if err != nil {
		return nil
	}
	var out [][]byte
	for off := 0; off < n && buf[off] != 0; off += 1 + int(buf[off]) {
		out = append(out, buf[off+1:off+1+int(buf[off])])
	}
	return out
}

// nameCovered reports whether the NSEC proves that nothing exists at name: name sorts
// strictly between the owner and the next name, or after the owner when the NSEC is the
// last of the chain (its next name is the apex, which sorts before the owner).
func nameCovered(nsec *dns.NSEC, name string) bool {
	if canonicalCmp(nsec.Hdr.Name, name) >= 0 {
		return false
	}
	return canonicalCmp(name, nsec.NextDomain) < 0 || canonicalCmp(nsec.NextDomain, nsec.Hdr.Name) <= 0
}

// commonAncestor returns the longest common suffix of two names in whole labels.
func commonAncestor(a, b string) string {
	la, lb := dns.SplitDomainName(strings.ToLower(a)), dns.SplitDomainName(strings.ToLower(b))
	n := 0
	for n < len(la) && n < len(lb) && la[len(la)-1-n] == lb[len(lb)-1-n] {
		n++
	}
	if n == 0 {
		return "."
	}
	return dns.Fqdn(strings.Join(la[len(la)-n:], "."))
}

// classicNSECs checks the authority section of a negative answer in `denial nsec` mode:
// one SOA with its RRSIG, every NSEC signed by the zone, TTLs min(SOA TTL, MINIMUM),
// and no compact-denial NXNAME anywhere. It returns the NSEC records.
func (v *validator) classicNSECs(r *dns.Msg) (zone string, nsecs []*dns.NSEC, err error) {
	soa, soaSigs := split(r.Ns, dns.TypeSOA)
	if len(soa) != 1 {
		return "", nil, fmt.Errorf("want one SOA in authority, got %d", len(soa))
	}
	zone = strings.ToLower(soa[0].Header().Name)
	if err := v.verifySet(soa, soaSigs, zone); err != nil {
		return "", nil, fmt.Errorf("SOA: %w", err)
	}
	minTTL := min(soa[0].(*dns.SOA).Minttl, soa[0].Header().Ttl)
	_, sigs := split(r.Ns, dns.TypeNSEC)
	for _, rr := range r.Ns {
		nsec, ok := rr.(*dns.NSEC)
		if !ok {
			continue
		}
		if slices.Contains(nsec.TypeBitMap, signer.TypeNXNAME) {
			return "", nil, fmt.Errorf("NSEC %s lists NXNAME: compact denial, not a chain", nsec.Hdr.Name)
		}
		if nsec.Hdr.Ttl != minTTL {
			return "", nil, fmt.Errorf("NSEC %s TTL %d, want min(SOA MINIMUM, SOA TTL) = %d", nsec.Hdr.Name, nsec.Hdr.Ttl, minTTL)
		}
		if !dns.IsSubDomain(zone, nsec.Hdr.Name) || !dns.IsSubDomain(zone, nsec.NextDomain) {
			return "", nil, fmt.Errorf("NSEC %s -> %s outside %s", nsec.Hdr.Name, nsec.NextDomain, zone)
		}
		var own []*dns.RRSIG
		for _, s := range sigs {
			if strings.EqualFold(s.Hdr.Name, nsec.Hdr.Name) {
				own = append(own, s)
			}
		}
		if err := v.verifySet([]dns.RR{nsec}, own, zone); err != nil {
			return "", nil, fmt.Errorf("NSEC %s: %w", nsec.Hdr.Name, err)
		}
		nsecs = append(nsecs, nsec)
	}
	return zone, nsecs, nil
}

// validateNXDomainNSEC checks a classic NXDOMAIN proof (RFC 4035 §3.1.3.2, §5.4): rcode
// NXDOMAIN, an NSEC covering qname, and an NSEC covering the wildcard at the closest
// encloser, the deepest ancestor of qname the covering NSEC shows to exist. An NSEC
// at a delegation above qname (NS without SOA) cannot deny names below it.
func (v *validator) validateNXDomainNSEC(r *dns.Msg, qname string) error {
	if r.Rcode != dns.RcodeNameError || !r.Authoritative || len(r.Answer) != 0 {
		return fmt.Errorf("rcode %s aa=%v answers %d, want an authoritative NXDOMAIN", dns.RcodeToString[r.Rcode], r.Authoritative, len(r.Answer))
	}
	zone, nsecs, err := v.classicNSECs(r)
	if err != nil {
		return err
	}
	var cover *dns.NSEC
	for _, n := range nsecs {
		if nameCovered(n, qname) {
			cover = n
		}
		if strings.EqualFold(n.Hdr.Name, qname) {
			return fmt.Errorf("NSEC owned by %s: the name exists", qname)
		}
	}
	if cover == nil {
		return fmt.Errorf("no NSEC covers %s", qname)
	}
	if dns.IsSubDomain(cover.Hdr.Name, qname) && slices.Contains(cover.TypeBitMap, dns.TypeNS) && !slices.Contains(cover.TypeBitMap, dns.TypeSOA) {
		return fmt.Errorf("NSEC %s is a delegation above %s", cover.Hdr.Name, qname)
	}
	ce := commonAncestor(qname, cover.Hdr.Name)
	if alt := commonAncestor(qname, cover.NextDomain); dns.CountLabel(alt) > dns.CountLabel(ce) {
		ce = alt
	}
	if !dns.IsSubDomain(zone, ce) {
		return fmt.Errorf("closest encloser %s is outside %s", ce, zone)
	}
	wild := "*." + ce
	for _, n := range nsecs {
		if nameCovered(n, wild) {
			return nil
		}
	}
	return fmt.Errorf("no NSEC covers the wildcard %s at the closest encloser", wild)
}

// validateNoDataNSEC checks a classic NODATA proof (RFC 4035 §3.1.3.1, §5.4): rcode
// NOERROR, no answer, and either the NSEC of qname without qtype or CNAME in its bitmap,
// or for an empty non-terminal an NSEC covering qname whose next name is below qname.
// For DS at a delegation, the NSEC must show an insecure delegation: NS, no DS, no SOA.
func (v *validator) validateNoDataNSEC(r *dns.Msg, qname string, qtype uint16) error {
	if r.Rcode != dns.RcodeSuccess || !r.Authoritative || len(r.Answer) != 0 {
		return fmt.Errorf("rcode %s aa=%v answers %d, want an authoritative NODATA", dns.RcodeToString[r.Rcode], r.Authoritative, len(r.Answer))
	}
	_, nsecs, err := v.classicNSECs(r)
	if err != nil {
		return err
	}
	for _, n := range nsecs {
		if strings.EqualFold(n.Hdr.Name, qname) {
			if slices.Contains(n.TypeBitMap, qtype) || slices.Contains(n.TypeBitMap, dns.TypeCNAME) {
				return fmt.Errorf("NSEC %s bitmap %v lists %s or CNAME", n.Hdr.Name, n.TypeBitMap, dns.TypeToString[qtype])
			}
			if qtype == dns.TypeDS && !slices.Contains(n.TypeBitMap, dns.TypeNS) && !slices.Contains(n.TypeBitMap, dns.TypeSOA) {
				return fmt.Errorf("DS NODATA at %s: bitmap %v is not a delegation", qname, n.TypeBitMap)
			}
			return nil
		}
	}
	for _, n := range nsecs {
		if nameCovered(n, qname) && dns.IsSubDomain(qname, n.NextDomain) && !strings.EqualFold(qname, n.NextDomain) {
			return nil // an empty non-terminal
		}
	}
	return fmt.Errorf("no NSEC owned by %s, nor one showing it is an empty non-terminal", qname)
}

// validateNSECAnswer checks an answer of type NSEC: the name's NSEC RRset, signed.
func (v *validator) validateNSECAnswer(r *dns.Msg, qname string) error {
	if r.Rcode != dns.RcodeSuccess || !r.Authoritative {
		return fmt.Errorf("rcode %s aa=%v", dns.RcodeToString[r.Rcode], r.Authoritative)
	}
	set, _ := split(r.Answer, dns.TypeNSEC)
	if len(set) != 1 || !strings.EqualFold(set[0].Header().Name, qname) {
		return fmt.Errorf("want the NSEC of %s, got %v", qname, r.Answer)
	}
	return v.validatePositive(r)
}

// queryDenialNSEC asks qname/qtype with DO and checks its classic NSEC proof: of
// NXDOMAIN when nx, else of NODATA.
func (v *validator) queryDenialNSEC(qname string, qtype uint16, nx bool) (*dns.Msg, error) {
	m, err := v.query(qname, qtype, true)
	if err != nil {
		return nil, err
	}
	if nx {
		err = v.validateNXDomainNSEC(m, qname)
	} else {
		err = v.validateNoDataNSEC(m, qname, qtype)
	}
	if err != nil {
		return m, fmt.Errorf("%s %s: %w\n%v", qname, dns.TypeToString[qtype], err, m)
	}
	return m, nil
}
