package vtpm

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// openDevNode sees a node that appears while it waits (inotify), one
// already there, and gives up when its context ends.
func TestOpenDevNode(t *testing.T) {
	dir := t.TempDir()
	done := make(chan error, 1)
	go func() {
		f, err := openDevNode(context.Background(), dir, 5)
		if err == nil {
			f.Close()
		}
		done <- err
	}()
	if err := os.WriteFile(filepath.Join(dir, "tpm5"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("node created while waiting: %v", err)
	}
	f, err := openDevNode(context.Background(), dir, 5)
	if err != nil {
		t.Fatalf("node already there: %v", err)
	}
	f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := openDevNode(ctx, dir, 6); err == nil {
		t.Error("a node that never appears was opened")
	}
}
