package appconfig

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strings"
)

// abraShExport is the line abra takes from abra.sh: `export NAME=value` at the start of a line,
// the value starting with a word character. abra reads abra.sh with this same pattern and never
// runs it (toolshed/abra pkg/envfile ReadAbraShEnvVars: `^export\s+(\w+=\w+)`).
var abraShExport = regexp.MustCompile(`^export\s+(\w+)=(\w.*)$`)

// AbraShExports returns the `export NAME=value` lines of the recipe's abra.sh (nothing when the
// file does not exist). No shell is run: abra.sh is PR-authored, hostile input. As in abra, the
// value is the rest of the line, verbatim (no quotes are removed, nothing is expanded), and a line
// whose value holds another '=' is an error, naming the file and line. Other lines (functions,
// quoted or computed exports) are ignored, as abra ignores them.
func AbraShExports(path string) (map[string]string, error) {
	out := map[string]string{}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read abra.sh: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		m := abraShExport.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		if strings.Contains(m[2], "=") {
			return nil, fmt.Errorf("%s line %d: cannot parse %q: abra splits an export on '=' and wants exactly one",
				path, n, sc.Text())
		}
		out[m[1]] = m[2]
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return out, nil
}
