package auth

import (
	"encoding/base64"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

func TestHashAndVerify(t *testing.T) {
	h := Hash("correct horse")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=12288,t=3,p=1$") {
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
	// A hash made before the parameters changed still verifies.
	salt := []byte("0123456789abcdef")
	old := "$argon2id$v=19$m=19456,t=2,p=1$" + base64.RawStdEncoding.EncodeToString(salt) + "$" +
		base64.RawStdEncoding.EncodeToString(argon2.IDKey([]byte("old pin"), salt, 2, 19456, 1, 32))
	if !Verify(old, "old pin") || Verify(old, "old pim") {
		t.Error("a hash with the former parameters (19 MiB, 2 passes) does not verify as it should")
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
