package testzones

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestToASCII(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr error
	}{
		{name: "ascii", in: "contoso.com", want: "contoso.com"},
		{name: "trailing dot", in: "contoso.com.", want: "contoso.com"},
		{name: "german", in: "bücher.de", want: "xn--bcher-kva.de"},
		{name: "city", in: "münchen.de", want: "xn--mnchen-3ya.de"},
		{name: "cyrillic", in: "пример.рф", want: "xn--e1afmkfd.xn--p1ai"},
		{name: "rfc3492 arabic", in: "ليهمابتكلموشعربي؟", want: "xn--egbpdaj6bu4bxfgehfvwxn"},
		{name: "rfc3492 chinese", in: "他们为什么不说中文", want: "xn--ihqwcrb4cv8a8dqg056pqjye"},
		{name: "mixed", in: "café-contoso.fr", want: "xn--caf-contoso-dbb.fr"},
		{name: "upper case", in: "Contoso.com", wantErr: ErrBadRune},
		{name: "underscore", in: "con_toso.com", wantErr: ErrBadRune},
		{name: "leading hyphen", in: "-contoso.com", wantErr: ErrBadRune},
		{name: "empty label", in: "contoso..com", wantErr: ErrEmptyLabel},
		{name: "long label", in: strings.Repeat("a", 64) + ".com", wantErr: ErrLabelLen},
		{name: "long idn label", in: "bücherzürichmünchenkölnđåøæœçñéèêëïîôûùüÿ" + "zürich.com", wantErr: ErrLabelLen},
		{name: "long name", in: strings.Repeat(strings.Repeat("a", 63)+".", 4) + "com", wantErr: ErrNameLen},
		{name: "invalid utf8", in: "\xff.com", wantErr: ErrBadRune},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ToASCII(tt.in)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ToASCII(%q) error = %v, want %v", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ToASCII(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ToASCII(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzToASCII(f *testing.F) {
	for _, s := range []string{"contoso.com", "bücher.de", "пример.рф", "a..b", "-x.com", "\xff", strings.Repeat("ü", 30)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := ToASCII(in)
		if err != nil {
			return
		}
		if len(out) > 253 {
			t.Fatalf("ToASCII(%q) = %d octets", in, len(out))
		}
		for _, l := range strings.Split(out, ".") {
			if l == "" || len(l) > 63 {
				t.Fatalf("ToASCII(%q) = %q: bad label %q", in, out, l)
			}
			for i := 0; i < len(l); i++ {
				if l[i] >= utf8.RuneSelf {
					t.Fatalf("ToASCII(%q) = %q: not ASCII", in, out)
				}
			}
		}
		// Converting an A-label name again must not change it.
		again, err := ToASCII(out)
		if err != nil || again != out {
			t.Fatalf("ToASCII(%q) = %q, %v; not idempotent", out, again, err)
		}
	})
}
