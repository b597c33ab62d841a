package main

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseSmaps(t *testing.T) {
	smaps := `00400000-00c00000 r-xp 00000000 fd:01 123 /opt/bin/mxsign
Size:               8192 kB
Rss:                4096 kB
7f0000000000-7f0040000000 r--s 00000000 fd:01 456 /srv/data/mxsign.db
Rss:                 100 kB
Anonymous:             0 kB
7f1000000000-7f1000100000 r--s 00000000 fd:01 456 /srv/data/mxsign.db
Rss:                  20 kB
7f2000000000-7f2000100000 rw-p 00000000 00:00 0
Rss:                 900 kB
7f3000000000-7f3000100000 rw-p 00000000 00:00 0 [heap]
Rss:                  50 kB
7f4000000000-7f4000100000 r--s 00000000 fd:01 789 /srv/data/my raft.db
Rss:                   8 kB
VmFlags: rd sh mr mw me ms sd
`
	got, err := parseSmaps(strings.NewReader(smaps))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"/opt/bin/mxsign": 4096 << 10, "/srv/data/mxsign.db": 120 << 10, "/srv/data/my raft.db": 8 << 10}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parseSmaps = %v, want %v", got, want)
	}
}

func TestParseKV(t *testing.T) {
	status := "Name:\tmxsign\nVmHWM:\t  231000 kB\nVmRSS:\t  151000 kB\nRssAnon:\t  131000 kB\nThreads:\t7\n"
	got, err := parseKV(strings.NewReader(status), ":")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"VmHWM": 231000 << 10, "VmRSS": 151000 << 10, "RssAnon": 131000 << 10, "Threads": 7}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parseKV = %v, want %v", got, want)
	}
}

func TestParseMemStats(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[string]int64
		wantErr bool
	}{
		{
			name: "heap profile tail",
			in: "heap profile: 1: 2 [3: 4] @ heap/1048576\n1: 2 [3: 4] @ 0x1 0x2\n\n# runtime.MemStats\n" +
				"# HeapInuse = 134217728\n# HeapSys = 137887744\n# HeapReleased = 3145728\n# Stack = 524288 / 524288\n# NextGC = 171048960\n# NumGC = 8\n# DebugGC = false\n",
			want: map[string]int64{"HeapInuse": 134217728, "HeapSys": 137887744, "HeapReleased": 3145728, "Stack": 524288, "NextGC": 171048960, "NumGC": 8},
		},
		{name: "no memstats", in: "heap profile: 0: 0 [0: 0] @ heap/1048576\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMemStats(strings.NewReader(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("parseMemStats = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOptionsParse(t *testing.T) {
	tests := []struct {
		name, ns, settle string
		want             []setSize
		wantSettle       []time.Duration
		wantErr          bool
	}{
		{name: "bench/scale's sets", ns: "32000/2000,1000000/10000", want: []setSize{{32000, 2000}, {1000000, 10000}}},
		{name: "default shard size", ns: "200000", settle: "5s,1m", want: []setSize{{200000, 10000}}, wantSettle: []time.Duration{5 * time.Second, time.Minute}},
		{name: "not a count", ns: "lots", wantErr: true},
		{name: "zero shard size", ns: "1000/0", wantErr: true},
		{name: "bad settle", ns: "1000", settle: "-5s", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := options{shardSize: 10000, parallel: 1, runs: 1}
			err := o.parse(tt.ns, tt.settle)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && (!reflect.DeepEqual(o.sets, tt.want) || !reflect.DeepEqual(o.settle, tt.wantSettle)) {
				t.Fatalf("sets %v settle %v, want %v %v", o.sets, o.settle, tt.want, tt.wantSettle)
			}
		})
	}
}

func TestPerDomain(t *testing.T) {
	small := sample{at: "ready", vmRSS: 30 << 20, rssAnon: 10 << 20, rssFile: 20 << 20, heapInuse: 8 << 20}
	big := sample{at: "ready", vmRSS: 30<<20 + 150_000_000, rssAnon: 10<<20 + 140_000_000, rssFile: 20<<20 + 10_000_000, heapInuse: 8<<20 + 120_000_000}
	if got, want := perDomain(small, big, 0, 1_000_000), "| ready | 150 | 140 | 10 | 0 | 0 | 120 |"; got != want {
		t.Fatalf("perDomain = %q, want %q", got, want)
	}
}
