package mxsign

import (
	"fmt"
	"sync"

	"github.com/mxsign/mxsign/signer"
	"github.com/mxsign/mxsign/zonestore"
)

// zoneKeys are one zone's active signing keys, parsed once per key generation.
type zoneKeys struct {
	gen uint64
	ksk []*signer.Key // sign DNSKEY, CDS, CDNSKEY
	zsk []*signer.Key // sign everything else
}

// keyring caches signer keys per zone, rebuilt when the store reports a new KeyGen.
type keyring struct {
	store *zonestore.Store

	mu    sync.RWMutex
	zones map[string]*zoneKeys
}

func newKeyring(s *zonestore.Store) *keyring {
	return &keyring{store: s, zones: make(map[string]*zoneKeys)}
}

func (k *keyring) get(zone string, gen uint64) (*zoneKeys, error) {
	k.mu.RLock()
	zk, ok := k.zones[zone]
	k.mu.RUnlock()
	if ok && zk.gen == gen {
		return zk, nil
	}
	sks, sgen, err := k.store.SigningKeys(zone)
	if err != nil {
		return nil, err
	}
	zk = &zoneKeys{gen: sgen}
	for _, sk := range sks {
		key, err := signer.NewKey(sk.DNSKEY, sk.Private)
		if err != nil {
			return nil, fmt.Errorf("mxsign: zone %s key %s: %w", zone, sk.ID, err)
		}
		switch sk.Role {
		case zonestore.RoleKSK:
			zk.ksk = append(zk.ksk, key)
		case zonestore.RoleZSK:
			zk.zsk = append(zk.zsk, key)
		default: // CSK
			zk.ksk = append(zk.ksk, key)
			zk.zsk = append(zk.zsk, key)
		}
	}
	if len(zk.ksk) == 0 || len(zk.zsk) == 0 {
		return nil, fmt.Errorf("mxsign: zone %s has no active KSK or ZSK", zone)
	}
	k.mu.Lock()
	if cur, ok := k.zones[zone]; !ok || cur.gen <= zk.gen {
		k.zones[zone] = zk
	}
	k.mu.Unlock()
	return zk, nil
}

// forget drops cached keys of zones that changed (called from the store's Subscribe hook).
func (k *keyring) forget(zones []string) {
	k.mu.Lock()
	for _, z := range zones {
		delete(k.zones, z)
	}
	k.mu.Unlock()
}
