package mxsign

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"

	"github.com/mxsign/mxsign/cluster"
	"github.com/mxsign/mxsign/plugin/api"
)

// forwardedHeader marks a write proxied by a follower, so a node that is not the leader
// either never forwards it again (no loops while leadership moves).
const forwardedHeader = "X-Mxsign-Forwarded-By"

// forwarder sends writes that reach a follower to the leader's admin API and relays
// the answer, so the client sees the same result as if it had asked the leader.
type forwarder struct {
	node *cluster.Node
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
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
			pr.Out.Header.Set(forwardedHeader, f.node.ID())
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
