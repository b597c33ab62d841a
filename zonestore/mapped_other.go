//go:build !linux

package zonestore

import bolt "go.etcd.io/bbolt"

// dropMapped does nothing outside Linux: the pages Open touched stay mapped
// until the kernel reclaims them (see mapped_linux.go).
func dropMapped(*bolt.Tx) {}
