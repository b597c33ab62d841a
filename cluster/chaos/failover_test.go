package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseKills(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Kill
		wantErr bool
	}{
		{name: "empty", in: "", want: nil},
		{
			name: "two kills with comment",
			in:   "# kills\n1000 n1\n\n2000 n2\n",
			want: []Kill{{At: time.Unix(0, 1000), Node: "n1"}, {At: time.Unix(0, 2000), Node: "n2"}},
		},
		{name: "no node id", in: "5\n", want: []Kill{{At: time.Unix(0, 5)}}},
		{name: "not a number", in: "yesterday n1\n", wantErr: true},
		{name: "too many fields", in: "1 n1 extra\n", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseKills(strings.NewReader(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d kills, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if !got[i].At.Equal(tc.want[i].At) || got[i].Node != tc.want[i].Node {
					t.Errorf("kill %d = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func FuzzParseKills(f *testing.F) {
	for _, s := range []string{"", "1000 n1\n", "# c\n\n2 n2\n", "x", "1 2 3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		kills, err := parseKills(strings.NewReader(in))
		if err == nil && len(kills) > strings.Count(in, "\n")+1 {
			t.Fatalf("%d kills from %d lines", len(kills), strings.Count(in, "\n")+1)
		}
	})
}

func TestFailovers(t *testing.T) {
	start := time.Unix(100, 0)
	ms := func(n int64) int64 { return n * int64(time.Millisecond) }
	h := &History{Start: start, Ops: []Op{
		addOp("a.com", ms(0), ms(5), ResultOK),
		addOp("b.com", ms(900), ms(2000), ResultOK), // called before the kill
		addOp("c.com", ms(1100), 0, ResultUnknown),
		addOp("d.com", ms(1200), ms(1300), ResultExists),
		addOp("e.com", ms(1400), ms(1750), ResultOK),
		addOp("f.com", ms(1500), ms(1700), ResultOK),
	}}
	kills := []Kill{
		{At: start.Add(time.Second), Node: "n1"},
		{At: start.Add(3 * time.Second), Node: "n2"},
	}
	got := failovers(h, kills)
	want := []time.Duration{700 * time.Millisecond, -1}
	for i, f := range got {
		if f.Outage != want[i] {
			t.Errorf("failover %d outage = %v, want %v", i, f.Outage, want[i])
		}
	}
}
