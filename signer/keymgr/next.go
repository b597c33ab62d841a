package keymgr

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// planner collects the actions due at now and the earliest future step.
type planner struct {
	now     time.Time
	acts    []Action
	next    time.Time
	nextWhy string
	waiting []string
}

// at schedules acts at t: due now if t <= now, otherwise t competes for the
// next wake-up. It reports whether the actions were emitted.
func (pl *planner) at(t time.Time, acts ...Action) bool {
	if !t.After(pl.now) {
		pl.acts = append(pl.acts, acts...)
		return true
	}
	if pl.next.IsZero() || t.Before(pl.next) {
		pl.next = t
		pl.nextWhy = acts[0].Kind.String() + " " + string(acts[0].Role) + " " + acts[0].KeyID + " (" + acts[0].Reason + ")"
	}
	return false
}

func act(kind ActionKind, k *KeyState, reason string) Action {
	return Action{Kind: kind, KeyID: k.ID, Role: k.Role, Algorithm: k.Algorithm, Reason: reason}
}

func maxTime(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}

// Next decides the rollover steps of one zone. It returns the actions due at
// now (in a deterministic order; apply them all, in order, then call Next
// again with the same now until it returns none), the instant of the next
// step (zero if Next has nothing scheduled, e.g. while it waits for a parent
// DS to be seen) and a status for operators.
//
// Next is pure: the same inputs give the same outputs. Keys that have
// finished their life (removed, retired, DS withdrawn) are ignored and may be
// dropped by the caller. At most one rollover (ZSK, KSK, CSK or algorithm)
// runs per zone at a time; removing retired keys and withdrawing their DS is
// bookkeeping that runs beside the next rollover.
//
// A zone without keys is bootstrapped: keys are generated, published and
// activated at once, and the DS is submitted IpubC later. An algorithm
// rollover starts when p.Algorithm differs from the zone's keys' algorithm.
// A roll of one key is requested by setting its RollRequested (RequestRoll);
// a compromised key (RequestEmergencyRoll) is replaced at once, ahead of
// every other rule.
func Next(now time.Time, zone string, kind ZoneKind, p Policy, keys []KeyState) (actions []Action, next time.Time, status Status) {
	live := make([]*KeyState, 0, len(keys))
	for i := range keys {
		if !keys[i].done() {
			live = append(live, &keys[i])
		}
	}
	slices.SortStableFunc(live, func(a, b *KeyState) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	z := zoneKeys{pl: &planner{now: now}, zone: zone, kind: kind, p: p, iv: p.Intervals(), live: live}
	status.Phase = z.decide()
	if len(z.pl.waiting) > 0 {
		status.Waiting = strings.Join(z.pl.waiting, "; ")
	} else if !z.pl.next.IsZero() {
		status.Waiting = "next: " + z.pl.nextWhy + " at " + z.pl.next.UTC().Format(time.RFC3339)
	}
	status.NextStep = z.pl.next
	return z.pl.acts, z.pl.next, status
}

type zoneKeys struct {
	pl   *planner
	zone string
	kind ZoneKind
	p    Policy
	iv   Intervals
	live []*KeyState
}

func (z *zoneKeys) roles() []Role {
	if z.p.CSK {
		return []Role{CSK}
	}
	return []Role{KSK, ZSK}
}

func (z *zoneKeys) of(role Role, alg uint8) []*KeyState {
	var out []*KeyState
	for _, k := range z.live {
		if k.Role == role && k.Algorithm == alg {
			out = append(out, k)
		}
	}
	return out
}

// decide runs the rules and returns the phase.
func (z *zoneKeys) decide() string {
	// A compromised key is replaced before anything else, whatever runs.
	if phase := z.emergency(); phase != "" {
		return phase
	}
	z.housekeeping()

	// The algorithm the zone currently runs: that of its signing keys.
	cur := z.p.Algorithm
	oldAlg := false
	for _, k := range z.live {
		if k.Algorithm != z.p.Algorithm && (k.signing() || k.inDNSKEY()) {
			cur, oldAlg = k.Algorithm, true
			break
		}
	}
	type candidate struct {
		t     time.Time
		role  Role
		inc   *KeyState
		boot  bool
		label string
	}
	var cands []candidate
	inProgress := ""
	for _, role := range z.roles() {
		ks := z.of(role, cur)
		busy, inc, boot := z.roleStep(role, ks)
		if busy {
			inProgress = string(role) + "-roll"
			continue
		}
		if boot {
			cands = append(cands, candidate{t: z.pl.now, role: role, boot: true})
			continue
		}
		if inc == nil {
			continue
		}
		if t, label := z.rollStart(inc); !t.IsZero() {
			cands = append(cands, candidate{t: t, role: role, inc: inc, label: label})
		}
	}
	if oldAlg && inProgress == "" {
		return z.algorithmRoll(cur)
	}
	boot := false
	for _, c := range cands {
		if c.boot {
			boot = true
			z.pl.at(c.t, Action{Kind: Generate, Role: c.role, Algorithm: z.p.Algorithm, Reason: "zone has no " + string(c.role)})
		}
	}
	if boot {
		return "bootstrap"
	}
	if inProgress != "" {
		return inProgress
	}
	// One rollover at a time: start the earliest due (KSK before ZSK on a tie).
	var best *candidate
	for i := range cands {
		if best == nil || cands[i].t.Before(best.t) {
			best = &cands[i]
		}
	}
	if best != nil {
		if z.pl.at(best.t, Action{Kind: Generate, Role: best.role, Algorithm: best.inc.Algorithm, Reason: fmt.Sprintf("successor of %s (%s)", best.inc.ID, best.label)}) {
			return string(best.role) + "-roll"
		}
	}
	return "idle"
}

// rollStart returns when the incumbent's successor must start.
func (z *zoneKeys) rollStart(inc *KeyState) (time.Time, string) {
	var t time.Time
	label := ""
	if !inc.RollRequested.IsZero() {
		t, label = inc.RollRequested, "roll requested"
	}
	life, lead := z.p.ZSKLifetime, z.iv.Ipub
	switch {
	case inc.Role == KSK && z.kind == Shard:
		life, lead = z.p.KSKLifetime, z.iv.IpubP
	case inc.Role == KSK:
		life, lead = z.p.KSKLifetime, z.iv.IpubC+z.iv.IpubP
	case inc.Role == CSK:
		lead = z.iv.IpubC + z.iv.IpubP
	}
	if life > 0 {
		s := inc.Active.Add(life - lead + Jitter(z.zone, life))
		if s.Before(inc.Active) {
			s = inc.Active
		}
		if t.IsZero() || s.Before(t) {
			t, label = s, "lifetime "+fmtDur(life)
		}
	}
	return t, label
}

// submitDS schedules the DS of a published, signing key whose DNSKEY must
// be in caches first (IpubC), and waits for a parent DS to be seen. For the
// zone's first DS (boot) it also waits until answers served unsigned before
// the zone was signed have left caches (Dprp + TTLsig + publish-safety).
func (z *zoneKeys) submitDS(k *KeyState, boot bool) {
	if !k.Role.hasDS() || k.DSSubmitted.IsZero() && (!k.inDNSKEY() || !k.signing()) {
		return
	}
	if k.DSSubmitted.IsZero() {
		wait, why := z.iv.IpubC, "DNSKEY in caches (IpubC)"
		if u := z.p.PropagationDelay + z.p.MaxZoneTTL + z.p.PublishSafety; boot && u > wait {
			wait, why = u, "unsigned answers gone from caches"
		}
		z.pl.at(maxTime(k.Published, k.Active).Add(wait), act(SubmitDS, k, why))
		return
	}
	z.waitDS(k)
}

// waitDS reports whether k's DS is still waiting to be seen at the parent.
func (z *zoneKeys) waitDS(k *KeyState) bool {
	if k.DSSubmitted.IsZero() || !k.DSPublished.IsZero() || !k.DSWithdrawn.IsZero() {
		return false
	}
	if z.kind == Shard {
		return false // the wiring publishes a shard DS with its submission
	}
	z.pl.acts = append(z.pl.acts, act(WaitParentDS, k, "DS submitted at "+k.DSSubmitted.UTC().Format(time.RFC3339)+", not yet seen at the registry"))
	z.pl.waiting = append(z.pl.waiting, fmt.Sprintf("waiting for parent DS of key %s to be seen", k.ID))
	return true
}

func dsPublished(k *KeyState, kind ZoneKind) time.Time {
	if kind == Shard && k.DSPublished.IsZero() {
		return k.DSSubmitted
	}
	return k.DSPublished
}

// roleStep runs the rules of one role within the current algorithm. It
// returns busy when a rollover of the role is in progress, the incumbent
// key, and boot when the role has no key at all.
func (z *zoneKeys) roleStep(role Role, ks []*KeyState) (busy bool, inc *KeyState, boot bool) {
	var incs, succ []*KeyState
	for _, k := range ks {
		switch {
		case k.Retired.IsZero() && k.Active.IsZero():
			succ = append(succ, k)
		case k.signing():
			incs = append(incs, k)
		}
	}
	if role == KSK && z.kind == Parent && len(incs) > 1 {
		// Double-KSK: both sign; the newest is the successor.
		succ = append(succ, incs[len(incs)-1])
		incs = incs[:len(incs)-1]
	} else if role == KSK && z.kind == Shard {
		// Double-DS: the successor is the key not yet in the DNSKEY RRset.
		succ = succ[:0]
		incs = incs[:0]
		for _, k := range ks {
			switch {
			case k.Published.IsZero() && k.Retired.IsZero():
				succ = append(succ, k)
			case k.signing():
				incs = append(incs, k)
			}
		}
	}
	for _, k := range incs {
		z.submitDS(k, true)
	}
	if len(succ) == 0 {
		if len(incs) == 0 {
			return false, nil, true
		}
		return false, incs[0], false
	}
	s := succ[0]
	if len(incs) == 0 {
		// Bootstrap (or recovery): nothing is cached, publish and sign at once.
		if s.Published.IsZero() {
			z.pl.at(z.pl.now, act(Publish, s, "zone has no signing "+string(role)))
		}
		if s.Active.IsZero() {
			z.pl.at(z.pl.now, act(Activate, s, "zone has no signing "+string(role)))
		}
		z.submitDS(s, true)
		return true, nil, false
	}
	switch {
	case role == ZSK:
		// RFC 7583 §3.2.1 pre-publication.
		if s.Published.IsZero() {
			z.pl.at(z.pl.now, act(Publish, s, "pre-publish successor of "+incs[0].ID))
			return true, nil, false
		}
		acts := []Action{act(Activate, s, "successor DNSKEY in caches (Ipub)")}
		for _, k := range incs {
			acts = append(acts, act(Retire, k, "successor "+s.ID+" active"))
		}
		z.pl.at(s.Published.Add(z.iv.Ipub), acts...)
	case role == KSK && z.kind == Shard:
		// RFC 7583 §3.3.2 double-DS: DS first, then swap the DNSKEY.
		if s.DSSubmitted.IsZero() {
			z.pl.at(z.pl.now, act(SubmitDS, s, "double-DS: new DS first"))
			return true, nil, false
		}
		acts := []Action{act(Publish, s, "new DS in caches (IpubP)"), act(Activate, s, "new DS in caches (IpubP)")}
		for _, k := range incs {
			acts = append(acts, act(Retire, k, "swapped for "+s.ID), act(Remove, k, "swapped for "+s.ID))
		}
		z.pl.at(dsPublished(s, z.kind).Add(z.iv.IpubP), acts...)
	case role == KSK:
		// RFC 7583 §3.3.1 double-KSK: new KSK signs the DNSKEY RRset at
		// once, DS after IpubC, old KSK retires IpubP after the DS is seen.
		if s.Published.IsZero() {
			z.pl.at(z.pl.now, act(Publish, s, "double-KSK successor of "+incs[0].ID), act(Activate, s, "double-KSK successor of "+incs[0].ID))
			return true, nil, false
		}
		z.submitDS(s, false)
		if s.DSPublished.IsZero() {
			return true, nil, false
		}
		var acts []Action
		for _, k := range incs {
			acts = append(acts, act(Retire, k, "DS of "+s.ID+" in caches (IpubP)"))
			if k.dsLive() {
				acts = append(acts, act(WithdrawDS, k, "DS of "+s.ID+" in caches (IpubP)"))
			}
		}
		z.pl.at(s.DSPublished.Add(z.iv.IpubP), acts...)
	case role == CSK:
		if s.Published.IsZero() {
			z.pl.at(z.pl.now, act(Publish, s, "pre-publish successor of "+incs[0].ID))
			return true, nil, false
		}
		if s.DSSubmitted.IsZero() {
			z.pl.at(s.Published.Add(z.iv.IpubC), act(SubmitDS, s, "DNSKEY in caches (IpubC)"))
			return true, nil, false
		}
		if z.waitDS(s) {
			return true, nil, false
		}
		acts := []Action{act(Activate, s, "DNSKEY (Ipub) and DS (IpubP) in caches")}
		for _, k := range incs {
			acts = append(acts, act(Retire, k, "successor "+s.ID+" active"))
		}
		z.pl.at(maxTime(s.Published.Add(z.iv.Ipub), dsPublished(s, z.kind).Add(z.iv.IpubP)), acts...)
	}
	return true, nil, false
}

// housekeeping removes retired keys and withdraws DS of keys out of service,
// each on its own schedule.
func (z *zoneKeys) housekeeping() {
	for _, k := range z.live {
		retired := !k.Retired.IsZero()
		switch k.Role {
		case ZSK:
			if retired && k.inDNSKEY() {
				z.pl.at(k.Retired.Add(z.iv.Iret), act(Remove, k, "old signatures gone from caches (Iret)"))
			}
		case KSK:
			if retired && k.inDNSKEY() {
				z.pl.at(k.Retired.Add(z.iv.IretKSK), act(Remove, k, "old DS gone from caches (Iret)"))
			}
			if k.dsLive() && !k.Removed.IsZero() && !k.Published.IsZero() && z.kind == Shard {
				z.pl.at(k.Removed.Add(z.iv.IretDS), act(WithdrawDS, k, "old DNSKEY RRset gone from caches (Iret)"))
			} else if k.dsLive() && retired && z.kind == Parent {
				z.pl.at(k.Retired, act(WithdrawDS, k, "key retired"))
			}
		case CSK:
			if retired && k.inDNSKEY() {
				d := z.iv.Iret
				if z.kind == Parent && z.iv.IretKSK > d {
					d = z.iv.IretKSK
				}
				z.pl.at(k.Retired.Add(d), act(Remove, k, "old signatures gone from caches (Iret)"))
			}
			if k.dsLive() && retired {
				z.pl.at(k.Retired.Add(z.iv.IretCSK), act(WithdrawDS, k, "DNSKEY RRsets signed by it gone from caches"))
			}
		}
	}
}

// algorithmRoll moves the zone from algorithm old to p.Algorithm per
// RFC 6781 §4.1.4: new signatures, then new DNSKEYs, then the DS, then the
// old DNSKEYs go, then the old signatures.
func (z *zoneKeys) algorithmRoll(old uint8) string {
	const phase = "algorithm-roll"
	alg := z.p.Algorithm
	var olds, news []*KeyState
	for _, k := range z.live {
		switch {
		case k.Algorithm == alg:
			news = append(news, k)
		case k.signing() || k.inDNSKEY():
			olds = append(olds, k)
		}
	}
	// 1. Generate the new keys.
	missing := false
	for _, role := range z.roles() {
		if len(z.of(role, alg)) == 0 {
			missing = true
			z.pl.at(z.pl.now, Action{Kind: Generate, Role: role, Algorithm: alg, Reason: fmt.Sprintf("algorithm roll %d -> %d", old, alg)})
		}
	}
	if missing {
		return phase
	}
	// 2. New keys sign before their DNSKEYs are published.
	var activated time.Time
	var acts []Action
	for _, k := range news {
		if k.Active.IsZero() {
			acts = append(acts, act(Activate, k, "algorithm roll: signatures before DNSKEY"))
		}
		activated = maxTime(activated, k.Active)
	}
	if len(acts) > 0 {
		z.pl.at(z.pl.now, acts...)
		return phase
	}
	// 3. Publish the new DNSKEYs once the new signatures are in caches.
	var published time.Time
	for _, k := range news {
		if k.Published.IsZero() {
			acts = append(acts, act(Publish, k, "algorithm roll: new signatures in caches"))
		}
		published = maxTime(published, k.Published)
	}
	if len(acts) > 0 {
		z.pl.at(activated.Add(z.iv.IsigAlg), acts...)
		return phase
	}
	// 4. Swap the DS once the new DNSKEYs are in caches.
	var dsKey *KeyState
	for _, k := range news {
		if k.Role.hasDS() {
			dsKey = k
		}
	}
	if dsKey.DSSubmitted.IsZero() {
		acts = []Action{act(SubmitDS, dsKey, "algorithm roll: new DNSKEY in caches (IpubC)")}
		if z.kind == Shard {
			for _, k := range olds {
				if k.dsLive() {
					acts = append(acts, act(WithdrawDS, k, "algorithm roll: DS replaced by "+dsKey.ID))
				}
			}
		}
		z.pl.at(published.Add(z.iv.IpubC), acts...)
		return phase
	}
	if z.waitDS(dsKey) {
		return phase
	}
	acts = acts[:0]
	for _, k := range olds {
		if k.dsLive() {
			acts = append(acts, act(WithdrawDS, k, "algorithm roll: DS of "+dsKey.ID+" seen"))
		}
	}
	if len(acts) > 0 {
		z.pl.at(z.pl.now, acts...)
		return phase
	}
	// 5. Remove the old DNSKEYs once only the new DS is in caches.
	var removed time.Time
	for _, k := range olds {
		if k.inDNSKEY() {
			acts = append(acts, act(Remove, k, "algorithm roll: new DS in caches (IpubP)"))
		}
		removed = maxTime(removed, k.Removed)
	}
	if len(acts) > 0 {
		z.pl.at(dsPublished(dsKey, z.kind).Add(z.iv.IpubP), acts...)
		return phase
	}
	// 6. Stop signing with the old keys once their DNSKEYs left caches.
	for _, k := range olds {
		if k.signing() {
			acts = append(acts, act(Retire, k, "algorithm roll: old DNSKEY gone from caches"))
		}
	}
	if len(acts) > 0 {
		z.pl.at(removed.Add(z.iv.IremAlg), acts...)
	}
	return phase
}

// RequestRoll returns a copy of keys in which the signing key(s) of role
// have RollRequested = now: Next then starts their replacement as soon as no
// other rollover runs, with the normal safe timing. An algorithm rollover is
// requested by changing Policy.Algorithm instead.
func RequestRoll(now time.Time, keys []KeyState, role Role) ([]KeyState, error) {
	out := slices.Clone(keys)
	found := false
	for i := range out {
		k := &out[i]
		if k.Role == role && k.signing() && (role != KSK || k.inDNSKEY()) {
			k.RollRequested = now
			found = true
		}
	}
	if !found {
		return nil, fmt.Errorf("%w: %s", ErrNoKey, role)
	}
	return out, nil
}
