package abra

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMethodsRunTheirCommandLines(t *testing.T) {
	t.Parallel()
	const domain = "gite-abc123.ci.example"
	tests := []struct {
		name string
		call func(ctx context.Context, c *Client) error
		want []string
	}{
		{
			name: "AppNew runs app new",
			call: func(ctx context.Context, c *Client) error {
				return c.AppNew(ctx, "gitea", "1.0.0+1", "ci.example", domain)
			},
			want: AppNewArgs("gitea", "1.0.0+1", "ci.example", domain),
		},
		{
			name: "Deploy with chaos runs a chaos deploy",
			call: func(ctx context.Context, c *Client) error { return c.Deploy(ctx, domain, "", true) },
			want: DeployArgs(domain, "", true),
		},
		{
			name: "Deploy at a version runs a versioned deploy",
			call: func(ctx context.Context, c *Client) error { return c.Deploy(ctx, domain, "1.0.0+1", false) },
			want: DeployArgs(domain, "1.0.0+1", false),
		},
		{
			name: "Undeploy runs app undeploy",
			call: func(ctx context.Context, c *Client) error { return c.Undeploy(ctx, domain) },
			want: UndeployArgs(domain),
		},
		{
			name: "Remove runs app remove",
			call: func(ctx context.Context, c *Client) error { return c.Remove(ctx, domain) },
			want: RemoveArgs(domain),
		},
		{
			name: "SecretGenerate runs app secret generate",
			call: func(ctx context.Context, c *Client) error { return c.SecretGenerate(ctx, domain) },
			want: SecretGenerateArgs(domain),
		},
		{
			name: "AppNewChaos creates the app from the checked-out commit",
			call: func(ctx context.Context, c *Client) error { return c.AppNewChaos(ctx, "gitea", "ci.example", domain) },
			want: AppNewChaosArgs("gitea", "ci.example", domain),
		},
		{
			name: "generating one secret names it and its version",
			call: func(ctx context.Context, c *Client) error {
				return c.SecretGenerateOne(ctx, domain, "db_password", "v2")
			},
			want: SecretGenerateOneArgs(domain, "db_password", "v2"),
		},
		{
			name: "BackupCreate runs app backup create",
			call: func(ctx context.Context, c *Client) error { return c.BackupCreate(ctx, domain) },
			want: BackupCreateArgs(domain),
		},
		{
			name: "Restore runs app restore",
			call: func(ctx context.Context, c *Client) error { return c.Restore(ctx, domain) },
			want: RestoreArgs(domain),
		},
		{
			name: "RestoreSnapshot runs app restore with the snapshot",
			call: func(ctx context.Context, c *Client) error { return c.RestoreSnapshot(ctx, domain, "1f2e3d4c") },
			want: RestoreSnapshotArgs(domain, "1f2e3d4c"),
		},
		{
			name: "RecipeFetch runs recipe fetch",
			call: func(ctx context.Context, c *Client) error { return c.RecipeFetch(ctx, "gitea") },
			want: RecipeFetchArgs("gitea"),
		},
		{
			name: "RecipeLint runs recipe lint",
			call: func(ctx context.Context, c *Client) error {
				res, err := c.RecipeLint(ctx, "gitea")
				if err == nil && res.Output != "using secret ****\n" {
					t.Errorf("RecipeLint returned output %q", res.Output)
				}
				return err
			},
			want: RecipeLintArgs("gitea"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAbra(t)
			require.NoError(t, tt.call(t.Context(), f.client("ok", &syncBuffer{})))
			got := f.invocations(t)
			require.Len(t, got, 1)
			assert.Equal(t, tt.want, got[0].args)
		})
	}
}

func TestMethodsRefuseOperandsAbraWouldMisread(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		call    func(ctx context.Context, c *Client) error
		wantMsg string
	}{
		{
			name:    "a deploy with both a version and chaos is refused",
			call:    func(ctx context.Context, c *Client) error { return c.Deploy(ctx, "d.example", "1.0.0", true) },
			wantMsg: "mutually exclusive",
		},
		{
			name:    "an empty domain is refused",
			call:    func(ctx context.Context, c *Client) error { return c.Undeploy(ctx, "") },
			wantMsg: "domain is empty",
		},
		{
			name:    "a recipe named like a flag is refused",
			call:    func(ctx context.Context, c *Client) error { return c.RecipeFetch(ctx, "--chaos") },
			wantMsg: `recipe "--chaos" starts with '-'`,
		},
		{
			name: "a version named like a flag is refused",
			call: func(ctx context.Context, c *Client) error {
				return c.AppNew(ctx, "gitea", "--force", "s.example", "d.example")
			},
			wantMsg: `version "--force"`,
		},
		{
			name: "an empty server is refused",
			call: func(ctx context.Context, c *Client) error {
				return c.AppNew(ctx, "gitea", "", "", "d.example")
			},
			wantMsg: "server is empty",
		},
		{
			name:    "a restore without a snapshot is refused",
			call:    func(ctx context.Context, c *Client) error { return c.RestoreSnapshot(ctx, "d.example", "") },
			wantMsg: "snapshot is empty",
		},
		{
			name:    "a restore of a snapshot named like a flag is refused",
			call:    func(ctx context.Context, c *Client) error { return c.RestoreSnapshot(ctx, "d.example", "--latest") },
			wantMsg: `snapshot "--latest" starts with '-'`,
		},
		{
			name:    "a restore of \"latest\" is refused: it may be another run's backup",
			call:    func(ctx context.Context, c *Client) error { return c.RestoreSnapshot(ctx, "d.example", "latest") },
			wantMsg: `snapshot "latest" is not a snapshot id`,
		},
		{
			name:    "a backup of an empty domain is refused",
			call:    func(ctx context.Context, c *Client) error { _, err := c.BackupCreateSnapshot(ctx, ""); return err },
			wantMsg: "domain is empty",
		},
		{
			name: "a lint of a recipe named like a flag is refused",
			call: func(ctx context.Context, c *Client) error {
				_, err := c.RecipeLint(ctx, "-x")
				return err
			},
			wantMsg: `recipe "-x"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAbra(t)
			c := f.client("ok", &syncBuffer{})
			err := tt.call(t.Context(), c)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantMsg)
			assert.Empty(t, c.Calls(), "abra was not started")
			_, statErr := os.Stat(f.record)
			assert.ErrorIs(t, statErr, os.ErrNotExist, "the fake never ran")
		})
	}
}

func TestBackupCreateSnapshotReturnsTheSnapshotAbraPrinted(t *testing.T) {
	t.Parallel()
	f := newFakeAbra(t)
	id, err := f.client("snapshot", &syncBuffer{}).BackupCreateSnapshot(t.Context(), "d.example")
	require.NoError(t, err)
	assert.Equal(t, "1f2e3d4c", id)
	got := f.invocations(t)
	require.Len(t, got, 1)
	assert.Equal(t, BackupCreateArgs("d.example"), got[0].args)
}

func TestBackupCreateSnapshotFailsOnOutputItCannotRead(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, mode, wantMsg string
	}{
		{name: "no snapshot id at all", mode: "ok", wantMsg: "no snapshot id in the output"},
		{name: "two different snapshot ids", mode: "twosnapshots", wantMsg: "more than one snapshot id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAbra(t)
			id, err := f.client(tt.mode, &syncBuffer{}).BackupCreateSnapshot(t.Context(), "d.example")
			require.Error(t, err)
			assert.Empty(t, id)
			assert.Contains(t, err.Error(), tt.wantMsg)
			var oe *OutputError
			require.ErrorAs(t, err, &oe, "a contract fault, not a failed backup")
			assert.Equal(t, BackupCreateArgs("d.example"), oe.Args)
			assert.NotContains(t, err.Error()+oe.Output, f.secret, "secrets stay masked")
		})
	}
}

func TestBackupCreateSnapshotPassesOnAFailedBackup(t *testing.T) {
	t.Parallel()
	f := newFakeAbra(t)
	_, err := f.client("fail", &syncBuffer{}).BackupCreateSnapshot(t.Context(), "d.example")
	var ae *Error
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 3, ae.ExitCode)
}
