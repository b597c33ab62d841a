package api

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrEmptyToken is returned for a token file holding only white space.
var ErrEmptyToken = errors.New("api: token file is empty")

// tokenBytes is the number of random bytes in a generated token; the token
// is their hex encoding.
const tokenBytes = 32

// TokenFromFile reads a bearer token from path, trimming surrounding white
// space.
func TokenFromFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("api: reading token: %w", err)
	}
	tok := string(bytes.TrimSpace(b))
	if tok == "" {
		return "", fmt.Errorf("%w: %s", ErrEmptyToken, path)
	}
	return tok, nil
}

// EnsureTokenFile returns the token stored at path. When the file does not
// exist it creates it (mode 0600, parent directories 0700) holding the hex
// encoding of 32 bytes read from random (crypto/rand when nil), and reports
// created. An existing empty file is an error, never overwritten.
func EnsureTokenFile(path string, random io.Reader) (token string, created bool, err error) {
	tok, err := TokenFromFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return tok, false, err
	}
	if random == nil {
		random = rand.Reader
	}
	buf := make([]byte, tokenBytes)
	if _, err := io.ReadFull(random, buf); err != nil {
		return "", false, fmt.Errorf("api: generating token: %w", err)
	}
	tok = hex.EncodeToString(buf)

	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", false, fmt.Errorf("api: creating token directory: %w", err)
	}
	// O_EXCL: if another process created the file meanwhile, use its token.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		tok, err := TokenFromFile(path)
		return tok, false, err
	}
	if err != nil {
		return "", false, fmt.Errorf("api: creating token file: %w", err)
	}
	_, werr := f.WriteString(tok + "\n")
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(path)
		return "", false, fmt.Errorf("api: writing token file: %w", werr)
	}
	return tok, true, nil
}
