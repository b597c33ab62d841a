package zonestore

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	mrand "math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	bolt "go.etcd.io/bbolt"
)

// testKEK is a fixed key-encryption key for tests.
var testKEK = []byte("0123456789abcdef0123456789abcdef")

// t0 is the proposer clock of most tests.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const testTLSA = "3 1 1 0c72ac70b745ac19998811b131d662c9ac69dbdbe7cb23e5b514b56664c5d3d6"

func testConfig() (Config, Profile) {
	return Config{
			Parent: "mx.example.",
			NameServers: []NameServer{
				{Name: "ns1.mx.example.", A: []string{"192.0.2.53"}, AAAA: []string{"2001:db8::53"}},
				{Name: "ns2.other.example."},
			},
		}, Profile{
			A:    []string{"192.0.2.25", "192.0.2.26"},
			AAAA: []string{"2001:db8::25"},
			TLSA: []string{testTLSA},
		}
}

// openTestStore opens a store in t.TempDir(); cleanup runs bbolt's
// consistency check and closes it.
func openTestStore(t testing.TB) *Store {
	t.Helper()
	return openTestStoreAt(t, filepath.Join(t.TempDir(), "zones.db"))
}

func openTestStoreAt(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(Options{Path: path, KEK: testKEK})
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() {
		checkStore(t, s)
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// checkStore runs bbolt's consistency check if the store is still open.
func checkStore(t testing.TB, s *Store) {
	t.Helper()
	s.mu.RLock()
	db := s.db
	s.mu.RUnlock()
	if db == nil {
		return
	}
	err := db.View(func(tx *bolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
	if err != nil {
		t.Errorf("bbolt consistency check: %v", err)
	}
}

// testKeys returns a KeyFactory that makes ECDSA P-256 keys sealed with kek.
func testKeys(t testing.TB, kek []byte) KeyFactory {
	return func(zone string, role KeyRole, alg uint8, now time.Time) (Key, error) {
		t.Helper()
		return makeKey(t, kek, zone, role, now), nil
	}
}

func makeKey(t testing.TB, kek []byte, zone string, role KeyRole, now time.Time) Key {
	t.Helper()
	flags := uint16(dns.ZONE)
	if role != RoleZSK {
		flags |= dns.SEP
	}
	dk := &dns.DNSKEY{
		Hdr:       dns.RR_Header{Name: zone, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
		Flags:     flags,
		Protocol:  3,
		Algorithm: dns.ECDSAP256SHA256,
	}
	priv, err := dk.Generate(256)
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatalf("pkcs8: %v", err)
	}
	idb := make([]byte, 8)
	rand.Read(idb)
	id := hex.EncodeToString(idb)
	sealed, err := SealKey(kek, zone, id, der, rand.Reader)
	if err != nil {
		t.Fatalf("seal: %v", err)
	}
	return Key{
		Zone: zone, ID: id, Tag: dk.KeyTag(), Algorithm: dk.Algorithm, Role: role, State: StateActive,
		DNSKEY: dk.String(), Sealed: sealed, Created: now, Published: now, Activated: now,
	}
}

// fakeClock is a settable clock for Provisioner.Now.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

// newTestProvisioner returns an initialized store and its provisioner,
// with a deterministic random source and a fake clock at t0.
func newTestProvisioner(t testing.TB, mutate func(*Config)) (*Store, *Provisioner, *fakeClock) {
	t.Helper()
	s := openTestStore(t)
	clk := &fakeClock{now: t0}
	p := &Provisioner{
		Store:   s,
		Applier: NewLocalApplier(s),
		Keys:    testKeys(t, testKEK),
		Now:     clk.Now,
		Rand:    mrand.NewChaCha8([32]byte{1}),
	}
	cfg, prof := testConfig()
	if mutate != nil {
		mutate(&cfg)
	}
	if err := p.Init(context.Background(), cfg, prof); err != nil {
		t.Fatalf("Init: %v", err)
	}
	return s, p, clk
}

// mustAdd adds domains and fails the test on any error.
func mustAdd(t testing.TB, p *Provisioner, domains ...string) []ItemResult {
	t.Helper()
	res, err := p.AddDomains(context.Background(), domains)
	if err != nil {
		t.Fatalf("AddDomains: %v", err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("AddDomains(%s): %v", r.Domain, r.Err)
		}
	}
	return res
}

func rrStrings(rrs []dns.RR) string {
	s := make([]string, len(rrs))
	for i, rr := range rrs {
		s[i] = rr.String()
	}
	return strings.Join(s, "\n")
}
