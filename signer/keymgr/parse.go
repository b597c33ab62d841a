package keymgr

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// ParsePolicy reads a policy as "name value" lines, starting from
// DefaultPolicy. Names are the Corefile ones: algorithm, csk, zsk-lifetime,
// ksk-lifetime, dnskey-ttl, max-zone-ttl, propagation-delay, parent-ds-ttl,
// parent-propagation-delay, publish-safety, retire-safety,
// signature-validity, signature-refresh, signature-cache-max-age. Durations
// are Go durations or integers with a unit among s, m, h, d, w ("30d",
// "1h30m", "90s", "0"). '#' starts a comment. A "policy {" line and a "}"
// line are ignored so that a Corefile block can be pasted. The result is
// validated.
func ParsePolicy(r io.Reader) (Policy, error) {
	p := DefaultPolicy()
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		f := strings.Fields(text)
		if len(f) == 0 || (len(f) == 1 && f[0] == "}") || (len(f) == 2 && f[1] == "{") {
			continue
		}
		if len(f) != 2 {
			return Policy{}, fmt.Errorf("%w: line %d: want \"name value\", got %q", ErrParse, line, strings.TrimSpace(text))
		}
		if err := p.set(f[0], f[1]); err != nil {
			return Policy{}, fmt.Errorf("%w: line %d: %w", ErrParse, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return Policy{}, fmt.Errorf("%w: %w", ErrParse, err)
	}
	if err := p.Validate(); err != nil {
		return Policy{}, err
	}
	return p, nil
}

func (p *Policy) set(name, value string) error {
	switch name {
	case "algorithm":
		switch strings.ToLower(value) {
		case "13", "ecdsap256sha256", "ecdsa256":
			p.Algorithm = 13
		case "15", "ed25519":
			p.Algorithm = 15
		default:
			return fmt.Errorf("unknown algorithm %q", value)
		}
		return nil
	case "csk":
		b, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("csk: want true or false, got %q", value)
		}
		p.CSK = b
		return nil
	}
	dst := map[string]*time.Duration{
		"zsk-lifetime":             &p.ZSKLifetime,
		"ksk-lifetime":             &p.KSKLifetime,
		"dnskey-ttl":               &p.DNSKEYTTL,
		"max-zone-ttl":             &p.MaxZoneTTL,
		"propagation-delay":        &p.PropagationDelay,
		"parent-ds-ttl":            &p.ParentDSTTL,
		"parent-propagation-delay": &p.ParentPropagationDelay,
		"publish-safety":           &p.PublishSafety,
		"retire-safety":            &p.RetireSafety,
		"signature-validity":       &p.SignatureValidity,
		"signature-refresh":        &p.SignatureRefresh,
		"signature-cache-max-age":  &p.SignatureCacheMaxAge,
	}[name]
	if dst == nil {
		return fmt.Errorf("unknown setting %q", name)
	}
	d, err := ParseDuration(value)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	*dst = d
	return nil
}

// ParseDuration parses "0", a Go duration ("1h30m", "90s") or a sequence of
// integers with units s, m, h, d (24h) and w (7d), such as "30d" or "1d12h".
// Negative values are refused.
func ParseDuration(s string) (time.Duration, error) {
	if s == "0" {
		return 0, nil
	}
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	var total time.Duration
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		j := i
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') {
			j++
		}
		var unit time.Duration
		switch rest[i:j] {
		case "ns":
			unit = time.Nanosecond
		case "us", "µs":
			unit = time.Microsecond
		case "ms":
			unit = time.Millisecond
		case "s":
			unit = time.Second
		case "m":
			unit = time.Minute
		case "h":
			unit = time.Hour
		case "d":
			unit = 24 * time.Hour
		case "w":
			unit = 7 * 24 * time.Hour
		default:
			return 0, fmt.Errorf("bad unit %q in duration %q", rest[i:j], s)
		}
		const maxDur = time.Duration(1<<63 - 1)
		if n > int64(maxDur/unit) || total > maxDur-time.Duration(n)*unit {
			return 0, fmt.Errorf("duration %q overflows", s)
		}
		total += time.Duration(n) * unit
		rest = rest[j:]
	}
	return total, nil
}

// fmtDur prints a duration compactly, with days: "30d", "1h5m", "90s".
func fmtDur(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	if d < time.Second {
		b.WriteString(d.String())
		return b.String()
	}
	for _, u := range []struct {
		s string
		d time.Duration
	}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}} {
		if d >= u.d {
			fmt.Fprintf(&b, "%d%s", d/u.d, u.s)
			d %= u.d
		}
	}
	return b.String()
}
