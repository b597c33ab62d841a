package zonestore

import (
	"errors"
	"reflect"
	"testing"
)

func TestConfigWithDefaults(t *testing.T) {
	got := Config{
		Parent:      "MX.Example",
		NameServers: []NameServer{{Name: "NS1.mx.example", A: []string{"192.0.2.1"}, AAAA: []string{"2001:DB8:0::1"}}},
	}.WithDefaults()
	want := Config{
		Parent:      "mx.example.",
		NameServers: []NameServer{{Name: "ns1.mx.example.", A: []string{"192.0.2.1"}, AAAA: []string{"2001:db8::1"}}},
		Hostmaster:  "hostmaster.mx.example.",
		SOATTL:      3600, NSTTL: 3600, DNSKEYTTL: 3600, DSTTL: 3600,
		Refresh: 3600, Retry: 600, Expire: 1209600, Minimum: 300,
		ShardSize: 10000, Algorithm: 13,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("WithDefaults:\n got %+v\nwant %+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if again := got.WithDefaults(); !reflect.DeepEqual(again, got) {
		t.Fatal("WithDefaults is not idempotent")
	}
	p := Profile{TLSA: []string{"3 1 1 0C72AC70B745AC19998811B131D662C9 AC69DBDBE7CB23E5B514B56664C5D3D6"}, A: []string{}}.WithDefaults()
	if p.TTL != 300 || p.TLSA[0] != testTLSA || p.A != nil {
		t.Fatalf("Profile.WithDefaults = %+v", p)
	}
}

func TestConfigValidate(t *testing.T) {
	base, _ := testConfig()
	tests := []struct {
		name   string
		mutate func(*Config)
	}{
		{name: "no parent", mutate: func(c *Config) { c.Parent = "" }},
		{name: "root parent", mutate: func(c *Config) { c.Parent = "." }},
		{name: "no name servers", mutate: func(c *Config) { c.NameServers = nil }},
		{name: "in-zone ns without glue", mutate: func(c *Config) { c.NameServers = []NameServer{{Name: "ns3.mx.example."}} }},
		{name: "duplicate ns", mutate: func(c *Config) { c.NameServers = append(c.NameServers, c.NameServers[1]) }},
		{name: "glue A not IPv4", mutate: func(c *Config) { c.NameServers[0].A = []string{"2001:db8::1"} }},
		{name: "glue AAAA not IPv6", mutate: func(c *Config) { c.NameServers[0].AAAA = []string{"192.0.2.1"} }},
		{name: "glue garbage", mutate: func(c *Config) { c.NameServers[0].A = []string{"x"} }},
		{name: "shard size", mutate: func(c *Config) { c.ShardSize = -1 }},
		{name: "algorithm", mutate: func(c *Config) { c.Algorithm = 8 }},
		{name: "bad hostmaster", mutate: func(c *Config) { c.Hostmaster = "a..b." }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base.WithDefaults()
			c.NameServers = cloneConfig(c).NameServers
			tt.mutate(&c)
			if err := c.Validate(); !errors.Is(err, ErrBadCommand) {
				t.Fatalf("Validate: %v, want ErrBadCommand", err)
			}
		})
	}
	if err := base.WithDefaults().Validate(); err != nil {
		t.Fatalf("base config: %v", err)
	}
}

func TestProfileValidate(t *testing.T) {
	tests := []struct {
		name string
		p    Profile
		ok   bool
	}{
		{name: "ok", p: Profile{TTL: 300, A: []string{"192.0.2.1"}, AAAA: []string{"2001:db8::1"}, TLSA: []string{testTLSA}}, ok: true},
		{name: "empty ok", p: Profile{TTL: 300}, ok: true},
		{name: "zero ttl", p: Profile{}},
		{name: "v6 in A", p: Profile{TTL: 300, A: []string{"2001:db8::1"}}},
		{name: "mapped v4 in AAAA", p: Profile{TTL: 300, AAAA: []string{"::ffff:192.0.2.1"}}},
		{name: "duplicate A", p: Profile{TTL: 300, A: []string{"192.0.2.1", "192.0.2.1"}}},
		{name: "tlsa short", p: Profile{TTL: 300, TLSA: []string{"3 1 1"}}},
		{name: "tlsa not hex", p: Profile{TTL: 300, TLSA: []string{"3 1 1 zz"}}},
		{name: "tlsa digest length", p: Profile{TTL: 300, TLSA: []string{"3 1 1 abcd"}}},
		{name: "tlsa usage range", p: Profile{TTL: 300, TLSA: []string{"300 1 1 abcd"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if tt.ok != (err == nil) || err != nil && !errors.Is(err, ErrBadCommand) {
				t.Fatalf("Validate = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
