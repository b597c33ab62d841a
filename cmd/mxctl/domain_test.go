package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestReadDomains(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{name: "empty", in: "", want: nil},
		{name: "one", in: "contoso.com", want: []string{"contoso.com"}},
		{name: "comments and blanks", in: "# header\n\ncontoso.com\n   \n\t# indented comment\nfabrikam.com # trailing\n", want: []string{"contoso.com", "fabrikam.com"}},
		{name: "CRLF", in: "contoso.com\r\nfabrikam.com\r\n", want: []string{"contoso.com", "fabrikam.com"}},
		{name: "inner space kept for the server to reject", in: "bad name\n", want: []string{"bad name"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &cli{stdin: strings.NewReader(tc.in)}
			got, err := c.readDomains("-")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzReadDomains(f *testing.F) {
	for _, s := range []string{"", "contoso.com\n", "# c\n\na.com # x\r\n", "#\n#\n", "a\x00b\n", strings.Repeat("x", 70000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c := &cli{stdin: strings.NewReader(in)}
		got, err := c.readDomains("-")
		if err != nil {
			return // a line longer than the scanner's limit
		}
		for _, d := range got {
			if d == "" || strings.Contains(d, "#") || strings.Contains(d, "\n") || strings.TrimSpace(d) != d {
				t.Fatalf("bad domain %q from %q", d, in)
			}
		}
	})
}

func TestChunks(t *testing.T) {
	tests := []struct {
		n, size int
		want    []int
	}{
		{n: 0, size: 1000, want: nil},
		{n: 1, size: 1000, want: []int{1}},
		{n: 1000, size: 1000, want: []int{1000}},
		{n: 2001, size: 1000, want: []int{1000, 1000, 1}},
	}
	for _, tc := range tests {
		var got []int
		total := 0
		for c := range chunks(make([]string, tc.n), tc.size) {
			got = append(got, len(c))
			total += len(c)
		}
		if !reflect.DeepEqual(got, tc.want) || total != tc.n {
			t.Errorf("chunks(%d, %d) = %v, want %v", tc.n, tc.size, got, tc.want)
		}
	}
}
