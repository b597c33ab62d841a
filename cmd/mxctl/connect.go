package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path/filepath"

	"github.com/mxsign/mxsign/plugin/api"
	"github.com/mxsign/mxsign/plugin/api/client"
)

// discoveredTokenFiles are tried, relative to the working directory, when
// no token is given: the embedded default server keeps its data in ./data.
var discoveredTokenFiles = []string{filepath.Join("data", "token"), "token"}

// errNoToken is returned when no token is given and none is found.
var errNoToken = errors.New("no API token: pass --token or --token-file, set MXSIGN_TOKEN, or run where data/token exists")

// path resolves a relative path against c.dir.
func (c *cli) path(p string) string {
	if c.dir == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

// token finds the bearer token, in this order: --token, --token-file,
// MXSIGN_TOKEN, MXSIGN_TOKEN_FILE, ./data/token, ./token.
func (c *cli) token() (string, error) {
	switch {
	case c.g.set["token"]:
		if c.g.token == "" {
			return "", errors.New("--token is empty")
		}
		return c.g.token, nil
	case c.g.set["token-file"]:
		return api.TokenFromFile(c.path(c.g.tokenFile))
	}
	if t := c.env("MXSIGN_TOKEN"); t != "" {
		return t, nil
	}
	if f := c.env("MXSIGN_TOKEN_FILE"); f != "" {
		return api.TokenFromFile(c.path(f))
	}
	for _, p := range discoveredTokenFiles {
		tok, err := api.TokenFromFile(c.path(p))
		if err == nil {
			return tok, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
	}
	return "", errNoToken
}

// client returns an API client, or the exit code after reporting why there
// is none.
func (c *cli) client() (*client.Client, int) {
	tok, err := c.token()
	if err != nil {
		fmt.Fprintf(c.stderr, "mxctl: %v\n", err)
		return nil, exitUnreachable
	}
	cl := client.New(c.g.api, tok)
	cl.HTTP = &http.Client{Timeout: c.g.timeout}
	return cl, exitOK
}
