package mxsign

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"time"

	"github.com/mxsign/mxsign/cluster"
	"github.com/mxsign/mxsign/plugin/api"
	"github.com/mxsign/mxsign/zonestore"
)

// forwardedHeader marks a write proxied by a follower, so a node that is not the leader
// either never forwards it again (no loops while leadership moves).
const forwardedHeader = "X-Mxsign-Forwarded-By"

// appliedHeader carries the leader's applied log index on write answers. A follower
// that forwarded the write waits until it has applied that index itself before it
// relays the answer, so a client that reads back from the same node sees its write.
const appliedHeader = "X-Mxsign-Applied-Index"

// maxCatchUp bounds that wait: past it the answer is relayed anyway (the write is
// committed; only this node's copy lags).
const maxCatchUp = 5 * time.Second

// forwarder sends writes that reach a follower to the leader's admin API and relays
// the answer, so the client sees the same result as if it had asked the leader.
type forwarder struct {
	node      *cluster.Node
	store     *zonestore.Store
	transport http.RoundTripper
}

func newForwarder(node *cluster.Node, st *zonestore.Store) *forwarder {
	return &forwarder{node: node, store: st, transport: &http.Transport{
		// Never through an environment proxy: the bearer token would go with it.
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 2 * time.Minute, // a large batch commits before the answer
	}}
}

// Forward implements api.Options.Forward.
func (f *forwarder) Forward(w http.ResponseWriter, r *http.Request) bool {
	if f.node.IsLeader() {
		return false
	}
	leaderID, _, leaderAPI := f.node.Leader()
	switch {
	case leaderID == "":
		api.WriteError(w, http.StatusServiceUnavailable, "no cluster leader is known to this node: the write was not made; retry once a leader is elected")
		return true
	case leaderAPI == "":
		api.WriteError(w, http.StatusServiceUnavailable, fmt.Sprintf("the leader %s has not published its API address yet: the write was not made; retry", leaderID))
		return true
	case r.Header.Get(forwardedHeader) != "":
		api.WriteError(w, http.StatusServiceUnavailable, "leadership moved while the write was forwarded: it was not made; retry")
		return true
	}
	target := &url.URL{Scheme: "http", Host: leaderAPI}
	proxy := &httputil.ReverseProxy{
		Transport: f.transport,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
			pr.Out.Header.Set(forwardedHeader, f.node.ID())
		},
		ModifyResponse: func(resp *http.Response) error {
			if n, err := strconv.ParseUint(resp.Header.Get(appliedHeader), 10, 64); err == nil {
				f.catchUp(resp.Request.Context(), n)
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				api.WriteError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d bytes", mbe.Limit))
				return
			}
			if errors.Is(err, context.Canceled) {
				return
			}
			// The leader may or may not have received the write: say so.
			api.WriteError(w, http.StatusServiceUnavailable, fmt.Sprintf("forwarding to the leader %s at %s failed (%v): the write may not have been made; retry (domain writes are safe to retry: a repeat answers 409)", leaderID, leaderAPI, err))
		},
	}
	proxy.ServeHTTP(w, r)
	return true
}

// catchUp waits until the local store has applied index n, ctx ends, or maxCatchUp.
func (f *forwarder) catchUp(ctx context.Context, n uint64) {
	if f.store.AppliedIndex() >= n {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, maxCatchUp)
	defer cancel()
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for f.store.AppliedIndex() < n {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// withAppliedIndex stamps every write answer with the store's applied index (see
// appliedHeader). The leader applies a write before answering, so the index covers it.
func withAppliedIndex(st *zonestore.Store, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			h.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(&stampWriter{ResponseWriter: w, st: st}, r)
	})
}

type stampWriter struct {
	http.ResponseWriter
	st      *zonestore.Store
	stamped bool
}

func (s *stampWriter) stamp() {
	if !s.stamped {
		s.stamped = true
		s.Header().Set(appliedHeader, strconv.FormatUint(s.st.AppliedIndex(), 10))
	}
}

func (s *stampWriter) WriteHeader(code int) { s.stamp(); s.ResponseWriter.WriteHeader(code) }

func (s *stampWriter) Write(b []byte) (int, error) { s.stamp(); return s.ResponseWriter.Write(b) }

func (s *stampWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
