package web

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// TokenFile is the token's file in the daemon's home.
const TokenFile = "web.token"

// tokenBytes is the token's entropy: 32 random bytes, 64 hex digits.
const tokenBytes = 32

// LoadToken returns the token in home, making one when there is none (or
// when rotate is set, which makes every earlier token invalid). The file is
// 0600 and written atomically; a token file that is a symlink, not a
// regular file, or not a token is replaced rather than trusted.
func LoadToken(home string, rotate bool) (string, error) {
	path := filepath.Join(home, TokenFile)
	if !rotate {
		if tok, err := readToken(path); err == nil {
			return tok, nil
		}
	}
	raw := make([]byte, tokenBytes)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("make a dashboard token: %w", err)
	}
	tok := hex.EncodeToString(raw)
	if err := writeFileAtomic(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write the dashboard token to %s: %w", path, err)
	}
	return tok, nil
}

var errNotToken = errors.New("not a dashboard token")

func readToken(path string) (string, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o077 != 0 {
		return "", errNotToken // a symlink, or readable by others: make a new one
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	tok := string(bytes.TrimSpace(b))
	if len(tok) != 2*tokenBytes {
		return "", errNotToken
	}
	if _, err := hex.DecodeString(tok); err != nil {
		return "", errNotToken
	}
	return tok, nil
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory: written, synced, renamed over path (a symlink there is
// replaced, never followed), then the directory synced.
func writeFileAtomic(path string, data []byte, perm fs.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after the rename, a no-op
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
