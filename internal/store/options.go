package store

import (
	"context"
	"fmt"

	"github.com/mitstem/stembox/internal/clock"
)

// Options change how a database is opened. The zero value is what a box
// runs with.
type Options struct {
	// Synchronous is SQLite's synchronous setting for writes: "" or "FULL"
	// (a commit is on disk before it returns: what the box needs), "NORMAL",
	// or "OFF" (commits may be lost at a power cut; only for measuring what
	// durability costs).
	Synchronous string
}

func (o Options) synchronous() (string, error) {
	switch o.Synchronous {
	case "", "FULL", "full":
		return "FULL", nil
	case "NORMAL", "normal":
		return "NORMAL", nil
	case "OFF", "off":
		return "OFF", nil
	}
	return "", fmt.Errorf("store: synchronous %q: choose FULL, NORMAL or OFF", o.Synchronous)
}

// OpenOptions is Open with options other than the defaults.
func OpenOptions(ctx context.Context, path string, clk clock.Clock, opts Options) (*DB, error) {
	sync, err := opts.synchronous()
	if err != nil {
		return nil, err
	}
	return open(ctx, path, clk, sync)
}
