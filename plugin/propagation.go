package mxsign

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/mxsign/mxsign/plugin/api/client"
	"github.com/mxsign/mxsign/signer/keymgr"
)

// Propagation measurement. RFC 7583's Dprp is the time a change takes to reach every
// server that answers for the zone. For mxsign that is the Raft commit on a quorum plus
// the apply on every member, which the policy's propagation-delay cannot know in
// advance. After each key command it applies, the leader's scheduler asks every other
// member for its applied index until each one has reached the command's, and the key
// manager then runs with propagation-delay plus the longest delay measured recently.
// The margin only ever delays a step: a key is published earlier than it must be
// active, never the other way round.

const (
	// propagationKeep is how many recent measurements the margin is the maximum of,
	propagationKeep = 64
	// and propagationWindow how long a measurement counts at least: longer than a
	// DNSKEY TTL, so the measurement of a publication still counts when its
	// activation is decided.
	propagationWindow = 24 * time.Hour
	propagationPoll   = 20 * time.Millisecond
	// propagationMax bounds the measurements kept, should commands be many.
	propagationMax = 4096
)

// member is another cluster member the propagation is measured to.
type member struct {
	id, api string
}

// propagation measures the commit and apply delay of the scheduler's commands.
type propagation struct {
	// members lists the other members (not this node); appliedAt asks one of them
	// for its applied index.
	members   func() []member
	appliedAt func(ctx context.Context, m member) (uint64, error)
	now       func() time.Time // a real clock: it measures network and disk delays
	sleep     func(ctx context.Context, d time.Duration) error
	timeout   time.Duration // longest wait for one member
	warnf     func(format string, args ...any)

	mu      sync.Mutex
	samples []propagationSample
	running bool
}

type propagationSample struct {
	at time.Time
	d  time.Duration
}

// Margin is the longest propagation delay measured within the window (or among the
// last propagationKeep measurements, whichever covers more).
func (p *propagation) Margin() time.Duration {
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	cut := p.now().Add(-propagationWindow)
	var m time.Duration
	for i, s := range p.samples {
		if s.at.Before(cut) && i < len(p.samples)-propagationKeep {
			continue
		}
		m = max(m, s.d)
	}
	return m
}

// policy returns pol with the measured margin added to its propagation delay.
func (p *propagation) policy(pol keymgr.Policy) keymgr.Policy {
	pol.PropagationDelay += p.Margin()
	return pol
}

// observe starts measuring, in the background, how long the command applied locally
// at index, proposed at start, takes to be applied by every member. One measurement
// runs at a time: commands applied meanwhile are covered by the next one.
func (p *propagation) observe(start time.Time, index uint64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	if p.running {
		p.mu.Unlock()
		return
	}
	p.running = true
	p.mu.Unlock()
	go func() {
		d := p.measure(context.Background(), start, index)
		p.mu.Lock()
		defer p.mu.Unlock()
		p.running = false
		p.record(d)
	}()
}

// record adds one measurement and forgets those that no longer count.
func (p *propagation) record(d time.Duration) {
	p.samples = append(p.samples, propagationSample{at: p.now(), d: d})
	cut := p.now().Add(-propagationWindow)
	drop := 0
	for drop < len(p.samples)-propagationKeep && p.samples[drop].at.Before(cut) {
		drop++
	}
	drop = max(drop, len(p.samples)-propagationMax)
	p.samples = slices.Delete(p.samples, 0, drop)
	propagationSeconds.Set(p.marginLocked().Seconds())
}

func (p *propagation) marginLocked() time.Duration {
	var m time.Duration
	for _, s := range p.samples {
		m = max(m, s.d)
	}
	return m
}

// measure waits until every member has applied index and returns the time from start
// until the last one had. A member that cannot be asked is left out (it answers no
// queries either, or answers from a state no schedule can help: a partition); one
// that answers but lags counts with the wait, p.timeout. Members are asked in turn,
// every propagationPoll.
func (p *propagation) measure(ctx context.Context, start time.Time, index uint64) time.Duration {
	longest := p.now().Sub(start) // the leader's own commit and apply
	type pending struct {
		m        member
		answered bool
		err      error
	}
	var wait []*pending
	for _, m := range p.members() {
		wait = append(wait, &pending{m: m})
	}
	begin := p.now()
	for len(wait) > 0 {
		wait = slices.DeleteFunc(wait, func(w *pending) bool {
			rctx, cancel := context.WithTimeout(ctx, min(p.timeout, 5*time.Second))
			applied, err := p.appliedAt(rctx, w.m)
			cancel()
			switch {
			case err != nil:
				w.err = err
			case applied >= index:
				longest = max(longest, p.now().Sub(start))
				return true
			default:
				w.answered = true
			}
			return false
		})
		if len(wait) == 0 {
			break
		}
		if p.now().Sub(begin) >= p.timeout || p.sleep(ctx, propagationPoll) != nil {
			for _, w := range wait {
				propagationFailures.Inc()
				if w.answered {
					longest = max(longest, p.timeout)
					p.warnf("key rollover: member %s had not applied index %d after %v", w.m.id, index, p.timeout)
				} else {
					p.warnf("key rollover: member %s not reachable, propagation to it not measured: %v", w.m.id, w.err)
				}
			}
			break
		}
	}
	return longest
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// newPropagation measures to the other members through their admin API (every member
// shares the token). A member is waited for at most the policy's propagation delay,
// within [5s, 5m].
func (inst *instance) newPropagation(configured time.Duration) *propagation {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, IdleConnTimeout: time.Minute}}
	return &propagation{
		members: func() []member {
			var out []member
			for _, n := range inst.node.Status().Nodes {
				if n.ID != inst.node.ID() && n.API != "" {
					out = append(out, member{id: n.ID, api: n.API})
				}
			}
			return out
		},
		appliedAt: func(ctx context.Context, m member) (uint64, error) {
			c := client.New(m.api, inst.apiToken())
			c.HTTP = hc
			st, err := c.ClusterStatus(ctx)
			if err != nil {
				return 0, err
			}
			for _, n := range st.Nodes {
				if n.ID == m.id {
					return n.Applied, nil
				}
			}
			return 0, fmt.Errorf("%s does not list itself", m.api)
		},
		now:     time.Now,
		sleep:   sleepCtx,
		timeout: min(max(configured, 5*time.Second), 5*time.Minute),
		warnf:   log.Warningf,
	}
}
