package testzones

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

var testHosts = []string{
	"contoso-com.1j2b.mx.example.",
	"fabrikam-co-uk.1j2b.mx.example",
	"xn--bcher-kva-de.k7q0.mx.example.",
	"wingtip-io.k7q0.mx.example.",
}

func TestQueryFile(t *testing.T) {
	tests := []struct {
		name    string
		hosts   []string
		opt     QueryOptions
		want    QueryCounts
		wantErr error
	}{
		{name: "only A", hosts: testHosts, opt: QueryOptions{Seed: "s", N: 100, Mix: Mix{A: 100}}, want: QueryCounts{A: 100}},
		{name: "only nodata", hosts: testHosts, opt: QueryOptions{Seed: "s", N: 10, Mix: Mix{NoData: 100}}, want: QueryCounts{NoData: 10}},
		{name: "empty", hosts: testHosts, opt: QueryOptions{Seed: "s", N: 0}},
		{name: "no hosts", opt: QueryOptions{N: 10}, wantErr: ErrNoHosts},
		{name: "bad mix", hosts: testHosts, opt: QueryOptions{N: 10, Mix: Mix{A: 50}}, wantErr: ErrBadMix},
		{name: "bad host", hosts: []string{"localhost"}, opt: QueryOptions{N: 10}, wantErr: ErrBadHost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			got, err := QueryFile(tt.hosts, &buf, tt.opt)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got != tt.want {
				t.Errorf("counts = %+v, want %+v", got, tt.want)
			}
			if lines := strings.Count(buf.String(), "\n"); lines != tt.opt.N {
				t.Errorf("%d lines, want %d", lines, tt.opt.N)
			}
		})
	}
}

func TestQueryFilePeerMix(t *testing.T) {
	const n = 100000
	var a, b bytes.Buffer
	c, err := QueryFile(testHosts, &a, QueryOptions{Seed: "mix", N: n})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := QueryFile(testHosts, &b, QueryOptions{Seed: "mix", N: n}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("same seed gave different files")
	}
	shares := []struct {
		name string
		got  int
		want int
	}{
		{"A", c.A, PeerMix.A}, {"TLSA", c.TLSA, PeerMix.TLSA}, {"AAAA", c.AAAA, PeerMix.AAAA},
		{"NX", c.NX, PeerMix.NX}, {"apex", c.Apex, PeerMix.Apex}, {"nodata", c.NoData, PeerMix.NoData},
	}
	for _, s := range shares {
		t.Run(s.name, func(t *testing.T) {
			pct := float64(s.got) * 100 / n
			if pct < float64(s.want)-1 || pct > float64(s.want)+1 {
				t.Errorf("%.2f %%, want %d %%", pct, s.want)
			}
		})
	}
	// Every line is "<fqdn> <type>" with a known type and a name inside a
	// shard zone of the input.
	types := map[string]bool{"A": true, "AAAA": true, "TLSA": true, "DNSKEY": true, "SOA": true, "NS": true}
	for i, line := range strings.Split(strings.TrimSuffix(a.String(), "\n"), "\n") {
		name, typ, ok := strings.Cut(line, " ")
		if !ok || !types[typ] || !strings.HasSuffix(name, ".") {
			t.Fatalf("line %d: %q", i+1, line)
		}
		if !strings.HasSuffix(name, ".1j2b.mx.example.") && !strings.HasSuffix(name, ".k7q0.mx.example.") &&
			name != "1j2b.mx.example." && name != "k7q0.mx.example." {
			t.Fatalf("line %d: %q outside the shard zones", i+1, line)
		}
		if typ == "TLSA" && !strings.HasPrefix(name, "_25._tcp.") {
			t.Fatalf("line %d: TLSA query for %q in the peer mix", i+1, name)
		}
	}
}

func TestNXFloodFile(t *testing.T) {
	zones := Zones(testHosts)
	if want := []string{"1j2b.mx.example.", "k7q0.mx.example.", ParentZone}; strings.Join(zones, " ") != strings.Join(want, " ") {
		t.Fatalf("Zones = %q, want %q", zones, want)
	}
	var buf bytes.Buffer
	if err := NXFloodFile(zones, &buf, "nx", 5000); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		name, typ, _ := strings.Cut(line, " ")
		if typ != "A" || seen[name] || !strings.HasPrefix(name, "nx") {
			t.Fatalf("bad or repeated line %q", line)
		}
		seen[name] = true
	}
	if len(seen) != 5000 {
		t.Errorf("%d names, want 5000", len(seen))
	}
	if err := NXFloodFile(nil, io.Discard, "nx", 1); !errors.Is(err, ErrNoZones) {
		t.Errorf("no zones: err = %v", err)
	}
}

func FuzzQueryFile(f *testing.F) {
	f.Add("contoso-com.1j2b.mx.example.\nwingtip.k7q0.mx.example", "seed", uint16(50))
	f.Add("a.b", "", uint16(1))
	f.Add(".", "x", uint16(3))
	f.Fuzz(func(t *testing.T, hostList, seed string, n uint16) {
		hosts := strings.Fields(hostList)
		var buf bytes.Buffer
		c, err := QueryFile(hosts, &buf, QueryOptions{Seed: seed, N: int(n)})
		if err != nil {
			return
		}
		total := c.A + c.AAAA + c.TLSA + c.NoData + c.NX + c.Apex
		if total != int(n) || strings.Count(buf.String(), "\n") != int(n) {
			t.Fatalf("counts %+v for n=%d", c, n)
		}
	})
}

func BenchmarkQueryFile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := QueryFile(testHosts, io.Discard, QueryOptions{Seed: "b", N: 10000}); err != nil {
			b.Fatal(err)
		}
	}
}
