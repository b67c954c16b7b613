package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// kv is where the web app keeps its data: the local JSON file (the sample recipe) or the db
// service (the notes recipe).
type kv interface {
	get(ctx context.Context, key string) (string, bool, error)
	put(ctx context.Context, key, value string) error
	count(ctx context.Context) (int, error)
}

// localKV is the store on the app's own data volume.
type localKV struct{ st store }

func (l localKV) get(_ context.Context, key string) (string, bool, error) { return l.st.get(key) }
func (l localKV) put(_ context.Context, key, value string) error          { return l.st.put(key, value) }
func (l localKV) count(context.Context) (int, error)                      { return l.st.count() }

// remoteKV talks to the db service over HTTP with the db password as a bearer token.
type remoteKV struct {
	base     string // e.g. http://db:7000
	password string
	client   *http.Client
}

// remoteFrom returns the db client configured by DB_HOST, DB_PORT and DB_PASSWORD (set by a
// recipe's entrypoint) or DB_PASSWORD_FILE; ok=false when DB_HOST is unset (local store).
func remoteFrom(getenv func(string) string) (r remoteKV, ok bool, err error) {
	host := getenv("DB_HOST")
	if host == "" {
		return remoteKV{}, false, nil
	}
	pw := getenv("DB_PASSWORD")
	if pw == "" {
		pw, err = readSecret(envOr(getenv, "DB_PASSWORD_FILE", defaultDBPassword))
		if err != nil {
			return remoteKV{}, true, fmt.Errorf("db password: %w", err)
		}
	}
	base := "http://" + host + ":" + envOr(getenv, "DB_PORT", defaultDBPort)
	return remoteKV{base: base, password: pw, client: &http.Client{Timeout: 5 * time.Second}}, true, nil
}

// readSecret reads a secret file, refusing a missing or empty one.
func readSecret(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := strings.TrimRight(string(data), "\r\n")
	if s == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return s, nil
}

func (r remoteKV) do(ctx context.Context, method, path string, body io.Reader) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, body)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+r.password)
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("db %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxValue+1))
	if err != nil {
		return resp.StatusCode, "", fmt.Errorf("db %s %s: %w", method, path, err)
	}
	return resp.StatusCode, string(data), nil
}

func (r remoteKV) get(ctx context.Context, key string) (string, bool, error) {
	code, body, err := r.do(ctx, http.MethodGet, "/kv/"+url.PathEscape(key), nil)
	switch {
	case err != nil:
		return "", false, err
	case code == http.StatusNotFound:
		return "", false, nil
	case code != http.StatusOK:
		return "", false, fmt.Errorf("db GET %s: HTTP %d: %s", key, code, strings.TrimSpace(body))
	}
	return body, true, nil
}

func (r remoteKV) put(ctx context.Context, key, value string) error {
	code, body, err := r.do(ctx, http.MethodPut, "/kv/"+url.PathEscape(key), strings.NewReader(value))
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("db PUT %s: HTTP %d: %s", key, code, strings.TrimSpace(body))
	}
	return nil
}

func (r remoteKV) count(ctx context.Context) (int, error) {
	code, body, err := r.do(ctx, http.MethodGet, "/kv", nil)
	if err != nil {
		return 0, err
	}
	if code != http.StatusOK {
		return 0, fmt.Errorf("db GET /kv: HTTP %d: %s", code, strings.TrimSpace(body))
	}
	var c struct {
		Keys int `json:"keys"`
	}
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		return 0, fmt.Errorf("db GET /kv: %w", err)
	}
	return c.Keys, nil
}
