package zonestore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// gatedApplier holds the first command until released, counting commands.
type gatedApplier struct {
	next    Applier
	gate    chan struct{}
	once    sync.Once
	mu      sync.Mutex
	applied int
	started chan struct{}
}

func (g *gatedApplier) Apply(ctx context.Context, cmd *Command) (*Result, error) {
	first := false
	g.once.Do(func() { first = true; close(g.started) })
	if first {
		<-g.gate
	}
	g.mu.Lock()
	g.applied++
	g.mu.Unlock()
	return g.next.Apply(ctx, cmd)
}

func TestProvisionerGroupCommit(t *testing.T) {
	s, p, _ := newTestProvisioner(t, nil)
	g := &gatedApplier{next: p.Applier, gate: make(chan struct{}), started: make(chan struct{})}
	p.Applier = g
	ctx := context.Background()

	// The first call is being committed (held at the gate); the rest queue up.
	var wg sync.WaitGroup
	first := make(chan error, 1)
	go func() {
		_, err := p.AddDomains(ctx, []string{"first.example"})
		first <- err
	}()
	<-g.started
	const n = 20
	results := make([][]ItemResult, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Two callers ask for the same domain: exactly one may get it.
			d := fmt.Sprintf("c%d.example", i)
			if i == n-1 {
				d = "c0.example"
			}
			results[i], errs[i] = p.AddDomains(ctx, []string{d, fmt.Sprintf("extra%d.example", i)})
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(time.Millisecond) // polls a condition; the test times nothing
	defer tick.Stop()
	for {
		p.qmu.Lock()
		q := len(p.queue)
		p.qmu.Unlock()
		if q == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d calls queued", q, n)
		}
		<-tick.C
	}
	close(g.gate)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	if g.applied != 2 {
		t.Errorf("%d commands for 1+%d calls, want 2 (one group commit)", g.applied, n)
	}
	won, lost := 0, 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		if len(results[i]) != 2 {
			t.Fatalf("call %d got %d results, want its own 2", i, len(results[i]))
		}
		if results[i][1].Err != nil {
			t.Errorf("call %d: extra domain: %v", i, results[i][1].Err)
		}
		if results[i][0].Domain == "c0.example" {
			switch {
			case results[i][0].Err == nil:
				won++
			case errors.Is(results[i][0].Err, ErrExists):
				lost++
			default:
				t.Errorf("c0.example: %v", results[i][0].Err)
			}
		}
	}
	if won != 1 || lost != 1 {
		t.Errorf("c0.example added by %d callers, refused for %d; want 1 and 1", won, lost)
	}
	if _, err := s.Host("c19.example"); err == nil {
		t.Error("c19.example should not exist (that caller asked for c0.example)")
	}
}

func TestProvisionerCancelledWhileQueued(t *testing.T) {
	_, p, _ := newTestProvisioner(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.AddDomains(ctx, []string{"never.example"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if p.Store.hasHost("never.example", "never-example") {
		t.Fatal("a cancelled call wrote its domain")
	}
}

// panicApplier panics once, like a bug below the provisioner would.
type panicApplier struct {
	next  Applier
	fired bool
}

func (a *panicApplier) Apply(ctx context.Context, cmd *Command) (*Result, error) {
	if !a.fired {
		a.fired = true
		panic("boom")
	}
	return a.next.Apply(ctx, cmd)
}

func TestProvisionerSurvivesAPanic(t *testing.T) {
	_, p, _ := newTestProvisioner(t, nil)
	p.Applier = &panicApplier{next: p.Applier}
	if _, err := p.AddDomains(context.Background(), []string{"a.example"}); err == nil {
		t.Fatal("want an error from the panicking commit")
	}
	// The lock and the committer role were released: the next call goes through.
	res, err := p.AddDomains(context.Background(), []string{"b.example"})
	if err != nil || res[0].Err != nil {
		t.Fatalf("after a panic: %v %v", err, res)
	}
}
