package zonestore

import (
	"errors"
	"reflect"
	"testing"
)

func TestCommandRoundTrip(t *testing.T) {
	cfg, prof := testConfig()
	k := makeKey(t, testKEK, "mx.example.", RoleKSK, t0)
	cmds := []*Command{
		{V: CommandVersion, Op: OpInit, Time: t0, Init: &InitCmd{Config: cfg.WithDefaults(), Profile: prof, Keys: []Key{k}}},
		{V: CommandVersion, Op: OpConfig, Time: t0, Config: &ConfigCmd{Config: cfg.WithDefaults(), Profile: prof}},
		{V: CommandVersion, Op: OpAddHosts, Time: t0, AddHosts: &AddHostsCmd{
			NewShards: []NewShard{{Name: "abcd.mx.example.", Keys: []Key{k}}},
			Hosts:     []Host{{Domain: "contoso.com", Label: "contoso-com", Shard: "abcd.mx.example.", Created: t0}},
		}},
		{V: CommandVersion, Op: OpDeleteHosts, Time: t0, DeleteHosts: &DeleteHostsCmd{Domains: []string{"contoso.com"}}},
		{V: CommandVersion, Op: OpNode, Time: t0, Node: &NodeCmd{ID: "n1", Raft: "127.0.0.1:7000", API: "127.0.0.1:8080"}},
		{V: CommandVersion, Op: OpKeys, Time: t0, Keys: &KeysCmd{Zone: "mx.example.", Keys: []Key{
			func() Key {
				k := k
				k.DSSubmitted, k.DSPublishedAt, k.DSSeen, k.RollRequested, k.Timed = t0, t0, true, t0, true
				return k
			}(),
		}}},
	}
	for _, c := range cmds {
		t.Run(c.Op, func(t *testing.T) {
			b, err := c.Encode()
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeCommand(b)
			if err != nil {
				t.Fatalf("DecodeCommand(%s): %v", b, err)
			}
			if !reflect.DeepEqual(got, c) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, c)
			}
		})
	}
}

func TestDecodeCommandErrors(t *testing.T) {
	tests := []struct{ name, in string }{
		{name: "empty", in: ``},
		{name: "not json", in: `hello`},
		{name: "unknown field", in: `{"v":1,"op":"deleteHosts","time":"2026-03-01T12:00:00Z","deleteHosts":{"domains":[]},"extra":1}`},
		{name: "unknown nested field", in: `{"v":1,"op":"deleteHosts","time":"2026-03-01T12:00:00Z","deleteHosts":{"domains":[],"x":1}}`},
		{name: "wrong version", in: `{"v":2,"op":"deleteHosts","time":"2026-03-01T12:00:00Z","deleteHosts":{"domains":[]}}`},
		{name: "no version", in: `{"op":"deleteHosts","time":"2026-03-01T12:00:00Z","deleteHosts":{"domains":[]}}`},
		{name: "missing payload", in: `{"v":1,"op":"deleteHosts","time":"2026-03-01T12:00:00Z"}`},
		{name: "wrong payload", in: `{"v":1,"op":"init","time":"2026-03-01T12:00:00Z","deleteHosts":{"domains":[]}}`},
		{name: "two payloads", in: `{"v":1,"op":"deleteHosts","time":"2026-03-01T12:00:00Z","deleteHosts":{},"addHosts":{}}`},
		{name: "keys without payload", in: `{"v":1,"op":"keys","time":"2026-03-01T12:00:00Z"}`},
		{name: "keys unknown key field", in: `{"v":1,"op":"keys","time":"2026-03-01T12:00:00Z","keys":{"zone":"mx.example.","keys":[{"dsGone":true}]}}`},
		{name: "unknown op", in: `{"v":1,"op":"drop","time":"2026-03-01T12:00:00Z"}`},
		{name: "no time", in: `{"v":1,"op":"deleteHosts","deleteHosts":{"domains":[]}}`},
		{name: "trailing data", in: `{"v":1,"op":"deleteHosts","time":"2026-03-01T12:00:00Z","deleteHosts":{"domains":[]}} {}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if c, err := DecodeCommand([]byte(tt.in)); !errors.Is(err, ErrBadCommand) {
				t.Fatalf("DecodeCommand = %+v, %v; want ErrBadCommand", c, err)
			}
		})
	}
}

func TestEncodeRejectsBadCommand(t *testing.T) {
	if _, err := (&Command{V: CommandVersion, Op: OpInit, Time: t0}).Encode(); !errors.Is(err, ErrBadCommand) {
		t.Fatalf("Encode without payload: %v", err)
	}
	var nilCmd *Command
	if _, err := nilCmd.Encode(); !errors.Is(err, ErrBadCommand) {
		t.Fatalf("Encode(nil): %v", err)
	}
}

// FuzzDecodeCommand checks that decoding never panics and that whatever
// decodes re-encodes to something that decodes the same.
func FuzzDecodeCommand(f *testing.F) {
	f.Add([]byte(`{"v":1,"op":"deleteHosts","time":"2026-03-01T12:00:00Z","deleteHosts":{"domains":["a.com"]}}`))
	f.Add([]byte(`{"v":1,"op":"addHosts","time":"2026-03-01T12:00:00Z","addHosts":{"newShards":[{"name":"abcd.mx.example.","keys":[]}],"hosts":[{"domain":"a.com","label":"a-com","shard":"abcd.mx.example.","created":"2026-03-01T12:00:00Z"}]}}`))
	f.Add([]byte(`{"v":1,"op":"init","time":"2026-03-01T12:00:00Z","init":{"config":{"parent":"mx.example."},"profile":{"ttl":300},"keys":[{"zone":"mx.example.","id":"aa","sealed":"AAEC"}]}}`))
	f.Add([]byte(`{"v":1,"op":"config","time":"2026-03-01T12:00:00Z","config":{"config":{},"profile":{}}}`))
	f.Add([]byte(`{"v":1,"op":"node","time":"2026-03-01T12:00:00Z","node":{"id":"n1","raft":"127.0.0.1:7000","api":"127.0.0.1:8080"}}`))
	f.Add([]byte(`{"v":1,"op":"keys","time":"2026-03-01T12:00:00Z","keys":{"zone":"abcd.mx.example.","keys":[{"zone":"abcd.mx.example.","id":"aa","role":"ksk","state":"active","dnskey":"","sealed":null,"dsPublished":false,"timed":true,"published":"2026-03-01T11:00:00Z","dsSubmitted":"2026-03-01T11:00:00Z","dsPublishedAt":"2026-03-01T11:00:00Z","dsWithdrawn":"2026-03-01T12:00:00Z","dsSeen":true,"rollRequested":"2026-03-01T12:00:00Z"}]}}`))
	f.Add([]byte(`{"v":1,"op":"keys","time":"2026-03-01T12:00:00Z","keys":{"zone":"mx.example.","keys":[]}}`))
	f.Add([]byte(`{"v":1,"op":"keys","time":"2026-03-01T12:00:00Z"}`))
	f.Add([]byte(`{"v":2}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeCommand(b)
		if err != nil {
			if !errors.Is(err, ErrBadCommand) {
				t.Fatalf("error %v does not wrap ErrBadCommand", err)
			}
			return
		}
		enc, err := c.Encode()
		if err != nil {
			t.Fatalf("Encode after a successful decode: %v", err)
		}
		if _, err := DecodeCommand(enc); err != nil {
			t.Fatalf("re-decode of %s: %v", enc, err)
		}
	})
}
