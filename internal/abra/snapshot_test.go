package abra

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSnapshotID(t *testing.T) {
	t.Parallel()
	const full = "40dc1520aaaabbbbccccddddeeeeffff0000111122223333444455556666aaaa"
	tests := []struct {
		name    string
		output  string
		want    string
		wantErr string
	}{
		{name: "restic's saved line among backupbot's log lines",
			output: "running backupbot.backup.pre-hook of s_app: dump\nBackup these paths:\n/data\nsnapshot 40dc1520 saved\n", want: "40dc1520"},
		{name: "a full 64-digit id", output: "snapshot " + full + " saved\n", want: full},
		{name: "colour codes and a carriage return from the terminal",
			output: "\x1b[32msnapshot 40dc1520 saved\x1b[0m\r\n", want: "40dc1520"},
		{name: "restic's --json summary", output: `{"message_type":"summary","files_new":3,"snapshot_id":"` + full + `"}` + "\n", want: full},
		{name: "the short and the full id of one snapshot give the full id",
			output: "snapshot 40dc1520 saved\n" + `{"message":"backup finished","snapshot_id":"` + full + `"}` + "\n", want: full},
		{name: "no id", output: "backup finished\n", wantErr: "no snapshot id"},
		{name: "empty output", output: "", wantErr: "no snapshot id"},
		{name: "an id inside other text does not count",
			output: "previous snapshot 40dc1520 saved yesterday\n", wantErr: "no snapshot id"},
		{name: "a short hex word is not an id", output: "snapshot 40dc saved\n", wantErr: "no snapshot id"},
		{name: "upper-case hex is not restic's", output: "snapshot 40DC1520 saved\n", wantErr: "no snapshot id"},
		{name: "a JSON snapshot_id that is not hex is ignored", output: `{"snapshot_id":"latest"}` + "\n", wantErr: "no snapshot id"},
		{name: "two different snapshots are ambiguous",
			output: "snapshot 40dc1520 saved\nsnapshot 99aa88bb saved\n", wantErr: "more than one snapshot id in the output: 40dc1520 and 99aa88bb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSnapshotID(tt.output)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Empty(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
