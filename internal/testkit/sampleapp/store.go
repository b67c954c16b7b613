package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// store is the key-value store in one JSON file. It is read on every request, never cached, so a
// restore that rewrites the file through a hook is visible at once; writes are atomic (temp file
// and rename) so a backup never copies half a file.
type store struct {
	path string
	mu   *sync.Mutex // serialises read-modify-write within the serving process
}

func (s store) lock() func() {
	if s.mu == nil {
		return func() {}
	}
	s.mu.Lock()
	return s.mu.Unlock
}

// read returns the current map; a missing file is an empty store.
func (s store) read() (map[string]string, error) {
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", s.path, err)
	}
	return decode(data, s.path)
}

func decode(data []byte, name string) (map[string]string, error) {
	var m map[string]string
	if len(data) == 0 {
		return nil, fmt.Errorf("%s is empty, not a JSON object", name)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s is not a JSON object of strings: %w", name, err)
	}
	if m == nil {
		return nil, fmt.Errorf("%s holds null, not a JSON object", name)
	}
	return m, nil
}

// init creates an empty store when there is none yet, as an app initialises its database on
// first boot; an existing store is left alone.
func (s store) init() error {
	defer s.lock()()
	if _, err := os.Stat(s.path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return writeAtomic(s.path, []byte("{}"))
}

// migrate rewrites an existing store in its current format. Like many real migrations it assumes
// the database exists: on an empty volume (before first-boot init) it fails, which is the bug the
// FreshInstallBroken variant's head ships.
func (s store) migrate() error {
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no database at %s to migrate: migrations expect an initialised store", s.path)
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", s.path, err)
	}
	m, err := decode(data, s.path)
	if err != nil {
		return err
	}
	out, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode store: %w", err)
	}
	return writeAtomic(s.path, out)
}

func (s store) count() (int, error) {
	m, err := s.read()
	if err != nil {
		return 0, err
	}
	return len(m), nil
}

func (s store) get(key string) (string, bool, error) {
	m, err := s.read()
	if err != nil {
		return "", false, err
	}
	v, ok := m[key]
	return v, ok, nil
}

func (s store) put(key, value string) error {
	defer s.lock()()
	m, err := s.read()
	if err != nil {
		return err
	}
	m[key] = value
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode store: %w", err)
	}
	return writeAtomic(s.path, data)
}

// dump writes the store's content (an empty object when there is none yet) to file.
func (s store) dump(file string) error {
	m, err := s.read()
	if err != nil {
		return err
	}
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode store: %w", err)
	}
	return writeAtomic(file, data)
}

// load replaces the store with file's content, refusing anything but a JSON object of strings so
// that an empty or garbled dump fails the restore loudly.
func (s store) load(file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read dump: %w", err)
	}
	if _, err := decode(data, file); err != nil {
		return err
	}
	return writeAtomic(s.path, data)
}

// writeAtomic writes data to path via a temp file in the same directory and a rename.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, werr := tmp.Write(data)
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
