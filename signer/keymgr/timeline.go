package keymgr

import (
	"fmt"
	"html"
	"strings"
	"time"
)

// Text prints the timeline, one event per line, and the counters.
func (t *Timeline) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# zone %s (%s), %s .. %s, algorithm %d\n", t.Zone, t.Kind, t.Start.UTC().Format(time.RFC3339), t.End.UTC().Format(time.RFC3339), t.Policy.Algorithm)
	iv := t.Policy.Intervals()
	fmt.Fprintf(&b, "# Ipub %s  Iret %s  IpubC %s  IpubP %s  IretDS %s  IretKSK %s  Dsgn %s\n",
		fmtDur(iv.Ipub), fmtDur(iv.Iret), fmtDur(iv.IpubC), fmtDur(iv.IpubP), fmtDur(iv.IretDS), fmtDur(iv.IretKSK), fmtDur(iv.Dsgn))
	for _, e := range t.Events {
		fmt.Fprintf(&b, "%s  +%-12s %-8s %-4s alg %-3d %s\n", e.At.UTC().Format(time.RFC3339), fmtDur(e.At.Sub(t.Start)), e.KeyID, e.Role, e.Algorithm, e.What)
	}
	if t.Truncated {
		b.WriteString("# ... (timeline truncated; the check covered the whole run)\n")
	}
	for _, e := range t.Emergencies {
		fmt.Fprintf(&b, "# emergency %s roll at %s: resolvers may fail to validate until %s: announced %s; measured %s, %d instants flagged\n",
			e.Role, e.At.UTC().Format(time.RFC3339), e.At.Add(e.Announced.Duration).UTC().Format(time.RFC3339), e.Announced, fmtDur(e.Measured), e.Flagged)
	}
	fmt.Fprintf(&b, "# keys generated: ksk %d, zsk %d, csk %d; instants checked %d; combinations validated %d\n",
		t.Generated[KSK], t.Generated[ZSK], t.Generated[CSK], t.Steps, t.Combinations)
	return b.String()
}

// SVG draws the timeline: one lane per key (in creation order), a thin bar
// while its DS is at the parent, a light bar while its DNSKEY is published
// and a dark bar while it signs. Hand-written SVG, no dependencies.
func (t *Timeline) SVG() string {
	const (
		left, laneH, width = 140.0, 22.0, 1000.0
	)
	span := t.End.Sub(t.Start).Seconds()
	if span <= 0 {
		span = 1
	}
	x := func(at time.Time) float64 {
		if at.IsZero() || at.After(t.End) {
			at = t.End
		}
		return left + width*at.Sub(t.Start).Seconds()/span
	}
	var b strings.Builder
	h := laneH*float64(len(t.Keys)) + 50
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="monospace" font-size="11">`+"\n", left+width+20, h)
	fmt.Fprintf(&b, `<text x="4" y="14">%s (%s) %s .. %s</text>`+"\n", html.EscapeString(t.Zone), t.Kind, t.Start.UTC().Format(time.RFC3339), t.End.UTC().Format(time.RFC3339))
	colors := map[Role][2]string{KSK: {"#f4c7a1", "#c0561b"}, ZSK: {"#b7d3ee", "#1f5f9e"}, CSK: {"#c9e5c0", "#3b7d2b"}}
	for i, k := range t.Keys {
		y := 30 + laneH*float64(i)
		c := colors[k.Role]
		fmt.Fprintf(&b, `<text x="4" y="%.0f">%s alg %d</text>`+"\n", y+14, html.EscapeString(k.ID), k.Algorithm)
		if !k.DSSubmitted.IsZero() {
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.0f" width="%.1f" height="3" fill="#555"><title>DS %s</title></rect>`+"\n",
				x(k.DSSubmitted), y+17, x(k.DSWithdrawn)-x(k.DSSubmitted), html.EscapeString(k.ID))
		}
		if !k.Published.IsZero() {
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.0f" width="%.1f" height="16" fill="%s"><title>DNSKEY %s published</title></rect>`+"\n",
				x(k.Published), y, x(k.Removed)-x(k.Published), c[0], html.EscapeString(k.ID))
		}
		if !k.Active.IsZero() {
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.0f" width="%.1f" height="8" fill="%s"><title>%s signing</title></rect>`+"\n",
				x(k.Active), y+4, x(k.Retired)-x(k.Active), c[1], html.EscapeString(k.ID))
		}
	}
	b.WriteString("</svg>\n")
	return b.String()
}
