package mxsign

import (
	"sync"
	"time"

	"github.com/mxsign/mxsign/signer"
	"github.com/mxsign/mxsign/signer/keymgr"
	"github.com/mxsign/mxsign/zonestore"
)

// policyState is the key policy an instance plans rollovers with. The Corefile's
// policy can change on reload, and the TTLs the store serves can change under it (a
// reload, another member's settings); either way resolvers may still hold records
// served under the old values. So every change is remembered as a keymgr.PolicyChange
// and its values stay a floor (keymgr.Effective) for their holdover. The scheduler
// never assumes a TTL shorter than the store serves now, whichever member's Corefile
// put it there.
//
// Every member keeps its own state, in memory: each observes the served TTLs it
// applies and its own reloads, so a member that becomes leader plans with what it
// saw. A restart forgets the holds (README: wait for the logged end before
// restarting a member after lowering a value).
type policyState struct {
	mu      sync.Mutex
	policy  *keymgr.Policy // the Corefile's; nil: keys are not managed
	dsgn    time.Duration  // signature reuse of the running signer (validity - refresh)
	served  servedTTLs     // TTLs the store serves, as last observed
	seen    bool
	peak    servedTTLs // while unmanaged: the largest TTLs served since
	changes []keymgr.PolicyChange
}

// servedTTLs are the TTLs the store serves that rollover timing depends on.
type servedTTLs struct {
	dnskey, ds, max time.Duration
}

func servedOf(cfg zonestore.Config, prof zonestore.Profile) servedTTLs {
	s := func(v uint32) time.Duration { return time.Duration(v) * time.Second }
	return servedTTLs{
		dnskey: s(cfg.DNSKEYTTL),
		ds:     s(cfg.DSTTL),
		// The negative TTL is min(SOA MINIMUM, SOA TTL): bounded by the SOA TTL.
		max: s(max(cfg.SOATTL, cfg.NSTTL, cfg.DNSKEYTTL, cfg.DSTTL, prof.TTL)),
	}
}

func (a servedTTLs) atLeast(b servedTTLs) servedTTLs {
	return servedTTLs{dnskey: max(a.dnskey, b.dnskey), ds: max(a.ds, b.ds), max: max(a.max, b.max)}
}

// signatureReuse is Dsgn of a signer: how long it reuses a cached signature.
func signatureReuse(o signer.Options) time.Duration {
	v, r := o.Validity, o.Refresh
	if v == 0 {
		v = signer.DefaultValidity
	}
	if r == 0 {
		r = signer.DefaultRefresh
	}
	return max(v-r, 0)
}

func newPolicyState(p *keymgr.Policy, sig signer.Options) *policyState {
	s := &policyState{dsgn: signatureReuse(sig)}
	if p != nil {
		cp := *p
		s.policy = &cp
	}
	return s
}

// current is the policy with the served TTLs as a floor. The caller holds mu and
// has checked that a policy is set.
func (s *policyState) current() keymgr.Policy {
	p := *s.policy
	if s.seen {
		p.DNSKEYTTL = max(p.DNSKEYTTL, s.served.dnskey)
		p.MaxZoneTTL = max(p.MaxZoneTTL, s.served.max)
		p.ParentDSTTL = max(p.ParentDSTTL, s.served.ds)
	}
	return p
}

// set installs the policy of a reloaded Corefile (nil: keys no longer managed) and
// the signer options it runs with, holding the old values that are longer.
func (s *policyState) set(now time.Time, p *keymgr.Policy, sig signer.Options) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var from *keymgr.Policy
	switch {
	case s.policy != nil && (p == nil || *p != *s.policy || signatureReuse(sig) != s.dsgn):
		f := s.current()
		from = &f
	case s.policy == nil && p != nil:
		// Keys were not managed: what was served is the zone's TTLs (all of them
		// since, at their largest) and the signer's own signature reuse.
		f := *p
		f.DNSKEYTTL, f.MaxZoneTTL, f.ParentDSTTL = s.peak.dnskey, s.peak.max, s.peak.ds
		f.SignatureCacheMaxAge = s.dsgn
		from = &f
	}
	s.policy, s.dsgn = nil, signatureReuse(sig)
	if p != nil {
		cp := *p
		s.policy = &cp
	}
	s.peak = s.served
	if from != nil {
		ch := keymgr.Switched(*from, now)
		s.hold(now, &ch)
	}
}

// heldUntil returns when the last hold ends (zero if nothing is held at now).
func (s *policyState) heldUntil(now time.Time) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var until time.Time
	for _, c := range s.changes {
		if c.Until.After(now) && c.Until.After(until) {
			until = c.Until
		}
	}
	return until
}

// observe records the TTLs the store serves at now; a change starts a hold of the
// old ones.
func (s *policyState) observe(now time.Time, cfg zonestore.Config, prof zonestore.Profile) {
	sv := servedOf(cfg, prof)
	s.mu.Lock()
	defer s.mu.Unlock()
	var ch *keymgr.PolicyChange
	if s.seen && sv != s.served && s.policy != nil {
		c := keymgr.Switched(s.current(), now)
		ch = &c
	}
	s.served, s.seen = sv, true
	s.peak = s.peak.atLeast(sv)
	s.hold(now, ch)
}

// hold keeps ch, a change just made, if it holds any value longer than the current
// policy has. The caller holds mu.
func (s *policyState) hold(now time.Time, ch *keymgr.PolicyChange) {
	if ch == nil {
		return
	}
	if s.policy == nil || keymgr.Effective(now, s.current(), []keymgr.PolicyChange{*ch}) != s.current() {
		s.changes = append(s.changes, *ch)
	}
}

// effective returns the policy to plan with at now and the earliest instant a hold
// ends (zero if none); managed is false without a policy.
func (s *policyState) effective(now time.Time) (p keymgr.Policy, holdEnds time.Time, managed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.policy == nil {
		return keymgr.Policy{}, time.Time{}, false
	}
	s.changes, holdEnds = keymgr.Holding(now, s.changes)
	return keymgr.Effective(now, s.current(), s.changes), holdEnds, true
}
