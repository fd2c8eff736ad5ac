package failure

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
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
		{fmt.Errorf("wrapped: %w", Errorf(NotFound, "x")), 404},
		{&http.MaxBytesError{Limit: 1}, 413},
		{errors.New("disk on fire"), 500},
	} {
		if got := HTTPStatus(tc.err); got != tc.want {
			t.Errorf("HTTPStatus(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}
