package mxsign

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coredns/caddy"
	"github.com/miekg/dns"

	"github.com/mxsign/mxsign/signer"
	"github.com/mxsign/mxsign/signer/keymgr"
	"github.com/mxsign/mxsign/zonestore"
)

// Defaults for the Corefile keys. The README documents them; config_test.go checks
// that the two agree.
const (
	defaultAPIAddr   = "127.0.0.1:8053"
	defaultDataDir   = "data"
	defaultTokenFile = "token" // inside the data directory
	defaultKEKFile   = "kek"   // inside the data directory
	dbFile           = "mxsign.db"
	defaultHostTTL   = 300
	defaultBufSize   = 1232

	// defaultParentDSCheckInterval is how often the parental agents are asked for the
	// parent zone's DS while a KSK roll waits for it (Knot's submission check-interval).
	defaultParentDSCheckInterval = time.Hour
	// maxUDPWorkers bounds udp-workers: a socket and a goroutine each.
	maxUDPWorkers = 256

	// defaultAnswerCache is the answer cache's size in bytes.
	defaultAnswerCache = 64 << 20
)

// config is the parsed `mxsign` block.
type config struct {
	Parent    string // from the server block, lower-case FQDN
	DataDir   string
	APIAddr   string
	TokenFile string
	KEKFile   string
	BufSize   uint16
	Zone      zonestore.Config
	Profile   zonestore.Profile
	Signer    signer.Options
	Cluster   *clusterConfig // nil: the embedded single-node default
	Policy    *keymgr.Policy // nil: keys are never rolled automatically

	// ParentalAgents are the servers (HOST:PORT) asked for the parent zone's DS while
	// a KSK roll waits for it (BIND's parental-agents); none: `mxctl ds seen` only.
	ParentalAgents        []string
	ParentDSCheckInterval time.Duration // 0 until parse sets the default
	AnswerCache           int           // the answer cache's size in bytes; 0 turns it off
	Denial                denialMode    // how names and types that do not exist are denied
	MemoryLimit           int64         // the Go runtime's soft memory limit in bytes; 0: GOMEMLIMIT or none
	// UDPWorkers is the number of sockets, each with its goroutine, that read and
	// write the server's UDP queries in batches (udpfront); 0 leaves UDP to CoreDNS,
	// -1 (the default) is GOMAXPROCS.
	UDPWorkers int
}

// denialMode is the `denial` key: how negative answers prove what does not exist.
type denialMode string

const (
	// denialCompact is compact denial of existence (RFC 9824): one NSEC made for each
	// answer, signed online; names cannot be enumerated. The default.
	denialCompact denialMode = "compact"
	// denialNSEC is a pre-signed NSEC chain per zone (RFC 4035): answers need no
	// signing, so a random-subdomain flood is cheap; the zone can be walked.
	denialNSEC denialMode = "nsec"
)

// clusterConfig is the `cluster` block. Without it the node runs Raft alone with an
// in-memory transport: the embedded default, nothing to configure and no port to open.
type clusterConfig struct {
	NodeID       string
	RaftAddr     string
	APIAdvertise string   // the API address other members forward writes to; default: api
	Join         []string // API addresses of existing members
	Voter        bool
	RaftDir      string // default <data>/raft
	TLSCert      string
	TLSKey       string
	TLSCA        string
}

func (c *config) dbPath() string { return filepath.Join(c.DataDir, dbFile) }

// parse reads one `mxsign` block. Relative paths are relative to the working directory.
func parse(c *caddy.Controller) (*config, error) {
	var cfg *config
	for c.Next() { // "mxsign"
		if cfg != nil {
			return nil, c.Err("mxsign: only one mxsign block per server block")
		}
		if len(c.ServerBlockKeys) != 1 {
			return nil, c.Errf("mxsign: the server block must name exactly one parent zone, got %d", len(c.ServerBlockKeys))
		}
		parent, err := parentFromKey(c.ServerBlockKeys[0])
		if err != nil {
			return nil, c.Err(err.Error())
		}
		cfg = &config{
			Parent:  parent,
			DataDir: defaultDataDir,
			APIAddr: defaultAPIAddr,
			BufSize: defaultBufSize,

			AnswerCache: defaultAnswerCache,
			Denial:      denialCompact,
			UDPWorkers:  -1,
		}
		cfg.Zone.Parent = parent
		cfg.Profile.TTL = defaultHostTTL
		if args := c.RemainingArgs(); len(args) != 0 {
			return nil, c.ArgErr()
		}
		for c.NextBlock() {
			if err := parseKey(c, cfg); err != nil {
				return nil, err
			}
		}
	}
	if cfg == nil {
		return nil, fmt.Errorf("mxsign: no mxsign block")
	}
	if cfg.TokenFile == "" {
		cfg.TokenFile = filepath.Join(cfg.DataDir, defaultTokenFile)
	}
	if cfg.KEKFile == "" {
		cfg.KEKFile = filepath.Join(cfg.DataDir, defaultKEKFile)
	}
	if cl := cfg.Cluster; cl != nil {
		if cl.NodeID == "" || cl.RaftAddr == "" {
			return nil, fmt.Errorf("mxsign: cluster needs `node-id ID` and `raft ADDR`")
		}
		if cl.RaftDir == "" {
			cl.RaftDir = filepath.Join(cfg.DataDir, "raft")
		}
		if cl.APIAdvertise == "" {
			// Followers forward writes to this address: it must reach this node from
			// the others. A loopback API is fine only for a cluster on one machine.
			if err := routable(cfg.APIAddr); err != nil {
				return nil, fmt.Errorf("mxsign: cluster: api %s: %v; set api to an address the other members reach, or api-advertise", cfg.APIAddr, err)
			}
			rh, _, _ := net.SplitHostPort(cl.RaftAddr)
			ah, _, _ := net.SplitHostPort(cfg.APIAddr)
			if ip := net.ParseIP(ah); ip != nil && ip.IsLoopback() && !isLoopbackHost(rh) {
				return nil, fmt.Errorf("mxsign: cluster: api %s is a loopback address but raft %s is not: the other members could not forward writes; set api (or api-advertise) to a reachable address", cfg.APIAddr, cl.RaftAddr)
			}
		}
	}
	if len(cfg.Zone.NameServers) == 0 {
		return nil, fmt.Errorf("mxsign: at least one `nameserver NAME [ADDR...]` is required")
	}
	if len(cfg.Profile.A) == 0 && len(cfg.Profile.AAAA) == 0 {
		return nil, fmt.Errorf("mxsign: profile needs at least one `a` or `aaaa` address for the mail hosts")
	}
	cfg.Zone = cfg.Zone.WithDefaults()
	if err := cfg.Zone.Validate(); err != nil {
		return nil, fmt.Errorf("mxsign: %w", err)
	}
	if cfg.Policy != nil {
		applyPolicy(cfg)
	}
	if err := checkParentalAgents(cfg); err != nil {
		return nil, err
	}
	if err := checkSignatureTiming(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

func parentFromKey(key string) (string, error) {
	host := key
	if i := strings.Index(host, "://"); i >= 0 { // dns://, tls://, https://, quic://, grpc://
		host = host[i+3:]
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = dns.Fqdn(strings.ToLower(host))
	if host == "." {
		return "", fmt.Errorf("mxsign: the server block must name the parent zone (e.g. mx.example.:53), not the root")
	}
	if _, ok := dns.IsDomainName(host); !ok {
		return "", fmt.Errorf("mxsign: %q is not a valid zone name", key)
	}
	return host, nil
}

func parseKey(c *caddy.Controller, cfg *config) error {
	key := c.Val()
	args := c.RemainingArgs()
	one := func() (string, error) {
		if len(args) != 1 {
			return "", c.Errf("mxsign: %s takes exactly one argument", key)
		}
		return args[0], nil
	}
	var err error
	switch key {
	case "data":
		cfg.DataDir, err = one()
	case "api":
		var a string
		if a, err = one(); err == nil {
			if _, _, perr := net.SplitHostPort(a); perr != nil {
				return c.Errf("mxsign: api %q: want HOST:PORT: %v", a, perr)
			}
			cfg.APIAddr = a
		}
	case "token-file":
		cfg.TokenFile, err = one()
	case "kek-file":
		cfg.KEKFile, err = one()
	case "nameserver":
		if len(args) < 1 {
			return c.ArgErr()
		}
		ns := zonestore.NameServer{Name: dns.Fqdn(strings.ToLower(args[0]))}
		if _, ok := dns.IsDomainName(ns.Name); !ok {
			return c.Errf("mxsign: nameserver %q is not a domain name", args[0])
		}
		for _, a := range args[1:] {
			ip := net.ParseIP(a)
			switch {
			case ip == nil:
				return c.Errf("mxsign: nameserver %s: %q is not an IP address", args[0], a)
			case ip.To4() != nil:
				ns.A = append(ns.A, ip.String())
			default:
				ns.AAAA = append(ns.AAAA, ip.String())
			}
		}
		cfg.Zone.NameServers = append(cfg.Zone.NameServers, ns)
	case "hostmaster":
		var h string
		if h, err = one(); err == nil {
			cfg.Zone.Hostmaster = dns.Fqdn(strings.ToLower(h))
		}
	case "shard-size":
		var n int
		if n, err = intArg(c, key, args, 1, 1_000_000); err == nil {
			cfg.Zone.ShardSize = n
		}
	case "algorithm":
		var a string
		if a, err = one(); err == nil {
			alg, perr := signer.ParseAlgorithm(a)
			if perr != nil {
				return c.Errf("mxsign: algorithm %q: %v (use ecdsap256sha256 or ed25519)", a, perr)
			}
			cfg.Zone.Algorithm = alg
		}
	case "bufsize":
		var n int
		if n, err = intArg(c, key, args, 512, 4096); err == nil {
			cfg.BufSize = uint16(n)
		}
	case "ttl":
		// ttl soa|ns|dnskey|ds SECONDS
		if len(args) != 2 {
			return c.Errf("mxsign: ttl takes a record kind (soa, ns, dnskey, ds, negative) and seconds")
		}
		n, perr := strconv.ParseUint(args[1], 10, 32)
		if perr != nil || n == 0 || n > 604800 {
			return c.Errf("mxsign: ttl %s %q: want 1..604800 seconds", args[0], args[1])
		}
		v := uint32(n)
		switch args[0] {
		case "soa":
			cfg.Zone.SOATTL = v
		case "ns":
			cfg.Zone.NSTTL = v
		case "dnskey":
			cfg.Zone.DNSKEYTTL = v
		case "ds":
			cfg.Zone.DSTTL = v
		case "negative":
			cfg.Zone.Minimum = v
		default:
			return c.Errf("mxsign: ttl %q: unknown record kind (soa, ns, dnskey, ds, negative)", args[0])
		}
	case "signature-cache":
		var n int
		if n, err = intArg(c, key, args, 0, 100_000_000); err == nil {
			cfg.Signer.CacheSize = n
			if n == 0 {
				cfg.Signer.CacheSize = -1 // 0 in the Corefile means no cache
			}
		}
	case "answer-cache":
		var a string
		if a, err = one(); err == nil {
			n, perr := parseByteSize(a)
			if perr != nil {
				return c.Errf("mxsign: answer-cache %q: %v", a, perr)
			}
			cfg.AnswerCache = n
		}
	case "memory-limit":
		var a string
		if a, err = one(); err == nil {
			n, perr := parseByteSize(a)
			if perr == nil && n < minMemoryLimit {
				perr = fmt.Errorf("want at least %dm: below that the collector would run all the time", minMemoryLimit>>20)
			}
			if perr != nil {
				return c.Errf("mxsign: memory-limit %q: %v", a, perr)
			}
			cfg.MemoryLimit = int64(n)
		}
	case "udp-workers":
		var n int
		if n, err = intArg(c, key, args, 0, maxUDPWorkers); err == nil {
			cfg.UDPWorkers = n
		}
	case "denial":
		var d string
		if d, err = one(); err == nil {
			switch m := denialMode(d); m {
			case denialCompact, denialNSEC:
				cfg.Denial = m
			default:
				return c.Errf("mxsign: denial %q: want compact (RFC 9824, the default) or nsec (a pre-signed NSEC chain)", d)
			}
		}
	case "signature-validity", "signature-refresh":
		var d string
		if d, err = one(); err == nil {
			v, perr := parseDuration(d)
			if perr != nil {
				return c.Errf("mxsign: %s %q: %v", key, d, perr)
			}
			if key == "signature-validity" {
				cfg.Signer.Validity = v
			} else {
				cfg.Signer.Refresh = v
			}
		}
	case "profile":
		if len(args) != 0 {
			return c.ArgErr()
		}
		return parseProfile(c, cfg)
	case "cluster":
		if len(args) != 0 {
			return c.ArgErr()
		}
		return parseCluster(c, cfg)
	case "policy":
		if len(args) != 0 {
			return c.ArgErr()
		}
		return parsePolicy(c, cfg)
	case "parental-agents":
		if len(args) == 0 {
			return c.Errf("mxsign: parental-agents takes one or more ADDR[:PORT] (IP addresses of the servers of the parent's zone)")
		}
		for _, a := range args {
			addr, perr := agentAddr(a)
			if perr != nil {
				return c.Errf("mxsign: parental-agents %q: %v", a, perr)
			}
			if slices.Contains(cfg.ParentalAgents, addr) {
				return c.Errf("mxsign: parental-agents: %s is listed twice", addr)
			}
			cfg.ParentalAgents = append(cfg.ParentalAgents, addr)
		}
	case "parent-ds-check-interval":
		var d string
		if d, err = one(); err == nil {
			v, perr := parseDuration(d)
			if perr == nil && v <= 0 {
				perr = errors.New("must be longer than 0")
			}
			if perr != nil {
				return c.Errf("mxsign: %s %q: %v", key, d, perr)
			}
			cfg.ParentDSCheckInterval = v
		}
	default:
		return c.Errf("mxsign: unknown property %q", key)
	}
	if err != nil {
		return err
	}
	return nil
}

func parseProfile(c *caddy.Controller, cfg *config) error {
	cfg.Profile = zonestore.Profile{TTL: defaultHostTTL}
	for c.NextBlock() {
		key := c.Val()
		args := c.RemainingArgs()
		switch key {
		case "ttl":
			n, err := intArg(c, key, args, 1, 86400)
			if err != nil {
				return err
			}
			cfg.Profile.TTL = uint32(n)
		case "a", "aaaa":
			if len(args) == 0 {
				return c.ArgErr()
			}
			for _, a := range args {
				ip := net.ParseIP(a)
				if ip == nil || (key == "a") != (ip.To4() != nil) {
					return c.Errf("mxsign: profile %s: %q is not an IPv%s address", key, a, map[bool]string{true: "4", false: "6"}[key == "a"])
				}
				if key == "a" {
					cfg.Profile.A = append(cfg.Profile.A, ip.String())
				} else {
					cfg.Profile.AAAA = append(cfg.Profile.AAAA, ip.String())
				}
			}
		case "tlsa":
			rdata, err := parseTLSA(args)
			if err != nil {
				return c.Errf("mxsign: profile tlsa: %v", err)
			}
			cfg.Profile.TLSA = append(cfg.Profile.TLSA, rdata)
		case "tlsa-cert":
			if len(args) != 1 {
				return c.ArgErr()
			}
			rdata, err := tlsaFromPEM(args[0])
			if err != nil {
				return c.Errf("mxsign: profile tlsa-cert: %v", err)
			}
			cfg.Profile.TLSA = append(cfg.Profile.TLSA, rdata)
		default:
			return c.Errf("mxsign: profile: unknown property %q", key)
		}
	}
	return nil
}

// parseTLSA validates "USAGE SELECTOR MTYPE HEX". Usages 0 and 1 are refused: RFC 7672
// §3.1.3 makes them unusable for SMTP.
func parseTLSA(args []string) (string, error) {
	if len(args) != 4 {
		return "", fmt.Errorf("want `tlsa USAGE SELECTOR MTYPE HEX`, e.g. `tlsa 3 1 1 <sha256 hex>`")
	}
	rr, err := dns.NewRR("x. 300 IN TLSA " + strings.Join(args, " "))
	if err != nil {
		return "", fmt.Errorf("%q: %v", strings.Join(args, " "), err)
	}
	t := rr.(*dns.TLSA)
	if t.Usage != 2 && t.Usage != 3 {
		return "", fmt.Errorf("usage %d is unusable for SMTP DANE (RFC 7672 §3.1.3): use 3 (DANE-EE) or 2 (DANE-TA)", t.Usage)
	}
	if t.Selector > 1 || t.MatchingType > 2 {
		return "", fmt.Errorf("selector must be 0 or 1 and matching type 0, 1 or 2")
	}
	want := map[uint8]int{1: 64, 2: 128}[t.MatchingType]
	if want != 0 && len(t.Certificate) != want {
		return "", fmt.Errorf("matching type %d needs %d hex digits, got %d", t.MatchingType, want, len(t.Certificate))
	}
	return fmt.Sprintf("%d %d %d %s", t.Usage, t.Selector, t.MatchingType, strings.ToLower(t.Certificate)), nil
}

// tlsaFromPEM derives `3 1 1 <sha256(SPKI)>` from the first certificate in a PEM file
// (RFC 7672 §3.1.1: DANE-EE(3) SPKI(1) SHA2-256(1) is the recommended form).
func tlsaFromPEM(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return "", fmt.Errorf("%s: no CERTIFICATE block", path)
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return "", fmt.Errorf("%s: %v", path, err)
		}
		sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
		return "3 1 1 " + hex.EncodeToString(sum[:]), nil
	}
}

func intArg(c *caddy.Controller, key string, args []string, lo, hi int) (int, error) {
	if len(args) != 1 {
		return 0, c.Errf("mxsign: %s takes exactly one number", key)
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < lo || n > hi {
		return 0, c.Errf("mxsign: %s %q: want a number in %d..%d", key, args[0], lo, hi)
	}
	return n, nil
}

// parseByteSize accepts a number of bytes with an optional binary suffix: "0",
// "65536", "512k", "64m", "1g" (KiB, MiB, GiB), up to 64 GiB.
func parseByteSize(s string) (int, error) {
	unit := 1
	switch {
	case strings.HasSuffix(s, "k"), strings.HasSuffix(s, "K"):
		unit = 1 << 10
	case strings.HasSuffix(s, "m"), strings.HasSuffix(s, "M"):
		unit = 1 << 20
	case strings.HasSuffix(s, "g"), strings.HasSuffix(s, "G"):
		unit = 1 << 30
	}
	if unit > 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n*uint64(unit) > 64<<30 {
		return 0, fmt.Errorf("want a size in bytes up to 64g, like 0, 65536, 512k or 64m")
	}
	return int(n) * unit, nil
}

// parseDuration accepts Go durations plus a "d" (days) suffix: "14d", "36h", "90m".
func parseDuration(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := strconv.ParseUint(n, 10, 16)
		if err != nil {
			return 0, fmt.Errorf("want a duration like 14d, 36h or 90m")
		}
		return time.Duration(d) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("want a positive duration like 14d, 36h or 90m")
	}
	return d, nil
}

func parseCluster(c *caddy.Controller, cfg *config) error {
	if cfg.Cluster != nil {
		return c.Err("mxsign: only one cluster block")
	}
	cl := &clusterConfig{Voter: true}
	cfg.Cluster = cl
	for c.NextBlock() {
		key := c.Val()
		args := c.RemainingArgs()
		switch key {
		case "node-id":
			if len(args) != 1 || !validNodeID(args[0]) {
				return c.Errf("mxsign: cluster node-id: want one id of letters, digits, '-', '_' or '.'")
			}
			cl.NodeID = args[0]
		case "raft":
			if len(args) != 1 {
				return c.ArgErr()
			}
			if _, _, err := net.SplitHostPort(args[0]); err != nil {
				return c.Errf("mxsign: cluster raft %q: want HOST:PORT: %v", args[0], err)
			}
			cl.RaftAddr = args[0]
		case "raft-dir":
			if len(args) != 1 {
				return c.ArgErr()
			}
			cl.RaftDir = args[0]
		case "join":
			if len(args) == 0 {
				return c.ArgErr()
			}
			for _, a := range args {
				if _, _, err := net.SplitHostPort(strings.TrimPrefix(strings.TrimPrefix(a, "http://"), "https://")); err != nil {
					return c.Errf("mxsign: cluster join %q: want the API address HOST:PORT of a member: %v", a, err)
				}
			}
			cl.Join = append(cl.Join, args...)
		case "api-advertise":
			if len(args) != 1 {
				return c.ArgErr()
			}
			if err := routable(args[0]); err != nil {
				return c.Errf("mxsign: cluster api-advertise: %v", err)
			}
			cl.APIAdvertise = args[0]
		case "voter", "nonvoter":
			if len(args) != 0 {
				return c.ArgErr()
			}
			cl.Voter = key == "voter"
		case "tls":
			// tls CERT KEY CA: mutual TLS on the Raft transport. The CA is required:
			// the system roots would admit any publicly trusted client certificate.
			if len(args) != 3 {
				return c.Errf("mxsign: cluster tls CERT KEY CA (the CA that signs the members' certificates)")
			}
			cl.TLSCert, cl.TLSKey, cl.TLSCA = args[0], args[1], args[2]
		default:
			return c.Errf("mxsign: cluster: unknown property %q", key)
		}
	}
	return nil
}

// routable refuses addresses that mean "any" rather than naming this node.
func routable(addr string) error {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want HOST:PORT: %v", err)
	}
	if p == "0" {
		return nil // tests: the bound port is published
	}
	if h == "" {
		return fmt.Errorf("%q names no host", addr)
	}
	if ip := net.ParseIP(h); ip != nil && ip.IsUnspecified() {
		return fmt.Errorf("%s is the unspecified address, which other members cannot dial", h)
	}
	return nil
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func validNodeID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// checkSignatureTiming refuses signature settings under which no signature could be
// cached (each query would be signed afresh) or served safely: a signature is handed
// out only while it has more than max(refresh, TTL + skew) left.
func checkSignatureTiming(cfg *config) error {
	validity, refresh := cfg.Signer.Validity, cfg.Signer.Refresh
	if validity == 0 {
		validity = signer.DefaultValidity
	}
	if refresh == 0 {
		refresh = signer.DefaultRefresh
	}
	maxTTL := time.Duration(max(cfg.Zone.SOATTL, cfg.Zone.NSTTL, cfg.Zone.DNSKEYTTL, cfg.Zone.DSTTL, cfg.Profile.TTL)) * time.Second
	switch {
	case refresh >= validity:
		return fmt.Errorf("mxsign: signature-refresh %v must be shorter than signature-validity %v", refresh, validity)
	case validity <= maxTTL+signer.DefaultSkew:
		return fmt.Errorf("mxsign: signature-validity %v is too short for the longest TTL %v: signatures must outlive the TTL they are cached with", validity, maxTTL)
	}
	return nil
}

// parsePolicy reads the `policy { ... }` block (RFC 7583 timing; keymgr's names) and
// validates it: a policy whose lifetimes cannot contain their intervals is refused
// with keymgr's message naming which.
func parsePolicy(c *caddy.Controller, cfg *config) error {
	if cfg.Policy != nil {
		return c.Err("mxsign: only one policy block")
	}
	var b strings.Builder
	for c.NextBlock() {
		b.WriteString(c.Val())
		for _, a := range c.RemainingArgs() {
			b.WriteString(" " + a)
		}
		b.WriteString("\n")
	}
	p, err := keymgr.ParsePolicy(strings.NewReader(b.String()))
	if err != nil {
		return c.Errf("mxsign: policy: %v", err)
	}
	cfg.Policy = &p
	return nil
}

// applyPolicy makes the served zone agree with the policy the key manager assumes:
// the DNSKEY and DS TTLs, the algorithm of new keys, the signature timing, and every
// TTL capped to max-zone-ttl (negative answers included), so the computed waits hold
// for every record.
func applyPolicy(cfg *config) {
	p := cfg.Policy
	secs := func(d time.Duration) uint32 { return uint32(d / time.Second) }
	capTTL := func(v *uint32) {
		if m := secs(p.MaxZoneTTL); m > 0 && *v > m {
			*v = m
		}
	}
	cfg.Zone.DNSKEYTTL = secs(p.DNSKEYTTL)
	cfg.Zone.DSTTL = secs(p.ParentDSTTL)
	cfg.Zone.Algorithm = p.Algorithm
	for _, v := range []*uint32{&cfg.Zone.SOATTL, &cfg.Zone.NSTTL, &cfg.Zone.DNSKEYTTL, &cfg.Zone.DSTTL, &cfg.Zone.Minimum, &cfg.Profile.TTL} {
		capTTL(v)
	}
	cfg.Signer.Validity, cfg.Signer.Refresh = p.SignatureValidity, p.SignatureRefresh
}

// agentAddr normalizes a parental agent, ADDR or ADDR:PORT ([V6]:PORT), to HOST:PORT
// with port 53 by default. Only IP addresses: the agents are what the DS is checked
// against, so they must not depend on a name lookup.
func agentAddr(s string) (string, error) {
	host, port := s, "53"
	if ip := net.ParseIP(s); ip == nil {
		h, p, err := net.SplitHostPort(s)
		if err != nil {
			return "", fmt.Errorf("want an IP address with an optional port (192.0.2.1, 192.0.2.1:5353, [2001:db8::1]:5353)")
		}
		host, port = h, p
	}
	if net.ParseIP(host) == nil {
		return "", fmt.Errorf("%q is not an IP address (a name would have to be resolved first)", host)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return "", fmt.Errorf("port %q: want 1..65535", port)
	}
	return net.JoinHostPort(host, port), nil
}

// checkParentalAgents sets the default check interval and refuses parent-DS settings
// that would never be used.
func checkParentalAgents(cfg *config) error {
	switch {
	case len(cfg.ParentalAgents) == 0 && cfg.ParentDSCheckInterval != 0:
		return fmt.Errorf("mxsign: parent-ds-check-interval needs parental-agents: there is no server to ask")
	case len(cfg.ParentalAgents) == 0:
		return nil
	case cfg.Policy == nil:
		return fmt.Errorf("mxsign: parental-agents needs a policy block: without automatic key rollover nothing waits for the parent's DS")
	case cfg.ParentDSCheckInterval == 0:
		cfg.ParentDSCheckInterval = defaultParentDSCheckInterval
	}
	return nil
}
