package keymgr

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors, checked with errors.Is.
var (
	// ErrInvalidPolicy wraps every reason Validate refuses a policy.
	ErrInvalidPolicy = errors.New("keymgr: invalid policy")
	// ErrParse wraps every ParsePolicy syntax error.
	ErrParse = errors.New("keymgr: policy parse error")
	// ErrBogus is returned by Simulate when a cached combination would not validate.
	ErrBogus = errors.New("keymgr: resolver would see a bogus answer")
	// ErrNoKey is returned by RequestRoll when the zone has no key of the role.
	ErrNoKey = errors.New("keymgr: no active key of that role")
	// ErrEmergencyRefused is returned by RequestEmergencyRoll when an
	// emergency roll cannot be done safely enough: the key's DS lives at an
	// external registry, or an algorithm rollover is in progress.
	ErrEmergencyRefused = errors.New("keymgr: emergency roll refused")
)

// Policy is a zone's key and signing policy. The Corefile names of the
// fields are given in ParsePolicy.
type Policy struct {
	Algorithm   uint8         // 13 (ECDSAP256SHA256, default) or 15 (ED25519)
	CSK         bool          // one combined signing key instead of a KSK and a ZSK
	ZSKLifetime time.Duration // active lifetime of a ZSK (or CSK); 0 = no scheduled roll
	KSKLifetime time.Duration // active lifetime of a KSK; 0 = no scheduled roll

	DNSKEYTTL  time.Duration // TTLkey
	MaxZoneTTL time.Duration // TTLsig: every TTL served in the zone is capped to it

	PropagationDelay       time.Duration // Dprp: Raft commit + apply on every node
	ParentDSTTL            time.Duration // TTLds
	ParentPropagationDelay time.Duration // DprpP

	PublishSafety time.Duration
	RetireSafety  time.Duration

	SignatureValidity time.Duration
	SignatureRefresh  time.Duration // re-sign when less than this validity is left
	// SignatureCacheMaxAge is Dsgn: the longest a signature made with a key
	// may still be served after the key stopped signing. Zero means
	// SignatureValidity - SignatureRefresh, the signer's cache reuse bound.
	SignatureCacheMaxAge time.Duration
}

// DefaultPolicy returns the defaults, close to BIND's dnssec-policy "default"
// and Knot's: ZSK 30 days, KSK unlimited, DNSKEY TTL 1h, max zone TTL 1d,
// propagation 5m, parent DS TTL 1d and propagation 1h, safeties 1h,
// signatures valid 14d refreshed 5d before expiry.
func DefaultPolicy() Policy {
	return Policy{
		Algorithm:              13,
		ZSKLifetime:            30 * 24 * time.Hour,
		KSKLifetime:            0,
		DNSKEYTTL:              time.Hour,
		MaxZoneTTL:             24 * time.Hour,
		PropagationDelay:       5 * time.Minute,
		ParentDSTTL:            24 * time.Hour,
		ParentPropagationDelay: time.Hour,
		PublishSafety:          time.Hour,
		RetireSafety:           time.Hour,
		SignatureValidity:      14 * 24 * time.Hour,
		SignatureRefresh:       5 * 24 * time.Hour,
	}
}

// Intervals are the RFC 7583 waits derived from a policy, exposed for status
// and metrics. TTLkey is min(dnskey-ttl, max-zone-ttl).
type Intervals struct {
	Dsgn time.Duration // SignatureCacheMaxAge (or validity - refresh)

	// ZSK pre-publication (RFC 7583 §3.2.1).
	Ipub time.Duration // Dprp + TTLkey + publish-safety
	Iret time.Duration // Dsgn + Dprp + TTLsig + retire-safety

	// KSK (RFC 7583 §3.3).
	IpubC time.Duration // Dprp + TTLkey + publish-safety: DNSKEY in caches before the DS is submitted
	IpubP time.Duration // DprpP + TTLds + publish-safety: new DS in caches before the DNSKEY swap / old KSK retires
	// IretDS is the double-DS wait after the DNSKEY swap before the old DS
	// is withdrawn: Dprp + TTLkey + retire-safety (§3.3.2).
	IretDS time.Duration
	// IretKSK is the double-KSK wait after the old KSK retired before its
	// DNSKEY is removed: DprpP + TTLds + retire-safety (the old DS has left
	// caches, as BIND).
	IretKSK time.Duration
	// IretCSK is the wait after a CSK stopped signing before its DS is
	// withdrawn: Dprp + Dsgn + TTLkey + retire-safety (DNSKEY RRsets signed
	// only by it have left caches).
	IretCSK time.Duration
	// IsigAlg is the algorithm-roll wait after the new keys start signing
	// before their DNSKEYs are published: Dprp + Dsgn + TTLsig +
	// publish-safety (RFC 6781 §4.1.4: new signatures in caches first).
	IsigAlg time.Duration
	// IremAlg is the algorithm-roll wait after the old DNSKEYs are removed
	// before the old keys stop signing: Dprp + TTLkey + retire-safety.
	IremAlg time.Duration
}

func (p Policy) ttlKey() time.Duration {
	if p.MaxZoneTTL > 0 && p.DNSKEYTTL > p.MaxZoneTTL {
		return p.MaxZoneTTL
	}
	return p.DNSKEYTTL
}

func (p Policy) dsgn() time.Duration {
	if p.SignatureCacheMaxAge > 0 {
		return p.SignatureCacheMaxAge
	}
	if d := p.SignatureValidity - p.SignatureRefresh; d > 0 {
		return d
	}
	return 0
}

// Intervals computes the rollover waits of the policy.
func (p Policy) Intervals() Intervals {
	dsgn := p.dsgn()
	key := p.ttlKey()
	return Intervals{
		Dsgn:    dsgn,
		Ipub:    p.PropagationDelay + key + p.PublishSafety,
		Iret:    dsgn + p.PropagationDelay + p.MaxZoneTTL + p.RetireSafety,
		IpubC:   p.PropagationDelay + key + p.PublishSafety,
		IpubP:   p.ParentPropagationDelay + p.ParentDSTTL + p.PublishSafety,
		IretDS:  p.PropagationDelay + key + p.RetireSafety,
		IretKSK: p.ParentPropagationDelay + p.ParentDSTTL + p.RetireSafety,
		IretCSK: p.PropagationDelay + dsgn + key + p.RetireSafety,
		IsigAlg: p.PropagationDelay + dsgn + p.MaxZoneTTL + p.PublishSafety,
		IremAlg: p.PropagationDelay + key + p.RetireSafety,
	}
}

// Validate refuses a policy that cannot be run safely, saying which value is
// wrong. Lifetimes must contain the pre-publication that happens inside them:
// a ZSK (or CSK) lifetime at least Ipub, a KSK lifetime at least IpubC +
// IpubP. A ZSK lifetime shorter than Ipub + Iret is accepted: the retired
// key then simply stays published, unused, until its Iret has passed, beside
// its successors (Next removes every retired key on its own schedule).
func (p Policy) Validate() error {
	if p.Algorithm != 13 && p.Algorithm != 15 {
		return fmt.Errorf("%w: algorithm %d is not supported (13 ECDSAP256SHA256 or 15 ED25519)", ErrInvalidPolicy, p.Algorithm)
	}
	durations := []struct {
		name string
		v    time.Duration
		min  time.Duration
	}{
		{"zsk-lifetime", p.ZSKLifetime, 0},
		{"ksk-lifetime", p.KSKLifetime, 0},
		{"dnskey-ttl", p.DNSKEYTTL, time.Second},
		{"max-zone-ttl", p.MaxZoneTTL, time.Second},
		{"propagation-delay", p.PropagationDelay, 0},
		{"parent-ds-ttl", p.ParentDSTTL, time.Second},
		{"parent-propagation-delay", p.ParentPropagationDelay, 0},
		{"publish-safety", p.PublishSafety, 0},
		{"retire-safety", p.RetireSafety, 0},
		{"signature-validity", p.SignatureValidity, time.Second},
		{"signature-refresh", p.SignatureRefresh, 0},
		{"signature-cache-max-age", p.SignatureCacheMaxAge, 0},
	}
	for _, d := range durations {
		if d.v < d.min {
			return fmt.Errorf("%w: %s %s must be at least %s", ErrInvalidPolicy, d.name, fmtDur(d.v), fmtDur(d.min))
		}
	}
	if p.DNSKEYTTL > p.MaxZoneTTL {
		return fmt.Errorf("%w: dnskey-ttl %s is longer than max-zone-ttl %s", ErrInvalidPolicy, fmtDur(p.DNSKEYTTL), fmtDur(p.MaxZoneTTL))
	}
	if p.SignatureRefresh >= p.SignatureValidity {
		return fmt.Errorf("%w: signature-refresh %s must be shorter than signature-validity %s", ErrInvalidPolicy, fmtDur(p.SignatureRefresh), fmtDur(p.SignatureValidity))
	}
	if p.SignatureRefresh <= p.MaxZoneTTL {
		return fmt.Errorf("%w: signature-refresh %s must be longer than max-zone-ttl %s, or cached signatures expire in resolvers", ErrInvalidPolicy, fmtDur(p.SignatureRefresh), fmtDur(p.MaxZoneTTL))
	}
	if p.SignatureCacheMaxAge > p.SignatureValidity {
		return fmt.Errorf("%w: signature-cache-max-age %s is longer than signature-validity %s", ErrInvalidPolicy, fmtDur(p.SignatureCacheMaxAge), fmtDur(p.SignatureValidity))
	}
	iv := p.Intervals()
	if p.ZSKLifetime > 0 && p.ZSKLifetime < iv.Ipub {
		return fmt.Errorf("%w: zsk-lifetime %s is shorter than Ipub = %s (propagation-delay %s + dnskey-ttl %s + publish-safety %s)",
			ErrInvalidPolicy, fmtDur(p.ZSKLifetime), fmtDur(iv.Ipub), fmtDur(p.PropagationDelay), fmtDur(p.ttlKey()), fmtDur(p.PublishSafety))
	}
	if p.KSKLifetime > 0 && p.KSKLifetime < iv.IpubC+iv.IpubP {
		return fmt.Errorf("%w: ksk-lifetime %s is shorter than IpubC+IpubP = %s (propagation-delay %s + dnskey-ttl %s + parent-propagation-delay %s + parent-ds-ttl %s + 2 x publish-safety %s)",
			ErrInvalidPolicy, fmtDur(p.KSKLifetime), fmtDur(iv.IpubC+iv.IpubP), fmtDur(p.PropagationDelay), fmtDur(p.ttlKey()),
			fmtDur(p.ParentPropagationDelay), fmtDur(p.ParentDSTTL), fmtDur(p.PublishSafety))
	}
	if p.CSK && p.ZSKLifetime > 0 && p.ZSKLifetime < iv.IpubC+iv.IpubP {
		return fmt.Errorf("%w: zsk-lifetime %s of a csk is shorter than IpubC+IpubP = %s", ErrInvalidPolicy, fmtDur(p.ZSKLifetime), fmtDur(iv.IpubC+iv.IpubP))
	}
	return nil
}
