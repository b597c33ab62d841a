package keymgr

import "time"

// PolicyChange remembers a policy a zone was served under before a switch
// (a Corefile reload, or new TTLs in the served zone settings). Until Until,
// Effective keeps its timing values as a floor: records served under it may
// still be in caches, and a wait computed from shorter new values would end
// before they expire. BIND does the same when dnssec-policy TTLs shrink.
type PolicyChange struct {
	From  Policy
	Until time.Time
}

// Switched returns the change record for leaving from at instant at: it holds
// for from.Holdover().
func Switched(from Policy, at time.Time) PolicyChange {
	return PolicyChange{From: from, Until: at.Add(from.Holdover())}
}

// Holdover is how long after a switch away from p anything served under p
// can still matter to a resolver: a signature made under p is served for up
// to Dsgn by a node that lags by Dprp and then cached for TTLsig (the DNSKEY
// RRset is bounded by the same sum, as TTLkey <= TTLsig); a DS is cached for
// DprpP + TTLds. The larger of the two, plus the larger safety margin.
func (p Policy) Holdover() time.Duration {
	zone := p.PropagationDelay + p.dsgn() + p.MaxZoneTTL
	ds := p.ParentPropagationDelay + p.ParentDSTTL
	return max(zone, ds) + max(p.PublishSafety, p.RetireSafety)
}

// Effective returns the policy to plan with at now: p with every value that
// bounds what resolvers may still hold (dnskey-ttl, max-zone-ttl,
// propagation-delay, parent-ds-ttl, parent-propagation-delay, the safeties and
// Dsgn) raised to the largest among the changes still holding at now. Every
// interval of Intervals is a sum of these values, so each is at least what
// both the old and the new policy require. Lifetimes, the algorithm, CSK and
// the signature validity come from p alone: they decide when a roll starts,
// never how long a step waits.
//
// Once a change's Until has passed, nothing served under its From is cached
// any more, and p's own values are safe again: everything still cached was
// served under p.
func Effective(now time.Time, p Policy, changes []PolicyChange) Policy {
	dsgn := p.dsgn()
	for _, c := range changes {
		if !c.Until.After(now) {
			continue
		}
		f := c.From
		p.DNSKEYTTL = max(p.DNSKEYTTL, f.DNSKEYTTL)
		p.MaxZoneTTL = max(p.MaxZoneTTL, f.MaxZoneTTL)
		p.PropagationDelay = max(p.PropagationDelay, f.PropagationDelay)
		p.ParentDSTTL = max(p.ParentDSTTL, f.ParentDSTTL)
		p.ParentPropagationDelay = max(p.ParentPropagationDelay, f.ParentPropagationDelay)
		p.PublishSafety = max(p.PublishSafety, f.PublishSafety)
		p.RetireSafety = max(p.RetireSafety, f.RetireSafety)
		dsgn = max(dsgn, f.dsgn())
	}
	if dsgn != p.dsgn() {
		p.SignatureCacheMaxAge = dsgn
	}
	return p
}

// Holding returns the changes still holding at now, in their order, and the
// earliest instant one of them ends (zero if none holds).
func Holding(now time.Time, changes []PolicyChange) ([]PolicyChange, time.Time) {
	var out []PolicyChange
	var next time.Time
	for _, c := range changes {
		if !c.Until.After(now) {
			continue
		}
		out = append(out, c)
		if next.IsZero() || c.Until.Before(next) {
			next = c.Until
		}
	}
	return out, next
}
