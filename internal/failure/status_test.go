package failure

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestHTTPStatus(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{Errorf(Invalid, "x"), 400},
		{Errorf(NotFound, "x"), 404},
		{Errorf(Conflict, "x"), 409},
		{Errorf(Unauthorized, "x"), 403},
		{Errorf(TooLarge, "x"), 413},
		{Errorf(Unavailable, "x"), 503},
		{Later(time.Second, "x"), 429},
		{fmt.Errorf("wrapped: %w", Errorf(NotFound, "x")), 404},
		{&http.MaxBytesError{Limit: 1}, 413},
		{errors.New("disk on fire"), 500},
	} {
		if got := HTTPStatus(tc.err); got != tc.want {
			t.Errorf("HTTPStatus(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestSetRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{Later(0, "too many"), "1"},
		{Later(1500*time.Millisecond, "too many"), "2"},
		{fmt.Errorf("hub: %w", Later(59*time.Second, "too many")), "60"},
		{Errorf(Unavailable, "busy"), ""},
		{errors.New("disk on fire"), ""},
	} {
		h := http.Header{}
		SetRetryAfter(h, tc.err)
		if got := h.Get("Retry-After"); got != tc.want {
			t.Errorf("Retry-After for %v = %q, want %q", tc.err, got, tc.want)
		}
	}
	if got, want := Message(Later(time.Second, "too many batches")), "too many batches"; got != want {
		t.Errorf("Message = %q, want %q", got, want)
	}
	if got, want := string(KindOf(Later(time.Second, "x"))), "rate_limited"; got != want {
		t.Errorf("code = %q, want %q (the code clients already know)", got, want)
	}
}
