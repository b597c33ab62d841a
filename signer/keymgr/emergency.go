package keymgr

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Emergency rollover (RFC 6781 §4.2): a compromised key must stop being
// trusted as fast as possible. Unlike a planned roll, nothing waits for
// caches: the successor is published and signs, and the compromised key
// stops signing and leaves the DNSKEY RRset (a shard's DS is swapped too), in
// one store command. Resolvers that cached the zone's old keys may fail to
// validate until those caches expire: EmergencyWindow says for how long.

// RequestEmergencyRoll returns a copy of keys in which the signing key(s) of
// role are marked compromised (RollRequested = now, Emergency). Next then
// replaces them at once, whatever other rollover runs: a successor of a
// planned roll of the role that does not sign yet is reused (published now
// if it was not), otherwise a new key of the same algorithm is generated;
// the successor is published, its DS (shards) submitted, and it signs; the
// compromised keys stop signing, leave the DNSKEY RRset and (shards) have
// their DS withdrawn. A request repeated before Next ran changes nothing but
// the request time; one made after replaces the successor in turn.
//
// It refuses, wrapping ErrEmergencyRefused, the KSK or CSK of the parent
// zone (its DS is at an external registry: removing the key at once would
// leave the zone bogus until the registry publishes the new DS) and any
// request while keys of two algorithms are in use (an algorithm rollover is
// in progress). It returns ErrNoKey when no key of role signs.
func RequestEmergencyRoll(now time.Time, kind ZoneKind, keys []KeyState, role Role) ([]KeyState, error) {
	if kind == Parent && role.hasDS() {
		return nil, fmt.Errorf("%w: the DS of the parent zone's %s is at the registry: removing the key at once would leave the zone bogus until the registry publishes a new DS", ErrEmergencyRefused, role)
	}
	var algs []uint8
	for i := range keys {
		k := &keys[i]
		if !k.done() && (k.signing() || k.inDNSKEY()) && !slices.Contains(algs, k.Algorithm) {
			algs = append(algs, k.Algorithm)
		}
	}
	if len(algs) > 1 {
		return nil, fmt.Errorf("%w: an algorithm rollover is in progress (keys of algorithms %v are in use)", ErrEmergencyRefused, algs)
	}
	out := slices.Clone(keys)
	found := false
	for i := range out {
		k := &out[i]
		if k.Role == role && k.signing() && (role != KSK || k.inDNSKEY()) {
			k.RollRequested, k.Emergency = now, true
			found = true
		}
	}
	if !found {
		return nil, fmt.Errorf("%w: %s", ErrNoKey, role)
	}
	return out, nil
}

// Window is how long resolvers may fail to validate a zone after an
// emergency roll, counted from the store command that replaced the key, and
// the cached record sets that cause it.
type Window struct {
	Duration time.Duration
	// Causes names each cached set, e.g. "old DNSKEY RRset in caches:
	// propagation-delay 5m + dnskey-ttl 1h = 1h5m"; Duration is the longest.
	Causes []string
}

// EmergencyWindow returns the validation-failure window of an emergency roll
// of a key of role in a zone of kind (a role RequestEmergencyRoll accepts).
// After the swap at T, a resolver may hold, and combine with what is served
// now:
//
//   - the old DNSKEY RRset, without the successor, which new signatures do
//     not validate against: until T + Dprp + TTLkey;
//   - ZSK and CSK: answers signed by the compromised key, which the new
//     DNSKEY RRset no longer validates: until T + Dprp + TTLsig (the signer
//     never serves a signature of a key that neither signs nor is published,
//     so Dsgn does not apply);
//   - shard KSK and CSK: the old DS set, which matches no key of the new
//     DNSKEY RRset: until T + DprpP + TTLds.
//
// The window is the longest of these. The simulator measures the same bound
// (Simulate, RollRequest.Now).
func (p Policy) EmergencyWindow(kind ZoneKind, role Role) Window {
	var w Window
	add := func(what string, aName string, a time.Duration, bName string, b time.Duration) {
		d := a + b
		w.Causes = append(w.Causes, fmt.Sprintf("%s: %s %s + %s %s = %s", what, aName, fmtDur(a), bName, fmtDur(b), fmtDur(d)))
		w.Duration = max(w.Duration, d)
	}
	add("old DNSKEY RRset in caches", "propagation-delay", p.PropagationDelay, "dnskey-ttl", p.ttlKey())
	if role.signsData() {
		add("answers signed by the old key in caches", "propagation-delay", p.PropagationDelay, "max-zone-ttl", p.MaxZoneTTL)
	}
	if role.hasDS() && kind == Shard {
		add("old DS in caches", "parent-propagation-delay", p.ParentPropagationDelay, "parent-ds-ttl", p.ParentDSTTL)
	}
	return w
}

// String formats the window for logs and messages: "1d5m (old DNSKEY RRset
// in caches: ...; ...)".
func (w Window) String() string {
	return fmtDur(w.Duration) + " (" + strings.Join(w.Causes, "; ") + ")"
}

// FormatDuration formats d the way policies are written: "1d5m", "90s".
func FormatDuration(d time.Duration) string { return fmtDur(d) }

// emergency replaces the compromised signing keys of one role at once. It
// reports the phase, or "" when no key is marked. A parent zone's KSK or
// CSK marked compromised (RequestEmergencyRoll refuses it) is rolled with
// the safe timing of a requested roll instead.
func (z *zoneKeys) emergency() string {
	for _, role := range []Role{KSK, ZSK, CSK} {
		if z.kind == Parent && role.hasDS() {
			continue
		}
		var bad []*KeyState
		for _, k := range z.live {
			if k.Role == role && k.Emergency && k.signing() {
				bad = append(bad, k)
			}
		}
		if len(bad) == 0 {
			continue
		}
		phase := string(role) + "-emergency"
		ids := make([]string, len(bad))
		for i, k := range bad {
			ids[i] = k.ID
		}
		why := "emergency: " + strings.Join(ids, ",") + " compromised"
		z.pl.waiting = append(z.pl.waiting, fmt.Sprintf("emergency: replacing compromised %s %s", role, strings.Join(ids, ", ")))
		var s *KeyState
		for _, k := range z.live {
			if k.Role == role && k.Algorithm == bad[0].Algorithm && k.Active.IsZero() && k.Retired.IsZero() && k.Removed.IsZero() && !k.Emergency {
				s = k
				break
			}
		}
		if s == nil {
			z.pl.at(z.pl.now, Action{Kind: Generate, Role: role, Algorithm: bad[0].Algorithm, Reason: why})
			return phase
		}
		var acts []Action
		if s.Published.IsZero() {
			acts = append(acts, act(Publish, s, why))
		}
		if role.hasDS() && s.DSSubmitted.IsZero() {
			acts = append(acts, act(SubmitDS, s, why))
		}
		acts = append(acts, act(Activate, s, why))
		for _, k := range bad {
			acts = append(acts, act(Retire, k, "compromised: replaced by "+s.ID))
			if k.inDNSKEY() {
				acts = append(acts, act(Remove, k, "compromised: replaced by "+s.ID))
			}
			if k.dsLive() {
				acts = append(acts, act(WithdrawDS, k, "compromised: replaced by "+s.ID))
			}
		}
		z.pl.at(z.pl.now, acts...)
		return phase
	}
	return ""
}
