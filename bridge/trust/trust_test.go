package trust

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"coopcloud.tech/cc-ci/bridge/forge"
)

// fakeClient answers the two trust questions from its fields and records every call, so a test
// can check that the cheap checks really ran first and that nothing was asked after a failure.
type fakeClient struct {
	members   map[string]bool             // "org/user" -> member
	perms     map[string]forge.Permission // "repo/user" -> permission
	memberErr error
	permErr   error
	calls     []string
}

func (f *fakeClient) IsOrgMember(_ context.Context, org, user string) (bool, error) {
	f.calls = append(f.calls, "IsOrgMember "+org+" "+user)
	if f.memberErr != nil {
		return false, f.memberErr
	}
	return f.members[org+"/"+user], nil
}

func (f *fakeClient) Permission(_ context.Context, repo, user string) (forge.Permission, error) {
	f.calls = append(f.calls, "Permission "+repo+" "+user)
	if f.permErr != nil {
		return forge.PermNone, f.permErr
	}
	return f.perms[repo+"/"+user], nil
}

var errForgeDown = errors.New("502 bad gateway")

func TestDecide(t *testing.T) {
	t.Parallel()
	const repo, owner = "coop-cloud/gitea", "coop-cloud"
	tests := []struct {
		name      string
		client    fakeClient
		in        Input
		want      Result
		wantErr   error
		wantCalls []string
	}{
		{
			name:   "a user on the allow-list is trusted without any API call",
			client: fakeClient{memberErr: errForgeDown, permErr: errForgeDown},
			in:     Input{Repo: repo, Owner: owner, User: "alice", AllowList: []string{"bob", "alice"}},
			want:   Result{Trusted: true, Reason: "on the allow-list"},
		},
		{
			name: "the allow-list matches a login whatever its case, as both forges do",
			in:   Input{Repo: repo, Owner: owner, User: "Alice", AllowList: []string{"aLICE"}},
			want: Result{Trusted: true, Reason: "on the allow-list"},
		},
		{
			name:      "a Kelvin sign does not pass for a k on the allow-list",
			in:        Input{Repo: repo, Owner: owner, User: "\u212Aate", AllowList: []string{"kate"}},
			want:      Result{Reason: "not an org member, none permission on coop-cloud/gitea, not on the allow-list"},
			wantCalls: []string{"IsOrgMember coop-cloud \u212Aate", "Permission coop-cloud/gitea \u212Aate"},
		},
		{
			name:      "a login with a trailing space is not the allow-listed login",
			in:        Input{Repo: repo, Owner: owner, User: "alice ", AllowList: []string{"alice"}},
			want:      Result{Reason: "not an org member, none permission on coop-cloud/gitea, not on the allow-list"},
			wantCalls: []string{"IsOrgMember coop-cloud alice ", "Permission coop-cloud/gitea alice "},
		},
		{
			name:      "a login that merely starts with an allow-listed one is not trusted",
			in:        Input{Repo: repo, Owner: owner, User: "alice-evil", AllowList: []string{"alice"}},
			want:      Result{Reason: "not an org member, none permission on coop-cloud/gitea, not on the allow-list"},
			wantCalls: []string{"IsOrgMember coop-cloud alice-evil", "Permission coop-cloud/gitea alice-evil"},
		},
		{
			name:      "an org member is trusted without the permission call",
			client:    fakeClient{members: map[string]bool{"coop-cloud/carol": true}, permErr: errForgeDown},
			in:        Input{Repo: repo, Owner: owner, User: "carol"},
			want:      Result{Trusted: true, Reason: "member of org coop-cloud"},
			wantCalls: []string{"IsOrgMember coop-cloud carol"},
		},
		{
			name:      "a collaborator with write permission is trusted",
			client:    fakeClient{perms: map[string]forge.Permission{"coop-cloud/gitea/dan": forge.PermWrite}},
			in:        Input{Repo: repo, Owner: owner, User: "dan"},
			want:      Result{Trusted: true, Reason: "write permission on coop-cloud/gitea"},
			wantCalls: []string{"IsOrgMember coop-cloud dan", "Permission coop-cloud/gitea dan"},
		},
		{
			name:      "an admin is trusted",
			client:    fakeClient{perms: map[string]forge.Permission{"coop-cloud/gitea/erin": forge.PermAdmin}},
			in:        Input{Repo: repo, Owner: owner, User: "erin"},
			want:      Result{Trusted: true, Reason: "admin permission on coop-cloud/gitea"},
			wantCalls: []string{"IsOrgMember coop-cloud erin", "Permission coop-cloud/gitea erin"},
		},
		{
			name:      "a user with read permission only is not trusted",
			client:    fakeClient{perms: map[string]forge.Permission{"coop-cloud/gitea/frank": forge.PermRead}},
			in:        Input{Repo: repo, Owner: owner, User: "frank"},
			want:      Result{Reason: "not an org member, read permission on coop-cloud/gitea, not on the allow-list"},
			wantCalls: []string{"IsOrgMember coop-cloud frank", "Permission coop-cloud/gitea frank"},
		},
		{
			name:      "a member of another org is not trusted here",
			client:    fakeClient{members: map[string]bool{"other-org/gina": true}},
			in:        Input{Repo: repo, Owner: owner, User: "gina"},
			want:      Result{Reason: "not an org member, none permission on coop-cloud/gitea, not on the allow-list"},
			wantCalls: []string{"IsOrgMember coop-cloud gina", "Permission coop-cloud/gitea gina"},
		},
		{
			name:      "an error asking for org membership fails closed and asks nothing more",
			client:    fakeClient{memberErr: errForgeDown, perms: map[string]forge.Permission{"coop-cloud/gitea/hal": forge.PermAdmin}},
			in:        Input{Repo: repo, Owner: owner, User: "hal"},
			wantErr:   errForgeDown,
			wantCalls: []string{"IsOrgMember coop-cloud hal"},
		},
		{
			name:      "an error asking for the permission fails closed",
			client:    fakeClient{permErr: errForgeDown},
			in:        Input{Repo: repo, Owner: owner, User: "ivy"},
			wantErr:   errForgeDown,
			wantCalls: []string{"IsOrgMember coop-cloud ivy", "Permission coop-cloud/gitea ivy"},
		},
		{
			name:      "an unknown permission level fails closed instead of counting as more than write",
			client:    fakeClient{perms: map[string]forge.Permission{"coop-cloud/gitea/jo": forge.Permission(7)}},
			in:        Input{Repo: repo, Owner: owner, User: "jo"},
			wantErr:   ErrUnknownPermission,
			wantCalls: []string{"IsOrgMember coop-cloud jo", "Permission coop-cloud/gitea jo"},
		},
		{
			name:    "an empty user is an error and never matches an empty allow-list entry",
			in:      Input{Repo: repo, Owner: owner, User: "", AllowList: []string{""}},
			wantErr: ErrBadInput,
		},
		{
			name:    "an empty repo is an error",
			in:      Input{Owner: owner, User: "alice", AllowList: []string{"alice"}},
			wantErr: ErrBadInput,
		},
		{
			name:    "an empty owner is an error",
			in:      Input{Repo: repo, User: "alice", AllowList: []string{"alice"}},
			wantErr: ErrBadInput,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := tc.client
			got, err := Decide(context.Background(), &c, tc.in)
			if tc.wantErr != nil {
				require.Error(t, err)
				assert.ErrorIs(t, err, tc.wantErr)
				assert.Equal(t, Result{}, got, "an error must come with the untrusted zero Result")
			} else {
				require.NoError(t, err)
				assert.Equal(t, tc.want, got)
			}
			assert.Equal(t, tc.wantCalls, c.calls)
		})
	}
}

func TestSameLogin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{name: "identical logins match", a: "octocat", b: "octocat", want: true},
		{name: "logins differing in ASCII case match", a: "OctoCat", b: "octocat", want: true},
		{name: "a longer login does not match", a: "octocat1", b: "octocat"},
		{name: "a Unicode look-alike does not match", a: "octoc\u0430t", b: "octocat"},
		{name: "the Kelvin sign does not fold to k", a: "\u212A", b: "k"},
		{name: "two empty logins match (Decide refuses empty users first)", a: "", b: "", want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, SameLogin(tc.a, tc.b))
		})
	}
}

func TestRefusal(t *testing.T) {
	t.Parallel()
	t.Run("the refusal names the org, the repo and the allow-list and tells how to start a run", func(t *testing.T) {
		t.Parallel()
		got := Refusal("coop-cloud/gitea", "coop-cloud")
		assert.Contains(t, got, "members of the `coop-cloud` organisation")
		assert.Contains(t, got, "write access to `coop-cloud/gitea`")
		assert.Contains(t, got, "allow-list")
		assert.Contains(t, got, "`!testme`")
	})
	t.Run("a name holding backticks or newlines cannot break out of its code span", func(t *testing.T) {
		t.Parallel()
		got := Refusal("evil/`x`\n# pwned", "evil")
		assert.NotContains(t, got, "\n# pwned")
		assert.Equal(t, strings.Count(Refusal("a/b", "a"), "`"), strings.Count(got, "`"), "every code span stays closed")
	})
}
