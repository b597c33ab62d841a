package testzones

import _ "embed" // FastPolicy

// FastPolicy is the compressed-time key rollover policy (keymgr's `key value`
// lines) that the fake-clock tests and .ci/rollover.sh share: testzones/fast.policy.
//
//go:embed fast.policy
var FastPolicy string
