package testzones

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
)

// newRand returns a PCG generator keyed by seed and a purpose string, so that
// independent streams (domains, queries, floods) never share state.
func newRand(seed, purpose string) *rand.Rand {
	h := sha256.Sum256([]byte(purpose + "\x00" + seed))
	return rand.New(rand.NewPCG(binary.BigEndian.Uint64(h[0:8]), binary.BigEndian.Uint64(h[8:16])))
}

func pick(r *rand.Rand, s []string) string { return s[r.IntN(len(s))] }
