package zonestore

import (
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// planKeys validates a keys command and computes its change: the upserted
// keys of one zone, the zone's new KeyGen, a serial bump of the zone when its
// DNSKEY, CDS or CDNSKEY set changes, and one of the parent when a shard's DS
// set at the parent changes. Any invalid key fails the whole command.
func planKeys(ix *index, kek []byte, index uint64, t time.Time, c *KeysCmd) (*change, error) {
	if !ix.initialized {
		return nil, ErrNotInitialized
	}
	z := ix.zones[canonicalName(c.Zone)]
	if z == nil {
		return nil, fmt.Errorf("%w: %w: %q", ErrBadCommand, ErrZoneNotFound, c.Zone)
	}
	zone := z.rec.Name
	if c.KeyGen != 0 && c.KeyGen != z.rec.KeyGen {
		return nil, fmt.Errorf("%w: zone %s: read at key generation %d, now %d", ErrKeysChanged, zone, c.KeyGen, z.rec.KeyGen)
	}
	if len(c.Keys) == 0 {
		return nil, fmt.Errorf("%w: keys command for %s without keys", ErrBadCommand, zone)
	}
	stored := make(map[string]loadedKey, len(z.keys))
	for _, k := range z.keys {
		stored[k.key.ID] = k
	}
	ids := make(map[string]bool, len(c.Keys))
	ch := &change{result: &Result{}}
	for _, k := range c.Keys {
		lk, err := planKey(kek, zone, t, k, stored)
		if err != nil {
			return nil, err
		}
		if ids[k.ID] {
			return nil, fmt.Errorf("%w: zone %s: key id %q twice", ErrBadCommand, zone, k.ID)
		}
		ids[k.ID] = true
		sk := lk.key
		sk.Sealed = lk.sealed
		ch.keys = append(ch.keys, lk)
		ch.sealed = append(ch.sealed, sk)
	}

	newKeys := mergeKeys(z.keys, ch.keys)
	oldApex, oldDS := servedKeySets(z.keys)
	newApex, newDS := servedKeySets(newKeys)
	rec := z.rec
	rec.KeyGen = index
	if newApex != oldApex {
		rec.Serial = nextSerial(rec.Serial, t)
	}
	if rec.Kind == KindShard && newDS != oldDS {
		prec := ix.zones[ix.parent].rec
		prec.Serial = nextSerial(prec.Serial, t)
		ch.zones = append(ch.zones, prec)
		ch.changed = append(ch.changed, ix.parent)
	}
	ch.zones = append(ch.zones, rec)
	ch.changed = append(ch.changed, zone)
	return ch, nil
}

// planKey checks one key of a keys command against the command time and the
// zone's stored keys, and returns it loaded (Timed set, State derived, sealed
// material new or kept).
func planKey(kek []byte, zone string, t time.Time, k Key, stored map[string]loadedKey) (loadedKey, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: key %q of %s: %s", ErrBadCommand, k.ID, zone, fmt.Sprintf(format, a...))
	}
	k.Timed = true
	k.State = k.DeriveState()
	dk, err := checkKey(k, zone)
	if err != nil {
		return loadedKey{}, err
	}
	for _, st := range []struct {
		name string
		at   time.Time
	}{
		{"created", k.Created}, {"published", k.Published}, {"activated", k.Activated},
		{"retired", k.Retired}, {"removed", k.Removed}, {"dsSubmitted", k.DSSubmitted},
		{"dsPublishedAt", k.DSPublishedAt}, {"dsWithdrawn", k.DSWithdrawn}, {"rollRequested", k.RollRequested},
	} {
		if st.at.After(t) {
			return loadedKey{}, bad("%s %s is after the command time %s", st.name, st.at.Format(time.RFC3339), t.Format(time.RFC3339))
		}
	}
	if !k.isSEP() && (k.DSPublished || k.DSSeen || !k.DSSubmitted.IsZero() || !k.DSPublishedAt.IsZero() || !k.DSWithdrawn.IsZero()) {
		return loadedKey{}, bad("a ZSK has no DS")
	}
	if k.Emergency && k.RollRequested.IsZero() {
		return loadedKey{}, bad("emergency is set without rollRequested")
	}
	if k.DSPublished && !k.DSWithdrawn.IsZero() {
		// dsPublished (the pre-timestamp flag) would keep the DS at the parent.
		return loadedKey{}, bad("dsWithdrawn is set while dsPublished is true")
	}

	old, exists := stored[k.ID]
	if exists && (old.key.Role != k.Role || old.key.Algorithm != k.Algorithm || !sameDNSKEY(old.dnskey, dk)) {
		return loadedKey{}, bad("the DNSKEY, role and algorithm of an existing key cannot change")
	}
	lk := loadedKey{dnskey: dk}
	switch {
	case len(k.Sealed) > 0:
		if lk.signer, err = openKey(kek, k, dk); err != nil {
			return loadedKey{}, err
		}
		lk.sealed = k.Sealed
	case exists:
		lk.signer, lk.sealed = old.signer, old.sealed
	default:
		return loadedKey{}, bad("a new key needs its sealed private key")
	}
	k.Sealed = nil
	lk.key = k
	return lk, nil
}

// sameDNSKEY reports whether two DNSKEYs of the same owner are the same key.
func sameDNSKEY(a, b *dns.DNSKEY) bool {
	return a.Flags == b.Flags && a.Protocol == b.Protocol && a.Algorithm == b.Algorithm && a.PublicKey == b.PublicKey
}

// servedKeySets summarizes what keys puts into DNS: the IDs in the zone's
// DNSKEY and CDS/CDNSKEY sets (apex) and those whose DS a shard has at the
// parent (ds). A key's DNSKEY never changes, so equal IDs mean equal RRsets.
func servedKeySets(keys []loadedKey) (apex, ds string) {
	var a, d strings.Builder
	for _, k := range keys {
		if k.key.InDNSKEY() {
			a.WriteString("k:" + k.key.ID + " ")
		}
		if k.key.InCDS() {
			a.WriteString("c:" + k.key.ID + " ")
		}
		if k.key.DSAtParent() {
			d.WriteString(k.key.ID + " ")
		}
	}
	return a.String(), d.String()
}
