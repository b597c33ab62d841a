package keymgr

import (
	"fmt"
	"slices"
	"time"
)

// SimOptions tune Simulate.
type SimOptions struct {
	// Tick adds a check instant at least this often besides every store
	// change (default 1h). The check is exact at changes; ticks only make
	// the step count match "every hour".
	Tick time.Duration
	// RegistryDelay is, for a Parent zone, how long the external registry
	// takes to publish or withdraw a submitted DS; the simulated DS check
	// sees it at that instant (default 1h).
	RegistryDelay time.Duration
	// Requests are manual rolls (mxctl key roll) at given instants.
	Requests []RollRequest
	// Actual, if set, is the policy the checker assumes is served (TTLs,
	// delays) while Next runs with the policy passed to Simulate: a policy
	// that lies about a TTL must be caught. Switches replace it.
	Actual *Policy
	// Switches replace the policy at given instants (a Corefile reload):
	// from then on the zone is served with the new TTLs and delays, and Next
	// plans with Effective(now, new, changes), the old values held for their
	// Holdover.
	Switches []PolicySwitch
	// Mutate, if set, may change the actions Next returned before they are
	// applied: a deliberately broken key manager must be caught.
	Mutate func(now time.Time, actions []Action) []Action
	// BrokenRetire removes every key from the DNSKEY RRset the moment it
	// retires, ignoring Iret: the check must fail.
	BrokenRetire bool
	// MaxEvents bounds the events kept in the Timeline (default 100000);
	// the check and the counters cover the whole run.
	MaxEvents int
}

// RollRequest asks for a roll at At: of the signing keys of Role, or, if
// Algorithm is not zero, an algorithm rollover to it. Now makes it an
// emergency roll of Role (RequestEmergencyRoll): the check then measures the
// validation-failure window it causes and fails if it is longer than the
// one announced (Policy.EmergencyWindow).
type RollRequest struct {
	At        time.Time
	Role      Role
	Algorithm uint8
	Now       bool
}

// EmergencyReport is one emergency roll of a simulation: the window
// announced for it (Policy.EmergencyWindow: what the API and mxctl print)
// and the one the check measured.
type EmergencyReport struct {
	At        time.Time
	Role      Role
	Announced Window
	// Measured runs from At to the end of the last bogus combination the
	// check found that mixes what was served before At with what is served
	// after it (zero if none was bogus).
	Measured time.Duration
	// Flagged counts the check instants at which such a combination was
	// alive; FirstFlagged and LastFlagged are the first and last of them.
	Flagged                   int
	FirstFlagged, LastFlagged time.Time
}

// PolicySwitch replaces the zone's policy at At.
type PolicySwitch struct {
	At     time.Time
	Policy Policy
	// Naive plans with the new policy at once, forgetting every earlier one
	// (no holdover): the check must catch what that breaks.
	Naive bool
}

// Event is one step in a Timeline.
type Event struct {
	At        time.Time
	KeyID     string
	Role      Role
	Algorithm uint8
	What      string // generated, compromised, published, active, retired, removed, ds-submitted, ds-published, ds-withdrawn, ds-gone
}

// Timeline is the record of a simulation.
type Timeline struct {
	Zone       string
	Kind       ZoneKind
	Start, End time.Time
	Policy     Policy
	Events     []Event
	Keys       []KeyState // every key, final state, in creation order (bounded like Events)
	Generated  map[Role]int
	// Emergencies are the emergency rolls requested, in order, with their
	// announced and measured validation-failure windows.
	Emergencies []EmergencyReport
	// Steps is the number of instants at which every cached combination
	// was checked; Combinations the number of (DS, DNSKEY, RRSIG)
	// combinations validated.
	Steps, Combinations int
	Truncated           bool
}

type simKey struct {
	KeyState
	idx int
}

type registryOp struct {
	at  time.Time
	idx int
	add bool
}

type sim struct {
	zone     string
	kind     ZoneKind
	p        Policy
	changes  []PolicyChange // earlier policies still held (Switches)
	opts     SimOptions
	now      time.Time
	live     []*simKey
	byID     map[string]*simKey
	registry []int
	regOps   []registryOp
	chk      *checker
	tl       *Timeline
	records  []*KeyState
}

// Simulate runs Next on a fake clock for days days from start, from a zone
// without keys, applying every action at once and assigning key IDs
// ("ksk-1", "zsk-2", ...). At every store change, and at least every
// opts.Tick, it checks that every combination of DS set, DNSKEY RRset (with
// its RRSIGs) and data RRSIGs a resolver could still hold validates. It
// returns the timeline, and an error wrapping ErrBogus that names the instant
// and the combination if one does not. An emergency roll (RollRequest.Now)
// is allowed to break validation for the combinations that mix what was
// served before it with what is served after: the check measures how long
// they stay in caches and fails if that is longer than the announced
// window (Timeline.Emergencies).
func Simulate(start time.Time, days int, zone string, kind ZoneKind, p Policy, opts SimOptions) (*Timeline, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	for _, w := range opts.Switches {
		if err := w.Policy.Validate(); err != nil {
			return nil, fmt.Errorf("switch at %s: %w", w.At.UTC().Format(time.RFC3339), err)
		}
	}
	if opts.Tick <= 0 {
		opts.Tick = time.Hour
	}
	if opts.RegistryDelay <= 0 {
		opts.RegistryDelay = time.Hour
	}
	if opts.MaxEvents <= 0 {
		opts.MaxEvents = 100000
	}
	actual := p
	if opts.Actual != nil {
		actual = *opts.Actual
	}
	end := start.Add(time.Duration(days) * 24 * time.Hour)
	s := &sim{
		zone: zone, kind: kind, p: p, opts: opts, now: start,
		byID: map[string]*simKey{},
		chk:  newChecker(actual),
		tl:   &Timeline{Zone: zone, Kind: kind, Start: start, End: end, Policy: p, Generated: map[Role]int{}},
	}
	reqs := slices.Clone(opts.Requests)
	slices.SortStableFunc(reqs, func(a, b RollRequest) int { return a.At.Compare(b.At) })
	switches := slices.Clone(opts.Switches)
	slices.SortStableFunc(switches, func(a, b PolicySwitch) int { return a.At.Compare(b.At) })
	for {
		for len(switches) > 0 && !switches[0].At.After(s.now) {
			s.switchPolicy(switches[0])
			switches = switches[1:]
		}
		for len(s.regOps) > 0 && !s.regOps[0].at.After(s.now) {
			s.applyRegistry(s.regOps[0])
			s.regOps = s.regOps[1:]
			if err := s.observe(); err != nil {
				return s.finish(err)
			}
		}
		for len(reqs) > 0 && !reqs[0].At.After(s.now) {
			if err := s.request(reqs[0]); err != nil {
				return s.finish(err)
			}
			reqs = reqs[1:]
		}
		next, err := s.runNext()
		if err != nil {
			return s.finish(err)
		}
		if err := s.chk.check(s.now); err != nil {
			return s.finish(err)
		}
		wake := s.now.Truncate(opts.Tick).Add(opts.Tick)
		if !next.IsZero() && next.Before(wake) {
			wake = next
		}
		if len(s.regOps) > 0 && s.regOps[0].at.Before(wake) {
			wake = s.regOps[0].at
		}
		if len(reqs) > 0 && reqs[0].At.Before(wake) {
			wake = reqs[0].At
		}
		if len(switches) > 0 && switches[0].At.Before(wake) {
			wake = switches[0].At
		}
		if _, held := Holding(s.now, s.changes); !held.IsZero() && held.Before(wake) {
			wake = held // the waits shorten when a hold ends
		}
		if wake.After(end) {
			break
		}
		s.now = wake
	}
	return s.finish(nil)
}

func (s *sim) finish(err error) (*Timeline, error) {
	s.tl.Steps, s.tl.Combinations = s.chk.steps, s.chk.combos
	for _, r := range s.records {
		s.tl.Keys = append(s.tl.Keys, *r)
	}
	for _, e := range s.chk.emergencies {
		s.tl.Emergencies = append(s.tl.Emergencies, *e)
		if err == nil && e.Measured > e.Announced.Duration {
			err = fmt.Errorf("%w: after the emergency %s roll at %s resolvers could fail to validate for %s, longer than the announced %s",
				ErrBogus, e.Role, e.At.UTC().Format(time.RFC3339), fmtDur(e.Measured), e.Announced)
		}
	}
	return s.tl, err
}

// runNext calls Next until it has nothing due at now.
func (s *sim) runNext() (time.Time, error) {
	for range 64 {
		keys := make([]KeyState, len(s.live))
		for i, k := range s.live {
			keys[i] = k.KeyState
		}
		s.changes, _ = Holding(s.now, s.changes)
		acts, next, _ := Next(s.now, s.zone, s.kind, Effective(s.now, s.p, s.changes), keys)
		acts = slices.DeleteFunc(acts, func(a Action) bool { return a.Kind == WaitParentDS })
		if s.opts.Mutate != nil {
			acts = s.opts.Mutate(s.now, acts)
		}
		if len(acts) == 0 {
			return next, nil
		}
		for _, a := range acts {
			if err := s.apply(a); err != nil {
				return time.Time{}, err
			}
		}
		s.live = slices.DeleteFunc(s.live, func(k *simKey) bool { return k.done() })
		if err := s.observe(); err != nil {
			return time.Time{}, err
		}
	}
	return time.Time{}, fmt.Errorf("keymgr: Next did not settle at %s", s.now.UTC().Format(time.RFC3339))
}

func (s *sim) event(k *simKey, what string) {
	if len(s.tl.Events) >= s.opts.MaxEvents {
		s.tl.Truncated = true
		return
	}
	s.tl.Events = append(s.tl.Events, Event{At: s.now, KeyID: k.ID, Role: k.Role, Algorithm: k.Algorithm, What: what})
}

func (s *sim) apply(a Action) error {
	if a.Kind == Generate {
		s.tl.Generated[a.Role]++
		idx := len(s.chk.keys)
		k := &simKey{idx: idx, KeyState: KeyState{ID: fmt.Sprintf("%s-%d", a.Role, idx+1), Role: a.Role, Algorithm: a.Algorithm, Created: s.now}}
		s.chk.keys = append(s.chk.keys, keyInfo{id: k.ID, role: k.Role, alg: k.Algorithm})
		s.live = append(s.live, k)
		s.byID[k.ID] = k
		s.event(k, "generated")
		return nil
	}
	k := s.byID[a.KeyID]
	if k == nil {
		return fmt.Errorf("keymgr: simulate: action %s on unknown key", a)
	}
	set := func(t *time.Time, what string) error {
		if !t.IsZero() {
			return fmt.Errorf("keymgr: simulate: %s at %s: already %s at %s", a, s.now.UTC().Format(time.RFC3339), what, t.UTC().Format(time.RFC3339))
		}
		*t = s.now
		s.event(k, what)
		return nil
	}
	switch a.Kind {
	case Publish:
		return set(&k.Published, "published")
	case Activate:
		return set(&k.Active, "active")
	case Retire:
		if err := set(&k.Retired, "retired"); err != nil {
			return err
		}
		if s.opts.BrokenRetire && k.inDNSKEY() {
			return set(&k.Removed, "removed")
		}
		return nil
	case Remove:
		return set(&k.Removed, "removed")
	case SubmitDS:
		if err := set(&k.DSSubmitted, "ds-submitted"); err != nil {
			return err
		}
		if s.kind == Shard {
			return set(&k.DSPublished, "ds-published")
		}
		s.regOps = append(s.regOps, registryOp{at: s.now.Add(s.opts.RegistryDelay), idx: k.idx, add: true})
		return nil
	case WithdrawDS:
		if err := set(&k.DSWithdrawn, "ds-withdrawn"); err != nil {
			return err
		}
		if s.kind == Parent {
			s.regOps = append(s.regOps, registryOp{at: s.now.Add(s.opts.RegistryDelay), idx: k.idx})
		}
		return nil
	}
	return fmt.Errorf("keymgr: simulate: unexpected action %s", a)
}

// applyRegistry publishes or withdraws a DS at the external registry; the
// DS check sees a publication at once (DSSeen, DSPublished).
func (s *sim) applyRegistry(op registryOp) {
	info := s.chk.keys[op.idx]
	if op.add {
		s.registry = append(s.registry, op.idx)
		slices.Sort(s.registry)
		if k := s.byID[info.id]; k != nil && k.DSWithdrawn.IsZero() {
			k.DSSeen = true
			k.DSPublished = s.now
			s.event(k, "ds-published")
		}
		return
	}
	s.registry = slices.DeleteFunc(s.registry, func(i int) bool { return i == op.idx })
	if len(s.tl.Events) < s.opts.MaxEvents {
		s.tl.Events = append(s.tl.Events, Event{At: s.now, KeyID: info.id, Role: info.role, Algorithm: info.alg, What: "ds-gone"})
	}
}

// switchPolicy serves the zone under w.Policy from now on and, unless the
// switch is naive, holds the old policy's values for its holdover.
func (s *sim) switchPolicy(w PolicySwitch) {
	if w.Naive {
		s.changes = nil
	} else {
		s.changes = append(s.changes, Switched(s.p, s.now))
	}
	s.p = w.Policy
	s.chk.serveAs(s.now, w.Policy)
}

func (s *sim) request(r RollRequest) error {
	if r.Algorithm != 0 {
		s.p.Algorithm = r.Algorithm
		return nil
	}
	if r.Now {
		keys := make([]KeyState, len(s.live))
		for i, k := range s.live {
			keys[i] = k.KeyState
		}
		marked, err := RequestEmergencyRoll(s.now, s.kind, keys, r.Role)
		if err != nil {
			return fmt.Errorf("keymgr: simulate: emergency %s roll at %s: %w", r.Role, s.now.UTC().Format(time.RFC3339), err)
		}
		for i, k := range s.live {
			if marked[i].Emergency && !k.Emergency {
				s.event(k, "compromised")
			}
			k.KeyState = marked[i]
		}
		s.chk.emergencies = append(s.chk.emergencies, &EmergencyReport{At: s.now, Role: r.Role, Announced: s.p.EmergencyWindow(s.kind, r.Role)})
		return nil
	}
	for _, k := range s.live {
		if k.Role == r.Role && k.signing() && (r.Role != KSK || k.inDNSKEY()) {
			k.RollRequested = s.now
		}
	}
	return nil
}

func (s *sim) observe() error {
	// Keep the key records for the timeline, bounded like the events.
	for _, k := range s.live {
		if k.idx >= len(s.records) && len(s.records) < s.opts.MaxEvents/4 && k.idx == len(s.records) {
			s.records = append(s.records, &k.KeyState)
		}
	}
	var snap snapshot
	if s.kind == Parent {
		snap.ds = slices.Clone(s.registry)
	}
	for _, k := range s.live {
		if s.kind == Shard && k.dsLive() && !k.DSPublished.IsZero() {
			snap.ds = append(snap.ds, k.idx)
		}
		if k.inDNSKEY() {
			snap.dnskey = append(snap.dnskey, k.idx)
		}
		if k.signing() && k.Role.signsKeys() {
			snap.keySigners = append(snap.keySigners, k.idx)
		}
		if k.signing() && k.Role.signsData() {
			snap.dataSigners = append(snap.dataSigners, k.idx)
		}
	}
	for _, l := range [][]int{snap.ds, snap.dnskey, snap.keySigners, snap.dataSigners} {
		slices.Sort(l)
	}
	return s.chk.observe(s.now, snap)
}
