package testzones

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// Kind is the shape of a generated customer domain.
type Kind int

// The kinds of domain Domains mixes, with their share of the output.
const (
	KindPlain      Kind = iota // contosotraders.com (50 %)
	KindHyphenated             // north-wind-traders.net (20 %)
	KindMultiLabel             // fabrikam.co.uk, eu.contoso.de (14 %)
	KindIDN                    // bücher.de, пример.рф (12 %)
	KindLong                   // a name of 240 to 253 octets (4 %)
)

// kindShares are cumulative percentages, indexed by Kind.
var kindShares = [...]int{50, 70, 84, 96, 100}

var (
	words = []string{
		"contoso", "fabrikam", "northwind", "adatum", "tailspin", "wingtip", "litware",
		"proseware", "woodgrove", "fourthcoffee", "alpine", "blueyonder", "coho", "lucerne",
		"margie", "relecloud", "trey", "wideworld", "humongous", "graphic", "acme", "globex",
		"initech", "umbrella", "stark", "wayne", "hooli", "vandelay", "soylent", "cyberdyne",
		"aperture", "massive", "dynamic", "pinnacle", "summit", "harbor", "river", "maple",
		"cedar", "granite", "silver", "golden", "orbit", "quantum", "vertex", "nimbus",
		"atlas", "apex", "zenith", "sterling", "bright", "clear", "swift", "true", "prime",
		"blue", "green", "red", "north", "south", "east", "west", "city", "metro",
	}
	suffixes = []string{
		"", "", "", "mail", "tech", "labs", "group", "corp", "systems", "media", "health",
		"bank", "law", "travel", "foods", "energy", "cloud", "net", "design", "studio",
		"consulting", "partners", "logistics", "capital", "shop", "works", "hq", "online",
	}
	tlds      = []string{"com", "com", "com", "com", "net", "org", "io", "de", "fr", "nl", "ch", "se", "eu", "biz", "info", "us", "ca"}
	ccSLDs    = []string{"co.uk", "org.uk", "com.au", "co.nz", "co.jp", "com.br", "co.za", "com.mx"}
	subLabels = []string{"eu", "us", "mail", "corp", "intl", "de", "apac", "staff"}
	idnWords  = []string{
		"bücher", "münchen", "zürich", "café", "köln", "düsseldorf", "españa", "niño",
		"été", "göteborg", "malmö", "århus", "københavn", "łódź", "kraków", "přístav",
		"strömstad", "smörgås", "façade", "señor", "göttingen", "öko", "bär", "fähre",
	}
	idnTLDs      = []string{"de", "de", "ch", "at", "es", "fr", "se", "dk", "pl", "cz", "com", "eu"}
	cyrillic     = []string{"пример", "почта", "компания", "магазин", "банк", "новости"}
	cyrillicTLDs = []string{"рф", "рф", "бг", "com"}
	longAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
)

// Domains returns n distinct customer domain names (lower case, no trailing
// dot) derived from seed. The mix follows the Kind constants: mostly plain
// and hyphenated names under common TLDs, names under second-level country
// domains and customer subdomains, internationalised names in U-label form
// (convert them with ToASCII), and a few names close to the 253-octet limit.
// Every name converts with ToASCII without error. The same seed and n always
// give the same list, and a longer list begins with the shorter one.
func Domains(seed string, n int) []string {
	if n <= 0 {
		return nil
	}
	r := newRand(seed, "domains")
	out := make([]string, 0, n)
	seen := make(map[string]struct{}, n)
	for len(out) < n {
		d := domain(r, kindFor(r.IntN(100)))
		// Collisions get a numeric tag on their first label, drawn from the
		// same stream, so the result stays deterministic.
		for tries := 0; ; tries++ {
			if _, dup := seen[d]; !dup {
				break
			}
			d = tagFirstLabel(d, r.IntN(1000*(tries+1)))
		}
		seen[d] = struct{}{}
		out = append(out, d)
	}
	return out
}

func kindFor(pct int) Kind {
	for k, share := range kindShares {
		if pct < share {
			return Kind(k)
		}
	}
	return KindPlain
}

func domain(r *rand.Rand, k Kind) string {
	switch k {
	case KindHyphenated:
		parts := []string{pick(r, words), pick(r, words)}
		if r.IntN(3) == 0 {
			parts = append(parts, pick(r, suffixes[3:]))
		}
		return strings.Join(parts, "-") + "." + pick(r, tlds)
	case KindMultiLabel:
		if r.IntN(2) == 0 {
			return pick(r, words) + pick(r, suffixes) + "." + pick(r, ccSLDs)
		}
		return pick(r, subLabels) + "." + pick(r, words) + "." + pick(r, tlds)
	case KindIDN:
		if r.IntN(5) == 0 {
			return pick(r, cyrillic) + "." + pick(r, cyrillicTLDs)
		}
		w := pick(r, idnWords)
		if r.IntN(2) == 0 {
			w += "-" + pick(r, words)
		}
		return w + "." + pick(r, idnTLDs)
	case KindLong:
		return longDomain(r)
	default:
		return pick(r, words) + pick(r, suffixes) + "." + pick(r, tlds)
	}
}

// longDomain builds a name of 240 to 253 octets: full 63-octet labels, one
// shorter label and a common TLD.
func longDomain(r *rand.Rand) string {
	tld := pick(r, tlds)
	body := 240 + r.IntN(14) - len(tld) - 1 // labels and their dots, before the TLD
	k := (body + 64) / 64                   // labels needed: ceil((body+1)/64)
	labels := make([]string, 0, k)
	for range k - 1 {
		labels = append(labels, randLabel(r, 63))
	}
	labels = append(labels, randLabel(r, body-64*(k-1)))
	return strings.Join(labels, ".") + "." + tld
}

func randLabel(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = longAlphabet[r.IntN(len(longAlphabet))]
	}
	b[0] = longAlphabet[r.IntN(26)]
	return string(b)
}

// tagFirstLabel appends a number to the first label, trimming the label if
// that would exceed 63 octets or the name 253 octets.
func tagFirstLabel(d string, tag int) string {
	first, rest, _ := strings.Cut(d, ".")
	t := strconv.Itoa(tag)
	over := max(len(first)+len(t)-63, len(d)+len(t)-253, 0)
	if over > 0 {
		first = first[:len(first)-over]
	}
	return first + t + "." + rest
}
