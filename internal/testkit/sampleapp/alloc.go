package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
)

// maxAllocMB bounds APP_ALLOC_MB: enough to exceed any limit a test sets, and a typo such as an
// extra zero cannot ask the host for terabytes.
const maxAllocMB = 64 << 10

// pageSize is the stride allocAtStart writes at: one byte per page makes every page resident.
const pageSize = 4096

// ballast keeps what allocAtStart took for as long as the app runs, like an app whose working set
// stays allocated; without a live reference the garbage collector could give it back.
var ballast []byte

// allocAtStart implements APP_ALLOC_MB=N: before the app does anything else it allocates N MiB and
// writes to every page of it, so the memory is really resident (an allocation alone is only
// address space). Under a memory limit below N MiB the kernel OOM-kills the app during start,
// which is how the known-bad variant proves that an OOM kill is reported as one. Unset or empty
// does nothing.
func allocAtStart(getenv func(string) string, stdout io.Writer) error {
	v := getenv("APP_ALLOC_MB")
	if v == "" {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 || n > maxAllocMB {
		return fmt.Errorf("APP_ALLOC_MB=%q: want a whole number of MiB from 1 to %d", v, maxAllocMB)
	}
	fmt.Fprintf(stdout, "allocating %d MiB before serving (APP_ALLOC_MB)\n", n)
	if f, ok := stdout.(*os.File); ok {
		_ = f.Sync() // the line should reach the log even if the kernel kills us next
	}
	buf := make([]byte, n<<20)
	for i := 0; i < len(buf); i += pageSize {
		buf[i] = 1
	}
	ballast = buf
	fmt.Fprintf(stdout, "allocated and touched %d MiB\n", n)
	return nil
}
