// Package api is the mxsign admin API: HTTP+JSON in front of a Service.
//
// Routes (every request needs "Authorization: Bearer <token>"):
//
//	POST   /v1/domains               {"domain":"contoso.com"}   -> 201 Domain
//	POST   /v1/domains:batch         {"domains":["a.com",...]} -> 200 BatchResponse
//	GET    /v1/domains?limit=N&after=NAME                       -> 200 DomainList
//	GET    /v1/domains/{domain}                                 -> 200 Domain
//	DELETE /v1/domains/{domain}                                 -> 204
//	GET    /v1/zones                                            -> 200 ZoneList
//	GET    /v1/zones/{zone}/ds                                  -> 200 DSList
//	GET    /v1/zones/{zone}/keys                                -> 200 KeyList
//	POST   /v1/zones/{zone}/rollover {"role":"zsk"}             -> 202 KeyList
//	POST   /v1/zones/{zone}/ds-seen                             -> 204
//	GET    /v1/cluster                                          -> 200 ClusterStatus
//	POST   /v1/cluster/join          {"id":"ns2",...}           -> 204
//	DELETE /v1/cluster/nodes/{id}                               -> 204
//
// The /v1/cluster routes are served by an optional ClusterService and the
// key routes by an optional KeyService; without one they answer 404. Every response with a status of 400 or more has a
// JSON Error body. The package imports only the standard library: the plugin
// implements Service and ClusterService on top of the store and the cluster.
package api

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Limits and defaults.
const (
	DefaultMaxBody   = 1 << 20 // bytes of a request body
	DefaultMaxBatch  = 1000    // domains in one batch request
	DefaultListLimit = 100     // domains per page when no limit is given
	MaxListLimit     = 1000    // largest accepted limit
)

// Options configure NewHandler.
type Options struct {
	// Token is the bearer token every request must present. An empty token
	// makes the handler refuse every request (fail closed).
	Token string
	// MaxBody is the largest request body in bytes (default DefaultMaxBody);
	// larger bodies get 413.
	MaxBody int64
	// MaxBatch is the largest number of domains in one batch request
	// (default DefaultMaxBatch); more get 400.
	MaxBatch int
	// Logf, when set, receives internal errors (status 500) and panics.
	Logf func(format string, args ...any)
	// Cluster, when set, serves the /v1/cluster routes; when nil they
	// answer 404 "clustering is not enabled on this node".
	Cluster ClusterService
	// Keys, when set, serves the key routes under /v1/zones/{zone}/ (keys,
	// rollover, ds-seen); when nil they answer 404 "key management is not
	// available on this node".
	Keys KeyService
	// Forward, when set, is called after authentication for every write
	// (POST, PUT, PATCH, DELETE), before routing, whatever the path. When
	// it returns true it has answered the request (for example by proxying
	// it to the cluster leader) and the handler does nothing more; when it
	// returns false the request is routed as usual, so it must not have read
	// the body or written to w. The body is unread but limited to MaxBody:
	// reading past the limit fails with *http.MaxBytesError. Forward answers
	// its own errors with WriteError; a panic in it becomes a logged 500.
	Forward func(w http.ResponseWriter, r *http.Request) bool
}

// handler serves the admin API over a Service.
type handler struct {
	svc      Service
	opts     Options
	tokenSum [sha256.Size]byte
	mux      *http.ServeMux
}

// NewHandler returns the admin API handler serving svc.
func NewHandler(svc Service, opts Options) http.Handler {
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	h := &handler{svc: svc, opts: opts, tokenSum: sha256.Sum256([]byte(opts.Token))}
	h.mux = http.NewServeMux()
	h.handle("/v1/domains", map[string]http.HandlerFunc{
		http.MethodGet:  h.listDomains,
		http.MethodPost: h.addDomain,
	})
	// A literal segment "domains:batch"; it cannot match /v1/domains/{domain}.
	h.handle("/v1/domains:batch", map[string]http.HandlerFunc{
		http.MethodPost: h.addDomains,
	})
	h.handle("/v1/domains/{domain}", map[string]http.HandlerFunc{
		http.MethodGet:    h.getDomain,
		http.MethodDelete: h.deleteDomain,
	})
	h.handle("/v1/zones", map[string]http.HandlerFunc{
		http.MethodGet: h.zones,
	})
	h.handle("/v1/zones/{zone}/ds", map[string]http.HandlerFunc{
		http.MethodGet: h.ds,
	})
	h.handleKeys()
	h.handleCluster()
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, http.StatusNotFound, fmt.Sprintf("no such endpoint: %s; the API lives under /v1/domains, /v1/zones and /v1/cluster", r.URL.Path))
	})
	return h
}

// handle registers one handler per method for path, and a method-less
// fallback for path that answers 405 with an Allow header, so that the mux
// never writes its own plain-text 405.
func (h *handler) handle(path string, byMethod map[string]http.HandlerFunc) {
	var allowed []string
	for method, f := range byMethod {
		h.mux.HandleFunc(method+" "+path, f)
		allowed = append(allowed, method)
		if method == http.MethodGet {
			allowed = append(allowed, http.MethodHead)
		}
	}
	slices.Sort(allowed)
	allow := strings.Join(allowed, ", ")
	h.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		WriteError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s; allowed: %s", r.Method, r.URL.Path, allow))
	})
}

// ServeHTTP checks the token, offers writes to Options.Forward, then
// routes.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	defer h.recoverPanic(sw, r)
	if !h.authorize(sw, r) {
		return
	}
	if r.Body != nil {
		// Given the server's writer, so that it closes the connection
		// instead of draining an oversized body.
		r.Body = http.MaxBytesReader(w, r.Body, h.opts.MaxBody)
	}
	if h.opts.Forward != nil && isWrite(r.Method) && h.opts.Forward(sw, r) {
		return
	}
	h.mux.ServeHTTP(sw, r)
}

// isWrite reports whether method changes state and so must reach the
// cluster leader.
func isWrite(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

func (h *handler) addDomain(w http.ResponseWriter, r *http.Request) {
	var req AddRequest
	if !h.decode(w, r, &req) {
		return
	}
	if strings.TrimSpace(req.Domain) == "" {
		WriteError(w, http.StatusBadRequest, `field "domain" is required, e.g. {"domain":"contoso.com"}`)
		return
	}
	items, err := h.svc.AddDomains(r.Context(), []string{req.Domain})
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	if len(items) != 1 {
		h.internalError(w, r, fmt.Errorf("service returned %d results for 1 domain", len(items)))
		return
	}
	it := items[0]
	switch {
	case it.Status >= 200 && it.Status < 300 && it.Result != nil:
		w.Header().Set("Location", "/v1/domains/"+url.PathEscape(it.Result.Domain))
		writeJSON(w, it.Status, normalizeDomain(*it.Result))
	case it.Status >= 400 && it.Status < 600:
		msg := it.Error
		if msg == "" {
			msg = http.StatusText(it.Status)
		}
		WriteError(w, it.Status, msg)
	default:
		h.internalError(w, r, fmt.Errorf("service returned status %d (result set: %t) for %q", it.Status, it.Result != nil, req.Domain))
	}
}

func (h *handler) addDomains(w http.ResponseWriter, r *http.Request) {
	var req BatchRequest
	if !h.decode(w, r, &req) {
		return
	}
	switch n := len(req.Domains); {
	case n == 0:
		WriteError(w, http.StatusBadRequest, `field "domains" must list at least one domain, e.g. {"domains":["contoso.com"]}`)
		return
	case n > h.opts.MaxBatch:
		WriteError(w, http.StatusBadRequest, fmt.Sprintf("too many domains: %d, at most %d per batch; split the list", n, h.opts.MaxBatch))
		return
	}
	items, err := h.svc.AddDomains(r.Context(), req.Domains)
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	if len(items) != len(req.Domains) {
		h.internalError(w, r, fmt.Errorf("service returned %d results for %d domains", len(items), len(req.Domains)))
		return
	}
	for i := range items {
		if items[i].Domain == "" {
			items[i].Domain = req.Domains[i]
		}
		if items[i].Result != nil {
			d := normalizeDomain(*items[i].Result)
			items[i].Result = &d
		}
	}
	writeJSON(w, http.StatusOK, BatchResponse{Results: items})
}

func (h *handler) getDomain(w http.ResponseWriter, r *http.Request) {
	d, err := h.svc.GetDomain(r.Context(), r.PathValue("domain"))
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, normalizeDomain(d))
}

func (h *handler) deleteDomain(w http.ResponseWriter, r *http.Request) {
	if err := h.svc.DeleteDomain(r.Context(), r.PathValue("domain")); err != nil {
		h.serviceError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) listDomains(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := DefaultListLimit
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxListLimit {
			WriteError(w, http.StatusBadRequest, fmt.Sprintf("invalid limit %q: want a whole number from 1 to %d", s, MaxListLimit))
			return
		}
		limit = n
	}
	list, err := h.svc.ListDomains(r.Context(), q.Get("after"), limit)
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	if list.Domains == nil {
		list.Domains = []Domain{}
	}
	for i := range list.Domains {
		list.Domains[i] = normalizeDomain(list.Domains[i])
	}
	writeJSON(w, http.StatusOK, list)
}

func (h *handler) zones(w http.ResponseWriter, r *http.Request) {
	list, err := h.svc.Zones(r.Context())
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	if list.Zones == nil {
		list.Zones = []Zone{}
	}
	for i := range list.Zones {
		if list.Zones[i].Keys == nil {
			list.Zones[i].Keys = []KeyInfo{}
		}
	}
	writeJSON(w, http.StatusOK, list)
}

func (h *handler) ds(w http.ResponseWriter, r *http.Request) {
	list, err := h.svc.DS(r.Context(), pathZone(r))
	if err != nil {
		h.serviceError(w, r, err)
		return
	}
	if list.DS == nil {
		list.DS = []string{}
	}
	writeJSON(w, http.StatusOK, list)
}

// pathZone returns the {zone} path value, fully qualified.
func pathZone(r *http.Request) string {
	zone := r.PathValue("zone")
	if !strings.HasSuffix(zone, ".") {
		zone += "."
	}
	return zone
}

// normalizeDomain makes an empty record list encode as [] rather than null.
func normalizeDomain(d Domain) Domain {
	if d.Records == nil {
		d.Records = []Record{}
	}
	return d
}
