package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// writeJSON writes v as the JSON body with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(Error{Error: "internal server error: encoding the response failed"})
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// writeError writes an Error body.
func WriteError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, Error{Error: msg})
}

// statusOf maps a Service error to a status code; 0 means unexpected.
func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrConflict):
		return http.StatusConflict
	case errors.Is(err, ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, ErrUnavailable):
		return http.StatusServiceUnavailable
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	case errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable
	}
	return 0
}

// serviceError answers with the status mapped from err. Expected errors are
// shown to the client without the "api: " prefix; anything else is logged
// and hidden behind a 500.
func (h *handler) serviceError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	if status == 0 {
		h.internalError(w, r, err)
		return
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	WriteError(w, status, strings.TrimPrefix(err.Error(), "api: "))
}

// internalError logs err and answers 500.
func (h *handler) internalError(w http.ResponseWriter, r *http.Request, err error) {
	h.logf("api: %s %s: %v", r.Method, r.URL.Path, err)
	WriteError(w, http.StatusInternalServerError, "internal server error; the details are in the mxsign log")
}

func (h *handler) logf(format string, args ...any) {
	if h.opts.Logf != nil {
		h.opts.Logf(format, args...)
	}
}

// recoverPanic turns a panic in the service into a logged 500, unless the
// response was already started or the panic is http.ErrAbortHandler.
func (h *handler) recoverPanic(w *statusWriter, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	h.logf("api: %s %s: panic: %v", r.Method, r.URL.Path, v)
	if !w.wroteHeader {
		WriteError(w, http.StatusInternalServerError, "internal server error; the details are in the mxsign log")
	}
}

// statusWriter records whether the response has been started.
type statusWriter struct {
	http.ResponseWriter
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(status int) {
	w.wroteHeader = true
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

// Flush sends buffered data to the client, for a Forward that streams a
// proxied answer through a plain http.Flusher assertion.
func (w *statusWriter) Flush() {
	w.wroteHeader = true
	http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
