package failure

import (
	"errors"
	"net/http"
	"strconv"
)

// HTTPStatus maps an error to an HTTP status by its kind: the one place the
// box and the hub do. A body over http.MaxBytesReader's limit is too large.
func HTTPStatus(err error) int {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	switch KindOf(err) {
	case Invalid:
		return http.StatusBadRequest
	case NotFound:
		return http.StatusNotFound
	case Conflict:
		return http.StatusConflict
	case Unauthorized:
		return http.StatusForbidden
	case TooLarge:
		return http.StatusRequestEntityTooLarge
	case Unavailable:
		return http.StatusServiceUnavailable
	case TooMany:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// SetRetryAfter tells the client of a TooMany error when to try again: the
// Retry-After header, in whole seconds and never early. Other errors set
// nothing.
func SetRetryAfter(h http.Header, err error) {
	var e *Error
	if errors.As(err, &e) && e.Kind == TooMany {
		h.Set("Retry-After", strconv.Itoa(int(e.Retry.Seconds())+1))
	}
}
