package mxsign

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mxsign/mxsign/plugin/api"
	"github.com/mxsign/mxsign/signer"
	"github.com/mxsign/mxsign/zonestore"
)

// envKEK names the environment variable that may carry the key-encryption key (64 hex
// digits); it takes precedence over kek-file.
const envKEK = "MXSIGN_KEK"

// instance is everything that must outlive a CoreDNS reload: the open store (bbolt holds
// an exclusive file lock), the signature cache, and the admin API listener.
type instance struct {
	key    string // absolute data directory
	store  *zonestore.Store
	prov   *zonestore.Provisioner
	signer *signer.Signer
	sigOpt signer.Options

	mu      sync.Mutex
	apiAddr string
	apiSrv  *http.Server
	apiLn   net.Listener
	handler handlerBox
}

// handlerBox lets a reload swap the API handler without rebinding the listener.
type handlerBox struct {
	mu sync.RWMutex
	h  http.Handler
}

func (b *handlerBox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.RLock()
	h := b.h
	b.mu.RUnlock()
	h.ServeHTTP(w, r)
}

// instances is the keyed registry of open instances (STYLE.md: the one place the plugin
// keeps state across setup calls). Entries are released in OnFinalShutdown.
var instances = struct {
	sync.Mutex
	m map[string]*instance
}{m: make(map[string]*instance)}

// acquire returns the instance for cfg's data directory, opening it on first use.
func acquire(cfg *config) (*instance, error) {
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("mxsign: data %s: %w", cfg.DataDir, err)
	}
	instances.Lock()
	defer instances.Unlock()
	if inst, ok := instances.m[dir]; ok {
		if inst.sigOpt != cfg.Signer {
			inst.signer, inst.sigOpt = signer.New(cfg.Signer), cfg.Signer
		}
		return inst, inst.prov.Init(context.Background(), cfg.Zone, cfg.Profile)
	}
	inst, err := open(dir, cfg)
	if err != nil {
		return nil, err
	}
	instances.m[dir] = inst
	return inst, nil
}

func open(dir string, cfg *config) (*instance, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mxsign: data %s: %w", dir, err)
	}
	dbPath := filepath.Join(dir, dbFile)
	_, statErr := os.Stat(dbPath)
	kek, err := loadKEK(cfg.KEKFile, statErr == nil)
	if err != nil {
		return nil, err
	}
	st, err := zonestore.Open(zonestore.Options{Path: dbPath, KEK: kek})
	if err != nil {
		return nil, fmt.Errorf("mxsign: %w", err)
	}
	dnskeyTTL := cfg.Zone.DNSKEYTTL
	prov := &zonestore.Provisioner{
		Store:   st,
		Applier: zonestore.NewLocalApplier(st),
		Keys:    keyFactory(kek, dnskeyTTL),
		Now:     time.Now,
		Rand:    rand.Reader,
	}
	if err := prov.Init(context.Background(), cfg.Zone, cfg.Profile); err != nil {
		st.Close()
		return nil, fmt.Errorf("mxsign: initialize %s: %w", cfg.Parent, err)
	}
	return &instance{key: dir, store: st, prov: prov, signer: signer.New(cfg.Signer), sigOpt: cfg.Signer}, nil
}

// keyFactory generates key material with the signer and seals it for the store. It runs
// on the proposer only; the command carries the sealed result (DESIGN.md invariant 1).
func keyFactory(kek []byte, ttl uint32) zonestore.KeyFactory {
	return func(zone string, role zonestore.KeyRole, alg uint8, now time.Time) (zonestore.Key, error) {
		dnskey, priv, err := signer.GenerateKey(zone, alg, role != zonestore.RoleZSK, ttl, rand.Reader)
		if err != nil {
			return zonestore.Key{}, err
		}
		der, err := signer.MarshalPrivateKey(priv)
		if err != nil {
			return zonestore.Key{}, err
		}
		idb := make([]byte, 8)
		if _, err := rand.Read(idb); err != nil {
			return zonestore.Key{}, err
		}
		id := hex.EncodeToString(idb)
		sealed, err := zonestore.SealKey(kek, zone, id, der, rand.Reader)
		if err != nil {
			return zonestore.Key{}, err
		}
		return zonestore.Key{
			Zone:        zone,
			ID:          id,
			Tag:         dnskey.KeyTag(),
			Algorithm:   alg,
			Role:        role,
			State:       zonestore.StateActive,
			DNSKEY:      dnskey.String(),
			Sealed:      sealed,
			DSPublished: role != zonestore.RoleZSK,
			Created:     now,
			Published:   now,
			Activated:   now,
		}, nil
	}
}

// loadKEK reads the key-encryption key from $MXSIGN_KEK or path. A missing file is
// created with a fresh key only when there is no store yet: a new KEK for an existing
// store would leave every key in it undecryptable.
func loadKEK(path string, storeExists bool) ([]byte, error) {
	if v := os.Getenv(envKEK); v != "" {
		return decodeKEK(v, "$"+envKEK)
	}
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		return decodeKEK(string(b), path)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("mxsign: kek-file: %w", err)
	case storeExists:
		return nil, fmt.Errorf("mxsign: kek-file %s is missing but the store exists: restore the key-encryption key (or set $%s); a new one could not decrypt the stored keys", path, envKEK)
	}
	kek, err := zonestore.GenerateKEK(rand.Reader)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("mxsign: kek-file: %w", err)
	}
	if err := writeFileExcl(path, []byte(hex.EncodeToString(kek)+"\n")); err != nil {
		return nil, fmt.Errorf("mxsign: kek-file: %w", err)
	}
	return kek, nil
}

func decodeKEK(s, from string) ([]byte, error) {
	kek, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(kek) != 32 {
		return nil, fmt.Errorf("mxsign: key-encryption key in %s must be 64 hex digits (32 bytes)", from)
	}
	return kek, nil
}

// writeFileExcl creates path with mode 0600, failing if it exists, and syncs it.
func writeFileExcl(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// serveAPI points the admin API at h, (re)binding the listener if the address changed.
func (inst *instance) serveAPI(addr string, h http.Handler) error {
	inst.mu.Lock()
	defer inst.mu.Unlock()
	inst.handler.mu.Lock()
	inst.handler.h = h
	inst.handler.mu.Unlock()
	if inst.apiSrv != nil && inst.apiAddr == addr {
		return nil
	}
	if inst.apiSrv != nil {
		inst.apiSrv.Close()
		inst.apiSrv = nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("mxsign: api %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           &inst.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	inst.apiSrv, inst.apiLn, inst.apiAddr = srv, ln, addr
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Errorf("admin API on %s stopped: %v", addr, err)
		}
	}()
	log.Infof("admin API listening on %s", ln.Addr())
	return nil
}

// APIAddr returns the bound admin API address (useful with port 0 in tests).
func (inst *instance) APIAddr() string {
	inst.mu.Lock()
	defer inst.mu.Unlock()
	if inst.apiLn == nil {
		return ""
	}
	return inst.apiLn.Addr().String()
}

// release closes the instance for dir: called from OnFinalShutdown.
func release(dir string) error {
	instances.Lock()
	inst, ok := instances.m[dir]
	delete(instances.m, dir)
	instances.Unlock()
	if !ok {
		return nil
	}
	inst.mu.Lock()
	if inst.apiSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		inst.apiSrv.Shutdown(ctx)
		cancel()
		inst.apiSrv = nil
	}
	inst.mu.Unlock()
	return inst.store.Close()
}

// tokenFor makes sure the API token file exists and returns the token.
func tokenFor(path string) (string, error) {
	tok, created, err := api.EnsureTokenFile(path, rand.Reader)
	if err != nil {
		return "", fmt.Errorf("mxsign: token-file: %w", err)
	}
	if created {
		log.Infof("wrote a new admin API token to %s", path)
	}
	return tok, nil
}
