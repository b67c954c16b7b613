package fakegithub

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// GitHub's list endpoints take page (from 1) and per_page (default 30, at most 100) and answer
// with a Link header whose rel="next" / "last" / "first" / "prev" entries are absolute URLs of
// the same request with another page; the last page has no rel="next".
// https://docs.github.com/rest/using-the-rest-api/using-pagination-in-the-rest-api
const (
	defaultPerPage = 30
	maxPerPage     = 100
)

// paginate returns the bounds [lo, hi) of the requested page over n items and sets the Link
// header for it.
func paginate(w http.ResponseWriter, r *http.Request, n int) (lo, hi int) {
	q := r.URL.Query()
	page := atoiOr(q.Get("page"), 1)
	if page < 1 {
		page = 1
	}
	per := atoiOr(q.Get("per_page"), defaultPerPage)
	if per < 1 {
		per = defaultPerPage
	}
	per = min(per, maxPerPage)
	last := max(1, (n+per-1)/per)

	var links []string
	link := func(p int, rel string) {
		links = append(links, fmt.Sprintf("<%s>; rel=%q", pageURL(r, p), rel))
	}
	if page > 1 {
		link(page-1, "prev")
	}
	if page < last {
		link(page+1, "next")
		link(last, "last")
	}
	if page > 1 {
		link(1, "first")
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}

	lo = min((page-1)*per, n)
	hi = min(lo+per, n)
	return lo, hi
}

// pageURL is the absolute URL of r's request with page set to p.
func pageURL(r *http.Request, p int) string {
	prefix, _ := r.Context().Value(prefixKey{}).(string)
	q := r.URL.Query()
	q.Set("page", strconv.Itoa(p))
	u := url.URL{Scheme: "http", Host: r.Host, Path: prefix + r.URL.Path, RawQuery: q.Encode()}
	return u.String()
}

func atoiOr(s string, def int) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return n
}
