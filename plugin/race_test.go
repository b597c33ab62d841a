//go:build race

package mxsign

// raceEnabled is set under the race detector, which makes sync.Pool drop what it is
// given: allocation counts mean nothing then.
const raceEnabled = true
