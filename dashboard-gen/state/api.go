package state

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// API is api/results.json: every run, one JSON array, one run per line, by build number. The
// file doubles as the generator's store of run summaries, so it is read back line by line
// without decoding what is not needed.
type API struct {
	builds []int64 // in file order
	lines  map[int64][]byte
	recipe map[int64]string
}

// ParseAPI indexes an api/results.json written by Bytes. Lines it cannot place (another
// layout, a torn file) are left out: their runs are missing from an incremental run's view, as
// if never read, so --full is the cure for a damaged file.
func ParseAPI(data []byte) *API {
	a := &API{lines: map[int64][]byte{}, recipe: map[int64]string{}}
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		line = bytes.TrimSuffix(line, []byte(","))
		n, recipe, ok := head(line)
		if !ok {
			continue
		}
		if _, dup := a.lines[n]; !dup {
			a.builds = append(a.builds, n)
		}
		a.lines[n], a.recipe[n] = line, recipe
	}
	if !slices.IsSorted(a.builds) {
		slices.Sort(a.builds)
	}
	return a
}

// head reads the build number and the recipe at the start of a run's line, as json.Marshal
// writes a Run: {"build":N,"run_id":"...","recipe":"...",...}.
func head(line []byte) (int64, string, bool) {
	if !bytes.HasSuffix(line, []byte("}")) {
		return 0, "", false
	}
	rest, ok := bytes.CutPrefix(line, []byte(`{"build":`))
	if !ok {
		return 0, "", false
	}
	end := bytes.IndexByte(rest, ',')
	if end < 0 {
		return 0, "", false
	}
	n, err := strconv.ParseInt(string(rest[:end]), 10, 64)
	if err != nil {
		return 0, "", false
	}
	_, after, ok := bytes.Cut(rest, []byte(`,"recipe":"`))
	if !ok {
		return 0, "", false
	}
	recipe, ok := jsonString(after)
	return n, recipe, ok
}

// jsonString reads the JSON string whose body starts data (just after its opening quote).
func jsonString(data []byte) (string, bool) {
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++ // the escaped character cannot end the string
		case '"':
			body := data[:i]
			if bytes.IndexByte(body, '\\') < 0 {
				return string(body), true
			}
			var s string
			if err := json.Unmarshal(append(append([]byte{'"'}, body...), '"'), &s); err != nil {
				return "", false
			}
			return s, true
		}
	}
	return "", false
}

// Len is how many runs the file holds.
func (a *API) Len() int { return len(a.builds) }

// Recipe decodes the runs of one recipe, by build number.
func (a *API) Recipe(name string) ([]Run, error) {
	var out []Run
	for _, n := range a.builds {
		if a.recipe[n] != name {
			continue
		}
		var r Run
		if err := json.Unmarshal(a.lines[n], &r); err != nil {
			return nil, fmt.Errorf("api/results.json, build %d: %w", n, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// Merge replaces the lines of runs already in the file and adds the others.
func (a *API) Merge(runs []Run) error {
	for i := range runs {
		line, err := json.Marshal(&runs[i])
		if err != nil {
			return fmt.Errorf("encode run %d: %w", runs[i].Build, err)
		}
		n := runs[i].Build
		if _, ok := a.lines[n]; !ok {
			a.builds = append(a.builds, n)
		}
		a.lines[n], a.recipe[n] = line, runs[i].Recipe
	}
	slices.SortFunc(a.builds, cmp.Compare[int64])
	return nil
}

// Bytes is the file: "[", one run per line, "]".
func (a *API) Bytes() []byte {
	var b bytes.Buffer
	_ = a.Write(&b) // a bytes.Buffer never fails
	return b.Bytes()
}

// Write writes the file to w, line by line (a large history's file is not built in memory).
func (a *API) Write(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	bw.WriteString("[\n")
	for i, n := range a.builds {
		if i > 0 {
			bw.WriteString(",\n")
		}
		bw.Write(a.lines[n])
	}
	bw.WriteString("\n]\n")
	return bw.Flush() // bufio keeps the first error of any write
}
