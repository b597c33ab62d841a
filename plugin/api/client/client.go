// Package client is a Go client for the mxsign admin API (package api).
//
//	c := client.New("127.0.0.1:8053", token)
//	d, err := c.AddDomain(ctx, "contoso.com")
//
// Non-2xx answers are returned as *StatusError; network failures as the
// underlying *url.Error; answers that cannot be decoded wrap
// ErrBadResponse.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/mxsign/mxsign/plugin/api"
)

// maxResponse bounds the size of a response body the client reads.
const maxResponse = 64 << 20

// ErrBadResponse is wrapped by errors for answers that are not the JSON the
// API promises (a proxy's HTML page, a truncated body).
var ErrBadResponse = errors.New("client: malformed response")

// Client talks to one mxsign admin API endpoint. The zero HTTP uses
// http.DefaultClient. A Client is safe for concurrent use if its fields are
// not changed.
type Client struct {
	BaseURL string       // "http://127.0.0.1:8053", no trailing slash
	Token   string       // bearer token
	HTTP    *http.Client // nil: http.DefaultClient
}

// New returns a client for baseURL, which may omit the scheme
// ("127.0.0.1:8053" means "http://127.0.0.1:8053").
func New(baseURL, token string) *Client {
	if !strings.Contains(baseURL, "://") {
		baseURL = "http://" + baseURL
	}
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Token: token}
}

// StatusError is a non-2xx answer from the API.
type StatusError struct {
	Status  int    // HTTP status code
	Message string // the "error" field of the body, or the status text
}

func (e *StatusError) Error() string { return strconv.Itoa(e.Status) + ": " + e.Message }

// AddDomain adds one domain (POST /v1/domains). An existing domain is a
// *StatusError with Status 409.
func (c *Client) AddDomain(ctx context.Context, domain string) (api.Domain, error) {
	var d api.Domain
	err := c.do(ctx, http.MethodPost, "/v1/domains", api.AddRequest{Domain: domain}, &d)
	return d, err
}

// AddDomains adds up to api.DefaultMaxBatch domains in one request (POST
// /v1/domains:batch). Per-domain failures are in the items, not in err.
func (c *Client) AddDomains(ctx context.Context, domains []string) (api.BatchResponse, error) {
	var resp api.BatchResponse
	err := c.do(ctx, http.MethodPost, "/v1/domains:batch", api.BatchRequest{Domains: domains}, &resp)
	return resp, err
}

// GetDomain returns one domain; an unknown one is a *StatusError with Status
// 404.
func (c *Client) GetDomain(ctx context.Context, domain string) (api.Domain, error) {
	var d api.Domain
	err := c.do(ctx, http.MethodGet, "/v1/domains/"+url.PathEscape(domain), nil, &d)
	return d, err
}

// ListDomains returns one page of at most limit domains following after;
// limit 0 means the server's default, after "" the first page.
func (c *Client) ListDomains(ctx context.Context, after string, limit int) (api.DomainList, error) {
	q := url.Values{}
	if limit != 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if after != "" {
		q.Set("after", after)
	}
	path := "/v1/domains"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var l api.DomainList
	err := c.do(ctx, http.MethodGet, path, nil, &l)
	return l, err
}

// DeleteDomain removes a domain; an unknown one is a *StatusError with
// Status 404.
func (c *Client) DeleteDomain(ctx context.Context, domain string) error {
	return c.do(ctx, http.MethodDelete, "/v1/domains/"+url.PathEscape(domain), nil, nil)
}

// Zones lists the parent zone and its shards.
func (c *Client) Zones(ctx context.Context) (api.ZoneList, error) {
	var l api.ZoneList
	err := c.do(ctx, http.MethodGet, "/v1/zones", nil, &l)
	return l, err
}

// DS returns the DS records of zone (with or without the trailing dot).
func (c *Client) DS(ctx context.Context, zone string) (api.DSList, error) {
	var l api.DSList
	err := c.do(ctx, http.MethodGet, "/v1/zones/"+url.PathEscape(zone)+"/ds", nil, &l)
	return l, err
}

// Keys returns the keys of zone (with or without the trailing dot) and where
// its rollover stands (GET /v1/zones/{zone}/keys). An unknown zone is a
// *StatusError with Status 404, as is a server without key management.
func (c *Client) Keys(ctx context.Context, zone string) (api.KeyList, error) {
	var l api.KeyList
	err := c.do(ctx, http.MethodGet, "/v1/zones/"+url.PathEscape(zone)+"/keys", nil, &l)
	return l, err
}

// Rollover asks for an early key rollover of zone (POST
// /v1/zones/{zone}/rollover) and returns the key list once the request is
// recorded. A zone without a key policy is a *StatusError with Status 409,
// an invalid role or algorithm one with Status 400.
func (c *Client) Rollover(ctx context.Context, zone string, req api.RolloverRequest) (api.KeyList, error) {
	var l api.KeyList
	err := c.do(ctx, http.MethodPost, "/v1/zones/"+url.PathEscape(zone)+"/rollover", req, &l)
	return l, err
}

// DSSeen confirms that the parent (the registry) publishes the new DS of
// zone (POST /v1/zones/{zone}/ds-seen). A zone without a key policy is a
// *StatusError with Status 409.
func (c *Client) DSSeen(ctx context.Context, zone string) error {
	return c.do(ctx, http.MethodPost, "/v1/zones/"+url.PathEscape(zone)+"/ds-seen", nil, nil)
}

// ClusterStatus returns the cluster's leader and members (GET /v1/cluster).
// A server without clustering answers a *StatusError with Status 404.
func (c *Client) ClusterStatus(ctx context.Context) (api.ClusterStatus, error) {
	var st api.ClusterStatus
	err := c.do(ctx, http.MethodGet, "/v1/cluster", nil, &st)
	return st, err
}

// Join asks the server to add a node to the cluster (POST
// /v1/cluster/join); a nil req.Voter adds a voter. Joining a node that is
// already a member succeeds. Without a leader the error is a *StatusError
// with Status 503.
func (c *Client) Join(ctx context.Context, req api.JoinRequest) error {
	return c.do(ctx, http.MethodPost, "/v1/cluster/join", req, nil)
}

// RemoveNode removes a node from the cluster (DELETE
// /v1/cluster/nodes/{id}); an unknown one is a *StatusError with Status 404.
func (c *Client) RemoveNode(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/cluster/nodes/"+url.PathEscape(id), nil, nil)
}

// do sends in (when not nil) as the JSON body and decodes a 2xx answer into
// out (when not nil).
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("client: encoding request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.Token)

	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("%w: %s %s: reading body: %w", ErrBadResponse, method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return statusError(resp.StatusCode, b)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%w: %s %s: %w", ErrBadResponse, method, path, err)
	}
	return nil
}

// statusError builds the error for a non-2xx answer, preferring the API's
// JSON message.
func statusError(status int, body []byte) *StatusError {
	var e api.Error
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		return &StatusError{Status: status, Message: e.Error}
	}
	msg := http.StatusText(status)
	if msg == "" {
		msg = "unexpected status"
	}
	return &StatusError{Status: status, Message: msg}
}
