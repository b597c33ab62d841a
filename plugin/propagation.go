package mxsign

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/mxsign/mxsign/plugin/api/client"
	"github.com/mxsign/mxsign/signer/keymgr"
)

// Propagation measurement. RFC 7583's Dprp is the time a change takes to reach every
// server that answers for the zone. For mxsign that includes the Raft commit on a
// quorum and the apply on every member, which the policy's propagation-delay cannot
// know in advance. After each key command it applies, the leader's scheduler records
// the command as pending; a poller asks every member for its applied index until all
// of them have reached it, and records the delay. The key manager then runs with
// propagation-delay (and parent-propagation-delay: a shard's DS is served by the same
// members) plus the margin: the longest delay recorded within the window, or, while a
// command is still pending, the time since it was proposed if that is longer. So a
// step that depends on a command waits while any member has not applied it, however
// long that takes, and a member that cannot be asked counts as not having applied it
// (it may still answer queries from its old state): remove a dead member from the
// cluster for rollovers to go on. The margin only ever delays a step.

const (
	// propagationKeep is how many recent measurements the margin is the maximum of
	// at least, whatever their age.
	propagationKeep = 64
	// propagationMax bounds the measurements kept, should commands be many.
	propagationMax = 4096
	// propagationPoll is the first interval between polls; it grows to
	// propagationPollMax while nothing changes (a member down for long).
	propagationPoll    = 20 * time.Millisecond
	propagationPollMax = 2 * time.Second
	// propagationAsk bounds one question to one member.
	propagationAsk = 5 * time.Second
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
	warnf     func(format string, args ...any)
	window    time.Duration   // how long a measurement counts
	ctx       context.Context // ends the poller (the instance's lifetime)

	mu      sync.Mutex
	samples []propagationSample
	pending []propagationSample // commands not applied by every member yet: at = proposal time
	polling bool
	lagging map[string]string // member id -> what was last logged about it
}

type propagationSample struct {
	at    time.Time
	d     time.Duration
	index uint64 // pending only
}

// propagationWindow is how long a measurement counts: the policy's longest
// interval (so that the measurement of a publication still counts when the step
// that depends on it is decided), at least a day.
func propagationWindow(p keymgr.Policy) time.Duration {
	iv := p.Intervals()
	return max(24*time.Hour, iv.Ipub, iv.Iret, iv.IpubC, iv.IpubP, iv.IretDS, iv.IretKSK, iv.IretCSK, iv.IsigAlg, iv.IremAlg)
}

// clock is the measuring clock (zero for a nil propagation).
func (p *propagation) clock() time.Time {
	if p == nil {
		return time.Time{}
	}
	return p.now()
}

// Margin is what the key manager adds to the propagation delays now.
func (p *propagation) Margin() time.Duration {
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.marginLocked(p.now())
}

func (p *propagation) marginLocked(now time.Time) time.Duration {
	cut := now.Add(-p.window)
	var m time.Duration
	for i, s := range p.samples {
		if s.at.Before(cut) && i < len(p.samples)-propagationKeep {
			continue
		}
		m = max(m, s.d)
	}
	if len(p.pending) > 0 {
		m = max(m, now.Sub(p.pending[0].at))
	}
	return m
}

// policy returns pol with the margin added to its propagation delays.
func (p *propagation) policy(pol keymgr.Policy) keymgr.Policy {
	m := p.Margin()
	pol.PropagationDelay += m
	pol.ParentPropagationDelay += m
	return pol
}

// Pending reports whether a command is not yet applied by every member.
func (p *propagation) Pending() bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pending) > 0
}

// observe records that the command applied locally at index was proposed at start,
// and starts the poller if it is not running.
func (p *propagation) observe(start time.Time, index uint64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.pending); n > 0 && p.pending[n-1].index >= index {
		return // covered by a command proposed earlier and applied later
	}
	p.pending = append(p.pending, propagationSample{at: start, index: index})
	if !p.polling {
		p.polling = true
		go p.poll()
	}
}

// reset forgets the pending commands (this node no longer leads: they are the new
// leader's to wait for).
func (p *propagation) reset() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pending = nil
	propagationLagging.Set(0)
}

// poll asks the members until every pending command is applied everywhere.
func (p *propagation) poll() {
	wait := propagationPoll
	for {
		p.mu.Lock()
		if len(p.pending) == 0 || p.ctx.Err() != nil {
			p.polling = false
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		if p.pollOnce() {
			wait = propagationPoll
		} else {
			wait = min(2*wait, propagationPollMax)
		}
		if p.sleep(p.ctx, wait) != nil {
			p.mu.Lock()
			p.polling = false
			p.mu.Unlock()
			return
		}
	}
}

// pollOnce asks every member once and records the commands now applied by all of
// them. It reports whether any was.
func (p *propagation) pollOnce() bool {
	lowest := ^uint64(0)
	lagging := 0
	for _, m := range p.members() {
		ctx, cancel := context.WithTimeout(p.ctx, propagationAsk)
		applied, err := p.appliedAt(ctx, m)
		cancel()
		state := ""
		if err != nil {
			applied, state = 0, fmt.Sprintf("not reachable (%v): key rollover steps wait for it; remove it from the cluster if it is gone", err)
			propagationFailures.Inc()
		}
		lowest = min(lowest, applied)
		p.mu.Lock()
		if len(p.pending) > 0 && applied < p.pending[0].index {
			lagging++
			if state == "" {
				state = "lagging"
			}
		}
		if p.lagging[m.id] != state {
			if state != "" && state != "lagging" {
				p.warnf("key rollover: member %s %s", m.id, state)
			}
			if p.lagging == nil {
				p.lagging = map[string]string{}
			}
			p.lagging[m.id] = state
		}
		p.mu.Unlock()
	}
	propagationLagging.Set(float64(lagging))
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	done := 0
	for done < len(p.pending) && p.pending[done].index <= lowest {
		p.record(now, now.Sub(p.pending[done].at))
		done++
	}
	p.pending = slices.Delete(p.pending, 0, done)
	propagationSeconds.Set(p.marginLocked(now).Seconds())
	return done > 0
}

// record adds one measurement and forgets those that no longer count.
func (p *propagation) record(now time.Time, d time.Duration) {
	p.samples = append(p.samples, propagationSample{at: now, d: d})
	cut := now.Add(-p.window)
	drop := 0
	for drop < len(p.samples)-propagationKeep && p.samples[drop].at.Before(cut) {
		drop++
	}
	drop = max(drop, len(p.samples)-propagationMax)
	p.samples = slices.Delete(p.samples, 0, drop)
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
// shares the token), until the instance is released.
func (inst *instance) newPropagation(pol keymgr.Policy) *propagation {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, IdleConnTimeout: time.Minute}}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-inst.done
		cancel()
	}()
	return &propagation{
		members: func() []member {
			var out []member
			for _, n := range inst.node.Status().Nodes {
				if n.ID != inst.node.ID() {
					out = append(out, member{id: n.ID, api: n.API})
				}
			}
			return out
		},
		appliedAt: func(ctx context.Context, m member) (uint64, error) {
			if m.api == "" {
				return 0, errors.New("no API address known")
			}
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
		now:    time.Now,
		sleep:  sleepCtx,
		warnf:  log.Warningf,
		window: propagationWindow(pol),
		ctx:    ctx,
	}
}
