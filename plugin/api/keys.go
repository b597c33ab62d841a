package api

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// msgNoKeys answers every key route without a KeyService.
const msgNoKeys = "key management is not available on this node"

// Algorithms a rollover may move to: ECDSAP256SHA256 and ED25519.
const (
	algECDSAP256SHA256 = 13
	algED25519         = 15
)

// handleKeys registers the key routes, or, without a KeyService, a 404 for
// each of them whatever the method.
func (h *handler) handleKeys() {
	const (
		keysPath     = "/v1/zones/{zone}/keys"
		rolloverPath = "/v1/zones/{zone}/rollover"
		dsSeenPath   = "/v1/zones/{zone}/ds-seen"
	)
	if h.opts.Keys == nil {
		noKeys := func(w http.ResponseWriter, _ *http.Request) {
			WriteError(w, http.StatusNotFound, msgNoKeys)
		}
		for _, p := range []string{keysPath, rolloverPath, dsSeenPath} {
			h.mux.HandleFunc(p, noKeys)
		}
		return
	}
	h.handle(keysPath, map[string]http.HandlerFunc{
		http.MethodGet: h.keys,
	})
	h.handle(rolloverPath, map[string]http.HandlerFunc{
		http.MethodPost: h.rollover,
	})
	h.handle(dsSeenPath, map[string]http.HandlerFunc{
		http.MethodPost: h.dsSeen,
	})
}

func (h *handler) keys(w http.ResponseWriter, r *http.Request) {
	zone := pathZone(r)
	list, err := h.opts.Keys.Keys(r.Context(), zone)
	if err != nil {
		h.keyError(w, r, zone, err)
		return
	}
	writeJSON(w, http.StatusOK, normalizeKeyList(list, zone))
}

// rollover records an early rollover and answers 202: the roll itself
// proceeds at the pace of the policy, or, with "now", at once.
func (h *handler) rollover(w http.ResponseWriter, r *http.Request) {
	var req RolloverRequest
	if !h.decode(w, r, &req) {
		return
	}
	req.Role = strings.ToLower(strings.TrimSpace(req.Role))
	switch req.Role {
	case "", "zsk", "ksk", "csk":
	default:
		WriteError(w, http.StatusBadRequest, fmt.Sprintf(`invalid role %q: want "zsk", "ksk" or "csk"`, req.Role))
		return
	}
	switch req.Algorithm {
	case 0, algECDSAP256SHA256, algED25519:
	default:
		WriteError(w, http.StatusBadRequest, fmt.Sprintf("invalid algorithm %d: want %d (ECDSAP256SHA256) or %d (ED25519), or leave it out to keep the current one",
			req.Algorithm, algECDSAP256SHA256, algED25519))
		return
	}
	if req.Role == "" && req.Algorithm == 0 {
		WriteError(w, http.StatusBadRequest, `say what to roll: a "role" ("zsk", "ksk" or "csk"), an "algorithm" (13 or 15), or both, e.g. {"role":"zsk"}`)
		return
	}
	if req.Now && (req.Role == "" || req.Algorithm != 0) {
		WriteError(w, http.StatusBadRequest, `an emergency rollover ("now") replaces the key of one "role" with a key of the same algorithm: give a role and no algorithm, e.g. {"role":"zsk","now":true}`)
		return
	}
	zone := pathZone(r)
	list, err := h.opts.Keys.Rollover(r.Context(), zone, req)
	if err != nil {
		h.keyError(w, r, zone, err)
		return
	}
	writeJSON(w, http.StatusAccepted, normalizeKeyList(list, zone))
}

// dsSeen records the operator's confirmation that the parent publishes the
// zone's new DS. The body may be empty or an empty JSON object.
func (h *handler) dsSeen(w http.ResponseWriter, r *http.Request) {
	if !h.decodeEmpty(w, r) {
		return
	}
	zone := pathZone(r)
	if err := h.opts.Keys.DSSeen(r.Context(), zone); err != nil {
		h.keyError(w, r, zone, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// decodeEmpty accepts a request body that is empty or an empty JSON object;
// anything else is answered with 400 (or 413) and false.
func (h *handler) decodeEmpty(w http.ResponseWriter, r *http.Request) bool {
	body, status, msg := readBody(r)
	if status == 0 && len(bytes.TrimSpace(body)) > 0 {
		status, msg = decodeBody(body, &struct{}{})
	}
	if status != 0 {
		WriteError(w, status, msg)
		return false
	}
	return true
}

// keyError is serviceError for the key routes. A conflict there means the
// zone has no key policy, never "already exists", so that text is left out
// and a bare ErrConflict explained; a bare ErrNotFound names the zone.
func (h *handler) keyError(w http.ResponseWriter, r *http.Request, zone string, err error) {
	switch {
	case errors.Is(err, ErrConflict):
		msg := strings.TrimPrefix(err.Error(), ErrConflict.Error())
		if msg == err.Error() {
			msg = strings.TrimPrefix(msg, "api: ")
		}
		msg = strings.TrimPrefix(msg, ": ")
		if msg == "" {
			msg = fmt.Sprintf("automatic key management is off for %s (no key policy): its keys are not rolled", zone)
		}
		WriteError(w, http.StatusConflict, msg)
		return
	case err.Error() == ErrNotFound.Error() && errors.Is(err, ErrNotFound):
		err = fmt.Errorf("%w: zone %s", ErrNotFound, zone)
	}
	h.serviceError(w, r, err)
}

// normalizeKeyList fills in the zone when the service left it out and makes
// an empty key list encode as [] rather than null.
func normalizeKeyList(l KeyList, zone string) KeyList {
	if l.Zone == "" {
		l.Zone = zone
	}
	if l.Keys == nil {
		l.Keys = []KeyDetail{}
	}
	return l
}
