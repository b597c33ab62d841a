package nsecchain

import "sync/atomic"

type countingUint64 struct{ atomic.Uint64 }
