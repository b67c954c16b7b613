package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Not parallel: it sets the package's ballast.
func TestAllocAtStartHoldsTheMemoryItWasAskedFor(t *testing.T) {
	var out strings.Builder
	require.NoError(t, allocAtStart(func(k string) string { return map[string]string{"APP_ALLOC_MB": "8"}[k] }, &out))
	assert.Len(t, ballast, 8<<20)
	assert.Equal(t, byte(1), ballast[0])
	assert.Equal(t, byte(1), ballast[len(ballast)-pageSize], "every page was written, so it is resident")
	assert.Equal(t, "allocating 8 MiB before serving (APP_ALLOC_MB)\nallocated and touched 8 MiB\n", out.String())
	ballast = nil
}

func TestAllocAtStartRefusesWhatIsNotASize(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, value, wantErr string }{
		{"unset does nothing", "", ""},
		{"not a number", "lots", `APP_ALLOC_MB="lots"`},
		{"zero", "0", `APP_ALLOC_MB="0"`},
		{"negative", "-5", `APP_ALLOC_MB="-5"`},
		{"a typo asking for terabytes", "9999999", `APP_ALLOC_MB="9999999": want a whole number of MiB from 1 to 65536`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out strings.Builder
			err := allocAtStart(func(k string) string { return map[string]string{"APP_ALLOC_MB": tc.value}[k] }, &out)
			if tc.wantErr == "" {
				assert.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, tc.wantErr)
			}
			assert.Empty(t, out.String(), "nothing is allocated")
		})
	}
}
