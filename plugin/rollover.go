package mxsign

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/mxsign/mxsign/signer/keymgr"
	"github.com/mxsign/mxsign/zonestore"
)

// maxStepsPerZone bounds the Next/apply rounds at one instant: Next converges in a few
// (generate, then publish/activate, then DS); more means a bug, not work.
const maxStepsPerZone = 8

// rollover drives keymgr for every zone: it runs on the leader only, turns the key
// manager's actions into `keys` commands, and reports when the next step is due.
type rollover struct {
	store    *zonestore.Store
	applier  zonestore.Applier
	keys     zonestore.KeyFactory
	policy   keymgr.Policy
	parentDS *parentDSCheck // nil: a parent zone's DS is confirmed by `mxctl ds seen` only
	prop     *propagation   // measured Raft commit + apply delay; nil: nothing measured (tests)

	mu    sync.Mutex
	stats rolloverStats // what the last complete step saw, for metrics
}

// rolloverStats is what one step saw over all zones.
type rolloverStats struct {
	next    time.Time        // the earliest next step (zero: none scheduled)
	keys    map[keyCount]int // key records by role and derived state
	waiting int              // zones waiting for their DS to be seen at the parent
}

// keyCount labels the keys metric.
type keyCount struct {
	role  zonestore.KeyRole
	state zonestore.KeyState
}

// snapshot returns the stats of the last complete step.
func (r *rollover) snapshot() rolloverStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// step takes every action due at now in every zone and returns the earliest next step
// (zero if none is scheduled), including the next parent-DS check of a waiting zone.
// The parent zone comes first (Store.Zones lists it first), so that a DS the parental
// agents confirm is stamped close to now rather than after every shard's step.
func (r *rollover) step(ctx context.Context, now time.Time) (time.Time, error) {
	st := rolloverStats{keys: map[keyCount]int{}}
	for _, z := range r.store.Zones() {
		n, err := r.stepZone(ctx, z, now, &st)
		if err != nil {
			return st.next, fmt.Errorf("zone %s: %w", z.Name, err)
		}
		st.next = earliest(st.next, n)
	}
	r.mu.Lock()
	r.stats = st
	r.mu.Unlock()
	return st.next, nil
}

// earliest returns the earlier of a and b, a zero time meaning "none".
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func (r *rollover) stepZone(ctx context.Context, z zonestore.Zone, now time.Time, st *rolloverStats) (time.Time, error) {
	kind := keymgr.Shard
	if z.Kind == zonestore.KindParent {
		kind = keymgr.Parent
	}
	for range maxStepsPerZone {
		keys, gen, err := r.store.KeysGen(z.Name)
		if err != nil {
			return time.Time{}, err
		}
		states := make([]keymgr.KeyState, len(keys))
		for i, k := range keys {
			states[i] = keyState(k, kind)
		}
		actions, next, _ := keymgr.Next(now, z.Name, kind, r.prop.policy(r.policy), states)
		var waiting []zonestore.Key // keys whose DS is not seen at the parent yet
		actions = slices.DeleteFunc(actions, func(a keymgr.Action) bool {
			if a.Kind != keymgr.WaitParentDS {
				return false
			}
			if i := slices.IndexFunc(keys, func(k zonestore.Key) bool { return k.ID == a.KeyID }); i >= 0 {
				waiting = append(waiting, keys[i])
			}
			return true // informational: the roll continues once the DS is seen
		})
		var cmd *zonestore.Command
		checked := false // cmd marks DS seen by the parental agents
		switch {
		case len(actions) > 0:
			if cmd, err = r.command(z.Name, kind, gen, keys, actions, now); err != nil {
				return time.Time{}, err
			}
		case len(waiting) > 0 && r.parentDS != nil:
			seen, at, due := r.parentDS.check(ctx, z.Name, waiting, now)
			next = earliest(next, due)
			if len(seen) > 0 {
				// Read the records again: an API write (`mxctl key roll`) may have changed
				// them while the agents were asked, and they are written back whole
				// (conditional on the generation read, so a later change fails it).
				if keys, gen, err = r.store.KeysGen(z.Name); err != nil {
					return time.Time{}, err
				}
				if changed := seenDS(keys, at, func(id string) bool { return seen[id] }); len(changed) > 0 {
					cmd, checked = keysCommand(z.Name, gen, changed, at), true // the change `mxctl ds seen` makes
				}
			}
		case r.parentDS != nil:
			r.parentDS.forget(z.Name)
		}
		if cmd == nil {
			st.count(keys, kind, len(waiting) > 0)
			return next, nil
		}
		start := r.prop.clock()
		if _, err := r.applier.Apply(ctx, cmd); errors.Is(err, zonestore.ErrKeysChanged) {
			continue // a roll request or DS confirmation came in between: decide again
		} else if err != nil {
			if checked {
				r.parentDS.forget(z.Name) // check again at the next step rather than an interval later
			}
			return time.Time{}, err
		}
		r.prop.observe(start, r.store.AppliedIndex())
	}
	return time.Time{}, fmt.Errorf("mxsign: key manager still has actions after %d rounds at %v", maxStepsPerZone, now)
}

// command turns one round of actions into a keys command: changed records only, each
// written whole (the store then serves it by its timestamps).
func (r *rollover) command(zone string, kind keymgr.ZoneKind, gen uint64, keys []zonestore.Key, actions []keymgr.Action, now time.Time) (*zonestore.Command, error) {
	byID := make(map[string]*zonestore.Key, len(keys))
	for i := range keys {
		byID[keys[i].ID] = &keys[i]
	}
	var order []string
	touch := func(k *zonestore.Key) {
		if !k.Timed {
			timed(k, kind)
		}
		for _, id := range order {
			if id == k.ID {
				return
			}
		}
		order = append(order, k.ID)
	}
	for _, a := range actions {
		if a.Kind == keymgr.Generate {
			k, err := r.keys(zone, zonestore.KeyRole(a.Role), a.Algorithm, now)
			if err != nil {
				return nil, err
			}
			// Generated only: the key manager publishes and activates it next.
			k.Published, k.Activated, k.DSPublished, k.Timed = time.Time{}, time.Time{}, false, true
			k.Created = now
			byID[k.ID] = &k
			order = append(order, k.ID)
			continue
		}
		k, ok := byID[a.KeyID]
		if !ok {
			if a.Kind == keymgr.WaitParentDS {
				continue
			}
			return nil, fmt.Errorf("mxsign: key manager acts on unknown key %s", a.KeyID)
		}
		switch a.Kind {
		case keymgr.Publish:
			k.Published = now
		case keymgr.Activate:
			k.Activated = now
		case keymgr.Retire:
			k.Retired = now
		case keymgr.Remove:
			k.Removed = now
		case keymgr.SubmitDS:
			k.DSSubmitted = now
			if kind == keymgr.Shard { // the parent is ours: submitted is published
				k.DSPublishedAt = now
			}
		case keymgr.WithdrawDS:
			k.DSWithdrawn = now
		case keymgr.WaitParentDS:
			continue
		default:
			return nil, fmt.Errorf("mxsign: unknown key manager action %v", a.Kind)
		}
		touch(k)
	}
	out := make([]zonestore.Key, 0, len(order))
	for _, id := range order {
		out = append(out, *byID[id])
	}
	return keysCommand(zone, gen, out, now), nil
}

// keyState is the key manager's view of a stored key. A key made before the key
// manager ran (by init or a new shard) is "untimed": it was published and active from
// its creation, and its DS (if flagged) was published then too.
func keyState(k zonestore.Key, kind keymgr.ZoneKind) keymgr.KeyState {
	if !k.Timed {
		timed(&k, kind)
	}
	return keymgr.KeyState{
		ID: k.ID, Role: keymgr.Role(k.Role), Algorithm: k.Algorithm,
		Created: k.Created, Published: k.Published, Active: k.Activated, Retired: k.Retired, Removed: k.Removed,
		DSSubmitted: k.DSSubmitted, DSPublished: k.DSPublishedAt, DSWithdrawn: k.DSWithdrawn,
		DSSeen: k.DSSeen, RollRequested: k.RollRequested, Emergency: k.Emergency,
	}
}

// timed converts an untimed record to the timestamp form, in place, without changing
// what is served: DNSKEY and signing from creation; a flagged DS submitted and
// published at creation (for the parent: the operator installed it with the trust
// anchor, so it counts as seen). The legacy flag is cleared so it cannot pin the DS.
func timed(k *zonestore.Key, kind keymgr.ZoneKind) {
	if k.Published.IsZero() {
		k.Published = k.Created
	}
	if k.Activated.IsZero() && k.State != zonestore.StatePublished {
		k.Activated = k.Created
	}
	isKSK := k.Role == zonestore.RoleKSK || k.Role == zonestore.RoleCSK
	if isKSK && (k.DSPublished || kind == keymgr.Parent) && k.DSSubmitted.IsZero() {
		k.DSSubmitted, k.DSPublishedAt = k.Created, k.Created
		k.DSSeen = kind == keymgr.Parent
	}
	k.DSPublished = false
	k.Timed = true
}

// count adds one zone's keys (and whether it waits for its parent DS) to the stats.
func (st *rolloverStats) count(keys []zonestore.Key, kind keymgr.ZoneKind, waiting bool) {
	for _, k := range keys {
		if !k.Timed {
			timed(&k, kind)
		}
		st.keys[keyCount{role: k.Role, state: k.DeriveState()}]++
	}
	if waiting {
		st.waiting++
	}
}
