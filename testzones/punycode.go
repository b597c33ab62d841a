package testzones

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Punycode parameters (RFC 3492 §5).
const (
	pcBase        = 36
	pcTMin        = 1
	pcTMax        = 26
	pcSkew        = 38
	pcDamp        = 700
	pcInitialBias = 72
	pcInitialN    = 128
	acePrefix     = "xn--"
)

// Errors returned by ToASCII.
var (
	ErrEmptyLabel = errors.New("testzones: empty label")
	ErrLabelLen   = errors.New("testzones: label longer than 63 octets")
	ErrNameLen    = errors.New("testzones: name longer than 253 octets")
	ErrBadRune    = errors.New("testzones: invalid character in label")
)

// ToASCII converts a domain name in U-label form (for example "bücher.de") to
// its A-label form ("xn--bcher-kva.de") with the Punycode encoding of RFC
// 3492, and checks the result against the DNS length limits (labels of at
// most 63 octets, names of at most 253 octets without the trailing dot).
//
// It is not a full IDNA2008 implementation: it performs no mapping or
// normalisation and only rejects characters that can never appear in a host
// name (upper-case ASCII, ASCII other than letters, digits and hyphen,
// invalid UTF-8). The names Domains produces are already in normal form.
func ToASCII(name string) (string, error) {
	name = strings.TrimSuffix(name, ".")
	labels := strings.Split(name, ".")
	for i, l := range labels {
		a, err := labelToASCII(l)
		if err != nil {
			return "", fmt.Errorf("label %q: %w", l, err)
		}
		labels[i] = a
	}
	out := strings.Join(labels, ".")
	if len(out) > 253 {
		return "", fmt.Errorf("%q: %w", out, ErrNameLen)
	}
	return out, nil
}

func labelToASCII(l string) (string, error) {
	if l == "" {
		return "", ErrEmptyLabel
	}
	if !utf8.ValidString(l) {
		return "", ErrBadRune
	}
	ascii := true
	for _, r := range l {
		switch {
		case r >= 0x80:
			ascii = false
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
		default:
			return "", ErrBadRune
		}
	}
	if l[0] == '-' || l[len(l)-1] == '-' {
		return "", ErrBadRune
	}
	if !ascii {
		l = acePrefix + punyEncode(l)
	}
	if len(l) > 63 {
		return "", ErrLabelLen
	}
	return l, nil
}

// punyEncode is the encoding procedure of RFC 3492 §6.3.
func punyEncode(s string) string {
	runes := []rune(s)
	out := make([]byte, 0, len(s)+8)
	for _, r := range runes {
		if r < 0x80 {
			out = append(out, byte(r))
		}
	}
	b := len(out)
	h := b
	if b > 0 {
		out = append(out, '-')
	}
	n, delta, bias := rune(pcInitialN), 0, pcInitialBias
	for h < len(runes) {
		m := rune(utf8.MaxRune)
		for _, r := range runes {
			if r >= n && r < m {
				m = r
			}
		}
		delta += int(m-n) * (h + 1)
		n = m
		for _, r := range runes {
			if r < n {
				delta++
			}
			if r != n {
				continue
			}
			q := delta
			for k := pcBase; ; k += pcBase {
				t := k - bias
				if t < pcTMin {
					t = pcTMin
				} else if t > pcTMax {
					t = pcTMax
				}
				if q < t {
					break
				}
				out = append(out, punyDigit(t+(q-t)%(pcBase-t)))
				q = (q - t) / (pcBase - t)
			}
			out = append(out, punyDigit(q))
			bias = punyAdapt(delta, h+1, h == b)
			delta = 0
			h++
		}
		delta++
		n++
	}
	return string(out)
}

func punyDigit(d int) byte {
	if d < 26 {
		return byte('a' + d)
	}
	return byte('0' + d - 26)
}

func punyAdapt(delta, numPoints int, first bool) int {
	if first {
		delta /= pcDamp
	} else {
		delta /= 2
	}
	delta += delta / numPoints
	k := 0
	for delta > ((pcBase-pcTMin)*pcTMax)/2 {
		delta /= pcBase - pcTMin
		k += pcBase
	}
	return k + (pcBase-pcTMin+1)*delta/(delta+pcSkew)
}
