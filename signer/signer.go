package signer

import (
	"fmt"
	"hash/maphash"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Defaults for the zero Options fields.
const (
	DefaultValidity  = 14 * 24 * time.Hour
	DefaultRefresh   = 5 * 24 * time.Hour
	DefaultBackdate  = time.Hour
	DefaultSkew      = 5 * time.Minute
	DefaultCacheSize = 250000
)

// Options tune signature timing and the signature cache. Zero (or negative)
// durations take the defaults.
type Options struct {
	Validity  time.Duration // signature validity, default 14 days
	Refresh   time.Duration // re-sign a cached signature when less than this remains, default 5 days (must be > max TTL + skew)
	Backdate  time.Duration // inception = now - Backdate, default 1 hour
	Skew      time.Duration // clock skew margin, default 5 minutes
	CacheSize int           // max cached signatures, default 250000 (DefaultCacheSize); 0 -> default, <0 -> no cache
}

// withDefaults returns o with every unset field at its default.
func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Validity, DefaultValidity)
	def(&o.Refresh, DefaultRefresh)
	def(&o.Backdate, DefaultBackdate)
	def(&o.Skew, DefaultSkew)
	if o.CacheSize == 0 {
		o.CacheSize = DefaultCacheSize
	}
	return o
}

// Signer makes RRSIGs and caches them. It is safe for concurrent use.
type Signer struct {
	opts Options
	seed maphash.Seed

	validity, refresh, backdate, skew int64 // seconds

	shards    []shard
	shardBits uint
}

// New returns a Signer with opts (defaults filled in).
func New(opts Options) *Signer {
	o := opts.withDefaults()
	s := &Signer{
		opts:     o,
		seed:     maphash.MakeSeed(),
		validity: int64(o.Validity / time.Second),
		refresh:  int64(o.Refresh / time.Second),
		backdate: int64(o.Backdate / time.Second),
		skew:     int64(o.Skew / time.Second),
	}
	s.shards, s.shardBits = newShards(o.CacheSize)
	return s
}

// Options returns the options in effect, defaults filled in. Key rollover
// timing needs them: a cached signature can be served for up to
// Validity - Refresh after it was made (RFC 7583 Dsgn).
func (s *Signer) Options() Options { return s.opts }

// Sign returns an RRSIG over rrset (all same owner/type/class) made with k for
// zone (the signer name, lower-case canonical).
//
// The signature covers the canonical form of the RRset (RFC 4034 §6.2), so a
// query in 0x20 mixed case gets a valid signature; the returned RRSIG's owner
// is rrset[0]'s owner as given (case preserved) and its TTL and Original TTL
// are the rrset TTL (rrset[0]'s).
//
// Signatures are cached under (key, TTL, canonical RRset), so the mixed-case
// and lower-case versions of a query share one entry. A cached signature is
// reused only while expiration - now > max(Refresh, TTL + Skew): one that would
// expire within TTL + Skew is never handed out. Inception is now - Backdate;
// expiration is now + Validity minus a deterministic per-RRset jitter of up
// to 10% of Validity, so re-signing spreads out. The returned RRSIG is a fresh
// copy that the caller may modify.
func (s *Signer) Sign(rrset []dns.RR, k *Key, zone string, now time.Time) (*dns.RRSIG, error) {
	return s.sign(rrset, k, zone, now, cacheKeep)
}

// SignTransient is Sign for an RRset that is unlikely to be asked for again, such as
// the compact-denial NSEC owned by a random non-existent name: a cached signature is
// used if there is one, but a new one is not added, so a random-subdomain flood cannot
// evict the signatures of the hot positive answers (PowerDNS #12899, RFC 9824 §6).
func (s *Signer) SignTransient(rrset []dns.RR, k *Key, zone string, now time.Time) (*dns.RRSIG, error) {
	return s.sign(rrset, k, zone, now, cacheRead)
}

// SignUncached is Sign without the cache: it always signs, neither looks in the cache
// nor adds to it, and is not counted in Stats. It is for callers that keep signatures
// of their own under their own rules, such as the pre-signed NSEC chain
// (signer/nsecchain), whose signatures must neither evict nor be evicted by those of
// answers. Validity, inception and the jitter of the expiration are those of Sign, so
// ServeUntil applies to the result.
func (s *Signer) SignUncached(rrset []dns.RR, k *Key, zone string, now time.Time) (*dns.RRSIG, error) {
	return s.sign(rrset, k, zone, now, cacheNone)
}

// cacheUse says how one signing call uses the signature cache.
type cacheUse int

const (
	cacheKeep cacheUse = iota // look up, and keep a new signature (Sign)
	cacheRead                 // look up only (SignTransient)
	cacheNone                 // neither: always sign, count nothing (SignUncached)
)

func (s *Signer) sign(rrset []dns.RR, k *Key, zone string, now time.Time, use cacheUse) (*dns.RRSIG, error) {
	if len(rrset) == 0 || rrset[0] == nil {
		return nil, fmt.Errorf("%w: empty", ErrRRset)
	}
	if err := checkKey(k, zone); err != nil {
		return nil, err
	}
	h0 := rrset[0].Header()
	if h0.Rrtype == dns.TypeRRSIG || h0.Rrtype == dns.TypeOPT {
		return nil, fmt.Errorf("%w: cannot sign type %s", ErrRRset, dns.TypeToString[h0.Rrtype])
	}
	ttl := h0.Ttl

	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	off, err := sc.canonicalize(rrset, k.id, ttl)
	if err != nil {
		return nil, err
	}
	canon := sc.key[off:]
	if !inZone(canon, k.zoneWire) {
		return nil, fmt.Errorf("%w: %s is not in %s", ErrZone, h0.Name, k.signerName)
	}

	hash := maphash.Bytes(s.seed, sc.key)
	sh := s.shardOf(hash)
	nowUnix := now.Unix()
	minRemain := s.minRemain(ttl)

	sig := new(dns.RRSIG)
	if use != cacheNone && sh.get(hash, k.id, ttl, len(canon), nowUnix, minRemain, sig) {
		sig.Hdr.Name = h0.Name
		return sig, nil
	}

	f := s.fields(h0.Rrtype, canon, ttl, hash, nowUnix)
	b64, sd, err := signCanonical(k, f, canon, sc.sd)
	sc.sd = sd
	if err != nil {
		return nil, err
	}
	*sig = dns.RRSIG{
		Hdr:         dns.RR_Header{Name: h0.Name, Rrtype: dns.TypeRRSIG, Class: h0.Class, Ttl: ttl},
		TypeCovered: f.typeCovered,
		Algorithm:   k.DNSKEY.Algorithm,
		Labels:      f.labels,
		OrigTtl:     ttl,
		Expiration:  f.expiration,
		Inception:   f.inception,
		KeyTag:      k.Tag,
		SignerName:  k.signerName,
		Signature:   b64,
	}
	expiration := nowUnix + s.validity - jitter(hash, s.validity/10)
	switch {
	case use == cacheNone:
	case use == cacheKeep && expiration-nowUnix > minRemain:
		// Never cache a signature that could not be handed out again: with a
		// Refresh at or above Validity it would only take a slot.
		e := entry{hash: hash, keyID: k.id, ttl: ttl, canonLen: len(canon),
			inception: nowUnix - s.backdate, expiration: expiration, sig: *sig}
		e.sig.Hdr.Name = "" // owner case comes from each query
		sh.put(e)
	default:
		sh.countSignature()
	}
	return sig, nil
}

// checkKey checks that k can sign for zone.
func checkKey(k *Key, zone string) error {
	if k == nil || k.DNSKEY == nil {
		return fmt.Errorf("%w: nil key", ErrKey)
	}
	if !strings.EqualFold(zone, k.signerName) && !strings.EqualFold(dns.Fqdn(zone), k.signerName) {
		return fmt.Errorf("%w: key %d belongs to %s, not %s", ErrKey, k.Tag, k.signerName, zone)
	}
	return nil
}

// shardOf returns the cache shard of a hash: its top bits (0 when there is one shard).
func (s *Signer) shardOf(hash uint64) *shard { return &s.shards[hash>>(64-s.shardBits)] }

// fields returns the covered RRSIG fields of a new signature at now over canon, the
// canonical RRset whose cache hash is hash: inception now - Backdate, expiration
// now + Validity less the RRset's jitter.
func (s *Signer) fields(typeCovered uint16, canon []byte, ttl uint32, hash uint64, now int64) sigFields {
	return sigFields{
		typeCovered: typeCovered,
		labels:      labelCount(canon),
		origTTL:     ttl,
		expiration:  uint32(now + s.validity - jitter(hash, s.validity/10)), // #nosec G115 -- RRSIG times are serial numbers (RFC 4034 §3.1.5)
		inception:   uint32(now - s.backdate),                               // #nosec G115 -- as above
	}
}

// minRemain is how long a signature over an RRset with TTL ttl must stay valid to be
// handed out: max(Refresh, TTL + Skew), in seconds.
func (s *Signer) minRemain(ttl uint32) int64 { return max(s.refresh, int64(ttl)+s.skew) }

// ServeUntil returns the Unix second from which sig, made by this Signer no later than
// now, may no longer be handed out: from then on Sign re-signs rather than return it.
// A cache of whole answers must treat an answer as stale from the earliest ServeUntil
// of the signatures in it, so that it never serves one the signer itself would not.
func (s *Signer) ServeUntil(sig *dns.RRSIG, now time.Time) int64 {
	n := now.Unix()
	// Serial arithmetic (RFC 4034 §3.1.5): the expiration nearest to now.
	exp := n + int64(int32(sig.Expiration-uint32(n))) // #nosec G115 -- intended wrap-around
	return exp - s.minRemain(sig.OrigTtl)
}

// jitter derives a per-RRset offset in [0, span] seconds from its hash.
func jitter(hash uint64, span int64) int64 {
	if span <= 0 {
		return 0
	}
	// Use the hash bits the shard index does not, then reduce.
	return int64((hash * 0x9E3779B97F4A7C15 >> 1) % uint64(span+1)) // #nosec G115 -- span > 0
}

// SignAll signs rrset with each key and returns rrset followed by the RRSIGs.
func (s *Signer) SignAll(rrset []dns.RR, keys []*Key, zone string, now time.Time) ([]dns.RR, error) {
	out := make([]dns.RR, 0, len(rrset)+len(keys))
	out = append(out, rrset...)
	for _, k := range keys {
		sig, err := s.Sign(rrset, k, zone, now)
		if err != nil {
			return nil, err
		}
		out = append(out, sig)
	}
	return out, nil
}

// Stats are cumulative cache counters. Signatures counts signing operations
// (cache misses that signed successfully); Entries is the current cache size.
type Stats struct {
	Hits, Misses, Signatures, Evictions uint64
	Entries                             int
}

// Stats returns the cache counters, summed over the shards.
func (s *Signer) Stats() Stats {
	var st Stats
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		st.Hits += sh.hits
		st.Misses += sh.misses
		st.Signatures += sh.signatures
		st.Evictions += sh.evictions
		st.Entries += len(sh.index)
		sh.mu.Unlock()
	}
	return st
}

// ExpiryHorizon returns the shortest time left at now before any signature Sign could
// hand out now expires: the earliest expiration among cached signatures still fit to be
// reused at now (see Sign), or that of a signature made now (Validity less the largest
// jitter, Validity/10), whichever is sooner. It scans the whole cache, one shard lock
// at a time: call it for metrics, not per query.
func (s *Signer) ExpiryHorizon(now time.Time) time.Duration {
	nowUnix := now.Unix()
	horizon := s.validity - s.validity/10 // a fresh signature, largest jitter
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for j := range sh.slab {
			e := &sh.slab[j]
			left := e.expiration - nowUnix
			if e.inception <= nowUnix && left > max(s.refresh, int64(e.ttl)+s.skew) && left < horizon {
				horizon = left
			}
		}
		sh.mu.Unlock()
	}
	return time.Duration(horizon) * time.Second
}
