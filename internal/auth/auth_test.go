package auth

import (
	"strings"
	"testing"
	"time"
)

func TestHashAndVerify(t *testing.T) {
	h := Hash("correct horse")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q is not an argon2id PHC string", h)
	}
	if !Verify(h, "correct horse") {
		t.Error("the right password does not verify")
	}
	for _, wrong := range []string{"correct horsE", "", "correct horse "} {
		if Verify(h, wrong) {
			t.Errorf("wrong password %q verifies", wrong)
		}
	}
	if Hash("x") == Hash("x") {
		t.Error("two hashes of the same secret are equal: no salt")
	}
	for _, bad := range []string{"", "plain", "$argon2id$v=19$m=1,t=1,p=1$!!$!!", "$argon2id$v=19$m=99999999,t=1,p=1$AAAA$AAAA"} {
		if Verify(bad, "x") {
			t.Errorf("malformed hash %q verifies", bad)
		}
	}
}

func TestPINsAndPictures(t *testing.T) {
	for _, pin := range []string{"0000", "1234", NewPIN()} {
		if CheckPIN(pin) != nil {
			t.Errorf("PIN %q refused", pin)
		}
	}
	for _, pin := range []string{"123", "12345", "12a4", "١٢٣٤", ""} {
		if CheckPIN(pin) == nil {
			t.Errorf("PIN %q accepted", pin)
		}
	}
	for range 50 {
		if p := NewPicturePassword(); CheckPicturePassword(p) != nil {
			t.Fatalf("generated picture password %q refused", p)
		}
	}
	for _, p := range []string{"sun-sun", "sun", "sun-dragon", ""} {
		if CheckPicturePassword(p) == nil {
			t.Errorf("picture password %q accepted", p)
		}
	}
}

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	l := NewLimiter()
	l.Now = func() time.Time { return now }
	for i := range 5 {
		if w := l.Wait("teacher:ali"); w != 0 {
			t.Fatalf("attempt %d must wait %s; the first 5 are free", i+1, w)
		}
		l.Fail("teacher:ali")
	}
	if w := l.Wait("teacher:ali"); w != 30*time.Second {
		t.Errorf("after 5 failures wait %s, want 30s", w)
	}
	if w := l.Wait("teacher:other"); w != 0 {
		t.Errorf("another key waits %s", w)
	}
	now = now.Add(30 * time.Second)
	l.Fail("teacher:ali")
	if w := l.Wait("teacher:ali"); w != time.Minute {
		t.Errorf("after 6 failures wait %s, want 1m (doubling)", w)
	}
	for range 20 {
		l.Fail("teacher:ali")
	}
	if w := l.Wait("teacher:ali"); w != 15*time.Minute {
		t.Errorf("wait capped at %s, want 15m", w)
	}
	l.Succeed("teacher:ali")
	if w := l.Wait("teacher:ali"); w != 0 {
		t.Errorf("after a success wait %s", w)
	}
	l.Fail("x")
	now = now.Add(2 * time.Hour)
	if w := l.Wait("x"); w != 0 {
		t.Errorf("failures not forgotten after the window: wait %s", w)
	}
}
