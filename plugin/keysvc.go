package mxsign

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/mxsign/mxsign/plugin/api"
	"github.com/mxsign/mxsign/signer/keymgr"
	"github.com/mxsign/mxsign/zonestore"
)

// keyService implements api.KeyService: key status for every zone, and manual roll
// requests and parent-DS confirmations when a policy drives the keys.
type keyService struct {
	store   *zonestore.Store
	applier zonestore.Applier
	policy  *keymgr.Policy // nil: keys are not managed
	// plan, if set, is the policy the scheduler plans with at an instant (the
	// Corefile's, with values held after a change: policyState.effective).
	plan func(now time.Time) (keymgr.Policy, time.Time, bool)
	prop *propagation // the measured Raft commit and apply delay; nil: none
	now  func() time.Time
	wake func() // nudges the scheduler after a request
}

var _ api.KeyService = (*keyService)(nil)

func (s *keyService) zone(name string) (zonestore.Zone, keymgr.ZoneKind, error) {
	z, err := s.store.Zone(dns.Fqdn(strings.ToLower(name)))
	if err != nil {
		return z, 0, apiError(err)
	}
	if z.Kind == zonestore.KindParent {
		return z, keymgr.Parent, nil
	}
	return z, keymgr.Shard, nil
}

func (s *keyService) Keys(_ context.Context, zone string) (api.KeyList, error) {
	z, kind, err := s.zone(zone)
	if err != nil {
		return api.KeyList{}, err
	}
	keys, err := s.store.Keys(z.Name)
	if err != nil {
		return api.KeyList{}, apiError(err)
	}
	out := api.KeyList{Zone: z.Name, Managed: s.policy != nil, Keys: make([]api.KeyDetail, 0, len(keys))}
	if s.policy != nil {
		now, pol := s.now(), *s.policy
		if s.plan != nil {
			if e, _, ok := s.plan(now); ok {
				pol = e
			}
		}
		pol = s.prop.policy(pol)
		states := make([]keymgr.KeyState, len(keys))
		for i, k := range keys {
			states[i] = keyState(k, kind)
		}
		_, _, st := keymgr.Next(now, z.Name, kind, pol, states)
		out.Phase, out.Waiting = st.Phase, st.Waiting
		if !st.NextStep.IsZero() {
			t := st.NextStep
			out.NextStep = &t
		}
		out.Emergency = emergencyWindow(now, kind, pol, keys)
	}
	for _, k := range keys {
		if !k.Timed {
			timed(&k, kind)
		}
		out.Keys = append(out.Keys, api.KeyDetail{
			ID: k.ID, Tag: k.Tag, Algorithm: k.Algorithm, Role: string(k.Role), State: string(k.DeriveState()),
			Created: when(k.Created), Published: when(k.Published), Activated: when(k.Activated),
			Retired: when(k.Retired), Removed: when(k.Removed), DSSubmitted: when(k.DSSubmitted),
			DSPublished: when(k.DSPublishedAt), DSWithdrawn: when(k.DSWithdrawn), DSSeen: k.DSSeen,
			RollRequested: when(k.RollRequested), Emergency: k.Emergency,
		})
	}
	return out, nil
}

func when(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (s *keyService) Rollover(ctx context.Context, zone string, req api.RolloverRequest) (api.KeyList, error) {
	z, kind, err := s.zone(zone)
	if err != nil {
		return api.KeyList{}, err
	}
	if s.policy == nil {
		return api.KeyList{}, fmt.Errorf("%w: automatic key management is off: add a policy block to the Corefile", api.ErrConflict)
	}
	if req.Algorithm != 0 && req.Algorithm != s.policy.Algorithm {
		return api.KeyList{}, fmt.Errorf("%w: an algorithm rollover is started by changing the policy's algorithm (it applies to every zone); this zone rolls to algorithm %d", api.ErrInvalid, s.policy.Algorithm)
	}
	role := keymgr.Role(req.Role)
	if role != keymgr.ZSK && role != keymgr.KSK && role != keymgr.CSK {
		return api.KeyList{}, fmt.Errorf("%w: role %q: want zsk, ksk or csk", api.ErrInvalid, req.Role)
	}
	err = retryKeys(func() error {
		keys, gen, err := s.store.KeysGen(z.Name)
		if err != nil {
			return apiError(err)
		}
		now := s.now()
		states := make([]keymgr.KeyState, len(keys))
		for i, k := range keys {
			states[i] = keyState(k, kind)
		}
		var rolled []keymgr.KeyState
		if req.Now {
			rolled, err = keymgr.RequestEmergencyRoll(now, kind, states, role)
		} else {
			rolled, err = keymgr.RequestRoll(now, states, role)
		}
		switch {
		case errors.Is(err, keymgr.ErrEmergencyRefused) && kind == keymgr.Parent && role != keymgr.ZSK:
			return fmt.Errorf(`%w: %v; roll it with the safe timing instead (a request without "now": mxctl key roll %s --%s) and confirm the new DS with mxctl ds seen %s once the registry publishes it`,
				api.ErrInvalid, err, z.Name, role, z.Name)
		case errors.Is(err, keymgr.ErrEmergencyRefused):
			return fmt.Errorf("%w: %v", api.ErrConflict, err)
		case err != nil:
			return fmt.Errorf("%w: %v", api.ErrInvalid, err)
		}
		var changed []zonestore.Key
		for i, k := range keys {
			if rolled[i].RollRequested.Equal(k.RollRequested) && rolled[i].Emergency == k.Emergency {
				continue
			}
			if !k.Timed {
				timed(&k, kind)
			}
			k.RollRequested, k.Emergency = rolled[i].RollRequested, rolled[i].Emergency
			changed = append(changed, k)
		}
		return s.write(ctx, z.Name, gen, changed, now)
	})
	if err != nil {
		return api.KeyList{}, err
	}
	list, err := s.Keys(ctx, z.Name)
	if err == nil && req.Now && list.Emergency != nil {
		log.Warningf("emergency %s rollover of %s: the compromised key is replaced at once; resolvers may fail to validate the zone until %s (%s)",
			role, z.Name, list.Emergency.Until.UTC().Format(time.RFC3339), strings.Join(list.Emergency.Causes, "; "))
	}
	return list, err
}

// emergencyWindow describes the validation-failure window of the zone's latest
// emergency rollover while it lasts, or returns nil. The window runs from the
// removal of the compromised key, or from the request while the scheduler has not
// acted on it yet.
func emergencyWindow(now time.Time, kind keymgr.ZoneKind, pol keymgr.Policy, keys []zonestore.Key) *api.EmergencyWindow {
	var latest *zonestore.Key
	for i := range keys {
		k := &keys[i]
		if !k.Emergency || kind == keymgr.Parent && k.Role != zonestore.RoleZSK {
			continue // a parent KSK/CSK is never rolled in an emergency
		}
		if latest == nil || k.RollRequested.After(latest.RollRequested) {
			latest = k
		}
	}
	if latest == nil {
		return nil
	}
	start := latest.RollRequested
	if !latest.Removed.IsZero() {
		start = latest.Removed
	}
	w := pol.EmergencyWindow(kind, keymgr.Role(latest.Role))
	until := start.Add(w.Duration)
	if !now.Before(until) {
		return nil
	}
	return &api.EmergencyWindow{Role: string(latest.Role), Start: start, Until: until,
		Seconds: int64((w.Duration + time.Second - 1) / time.Second), Causes: w.Causes}
}

func (s *keyService) DSSeen(ctx context.Context, zone string) error {
	z, kind, err := s.zone(zone)
	if err != nil {
		return err
	}
	if s.policy == nil {
		return fmt.Errorf("%w: automatic key management is off: add a policy block to the Corefile", api.ErrConflict)
	}
	if kind != keymgr.Parent {
		return fmt.Errorf("%w: %s is a shard: its DS is in the parent zone served here, nothing to confirm", api.ErrInvalid, z.Name)
	}
	return retryKeys(func() error {
		keys, gen, err := s.store.KeysGen(z.Name)
		if err != nil {
			return apiError(err)
		}
		now := s.now()
		changed := seenDS(keys, now, nil)
		if len(changed) == 0 {
			return fmt.Errorf("%w: no DS of %s is waiting to be seen at the registry", api.ErrConflict, z.Name)
		}
		return s.write(ctx, z.Name, gen, changed, now)
	})
}

// seenDS is the "DS seen" change of a parent zone, made by `mxctl ds seen` (every
// waiting key) or by the parental-agents check (only the keys whose DS every agent
// serves; only, if not nil, picks them by ID): each key whose DS was submitted and is
// neither withdrawn nor seen yet comes back with DSSeen and DSPublishedAt = now, ready
// for keysCommand.
func seenDS(keys []zonestore.Key, now time.Time, only func(id string) bool) []zonestore.Key {
	var changed []zonestore.Key
	for _, k := range keys {
		if !k.Timed {
			timed(&k, keymgr.Parent)
		}
		if k.DSSubmitted.IsZero() || !k.DSWithdrawn.IsZero() || k.DSSeen || (only != nil && !only(k.ID)) {
			continue
		}
		k.DSSeen, k.DSPublishedAt = true, now
		changed = append(changed, k)
	}
	return changed
}

// keysCommand writes whole key records of zone at now (zonestore's `keys` command),
// on condition that the zone's keys are still at generation gen, the one they were
// read at (zonestore.KeysGen): a change made in between fails it with
// zonestore.ErrKeysChanged instead of being overwritten.
func keysCommand(zone string, gen uint64, keys []zonestore.Key, now time.Time) *zonestore.Command {
	return &zonestore.Command{V: zonestore.CommandVersion, Op: zonestore.OpKeys, Time: now,
		Keys: &zonestore.KeysCmd{Zone: zone, Keys: keys, KeyGen: gen}}
}

// keysRetries bounds the read-compute-write rounds of an API change to a zone's keys
// that keep meeting concurrent changes (the scheduler's steps).
const keysRetries = 5

// retryKeys runs f, one read-compute-write of a zone's keys, again while it fails
// because the keys changed between its read and its write.
func retryKeys(f func() error) error {
	for range keysRetries {
		if err := f(); !errors.Is(err, zonestore.ErrKeysChanged) {
			return err
		}
	}
	return fmt.Errorf("%w: the zone's keys kept changing while the request was made; retry", api.ErrUnavailable)
}

// write applies the changed records; a concurrent change comes back as
// zonestore.ErrKeysChanged, unwrapped, for retryKeys.
func (s *keyService) write(ctx context.Context, zone string, gen uint64, keys []zonestore.Key, now time.Time) error {
	if len(keys) == 0 {
		return nil
	}
	if _, err := s.applier.Apply(ctx, keysCommand(zone, gen, keys, now)); err != nil {
		if errors.Is(err, zonestore.ErrKeysChanged) {
			return err
		}
		return apiError(err)
	}
	if s.wake != nil {
		s.wake()
	}
	return nil
}
