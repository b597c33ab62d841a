package api

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

func TestTokenFromFile(t *testing.T) {
	tests := []struct {
		name    string
		content string // "" with missing=true: no file
		missing bool
		want    string
		wantErr error
	}{
		{name: "plain", content: "abc", want: "abc"},
		{name: "trailing newline", content: "abc\n", want: "abc"},
		{name: "surrounding space", content: " \tabc \r\n\n", want: "abc"},
		{name: "empty", content: "", wantErr: ErrEmptyToken},
		{name: "white space only", content: " \n\t", wantErr: ErrEmptyToken},
		{name: "missing", missing: true, wantErr: fs.ErrNotExist},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "token")
			if !tc.missing {
				if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := TokenFromFile(path)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestEnsureTokenFile(t *testing.T) {
	random := bytes.Repeat([]byte{0xab}, 64)
	wantNew := strings.Repeat("ab", 32)

	t.Run("creates file and parents", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data", "sub")
		path := filepath.Join(dir, "token")
		tok, created, err := EnsureTokenFile(path, bytes.NewReader(random))
		if err != nil || !created || tok != wantNew {
			t.Fatalf("got %q, %t, %v; want %q, true, nil", tok, created, err, wantNew)
		}
		for p, want := range map[string]fs.FileMode{path: 0o600, dir: 0o700 | fs.ModeDir} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode() != want {
				t.Errorf("%s: mode %v, want %v", p, fi.Mode(), want)
			}
		}
		read, err := TokenFromFile(path)
		if err != nil || read != tok {
			t.Fatalf("reading back: %q, %v", read, err)
		}

		// Second call: keeps the token, does not touch random.
		tok2, created, err := EnsureTokenFile(path, iotest.ErrReader(errors.New("must not read")))
		if err != nil || created || tok2 != tok {
			t.Fatalf("second call: %q, %t, %v", tok2, created, err)
		}
	})
	t.Run("existing file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "token")
		if err := os.WriteFile(path, []byte("  mine\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		tok, created, err := EnsureTokenFile(path, nil)
		if err != nil || created || tok != "mine" {
			t.Fatalf("got %q, %t, %v", tok, created, err)
		}
	})
	t.Run("existing empty file is an error", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "token")
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, err := EnsureTokenFile(path, bytes.NewReader(random)); !errors.Is(err, ErrEmptyToken) {
			t.Fatalf("err = %v, want ErrEmptyToken", err)
		}
		if b, _ := os.ReadFile(path); len(b) != 0 {
			t.Errorf("empty file overwritten with %q", b)
		}
	})
	t.Run("short random", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "token")
		if _, _, err := EnsureTokenFile(path, bytes.NewReader(random[:10])); err == nil {
			t.Fatal("no error for a short random source")
		}
		if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("file left behind: %v", err)
		}
	})
	t.Run("crypto random", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "token")
		tok, created, err := EnsureTokenFile(path, nil)
		if err != nil || !created || len(tok) != 64 || tok == wantNew {
			t.Fatalf("got %q, %t, %v", tok, created, err)
		}
	})
	t.Run("unreadable path", func(t *testing.T) {
		// A directory where the file should be.
		path := t.TempDir()
		if _, _, err := EnsureTokenFile(path, bytes.NewReader(random)); err == nil {
			t.Fatal("no error for a directory")
		}
	})
}
