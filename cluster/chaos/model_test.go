package main

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/mxsign/mxsign/plugin/api/client"
)

func addOp(d string, call, ret int64, r Result) Op {
	if r == ResultUnknown {
		ret = 0
	}
	return Op{Kind: KindAdd, Domain: d, Call: call, Return: ret, Result: r, Phase: "run"}
}

func getOp(d string, call, ret int64, r Result, phase string) Op {
	return Op{Kind: KindGet, Domain: d, Call: call, Return: ret, Result: r, Phase: phase}
}

func TestCheckHistory(t *testing.T) {
	tests := []struct {
		name    string
		ops     []Op
		opt     checkOptions
		want    porcupine.CheckResult
		illegal []string
	}{
		{
			name: "sequential add then read",
			ops:  []Op{addOp("a.com", 0, 10, ResultOK), getOp("a.com", 20, 30, ResultPresent, "run")},
			want: porcupine.Ok,
		},
		{
			name: "concurrent add and absent read",
			ops:  []Op{addOp("a.com", 0, 10, ResultOK), getOp("a.com", 5, 15, ResultAbsent, "run")},
			want: porcupine.Ok,
		},
		{
			name: "retry after unknown answers exists",
			ops:  []Op{addOp("a.com", 0, 0, ResultUnknown), addOp("a.com", 20, 30, ResultExists)},
			want: porcupine.Ok,
		},
		{
			name: "unknown add that never happened",
			ops:  []Op{addOp("a.com", 0, 0, ResultUnknown), getOp("a.com", 50, 60, ResultAbsent, "verify")},
			want: porcupine.Ok,
		},
		{
			name: "unknown add that happened late",
			ops: []Op{
				addOp("a.com", 0, 0, ResultUnknown),
				getOp("a.com", 50, 60, ResultAbsent, "verify"),
				getOp("a.com", 70, 80, ResultPresent, "verify"),
			},
			want: porcupine.Ok,
		},
		{
			name: "independent domains",
			ops: []Op{
				addOp("a.com", 0, 10, ResultOK), addOp("b.com", 0, 10, ResultOK),
				getOp("a.com", 20, 30, ResultPresent, "run"), getOp("c.com", 20, 30, ResultAbsent, "run"),
			},
			want: porcupine.Ok,
		},
		{
			name:    "acknowledged add lost",
			ops:     []Op{addOp("a.com", 0, 10, ResultOK), getOp("a.com", 20, 30, ResultAbsent, "verify")},
			want:    porcupine.Illegal,
			illegal: []string{"a.com"},
		},
		{
			name:    "two adds both created",
			ops:     []Op{addOp("a.com", 0, 10, ResultOK), addOp("b.com", 0, 10, ResultOK), addOp("a.com", 20, 30, ResultOK)},
			want:    porcupine.Illegal,
			illegal: []string{"a.com"},
		},
		{
			name:    "exists before any add",
			ops:     []Op{addOp("a.com", 0, 10, ResultExists), addOp("a.com", 20, 30, ResultOK)},
			want:    porcupine.Illegal,
			illegal: []string{"a.com"},
		},
		{
			name:    "phantom read before the add was called",
			ops:     []Op{getOp("a.com", 0, 10, ResultPresent, "run"), addOp("a.com", 20, 30, ResultOK)},
			want:    porcupine.Illegal,
			illegal: []string{"a.com"},
		},
		{
			name: "stale follower read is tolerated",
			ops:  []Op{addOp("a.com", 0, 10, ResultOK), getOp("a.com", 20, 30, ResultAbsent, "run")},
			opt:  checkOptions{StaleReads: true},
			want: porcupine.Ok,
		},
		{
			name:    "stale read with linearizable reads",
			ops:     []Op{addOp("a.com", 0, 10, ResultOK), getOp("a.com", 20, 30, ResultAbsent, "run")},
			want:    porcupine.Illegal,
			illegal: []string{"a.com"},
		},
		{
			name: "failed reads are left out",
			ops:  []Op{addOp("a.com", 0, 10, ResultOK), getOp("a.com", 20, 30, ResultFailed, "run")},
			want: porcupine.Ok,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := checkHistory(tc.ops, tc.opt, 10*time.Second)
			if res.Result != tc.want {
				t.Fatalf("result = %s, want %s", res.Result, tc.want)
			}
			if strings.Join(res.Illegal, ",") != strings.Join(tc.illegal, ",") {
				t.Errorf("illegal domains = %v, want %v", res.Illegal, tc.illegal)
			}
		})
	}
}

func TestAcknowledged(t *testing.T) {
	h := &History{Ops: []Op{
		addOp("a.com", 0, 10, ResultOK),
		addOp("b.com", 0, 0, ResultUnknown),
		addOp("b.com", 20, 30, ResultExists),
		addOp("c.com", 0, 0, ResultUnknown),
		addOp("a.com", 40, 50, ResultExists),
		getOp("d.com", 0, 10, ResultPresent, "run"),
	}}
	got := strings.Join(h.Acknowledged(), ",")
	if got != "a.com,b.com" {
		t.Errorf("Acknowledged() = %s, want a.com,b.com", got)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		add     Result
		getWant Result
	}{
		{name: "success", err: nil, add: ResultOK, getWant: ResultPresent},
		{name: "conflict", err: &client.StatusError{Status: http.StatusConflict}, add: ResultExists, getWant: ResultFailed},
		{name: "not found", err: &client.StatusError{Status: http.StatusNotFound}, add: ResultUnknown, getWant: ResultAbsent},
		{name: "no leader", err: &client.StatusError{Status: http.StatusServiceUnavailable}, add: ResultUnknown, getWant: ResultFailed},
		{name: "connection refused", err: errors.New("dial tcp: connection refused"), add: ResultUnknown, getWant: ResultFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, _ := classifyAdd(tc.err); got != tc.add {
				t.Errorf("classifyAdd = %s, want %s", got, tc.add)
			}
			if got, _ := classifyGet(tc.err); got != tc.getWant {
				t.Errorf("classifyGet = %s, want %s", got, tc.getWant)
			}
		})
	}
}

func BenchmarkCheckHistory(b *testing.B) {
	var ops []Op
	for i := range 2000 {
		d := "d" + string(rune('a'+i%26)) + strings.Repeat("x", i/26) + ".com"
		t := int64(i * 10)
		ops = append(ops, addOp(d, t, t+15, ResultOK), getOp(d, t+5, t+25, ResultPresent, "run"))
	}
	b.ReportAllocs()
	for b.Loop() {
		if res := checkHistory(ops, checkOptions{}, time.Minute); res.Result != porcupine.Ok {
			b.Fatal(res.Result)
		}
	}
}

func TestStaleReads(t *testing.T) {
	withNode := func(op Op, node string) Op { op.Node = node; return op }
	h := &History{Ops: []Op{
		withNode(addOp("a.com", 0, 10, ResultOK), "n1"),
		withNode(getOp("a.com", 5, 8, ResultAbsent, "run"), "n2"),      // concurrent with the add: not stale
		withNode(getOp("a.com", 20, 30, ResultAbsent, "run"), "n2"),    // after the 201, another node: stale
		withNode(getOp("a.com", 20, 30, ResultAbsent, "run"), "n1"),    // after the 201, same node: stale, read-your-writes broken
		withNode(getOp("a.com", 20, 30, ResultAbsent, "verify"), "n1"), // verify reads are not counted here
		withNode(getOp("b.com", 20, 30, ResultAbsent, "run"), "n1"),    // never added
	}}
	total, same := h.staleReads()
	if total != 2 || same != 1 {
		t.Errorf("staleReads() = %d, %d; want 2, 1", total, same)
	}
}

func TestBadDomains(t *testing.T) {
	vr := verifyResult{Missing: []string{"a.com on n1", "a.com on n2"}, Diverged: []string{"a.com", "b.com"}}
	if got := strings.Join(badDomains(vr), ","); got != "a.com,b.com" {
		t.Errorf("badDomains = %s, want a.com,b.com", got)
	}
}
