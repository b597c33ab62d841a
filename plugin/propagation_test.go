package mxsign

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mxsign/mxsign/signer/keymgr"
	"github.com/mxsign/mxsign/zonestore"
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

func (f *fakeMembers) propagation() *propagation {
	return &propagation{
		members: func() []member {
			f.mu.Lock()
			defer f.mu.Unlock()
			var out []member
			for id := range f.catchUp {
				out = append(out, member{id: id, api: id + ":8053"})
			}
			slices.SortFunc(out, func(a, b member) int { return strings.Compare(a.id, b.id) })
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
		sleep: func(context.Context, time.Duration) error { return nil },
		warnf: func(format string, args ...any) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.warned = append(f.warned, fmt.Sprintf(format, args...))
		},
		window: 24 * time.Hour,
		ctx:    context.Background(),
	}
}

func (f *fakeMembers) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clock = f.clock.Add(d)
}

// TestPropagationPending: a command counts as propagated once every member applied
// it; until then the margin is its age, so steps that depend on it wait, however long
// a member lags or cannot be asked.
func TestPropagationPending(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		applied map[string]uint64
		catchUp map[string]time.Duration // after the proposal
		want    time.Duration            // the recorded delay; 0: still pending after an hour
		warned  int
	}{
		{name: "single node: the leader's own commit and apply", want: 3 * time.Millisecond},
		{name: "followers already applied", applied: map[string]uint64{"n2": 100, "n3": 100},
			catchUp: map[string]time.Duration{"n2": 0, "n3": 0}, want: 3 * time.Millisecond},
		{name: "the slowest follower counts", applied: map[string]uint64{"n2": 99, "n3": 98},
			catchUp: map[string]time.Duration{"n2": 40 * time.Millisecond, "n3": 400 * time.Millisecond},
			want:    400 * time.Millisecond},
		{name: "a follower lagging for long counts with all of it", applied: map[string]uint64{"n2": 99, "n3": 98},
			catchUp: map[string]time.Duration{"n2": 0, "n3": 20 * time.Minute}, want: 20 * time.Minute},
		{name: "an unreachable member keeps the command pending", applied: map[string]uint64{"n2": 99},
			catchUp: map[string]time.Duration{"n2": 60 * time.Millisecond, "n3": 0}, warned: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeMembers{clock: t0, applied: tt.applied, catchUp: map[string]time.Time{}}
			for id, d := range tt.catchUp {
				f.catchUp[id] = f.clock.Add(d)
			}
			p := f.propagation()
			p.pending = []propagationSample{{at: t0, index: 100}}
			f.advance(3 * time.Millisecond)
			for step := 0; p.Pending() && step < 3600*10; step++ {
				if m := p.Margin(); m < f.clock.Sub(t0) {
					t.Fatalf("at +%v the margin is %v: less than the pending command's age", f.clock.Sub(t0), m)
				}
				p.pollOnce()
				if p.Pending() {
					f.advance(time.Millisecond)
					if step > 1000 {
						f.advance(time.Second)
					}
				}
			}
			if tt.want == 0 {
				if !p.Pending() {
					t.Fatal("the command stopped pending while a member never answered")
				}
			} else if got := p.Margin(); got < tt.want || got > tt.want+time.Second+time.Millisecond {
				// Never early; at most one poll (1s+1ms here) late.
				t.Errorf("margin %v, want %v (+ at most one poll)", got, tt.want)
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
	p := f.propagation()
	if m := p.Margin(); m != 0 {
		t.Fatalf("margin before any measurement %v, want 0", m)
	}
	var nilProp *propagation
	if m := nilProp.Margin(); m != 0 {
		t.Fatalf("nil margin %v", m)
	}
	p.mu.Lock()
	p.record(f.clock, 900*time.Millisecond)
	p.mu.Unlock()
	for range propagationKeep {
		f.clock = f.clock.Add(time.Hour)
		p.mu.Lock()
		p.record(f.clock, 100*time.Millisecond)
		p.mu.Unlock()
		if f.clock.Sub(time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)) <= p.window {
			if m := p.Margin(); m != 900*time.Millisecond {
				t.Fatalf("at %v: margin %v, want the 900ms of the last day", f.clock, m)
			}
		}
	}
	// 64 hours on, the 900ms measurement is neither within a day nor among the last 64.
	if m := p.Margin(); m != 100*time.Millisecond {
		t.Fatalf("margin %v, want 100ms once the old measurement aged out", m)
	}
	pol := p.policy(keymgr.Policy{PropagationDelay: 5 * time.Second, ParentPropagationDelay: time.Hour})
	if pol.PropagationDelay != 5100*time.Millisecond || pol.ParentPropagationDelay != time.Hour+100*time.Millisecond {
		t.Fatalf("policy propagation delays %v, %v: want the margin added to both (a shard's DS is served by the same members)",
			pol.PropagationDelay, pol.ParentPropagationDelay)
	}
	p.mu.Lock()
	for range 2 * propagationMax {
		p.record(f.clock, time.Millisecond)
	}
	n := len(p.samples)
	p.mu.Unlock()
	if n > propagationMax {
		t.Fatalf("%d measurements kept, want at most %d", n, propagationMax)
	}
}

// TestRolloverWaitsForLaggingMember runs the scheduler on the fake clock with a member
// that applies every command 20 s after the leader: each ZSK successor is activated
// only Ipub after every member published it (so 20 s later than with no lag), and the
// double-DS swap waits the same for the shard's new DS.
func TestRolloverWaitsForLaggingMember(t *testing.T) {
	const lag = 20 * time.Second
	for _, tt := range []struct {
		name string
		lag  time.Duration
	}{{"no lag", 0}, {"a member 20s behind", lag}} {
		t.Run(tt.name, func(t *testing.T) {
			f := newRolloverFixture(t)
			type applied struct {
				at    time.Time
				index uint64
			}
			history := []applied{{f.clock, f.st.AppliedIndex()}}
			p := &propagation{
				members: func() []member { return []member{{id: "n2", api: "n2:8053"}} },
				appliedAt: func(context.Context, member) (uint64, error) {
					var idx uint64
					for _, h := range history {
						if !h.at.After(f.clock.Add(-tt.lag)) {
							idx = h.index
						}
					}
					return idx, nil
				},
				now:    func() time.Time { return f.clock },
				sleep:  func(context.Context, time.Duration) error { return nil },
				warnf:  t.Logf,
				window: propagationWindow(f.policy),
				ctx:    context.Background(),
				// The test polls, once per simulated second: no poller goroutine.
				polling: true,
			}
			f.ro.prop = p
			published := map[string]time.Time{}
			var waits []time.Duration
			for range 240 {
				if _, err := f.ro.step(context.Background(), f.clock); err != nil {
					t.Fatal(err)
				}
				history = append(history, applied{f.clock, f.st.AppliedIndex()})
				keys, _ := f.st.Keys(f.shard)
				for _, k := range keys {
					if k.Role != zonestore.RoleZSK || k.Published.IsZero() || k.Published.Equal(k.Created) && k.Activated.Equal(k.Created) {
						continue
					}
					if _, ok := published[k.ID]; !ok {
						published[k.ID] = k.Published
					}
					if !k.Activated.IsZero() && published[k.ID] != (time.Time{}) {
						waits = append(waits, k.Activated.Sub(published[k.ID]))
						published[k.ID] = time.Time{}
					}
				}
				f.clock = f.clock.Add(time.Second)
				p.pollOnce()
			}
			if len(waits) < 2 {
				t.Fatalf("only %d ZSK successors were activated in 4 minutes", len(waits))
			}
			ipub := f.policy.Intervals().Ipub
			for _, w := range waits {
				if w < ipub+tt.lag || w > ipub+tt.lag+2*time.Second {
					t.Errorf("a ZSK successor was activated %v after it was published; want Ipub %v + the lag %v (+ at most a step or two)", w, ipub, tt.lag)
				}
			}
		})
	}
}
