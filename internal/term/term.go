// Package term tells whether output goes to a person at a terminal, so
// that commands draw QR codes and progress bars there and plain lines
// into pipes and files.
package term

import (
	"io"
	"os"
)

// IsTerminal says whether w is a terminal (not a pipe or a file).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
