package mxsign

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mxsign/mxsign/signer/keymgr"
)

// fakeMembers is a cluster seen through propagation's hooks, on a fake clock that the
// poll's sleep advances.
type fakeMembers struct {
	mu      sync.Mutex
	clock   time.Time
	applied map[string]uint64 // absent: not reachable
	catchUp map[string]time.Time
	warned  []string
}

func (f *fakeMembers) propagation(timeout time.Duration) *propagation {
	return &propagation{
		members: func() []member {
			f.mu.Lock()
			defer f.mu.Unlock()
			var out []member
			for id := range f.catchUp {
				out = append(out, member{id: id, api: id + ":8053"})
			}
			return out
		},
		appliedAt: func(_ context.Context, m member) (uint64, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			if a, ok := f.applied[m.id]; ok {
				if !f.clock.Before(f.catchUp[m.id]) {
					return 100, nil
				}
				return a, nil
			}
			return 0, errors.New("connection refused")
		},
		now: func() time.Time {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.clock
		},
		sleep: func(_ context.Context, d time.Duration) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.clock = f.clock.Add(d)
			return nil
		},
		timeout: timeout,
		warnf: func(format string, args ...any) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.warned = append(f.warned, fmt.Sprintf(format, args...))
		},
	}
}

func TestPropagationMeasure(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		applied map[string]uint64
		catchUp map[string]time.Duration // after the measurement starts
		want    time.Duration
		warned  int
	}{
		{name: "single node: the leader's own commit and apply", want: 3 * time.Millisecond},
		{name: "followers already applied", applied: map[string]uint64{"n2": 100, "n3": 100},
			catchUp: map[string]time.Duration{"n2": 0, "n3": 0}, want: 3 * time.Millisecond},
		{name: "the slowest follower counts", applied: map[string]uint64{"n2": 99, "n3": 98},
			catchUp: map[string]time.Duration{"n2": 40 * time.Millisecond, "n3": 400 * time.Millisecond},
			want:    403 * time.Millisecond},
		{name: "a follower lagging past the wait counts as the wait", applied: map[string]uint64{"n2": 99, "n3": 98},
			catchUp: map[string]time.Duration{"n2": 0, "n3": time.Hour}, want: 2 * time.Second, warned: 1},
		{name: "an unreachable member is left out", applied: map[string]uint64{"n2": 99},
			catchUp: map[string]time.Duration{"n2": 60 * time.Millisecond, "n3": 0}, want: 63 * time.Millisecond, warned: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeMembers{clock: t0.Add(3 * time.Millisecond), applied: tt.applied, catchUp: map[string]time.Time{}}
			for id, d := range tt.catchUp {
				f.catchUp[id] = f.clock.Add(d)
			}
			p := f.propagation(2 * time.Second)
			got := p.measure(context.Background(), t0, 100)
			// Each member is polled every propagationPoll: the measurement is at most
			// one poll late, never early.
			if got < tt.want || got > tt.want+propagationPoll {
				t.Errorf("measured %v, want %v (+ at most %v)", got, tt.want, propagationPoll)
			}
			if len(f.warned) != tt.warned {
				t.Errorf("warnings %q, want %d", f.warned, tt.warned)
			}
		})
	}
}

// TestPropagationMargin: the margin is the longest measurement of the last day, or of
// the last propagationKeep ones if older; it is added to the policy's delay.
func TestPropagationMargin(t *testing.T) {
	f := &fakeMembers{clock: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)}
	p := f.propagation(time.Second)
	if m := p.Margin(); m != 0 {
		t.Fatalf("margin before any measurement %v, want 0", m)
	}
	var nilProp *propagation
	if m := nilProp.Margin(); m != 0 {
		t.Fatalf("nil margin %v", m)
	}
	p.mu.Lock()
	p.record(900 * time.Millisecond)
	p.mu.Unlock()
	for range propagationKeep {
		f.clock = f.clock.Add(time.Hour)
		p.mu.Lock()
		p.record(100 * time.Millisecond)
		p.mu.Unlock()
		if f.clock.Sub(time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)) <= propagationWindow {
			if m := p.Margin(); m != 900*time.Millisecond {
				t.Fatalf("at %v: margin %v, want the 900ms of the last day", f.clock, m)
			}
		}
	}
	// 64 hours on, the 900ms measurement is neither within a day nor among the last 64.
	if m := p.Margin(); m != 100*time.Millisecond {
		t.Fatalf("margin %v, want 100ms once the old measurement aged out", m)
	}
	pol := p.policy(keymgr.Policy{PropagationDelay: 5 * time.Second})
	if pol.PropagationDelay != 5100*time.Millisecond {
		t.Fatalf("policy propagation delay %v, want 5.1s", pol.PropagationDelay)
	}
	p.mu.Lock()
	for range 2 * propagationMax {
		p.record(time.Millisecond)
	}
	n := len(p.samples)
	p.mu.Unlock()
	if n > propagationMax {
		t.Fatalf("%d measurements kept, want at most %d", n, propagationMax)
	}
}
