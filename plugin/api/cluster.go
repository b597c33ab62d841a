package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// msgNotClustered answers every /v1/cluster request without a
// ClusterService.
const msgNotClustered = "clustering is not enabled on this node"

// errNoLeader replaces a bare ErrUnavailable from a membership change, so
// that the client learns why.
var errNoLeader = fmt.Errorf("%w: the cluster has no leader, so membership cannot change; retry once one is elected", ErrUnavailable)

// handleCluster registers the /v1/cluster routes, or, without a
// ClusterService, a 404 for everything under /v1/cluster.
func (h *handler) handleCluster() {
	if h.opts.Cluster == nil {
		notClustered := func(w http.ResponseWriter, _ *http.Request) {
			WriteError(w, http.StatusNotFound, msgNotClustered)
		}
		h.mux.HandleFunc("/v1/cluster", notClustered)
		h.mux.HandleFunc("/v1/cluster/", notClustered)
		return
	}
	h.handle("/v1/cluster", map[string]http.HandlerFunc{
		http.MethodGet: h.clusterStatus,
	})
	h.handle("/v1/cluster/join", map[string]http.HandlerFunc{
		http.MethodPost: h.joinCluster,
	})
	h.handle("/v1/cluster/nodes/{id}", map[string]http.HandlerFunc{
		http.MethodDelete: h.removeNode,
	})
}

func (h *handler) clusterStatus(w http.ResponseWriter, r *http.Request) {
	st, err := h.opts.Cluster.ClusterStatus(r.Context())
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	if st.Nodes == nil {
		st.Nodes = []ClusterNode{}
	}
	writeJSON(w, http.StatusOK, st)
}

// joinCluster adds a node. Success is 204 whether or not the node was
// already a member.
func (h *handler) joinCluster(w http.ResponseWriter, r *http.Request) {
	var req JoinRequest
	if !h.decode(w, r, &req) {
		return
	}
	var missing []string
	for _, f := range []struct{ name, value string }{
		{"id", req.ID},
		{"raft", req.Raft},
		{"api", req.API},
	} {
		if strings.TrimSpace(f.value) == "" {
			missing = append(missing, fmt.Sprintf("%q", f.name))
		}
	}
	if len(missing) > 0 {
		noun := "field"
		if len(missing) > 1 {
			noun = "fields"
		}
		WriteError(w, http.StatusBadRequest, fmt.Sprintf(`missing required %s %s, e.g. {"id":"ns2","raft":"10.0.0.2:7000","api":"10.0.0.2:8053"}`,
			noun, strings.Join(missing, ", ")))
		return
	}
	if req.Voter == nil {
		voter := true
		req.Voter = &voter
	}
	if err := h.opts.Cluster.Join(r.Context(), req); err != nil {
		h.membershipError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) removeNode(w http.ResponseWriter, r *http.Request) {
	if err := h.opts.Cluster.RemoveNode(r.Context(), r.PathValue("id")); err != nil {
		h.membershipError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// membershipError is serviceError with a bare ErrUnavailable explained.
func (h *handler) membershipError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, ErrUnavailable) && err.Error() == ErrUnavailable.Error() {
		err = errNoLeader
	}
	h.serviceError(w, r, err)
}
