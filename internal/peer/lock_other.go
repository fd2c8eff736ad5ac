//go:build !unix

package peer

import "sync"

var locks sync.Map

// lockFile keeps two fetches of one pack in this process apart; other
// systems have no flock, and stembox boxes run Linux.
func lockFile(path string) (unlock func(), err error) {
	if _, loaded := locks.LoadOrStore(path, true); loaded {
		return nil, ErrBusy
	}
	return func() { locks.Delete(path) }, nil
}
