// Package testzones generates deterministic fixture data for mxsign tests,
// end-to-end checks and benchmarks: realistic lists of customer ("accepted")
// mail domains and dnsperf query files over the host names mxsign assigns to
// them.
//
// Everything derives from a caller-supplied seed string: the same seed and
// size always produce byte-identical output, on every platform. The package
// uses the standard library only, so scripts can build its commands quickly.
package testzones
