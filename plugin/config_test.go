package mxsign

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coredns/caddy"
)

func TestParentFromKey(t *testing.T) {
	for _, k := range []string{"mx.example.:53", "dns://mx.example.:53", "tls://MX.example.:853", "quic://mx.example.:853", "https://mx.example.:443", "mx.example"} {
		if got, err := parentFromKey(k); err != nil || got != "mx.example." {
			t.Errorf("%s: %q %v", k, got, err)
		}
	}
	if _, err := parentFromKey(".:53"); err == nil {
		t.Error("the root must be refused")
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		wantErr string // substring; "" = must succeed
		check   func(t *testing.T, c *config)
	}{
		{
			name: "minimal",
			input: `mxsign {
				nameserver ns1.mx.example. 192.0.2.53
				profile {
					a 192.0.2.25
				}
			}`,
			check: func(t *testing.T, c *config) {
				if c.Parent != "mx.example." || c.DataDir != defaultDataDir || c.APIAddr != defaultAPIAddr {
					t.Errorf("defaults: %+v", c)
				}
				if c.TokenFile != filepath.Join(defaultDataDir, "token") || c.KEKFile != filepath.Join(defaultDataDir, "kek") {
					t.Errorf("token/kek defaults: %s %s", c.TokenFile, c.KEKFile)
				}
				if c.Zone.ShardSize != 10000 || c.Zone.Algorithm != 13 || c.Profile.TTL != 300 {
					t.Errorf("zone defaults: %+v %+v", c.Zone, c.Profile)
				}
				if c.AnswerCache != 64<<20 {
					t.Errorf("answer-cache default %d", c.AnswerCache)
				}
				if c.Denial != denialCompact {
					t.Errorf("denial default %q", c.Denial)
				}
			},
		},
		{
			name: "everything",
			input: `mxsign {
				data /var/lib/mxsign
				api 127.0.0.1:9053
				token-file /etc/mxsign/token
				kek-file /etc/mxsign/kek
				nameserver ns1.mx.example. 192.0.2.53 2001:db8::53
				hostmaster dns-admin.example.net.
				shard-size 500
				algorithm ed25519
				ttl dnskey 7200
				bufsize 1400
				signature-validity 10d
				signature-cache 500000
				answer-cache 32m
				profile {
					ttl 600
					a 192.0.2.25 192.0.2.26
					aaaa 2001:db8::25
					tlsa 3 1 1 8D02536C887482BC34FF54E41D2BA659BF85B341A0A20AFADB5813DCFBCF286D
				}
			}`,
			check: func(t *testing.T, c *config) {
				if c.Zone.Algorithm != 15 || c.Zone.ShardSize != 500 || c.Zone.DNSKEYTTL != 7200 || c.BufSize != 1400 {
					t.Errorf("%+v", c.Zone)
				}
				if len(c.Zone.NameServers[0].A) != 1 || len(c.Zone.NameServers[0].AAAA) != 1 {
					t.Errorf("glue %+v", c.Zone.NameServers)
				}
				if c.Profile.TLSA[0] != testTLSA || c.Profile.TTL != 600 || len(c.Profile.A) != 2 {
					t.Errorf("profile %+v", c.Profile)
				}
				if c.Signer.CacheSize != 500000 {
					t.Errorf("signature-cache %d", c.Signer.CacheSize)
				}
				if c.AnswerCache != 32<<20 {
					t.Errorf("answer-cache %d", c.AnswerCache)
				}
				if c.Signer.Validity.Hours() != 240 {
					t.Errorf("validity %v", c.Signer.Validity)
				}
			},
		},
		{
			name:  "parental agents",
			input: "mxsign {\n nameserver ns1.x.\n profile {\n a 192.0.2.1\n }\n policy {\n }\n parental-agents 192.0.2.1 192.0.2.2:5353\n parental-agents 2001:db8::1 [2001:db8::2]:54\n}",
			check: func(t *testing.T, c *config) {
				want := []string{"192.0.2.1:53", "192.0.2.2:5353", "[2001:db8::1]:53", "[2001:db8::2]:54"}
				if !slices.Equal(c.ParentalAgents, want) {
					t.Errorf("agents %v, want %v", c.ParentalAgents, want)
				}
				if c.ParentDSCheckInterval != defaultParentDSCheckInterval {
					t.Errorf("interval %v, want the default %v", c.ParentDSCheckInterval, defaultParentDSCheckInterval)
				}
			},
		},
		{
			name:  "parental agents before the policy, with an interval",
			input: "mxsign {\n nameserver ns1.x.\n profile {\n a 192.0.2.1\n }\n parent-ds-check-interval 15m\n parental-agents 192.0.2.1\n policy {\n }\n}",
			check: func(t *testing.T, c *config) {
				if c.ParentDSCheckInterval != 15*time.Minute || len(c.ParentalAgents) != 1 {
					t.Errorf("interval %v, agents %v", c.ParentDSCheckInterval, c.ParentalAgents)
				}
			},
		},
		{name: "parental agents without a policy", input: "mxsign {\n nameserver ns1.x.\n profile {\n a 192.0.2.1\n }\n parental-agents 192.0.2.1\n}", wantErr: "needs a policy block"},
		{name: "parental agents: a name", input: "mxsign {\n parental-agents ns1.example.net\n}", wantErr: "IP address"},
		{name: "parental agents: a name with a port", input: "mxsign {\n parental-agents ns1.example.net:53\n}", wantErr: "is not an IP address"},
		{name: "parental agents: port 0", input: "mxsign {\n parental-agents 192.0.2.1:0\n}", wantErr: "1..65535"},
		{name: "parental agents: port too big", input: "mxsign {\n parental-agents 192.0.2.1:65536\n}", wantErr: "1..65535"},
		{name: "parental agents: none", input: "mxsign {\n parental-agents\n}", wantErr: "one or more ADDR[:PORT]"},
		{name: "parental agents: twice", input: "mxsign {\n parental-agents 192.0.2.1 192.0.2.1:53\n}", wantErr: "listed twice"},
		{name: "check interval 0", input: "mxsign {\n parent-ds-check-interval 0\n}", wantErr: "parent-ds-check-interval"},
		{name: "check interval 0d", input: "mxsign {\n parent-ds-check-interval 0d\n}", wantErr: "longer than 0"},
		{name: "check interval negative", input: "mxsign {\n parent-ds-check-interval -1h\n}", wantErr: "positive"},
		{name: "check interval not a duration", input: "mxsign {\n parent-ds-check-interval soon\n}", wantErr: "duration"},
		{name: "check interval two arguments", input: "mxsign {\n parent-ds-check-interval 1h 2h\n}", wantErr: "exactly one argument"},
		{name: "check interval without agents", input: "mxsign {\n nameserver ns1.x.\n profile {\n a 192.0.2.1\n }\n policy {\n }\n parent-ds-check-interval 1h\n}", wantErr: "needs parental-agents"},
		{name: "answer cache off", input: "mxsign {\n nameserver ns1.x.\n answer-cache 0\n profile {\n a 192.0.2.1\n }\n}", check: func(t *testing.T, c *config) {
			if c.AnswerCache != 0 {
				t.Errorf("answer-cache 0 gave %d", c.AnswerCache)
			}
		}},
		{name: "answer cache in bytes", input: "mxsign {\n nameserver ns1.x.\n answer-cache 65536\n profile {\n a 192.0.2.1\n }\n}", check: func(t *testing.T, c *config) {
			if c.AnswerCache != 65536 {
				t.Errorf("answer-cache 65536 gave %d", c.AnswerCache)
			}
		}},
		{name: "answer cache size not a size", input: "mxsign {\n nameserver ns1.x.\n answer-cache lots\n profile {\n a 192.0.2.1\n }\n}", wantErr: "answer-cache"},
		{name: "memory limit", input: "mxsign {\n nameserver ns1.x.\n memory-limit 512m\n profile {\n a 192.0.2.1\n }\n}", check: func(t *testing.T, c *config) {
			if c.MemoryLimit != 512<<20 {
				t.Errorf("memory-limit 512m gave %d", c.MemoryLimit)
			}
		}},
		{name: "memory limit absent", input: "mxsign {\n nameserver ns1.x.\n profile {\n a 192.0.2.1\n }\n}", check: func(t *testing.T, c *config) {
			if c.MemoryLimit != 0 {
				t.Errorf("no memory-limit gave %d", c.MemoryLimit)
			}
		}},
		{name: "memory limit in bytes", input: "mxsign {\n nameserver ns1.x.\n memory-limit 16777216\n profile {\n a 192.0.2.1\n }\n}", check: func(t *testing.T, c *config) {
			if c.MemoryLimit != 16<<20 {
				t.Errorf("memory-limit 16777216 gave %d", c.MemoryLimit)
			}
		}},
		{name: "memory limit not a size", input: "mxsign {\n memory-limit lots\n}", wantErr: `memory-limit "lots": want a size`},
		{name: "memory limit too small", input: "mxsign {\n memory-limit 8m\n}", wantErr: "want at least 16m"},
		{name: "memory limit zero", input: "mxsign {\n memory-limit 0\n}", wantErr: "want at least 16m"},
		{name: "memory limit too large", input: "mxsign {\n memory-limit 65g\n}", wantErr: "up to 64g"},
		{name: "memory limit without a size", input: "mxsign {\n memory-limit\n}", wantErr: "memory-limit takes exactly one argument"},
		{name: "denial nsec", input: "mxsign {\n nameserver ns1.x.\n denial nsec\n profile {\n a 192.0.2.1\n }\n}", check: func(t *testing.T, c *config) {
			if c.Denial != denialNSEC {
				t.Errorf("denial nsec gave %q", c.Denial)
			}
		}},
		{name: "denial compact", input: "mxsign {\n nameserver ns1.x.\n denial compact\n profile {\n a 192.0.2.1\n }\n}", check: func(t *testing.T, c *config) {
			if c.Denial != denialCompact {
				t.Errorf("denial compact gave %q", c.Denial)
			}
		}},
		{name: "denial unknown", input: "mxsign {\n nameserver ns1.x.\n denial nsec3\n profile {\n a 192.0.2.1\n }\n}", wantErr: "want compact"},
		{name: "denial without mode", input: "mxsign {\n nameserver ns1.x.\n denial\n profile {\n a 192.0.2.1\n }\n}", wantErr: "exactly one argument"},
		{name: "udp workers default", input: "mxsign {\n nameserver ns1.x.\n profile {\n a 192.0.2.1\n }\n}", check: func(t *testing.T, c *config) {
			if c.UDPWorkers != -1 {
				t.Errorf("udp-workers default %d, want -1 (GOMAXPROCS)", c.UDPWorkers)
			}
		}},
		{name: "udp workers off", input: "mxsign {\n nameserver ns1.x.\n udp-workers 0\n profile {\n a 192.0.2.1\n }\n}", check: func(t *testing.T, c *config) {
			if c.UDPWorkers != 0 {
				t.Errorf("udp-workers 0 gave %d", c.UDPWorkers)
			}
		}},
		{name: "udp workers four", input: "mxsign {\n nameserver ns1.x.\n udp-workers 4\n profile {\n a 192.0.2.1\n }\n}", check: func(t *testing.T, c *config) {
			if c.UDPWorkers != 4 {
				t.Errorf("udp-workers 4 gave %d", c.UDPWorkers)
			}
		}},
		{name: "udp workers negative", input: "mxsign {\n nameserver ns1.x.\n udp-workers -1\n profile {\n a 192.0.2.1\n }\n}", wantErr: "udp-workers \"-1\": want a number in 0..256"},
		{name: "udp workers too many", input: "mxsign {\n nameserver ns1.x.\n udp-workers 1000\n profile {\n a 192.0.2.1\n }\n}", wantErr: "0..256"},
		{name: "udp workers two args", input: "mxsign {\n nameserver ns1.x.\n udp-workers 1 2\n profile {\n a 192.0.2.1\n }\n}", wantErr: "udp-workers takes exactly one number"},
		{name: "answer cache too large", input: "mxsign {\n nameserver ns1.x.\n answer-cache 65g\n profile {\n a 192.0.2.1\n }\n}", wantErr: "up to 64g"},
		{name: "unknown key", input: "mxsign {\n nameserver ns1.x. \n profile {\n a 192.0.2.1\n }\n frobnicate 1\n}", wantErr: `unknown property "frobnicate"`},
		{name: "no nameserver", input: "mxsign {\n profile {\n a 192.0.2.1\n }\n}", wantErr: "nameserver"},
		{name: "no addresses", input: "mxsign {\n nameserver ns1.x.\n}", wantErr: "at least one `a` or `aaaa`"},
		{name: "bad ip", input: "mxsign {\n nameserver ns1.x.\n profile {\n a 2001:db8::1\n }\n}", wantErr: "not an IPv4"},
		{name: "tlsa usage 1", input: "mxsign {\n nameserver ns1.x.\n profile {\n a 192.0.2.1\n tlsa 1 1 1 8d02536c887482bc34ff54e41d2ba659bf85b341a0a20afadb5813dcfbcf286d\n }\n}", wantErr: "unusable for SMTP"},
		{name: "tlsa short hash", input: "mxsign {\n nameserver ns1.x.\n profile {\n a 192.0.2.1\n tlsa 3 1 1 abcd\n }\n}", wantErr: "64 hex"},
		{name: "bad algorithm", input: "mxsign {\n nameserver ns1.x.\n algorithm rsasha1\n profile {\n a 192.0.2.1\n }\n}", wantErr: "algorithm"},
		{name: "shard size zero", input: "mxsign {\n nameserver ns1.x.\n shard-size 0\n profile {\n a 192.0.2.1\n }\n}", wantErr: "shard-size"},
		{name: "api not host:port", input: "mxsign {\n api localhost\n}", wantErr: "HOST:PORT"},
		{name: "args on directive", input: "mxsign foo {\n}", wantErr: "argument"},
		{name: "cluster: loopback api with a routable raft address", input: "mxsign {\n nameserver ns1.x.\n profile {\n a 192.0.2.1\n }\n cluster {\n node-id n1\n raft 192.0.2.53:7053\n }\n}", wantErr: "loopback"},
		{name: "cluster: unspecified api", input: "mxsign {\n api 0.0.0.0:8053\n nameserver ns1.x.\n profile {\n a 192.0.2.1\n }\n cluster {\n node-id n1\n raft 192.0.2.53:7053\n }\n}", wantErr: "unspecified"},
		{name: "cluster: unspecified api with api-advertise", input: "mxsign {\n api 0.0.0.0:8053\n nameserver ns1.x.\n profile {\n a 192.0.2.1\n }\n cluster {\n node-id n1\n raft 192.0.2.53:7053\n api-advertise 192.0.2.53:8053\n }\n}"},
		{name: "cluster: tls without CA", input: "mxsign {\n nameserver ns1.x.\n profile {\n a 192.0.2.1\n }\n cluster {\n node-id n1\n raft 127.0.0.1:7053\n tls c.pem k.pem\n }\n}", wantErr: "CA"},
		{name: "cluster: bad node id", input: "mxsign {\n cluster {\n node-id a/b\n }\n}", wantErr: "node-id"},
		{name: "refresh not below validity", input: "mxsign {\n nameserver ns1.x.\n signature-validity 5d\n signature-refresh 5d\n profile {\n a 192.0.2.1\n }\n}", wantErr: "shorter than signature-validity"},
		{name: "validity too short for the TTLs", input: "mxsign {\n nameserver ns1.x.\n signature-validity 1h\n signature-refresh 30m\n profile {\n a 192.0.2.1\n }\n}", wantErr: "too short"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := caddy.NewTestController("dns", tc.input)
			c.ServerBlockKeys = []string{"mx.example.:53"}
			cfg, err := parse(c)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("want error containing %q, got %v", tc.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, cfg)
			}
		})
	}
}

// TestCorefileExample parses the shipped Corefile.example and checks it says what the
// README says: port 1053 on 127.0.0.1, API on 127.0.0.1:8053, data in ./data.
func TestCorefileExample(t *testing.T) {
	b, err := os.ReadFile("../Corefile.example")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	if !strings.Contains(text, "mx.example.:1053") || !strings.Contains(text, "bind 127.0.0.1") {
		t.Fatal("Corefile.example must serve mx.example. on 127.0.0.1:1053")
	}
	start := strings.Index(text, "mxsign {")
	end := strings.Index(text[start:], "\n    }\n")
	c := caddy.NewTestController("dns", text[start:start+end+6])
	c.ServerBlockKeys = []string{"mx.example.:1053"}
	cfg, err := parse(c)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.APIAddr != "127.0.0.1:8053" || cfg.DataDir != "data" || cfg.TokenFile != "data/token" {
		t.Fatalf("Corefile.example: %+v", cfg)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"data/token", "127.0.0.1:8053", "1053", "go run ./cmd/mxsign -conf Corefile.example"} {
		if !strings.Contains(string(readme), want) {
			t.Errorf("README.md does not mention %q", want)
		}
	}
}

// TestREADMEParentDSDefaults keeps the README's parental-agents defaults equal to the
// constants.
func TestREADMEParentDSDefaults(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var line string
	for _, l := range strings.Split(string(b), "\n* ") {
		if strings.HasPrefix(l, "`parental-agents`") {
			line = strings.Join(strings.Fields(l), " ")
		}
	}
	if line == "" {
		t.Fatal("README.md does not describe parental-agents")
	}
	for _, want := range []string{
		"default port 53",
		fmt.Sprintf("`parent-ds-check-interval` (default `%dh`", int(defaultParentDSCheckInterval/time.Hour)),
		fmt.Sprintf("within %ds", int(parentDSTimeout/time.Second)),
		fmt.Sprintf("again after %dm", int(parentDSErrorRetry/time.Minute)),
	} {
		if !strings.Contains(line, want) {
			t.Errorf("README.md parental-agents does not say %q:\n%s", want, line)
		}
	}
}
