package mxsign

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/mxsign/mxsign/signer"
	"github.com/mxsign/mxsign/zonestore"
)

// parentDSTimeout bounds one check of one zone: every agent is asked at once, UDP then
// TCP on truncation, all within this time, so the scheduler never waits longer.
const parentDSTimeout = 5 * time.Second

// parentDSCheck confirms a parent zone's new DS at its registry by asking the parental
// agents (BIND's parental-agents and checkds; Knot's submission check) for `ZONE DS`
// while a double-KSK (or CSK, or algorithm) roll waits for it (keymgr's WaitParentDS).
// A key's DS counts as seen only when every agent serves it: the roll then continues
// through the same change `mxctl ds seen` makes (seenDS). It runs in the leader's
// scheduler goroutine only, so its state needs no lock.
//
// Only additions are checked: keymgr does not wait for the old DS to be seen gone (the
// old KSK's DNSKEY is removed IretKSK after it retired and its DS left CDS), and a stale
// DS beside the new one does not break validation.
type parentDSCheck struct {
	agents   []string      // HOST:PORT
	interval time.Duration // between two checks of a zone
	timeout  time.Duration // for one check, all agents together
	zones    map[string]*dsCheckState
}

// dsCheckState is what the check remembers of a waiting zone.
type dsCheckState struct {
	last    time.Time // the scheduler's clock at the last check
	outcome string    // what each agent said last time, to log changes only
}

// newParentDSCheck returns the check for agents, or nil when there are none (a parent
// DS is then confirmed with `mxctl ds seen` only).
func newParentDSCheck(agents []string, interval time.Duration) *parentDSCheck {
	if len(agents) == 0 {
		return nil
	}
	return &parentDSCheck{agents: agents, interval: interval, timeout: parentDSTimeout, zones: map[string]*dsCheckState{}}
}

// forget drops a zone that no longer waits, so that its next wait is checked at once.
func (c *parentDSCheck) forget(zone string) { delete(c.zones, zone) }

// check asks every agent for zone's DS if a check is due at now. It returns the IDs of
// the waiting keys whose DS every agent serves (nil if none, or if no check was due)
// and when the next check is due.
func (c *parentDSCheck) check(ctx context.Context, zone string, waiting []zonestore.Key, now time.Time) (map[string]bool, time.Time) {
	st := c.zones[zone]
	if st == nil {
		st = &dsCheckState{}
		c.zones[zone] = st
	}
	if !st.last.IsZero() && now.Before(st.last.Add(c.interval)) {
		return nil, st.last.Add(c.interval)
	}
	st.last = now
	due := now.Add(c.interval)

	keys := make(map[string]*dns.DNSKEY, len(waiting))
	for _, k := range waiting {
		rr, err := dns.NewRR(k.DNSKEY)
		if dk, ok := rr.(*dns.DNSKEY); err == nil && ok {
			keys[k.ID] = dk
		}
	}
	answers := c.ask(ctx, zone)

	// A key is seen when every agent's DS RRset holds a DS of it; DS records of a digest
	// type we cannot compute are ignored, as a validator would.
	seen := make(map[string]bool, len(keys))
	for id := range keys {
		seen[id] = true
	}
	outcomes := make([]string, len(answers))
	failed := false
	for i, a := range answers {
		has := 0
		for id, dk := range keys {
			if a.err == nil && hasDS(a.ds, dk) {
				has++
			} else {
				seen[id] = false
			}
		}
		switch {
		case a.err != nil:
			failed = true
			outcomes[i] = a.agent + ": " + errorClass(a.err)
		case has == len(keys):
			outcomes[i] = a.agent + ": has the DS"
		default:
			outcomes[i] = fmt.Sprintf("%s: lacks the DS (%d DS records served)", a.agent, len(a.ds))
		}
	}
	for id, ok := range seen {
		if !ok {
			delete(seen, id)
		}
	}
	result := "missing"
	switch {
	case len(seen) > 0:
		result = "seen"
	case failed:
		result = "error"
	}
	parentDSChecks.WithLabelValues(result).Inc()

	if outcome := strings.Join(outcomes, "; "); outcome != st.outcome {
		st.outcome = outcome
		ids := make([]string, 0, len(keys))
		for id := range keys {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		switch result {
		case "seen":
			log.Infof("parent DS of %s (key %s) is served by every parental agent: continuing the roll", zone, strings.Join(ids, ", "))
		case "error":
			log.Warningf("parent DS check of %s (key %s): %s; next check at %s", zone, strings.Join(ids, ", "), details(answers), due.UTC().Format(time.RFC3339))
		default:
			log.Infof("parent DS check of %s (key %s): not published everywhere yet: %s; next check at %s", zone, strings.Join(ids, ", "), outcome, due.UTC().Format(time.RFC3339))
		}
	}
	if len(seen) == 0 {
		return nil, due
	}
	return seen, due
}

// hasDS reports whether set holds a DS of k.
func hasDS(set []*dns.DS, k *dns.DNSKEY) bool {
	for _, ds := range set {
		if match, _ := signer.DSMatches(k, ds); match {
			return true
		}
	}
	return false
}

// agentAnswer is one agent's DS RRset for the zone, or why there is none.
type agentAnswer struct {
	agent string
	ds    []*dns.DS
	err   error
}

// ask queries every agent at once and waits at most c.timeout for them all.
func (c *parentDSCheck) ask(ctx context.Context, zone string) []agentAnswer {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	out := make([]agentAnswer, len(c.agents))
	var wg sync.WaitGroup
	for i, agent := range c.agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ds, err := queryDS(ctx, zone, agent)
			out[i] = agentAnswer{agent: agent, ds: ds, err: err}
		}()
	}
	wg.Wait()
	return out
}

// errRcode is an agent's answer with an error rcode (REFUSED, SERVFAIL, NXDOMAIN...).
type errRcode int

func (e errRcode) Error() string { return "rcode " + dns.RcodeToString[int(e)] }

// errNotAuthoritative is an answer without the DS that does not come from a server of
// the zone above the parent zone (a referral, or a resolver's empty cache with RD=0).
var errNotAuthoritative = errors.New("not authoritative for the zone above: is it a server of the parent's parent zone?")

// queryDS asks agent for zone's DS RRset: over UDP, then over TCP if the answer was
// truncated, without recursion (the agents are the parent's parent's servers) and
// without DO (the DS is compared, not validated).
func queryDS(ctx context.Context, zone, agent string) ([]*dns.DS, error) {
	m := new(dns.Msg)
	m.SetQuestion(zone, dns.TypeDS)
	m.RecursionDesired = false
	m.SetEdns0(defaultBufSize, false)
	r, _, err := (&dns.Client{Net: "udp", UDPSize: defaultBufSize}).ExchangeContext(ctx, m, agent)
	if err == nil && r.Truncated {
		r, _, err = (&dns.Client{Net: "tcp"}).ExchangeContext(ctx, m, agent)
	}
	if err != nil {
		return nil, err
	}
	if len(r.Question) != 1 || !strings.EqualFold(r.Question[0].Name, zone) || r.Question[0].Qtype != dns.TypeDS {
		return nil, fmt.Errorf("answer to another question: %v", r.Question)
	}
	if r.Rcode != dns.RcodeSuccess {
		return nil, errRcode(r.Rcode)
	}
	var set []*dns.DS
	for _, rr := range r.Answer {
		if ds, ok := rr.(*dns.DS); ok && ds.Hdr.Class == dns.ClassINET && strings.EqualFold(ds.Hdr.Name, zone) {
			set = append(set, ds)
		}
	}
	if len(set) == 0 && !r.Authoritative {
		return nil, errNotAuthoritative
	}
	return set, nil
}

// errorClass names a failure without its changing details (ports, times), so that
// repeated failures of the same kind are logged once.
func errorClass(err error) string {
	var rc errRcode
	var ne net.Error
	switch {
	case errors.As(err, &rc):
		return rc.Error()
	case errors.Is(err, errNotAuthoritative):
		return "not authoritative"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return "no answer"
}

// details lists every agent's failure with its message, for the log.
func details(answers []agentAnswer) string {
	var b []string
	for _, a := range answers {
		switch {
		case a.err != nil:
			b = append(b, fmt.Sprintf("%s: %v", a.agent, a.err))
		default:
			b = append(b, fmt.Sprintf("%s: %d DS records", a.agent, len(a.ds)))
		}
	}
	return strings.Join(b, "; ")
}
