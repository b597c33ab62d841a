package nsecchain

import (
	"encoding/base64"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/mxsign/mxsign/signer"
)

// Signing is what the chain signs with, and when.
type Signing struct {
	Signer *signer.Signer // makes the signatures: its validity, refresh and skew apply
	Keys   []*signer.Key  // the zone's active ZSKs: one signature per key on every RRset
	Now    time.Time
	Signed *atomic.Uint64 // if set, counts every signature the chain makes
}

// sigRec is one signature over an NSEC or the SOA, without what the chain knows
// anyway: the owner, the type covered, the TTL and the signer name.
type sigRec struct {
	keyID      uint64
	until      int64 // Unix second from which it is no longer handed out (signer.ServeUntil)
	inception  uint32
	expiration uint32
	tag        uint16
	alg        uint8
	labels     uint8
	sig        string // the raw signature octets
}

// sigSet holds one signature per key, in the order of Signing.Keys when it was made.
// A set is never modified once stored: it is replaced.
type sigSet []sigRec

// covers reports whether set has, for each of keys in order, a signature by that key
// that may still be handed out at the Unix second at.
func (set sigSet) covers(keys []*signer.Key, at int64) bool {
	if len(set) != len(keys) {
		return false
	}
	for i, k := range keys {
		if set[i].keyID != k.ID() || set[i].until <= at {
			return false
		}
	}
	return true
}

// signatures returns the signatures of slot (an NSEC index, or len(keys) for the SOA)
// by sg.Keys that may be handed out at the Unix second at, signing those that are
// missing or too old, and how many it signed.
func (ch *Chain) signatures(slot int, sg *Signing, at int64) (sigSet, int, error) {
	cur := ch.sigs[slot].Load()
	if cur != nil && cur.covers(sg.Keys, at) {
		return *cur, 0, nil
	}
	if len(sg.Keys) == 0 {
		return nil, 0, fmt.Errorf("nsecchain: zone %s: no signing key", ch.apex)
	}
	next := make(sigSet, 0, len(sg.Keys))
	made := 0
	var rrset []dns.RR
	for _, k := range sg.Keys {
		if cur != nil {
			if j := cur.index(k.ID()); j >= 0 && (*cur)[j].until > at {
				next = append(next, (*cur)[j])
				continue
			}
		}
		if rrset == nil {
			rrset = []dns.RR{ch.rrAt(slot)}
		}
		rec, err := ch.sign(rrset, k, sg)
		if err != nil {
			return nil, made, err
		}
		made++
		next = append(next, rec)
	}
	// A concurrent update wins; ours is still good for this answer.
	ch.sigs[slot].CompareAndSwap(cur, &next)
	if sg.Signed != nil {
		sg.Signed.Add(uint64(made))
	}
	return next, made, nil
}

// index returns the position of the signature by key id in set, or -1.
func (set sigSet) index(id uint64) int {
	for i := range set {
		if set[i].keyID == id {
			return i
		}
	}
	return -1
}

// rrAt returns the RRset signed in slot: the NSEC of that index, or the SOA.
func (ch *Chain) rrAt(slot int) dns.RR {
	if slot == len(ch.keys) {
		return ch.SOA()
	}
	return ch.NSEC(slot, "")
}

// sign signs rrset with k, without the signer's cache.
func (ch *Chain) sign(rrset []dns.RR, k *signer.Key, sg *Signing) (sigRec, error) {
	sig, err := sg.Signer.SignUncached(rrset, k, ch.apex, sg.Now)
	if err != nil {
		return sigRec{}, fmt.Errorf("nsecchain: zone %s: %w", ch.apex, err)
	}
	raw, err := base64.StdEncoding.DecodeString(sig.Signature)
	if err != nil {
		return sigRec{}, fmt.Errorf("nsecchain: zone %s: signature: %w", ch.apex, err)
	}
	return sigRec{
		keyID:      k.ID(),
		until:      sg.Signer.ServeUntil(sig, sg.Now),
		inception:  sig.Inception,
		expiration: sig.Expiration,
		tag:        sig.KeyTag,
		alg:        sig.Algorithm,
		labels:     sig.Labels,
		sig:        string(raw),
	}, nil
}

// Presign makes sure that every NSEC of the chain and the SOA of its negative answers
// carry, for each key of sg, a signature that may still be handed out at sg.Now + lead:
// it signs what is missing (a new chain, a new key) or due for refresh, so that answers
// find their signatures made. It stops after budget signatures (budget <= 0: no limit)
// and returns how many it made; call it again to go on.
func (ch *Chain) Presign(sg Signing, lead time.Duration, budget int) (int, error) {
	at := sg.Now.Add(lead).Unix()
	made := 0
	for slot := range ch.sigs {
		if budget > 0 && made >= budget {
			break
		}
		_, n, err := ch.signatures(slot, &sg, at)
		made += n
		if err != nil {
			return made, err
		}
	}
	return made, nil
}

// Unsigned returns how many NSECs (and the SOA) lack a signature by some key of keys
// that may be handed out at now + lead: what Presign would sign.
func (ch *Chain) Unsigned(keys []*signer.Key, now time.Time, lead time.Duration) int {
	at := now.Add(lead).Unix()
	n := 0
	for i := range ch.sigs {
		if cur := ch.sigs[i].Load(); cur == nil || !cur.covers(keys, at) {
			n++
		}
	}
	return n
}

// rrsig returns the RRSIG of rec over the RRset of type t owned by owner.
func (ch *Chain) rrsig(rec *sigRec, owner string, t uint16) *dns.RRSIG {
	return &dns.RRSIG{
		Hdr:         dns.RR_Header{Name: owner, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: ch.ttl},
		TypeCovered: t,
		Algorithm:   rec.alg,
		Labels:      rec.labels,
		OrigTtl:     ch.ttl,
		Expiration:  rec.expiration,
		Inception:   rec.inception,
		KeyTag:      rec.tag,
		SignerName:  ch.apex,
		Signature:   base64.StdEncoding.EncodeToString([]byte(rec.sig)),
	}
}
