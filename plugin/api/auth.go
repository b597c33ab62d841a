package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// authorize checks the bearer token and answers 401 (or 500 when no token is
// configured) when it does not match. It reports whether the request may
// proceed.
func (h *handler) authorize(w http.ResponseWriter, r *http.Request) bool {
	if h.opts.Token == "" {
		WriteError(w, http.StatusInternalServerError, "server misconfigured: no API token set; every request is refused")
		return false
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		w.Header().Set("WWW-Authenticate", "Bearer")
		WriteError(w, http.StatusUnauthorized, "missing bearer token: send \"Authorization: Bearer <token>\" with the token from the server's token file")
		return false
	}
	// Hashing first makes the comparison constant-time in the token length
	// too.
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	if subtle.ConstantTimeCompare(sum[:], h.tokenSum[:]) != 1 {
		w.Header().Set("WWW-Authenticate", "Bearer")
		WriteError(w, http.StatusUnauthorized, "invalid bearer token: check the token against the server's token file")
		return false
	}
	return true
}
