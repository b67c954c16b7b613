package browser

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDoorFlagsSendTheAppsDomainToTheFrontDoor(t *testing.T) {
	t.Parallel()
	lookup := func(_ context.Context, host string) ([]string, error) {
		switch host {
		case "door.example":
			return []string{"192.0.2.7", "192.0.2.8"}, nil
		case "v6door.example":
			return []string{"2001:db8::7"}, nil
		}
		return nil, errors.New("no such host")
	}
	const domain = "samp-1a2b3c.ci.example"
	tests := []struct {
		name      string
		door      string
		domain    string
		wantBase  string
		wantFlags []flag
		wantErr   string
	}{
		{"an http door is the browser's proxy, loopback included", "http://127.0.0.1:8480", domain,
			"http://" + domain, []flag{{"proxy-server", "http://127.0.0.1:8480"}, {"proxy-bypass-list", "<-loopback>"}}, ""},
		{"an http door without a port is on 80", "http://door.example/", domain,
			"http://" + domain, []flag{{"proxy-server", "http://door.example:80"}, {"proxy-bypass-list", "<-loopback>"}}, ""},
		{"an IPv6 http door", "http://[::1]:8480", domain,
			"http://" + domain, []flag{{"proxy-server", "http://[::1]:8480"}, {"proxy-bypass-list", "<-loopback>"}}, ""},
		{"an https door by address maps only the app's domain to it", "https://192.0.2.1", domain,
			"https://" + domain, []flag{{"host-resolver-rules", "MAP " + domain + " 192.0.2.1, MAP * ~NOTFOUND"}, {"no-proxy-server", true}}, ""},
		{"an https door by name is resolved first", "https://door.example:443", domain,
			"https://" + domain, []flag{{"host-resolver-rules", "MAP " + domain + " 192.0.2.7, MAP * ~NOTFOUND"}, {"no-proxy-server", true}}, ""},
		{"an IPv6 https door is bracketed", "https://v6door.example", domain,
			"https://" + domain, []flag{{"host-resolver-rules", "MAP " + domain + " [2001:db8::7], MAP * ~NOTFOUND"}, {"no-proxy-server", true}}, ""},
		{"the domain is lower-cased", "http://127.0.0.1:8480", "SAMP-1a2b3c.CI.example",
			"http://" + domain, []flag{{"proxy-server", "http://127.0.0.1:8480"}, {"proxy-bypass-list", "<-loopback>"}}, ""},
		{"an https door on another port", "https://192.0.2.1:8443", domain, "", nil, "must listen on port 443"},
		{"an https door that does not resolve", "https://nowhere.example", domain, "", nil, "does not resolve"},
		{"another scheme", "socks5://127.0.0.1:1080", domain, "", nil, `scheme "socks5" is neither http nor https`},
		{"a door with a path", "http://127.0.0.1:8480/proxy", domain, "", nil, "give only scheme, host and port"},
		{"a door with credentials", "http://u:p@127.0.0.1:8480", domain, "", nil, "give only scheme, host and port"},
		{"no door", "", domain, "", nil, "is not a URL"},
		{"a domain that would add a resolver rule", "https://192.0.2.1", "a.example, MAP * 203.0.113.9", "", nil, "is not a DNS name"},
		{"a single-label domain", "http://127.0.0.1:8480", "localhost", "", nil, "is not a DNS name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base, flags, err := doorFlags(context.Background(), tc.door, tc.domain, lookup)
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantBase, base)
			assert.Equal(t, tc.wantFlags, flags)
		})
	}
}

func TestLoadFailureBlamesTheDoorOnlyForTheConnectionToIt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text     string
		wantDoor bool
		want     string
	}{
		{"net::ERR_PROXY_CONNECTION_FAILED", true, "the front door failed for http://a.example/: net::ERR_PROXY_CONNECTION_FAILED"},
		{"net::ERR_CONNECTION_REFUSED", true, "the front door failed"},
		{"net::ERR_CERT_AUTHORITY_INVALID", true, "the front door failed"},
		{"net::ERR_SSL_PROTOCOL_ERROR", true, "the front door failed"},
		{"net::ERR_TIMED_OUT", true, "the front door failed"},
		{"net::ERR_INVALID_AUTH_CREDENTIALS", false, "http://a.example/ asks for a login (HTTP 401"},
		{"net::ERR_NAME_NOT_RESOLVED", false, "went to a host other than the app"},
		{"net::ERR_TOO_MANY_REDIRECTS", false, "http://a.example/ did not load: net::ERR_TOO_MANY_REDIRECTS"},
		{"net::ERR_ABORTED\n<b>", false, "did not load: net::ERR_ABORTED <b>"},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			t.Parallel()
			err := loadFailure(tc.text, "http://a.example/")
			var d *doorFault
			var f *failure
			assert.Equal(t, tc.wantDoor, errors.As(err, &d), "a door fault")
			assert.Equal(t, !tc.wantDoor, errors.As(err, &f), "a failure of the app")
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestFindExec(t *testing.T) {
	t.Parallel()
	_, err := findExec("/nonexistent/chromium")
	assert.ErrorContains(t, err, `chromium "/nonexistent/chromium" not found or not executable`)
	got, err := findExec("true")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(got, "/"), "a name is resolved in PATH to a full path")
}

func TestNoChromiumInPathSaysWhatToInstall(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // not parallel: it changes the process's PATH
	_, err := findExec("")
	assert.ErrorContains(t, err, "chromium not found in PATH (looked for chromium, chromium-browser): install the Debian package chromium")
}
