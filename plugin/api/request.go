package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// decode reads the request body, which must be exactly one JSON object with
// only known fields, into v. ServeHTTP has limited the body to MaxBody. On
// failure it writes the error response (400 or 413) and returns false.
func (h *handler) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	status, msg := decodeJSON(r, v)
	if status != 0 {
		WriteError(w, status, msg)
		return false
	}
	return true
}

// decodeJSON returns a zero status on success, otherwise the status and
// message to answer with.
func decodeJSON(r *http.Request, v any) (int, string) {
	body, status, msg := readBody(r)
	if status != 0 {
		return status, msg
	}
	return decodeBody(body, v)
}

// readBody reads the whole request body; a failure comes back as the status
// and message to answer with (413 past MaxBody).
func readBody(r *http.Request) ([]byte, int, string) {
	if r.Body == nil {
		return nil, 0, ""
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body too large: the limit is %d bytes; send fewer domains per request", mbe.Limit)
		}
		return nil, http.StatusBadRequest, "reading request body: " + err.Error()
	}
	return body, 0, ""
}

// decodeBody decodes body, which must be exactly one JSON object with only
// known fields, into v; see decodeJSON.
func decodeBody(body []byte, v any) (int, string) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return http.StatusBadRequest, "request body is empty; expected a JSON object"
	}
	if trimmed[0] != '{' {
		return http.StatusBadRequest, "request body must be a JSON object"
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return http.StatusBadRequest, describeJSONError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return http.StatusBadRequest, "request body has data after the JSON object; send exactly one object"
	}
	return 0, ""
}

// describeJSONError turns a decoding error into a message for the client.
func describeJSONError(err error) string {
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return fmt.Sprintf("request body is not valid JSON: %s (at byte %d)", strings.TrimPrefix(se.Error(), "json: "), se.Offset)
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && te.Field != "" {
		return fmt.Sprintf("field %q in request body must be %s, not JSON %s", te.Field, jsonKind(te.Type.String()), te.Value)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "request body is truncated JSON"
	}
	// Unknown fields: `json: unknown field "x"`.
	return "invalid request body: " + strings.TrimPrefix(err.Error(), "json: ")
}

// jsonKind names a Go type in JSON terms.
func jsonKind(goType string) string {
	goType = strings.TrimPrefix(goType, "*")
	switch {
	case goType == "string":
		return "a string"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	default:
		return "a " + goType
	}
}
