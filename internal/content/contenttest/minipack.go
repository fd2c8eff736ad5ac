package contenttest

import (
	"sync"
	"testing"

	"github.com/mitstem/stembox/internal/content"
)

var mini struct {
	once sync.Once
	data []byte
	key  *content.Signer
}

// MiniPack builds the mini pack once for all the tests of a test binary,
// and returns its archive and the key that signed it.
func MiniPack(tb testing.TB) ([]byte, *content.Signer) {
	tb.Helper()
	mini.once.Do(func() {
		mini.key = Signer(tb)
		mini.data = Build(tb, MiniDir(), mini.key)
	})
	if mini.data == nil {
		tb.Fatal("the test pack did not build")
	}
	return mini.data, mini.key
}
