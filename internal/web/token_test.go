package web

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLoadToken(t *testing.T) {
	home := t.TempDir()
	path := filepath.Join(home, TokenFile)
	first, err := LoadToken(home, false)
	if err != nil || len(first) != 64 {
		t.Fatalf("LoadToken = %q, %v", first, err)
	}
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode().Perm() != 0o600 || !fi.Mode().IsRegular() {
		t.Fatalf("token file: %v, %v", fi.Mode(), err)
	}
	if again, _ := LoadToken(home, false); again != first {
		t.Errorf("a second LoadToken made a new token")
	}
	rotated, _ := LoadToken(home, true)
	if rotated == first || len(rotated) != 64 {
		t.Errorf("rotate gave %q", rotated)
	}

	// A token readable by others, or a symlink, is replaced, and the
	// symlink's target is left alone.
	os.Chmod(path, 0o644)
	if tok, _ := LoadToken(home, false); tok == rotated {
		t.Errorf("a world-readable token was reused")
	}
	target := filepath.Join(t.TempDir(), "elsewhere")
	os.WriteFile(target, []byte("untouched"), 0o600)
	os.Remove(path)
	os.Symlink(target, path)
	tok, err := LoadToken(home, false)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != "untouched" {
		t.Errorf("the symlink's target was written: %q", b)
	}
	if fi, _ := os.Lstat(path); !fi.Mode().IsRegular() {
		t.Errorf("token file is still a symlink")
	}
	if b, _ := os.ReadFile(path); string(b) != tok+"\n" {
		t.Errorf("token file holds %q, want %q", b, tok)
	}
	// Garbage is replaced.
	os.WriteFile(path, []byte("short\n"), 0o600)
	if tok2, _ := LoadToken(home, false); tok2 == "short" || len(tok2) != 64 {
		t.Errorf("garbage token reused: %q", tok2)
	}
}
