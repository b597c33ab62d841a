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

const (
	// parentDSTimeout bounds one check of one zone: every agent is asked at once (UDP,
	// UDP once more if no answer came, then TCP; TCP at once on truncation), all within
	// this time, in a context of the check's own, so that the scheduler never waits
	// longer and a step that spent its own time on other work cannot cut the check short.
	parentDSTimeout = 5 * time.Second
	// parentDSUDPTries is how many parts of parentDSTimeout one UDP query may wait for
	// its answer: two UDP queries then leave half of it to TCP.
	parentDSUDPTries = 4
	// parentDSErrorRetry is how soon a check that failed (an agent timed out, refused,
	// or answered wrongly) is repeated when parent-ds-check-interval is longer: one lost
	// answer must not hold the roll for a whole interval. A clean "missing" waits the
	// interval.
	parentDSErrorRetry = time.Minute
)

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
	agents   []string         // HOST:PORT
	interval time.Duration    // between two checks of a zone
	timeout  time.Duration    // for one check, all agents together
	clock    func() time.Time // the scheduler's clock (time.Now): how long the agents took
	zones    map[string]*dsCheckState
}

// dsCheckState is what the check remembers of a waiting zone.
type dsCheckState struct {
	due     time.Time // the next check, by the scheduler's now (zero: at once)
	outcome string    // what each agent said last time, to log changes only
}

// newParentDSCheck returns the check for agents, or nil when there are none (a parent
// DS is then confirmed with `mxctl ds seen` only).
func newParentDSCheck(agents []string, interval time.Duration) *parentDSCheck {
	if len(agents) == 0 {
		return nil
	}
	return &parentDSCheck{agents: agents, interval: interval, timeout: parentDSTimeout, clock: time.Now,
		zones: map[string]*dsCheckState{}}
}

// forget drops a zone that no longer waits, so that its next wait is checked at once.
func (c *parentDSCheck) forget(zone string) { delete(c.zones, zone) }

// check asks every agent for zone's DS if a check is due at now. It returns the IDs of
// the waiting keys whose DS every agent serves (nil if none, or if no check was due),
// the instant they count as seen, and when the next check is due: an interval later,
// or parentDSErrorRetry later if an agent failed.
//
// The instant seen is now plus the time the agents took (by c.clock): the registry
// may have published the DS up to the moment the agents answered, and the old KSK
// must not retire (IpubP after it) any earlier. The scheduler steps the parent zone
// before the shards, so now is when the step began; what the zone's own earlier
// rounds at now took is not counted, a delay of a local Raft commit at most, well
// within the publish-safety that IpubP holds.
func (c *parentDSCheck) check(ctx context.Context, zone string, waiting []zonestore.Key, now time.Time) (seen map[string]bool, seenAt, due time.Time) {
	st := c.zones[zone]
	if st == nil {
		st = &dsCheckState{}
		c.zones[zone] = st
	}
	if now.Before(st.due) {
		return nil, time.Time{}, st.due
	}

	keys := make(map[string]*dns.DNSKEY, len(waiting))
	for _, k := range waiting {
		rr, err := dns.NewRR(k.DNSKEY)
		if dk, ok := rr.(*dns.DNSKEY); err == nil && ok {
			keys[k.ID] = dk
		}
	}
	start := c.clock()
	answers := c.ask(ctx, zone)
	seenAt = now.Add(max(c.clock().Sub(start), 0))

	// A key is seen when every agent's DS RRset holds a DS of it; DS records of a digest
	// type we cannot compute are ignored, as a validator would.
	seen = make(map[string]bool, len(keys))
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
	result, due := "missing", now.Add(c.interval)
	switch {
	case len(seen) > 0:
		result = "seen"
	case failed:
		result, due = "error", now.Add(min(c.interval, parentDSErrorRetry))
	}
	st.due = due
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
		return nil, time.Time{}, due
	}
	return seen, seenAt, due
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

// ask queries every agent at once and waits at most c.timeout for them all. The
// queries run in a context of their own, bounded by c.timeout alone: whatever is left
// of the step's context (ctx's values are kept) neither shortens nor cancels them.
func (c *parentDSCheck) ask(ctx context.Context, zone string) []agentAnswer {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
	defer cancel()
	out := make([]agentAnswer, len(c.agents))
	var wg sync.WaitGroup
	for i, agent := range c.agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ds, err := queryDS(ctx, zone, agent, c.timeout/parentDSUDPTries)
			out[i] = agentAnswer{agent: agent, ds: ds, err: err}
		}()
	}
	wg.Wait()
	return out
}

// errRcode is an agent's answer with an error rcode (REFUSED, SERVFAIL, NXDOMAIN...).
type errRcode int

func (e errRcode) Error() string { return "mxsign: answer with rcode " + dns.RcodeToString[int(e)] }

var (
	// errNotAuthoritative is an answer without AA: only a server of the zone above the
	// parent can confirm the registry's DS, not a resolver's cache, a forwarder or a
	// middlebox between (nor a referral from a server of another zone).
	errNotAuthoritative = errors.New("mxsign: answer not authoritative (AA=0): is the agent a server of the zone above the parent?")
	// errOtherQuestion is an answer whose question is not `ZONE IN DS`.
	errOtherQuestion = errors.New("mxsign: answer to another question")
	// errForeignDS is an answer holding a DS of another owner name or class.
	errForeignDS = errors.New("mxsign: answer holds a DS of another name or class")
)

// queryDS asks agent for zone's DS RRset without recursion (the agents are servers of
// the zone above the parent) and without DO (the DS is compared, not validated): over
// UDP, waiting at most try for the answer; once more over UDP if none came (a lost
// packet); then over TCP, as on a truncated answer. Only a proper answer counts
// (dsAnswer).
func queryDS(ctx context.Context, zone, agent string, try time.Duration) ([]*dns.DS, error) {
	m := new(dns.Msg)
	m.SetQuestion(zone, dns.TypeDS)
	m.RecursionDesired = false
	m.SetEdns0(defaultBufSize, false)
	r, err := exchangeDS(ctx, m, agent, "udp", try)
	if err != nil {
		r, err = exchangeDS(ctx, m, agent, "udp", try)
		if err != nil {
			udpErr := err
			if r, err = exchangeDS(ctx, m, agent, "tcp", 0); err != nil {
				return nil, fmt.Errorf("no answer over UDP (%v), then over TCP: %w", udpErr, err)
			}
		}
	}
	if r.Truncated {
		if r, err = exchangeDS(ctx, m, agent, "tcp", 0); err != nil {
			return nil, fmt.Errorf("truncated over UDP, then over TCP: %w", err)
		}
	}
	return dsAnswer(r, zone)
}

// exchangeDS sends m to agent over transport and waits for the answer until ctx is
// done, and at most try if it is not zero.
func exchangeDS(ctx context.Context, m *dns.Msg, agent, transport string, try time.Duration) (*dns.Msg, error) {
	if try > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, try)
		defer cancel()
	}
	// Timeout only lifts the client's own 2s limits: ctx's deadline comes first.
	c := &dns.Client{Net: transport, UDPSize: defaultBufSize, Timeout: parentDSTimeout}
	r, _, err := c.ExchangeContext(ctx, m, agent)
	return r, err
}

// dsAnswer returns zone's DS RRset from r, an agent's answer to `ZONE IN DS`. The answer
// must be authoritative whether it holds a DS or not (a DS is served with AA by the
// servers of the zone above, RFC 4035 section 3.1.4.1), answer the question asked, and
// hold no DS of another name or class: anything else did not come from the registry's
// servers as asked, and confirms nothing.
func dsAnswer(r *dns.Msg, zone string) ([]*dns.DS, error) {
	if len(r.Question) != 1 || !strings.EqualFold(r.Question[0].Name, zone) ||
		r.Question[0].Qtype != dns.TypeDS || r.Question[0].Qclass != dns.ClassINET {
		return nil, fmt.Errorf("%w: %v", errOtherQuestion, r.Question)
	}
	if r.Rcode != dns.RcodeSuccess {
		return nil, errRcode(r.Rcode)
	}
	if !r.Authoritative {
		return nil, errNotAuthoritative
	}
	var set []*dns.DS
	for _, rr := range r.Answer {
		ds, ok := rr.(*dns.DS)
		if !ok {
			continue // nothing else belongs here (no RRSIG without DO); it is not compared
		}
		if ds.Hdr.Class != dns.ClassINET || !strings.EqualFold(ds.Hdr.Name, zone) {
			return nil, fmt.Errorf("%w: %s", errForeignDS, ds.Hdr.String())
		}
		set = append(set, ds)
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
		return "rcode " + dns.RcodeToString[int(rc)]
	case errors.Is(err, errNotAuthoritative):
		return "not authoritative"
	case errors.Is(err, errOtherQuestion):
		return "answer to another question"
	case errors.Is(err, errForeignDS):
		return "DS of another name or class"
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
