package render

import (
	"bytes"
	"encoding/xml"
	"fmt"

	"coopcloud.tech/cc-ci/dashboard-gen/state"
)

// badgeLabel is the left half of every badge.
const badgeLabel = "cc-ci"

// badgeColours are shields.io's named colours (red, orange, yellow, yellowgreen, green,
// brightgreen, blue, lightgrey) by LevelClass.
var badgeColours = map[string]string{
	"l0": "#e05d44", "fail": "#e05d44", "l1": "#fe7d37", "l2": "#dfb317", "l3": "#a4a61d",
	"l4": "#97ca00", "l5": "#4c1", "running": "#007ec6", "none": "#9f9f9f",
}

// Badge is a recipe's shields-style SVG badge: "cc-ci | level 3" in the level's colour, red for
// a fail, grey when there is no full verdict. current is the recipe's level-setting run or nil.
// Only the name (in the title, XML-escaped) comes from a build.
func Badge(name string, current *state.Run) []byte {
	text := BadgeText(current)
	colour := badgeColours[LevelClass(current)]
	lw, rw := textWidth(badgeLabel)+10, textWidth(text)+10
	title := esc(name + ": " + badgeLabel + " " + text)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="20" role="img" aria-label="%s">`, lw+rw, title)
	fmt.Fprintf(&b, `<title>%s</title>`, title)
	b.WriteString(`<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>`)
	fmt.Fprintf(&b, `<clipPath id="r"><rect width="%d" height="20" rx="3" fill="#fff"/></clipPath>`, lw+rw)
	fmt.Fprintf(&b, `<g clip-path="url(#r)"><rect width="%d" height="20" fill="#555"/><rect x="%d" width="%d" height="20" fill="%s"/><rect width="%d" height="20" fill="url(#s)"/></g>`,
		lw, lw, rw, colour, lw+rw)
	b.WriteString(`<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" text-rendering="geometricPrecision" font-size="11">`)
	for _, t := range []struct {
		x    int
		text string
	}{{lw / 2, badgeLabel}, {lw + rw/2, text}} {
		fmt.Fprintf(&b, `<text x="%d" y="15" fill="#010101" fill-opacity=".3">%s</text><text x="%d" y="14">%s</text>`, t.x, esc(t.text), t.x, esc(t.text))
	}
	b.WriteString("</g></svg>\n")
	return b.Bytes()
}

// esc escapes s for XML text and attribute values.
func esc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s)) // writes to memory: never fails
	return b.String()
}

// textWidth approximates the width in pixels of s in 11px Verdana, the badge font.
func textWidth(s string) int {
	w := 0.0
	for _, c := range s {
		switch {
		case c == 'i' || c == 'l' || c == '.' || c == ' ' || c == '·' || c == 'I' || c == 'j' || c == 't' || c == 'f' || c == 'r':
			w += 4
		case c == 'm' || c == 'w' || c == 'M' || c == 'W':
			w += 10
		case c >= 'A' && c <= 'Z':
			w += 7.5
		default:
			w += 6.8
		}
	}
	return int(w + 0.5)
}
