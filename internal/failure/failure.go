// Package failure gives errors a kind that says whose fault they are and
// what a user may be told. The HTTP layer maps kinds to statuses in one
// place; anything without a kind is internal, logged, and never shown.
package failure

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kind classifies an error.
type Kind string

// The kinds of error.
const (
	Invalid      Kind = "invalid"      // the request or input is wrong; the message says how
	NotFound     Kind = "not_found"    // the thing asked for does not exist
	Conflict     Kind = "conflict"     // it clashes with what is already there
	Unauthorized Kind = "unauthorized" // the caller may not do this
	TooLarge     Kind = "too_large"    // the input is bigger than allowed
	Unavailable  Kind = "unavailable"  // a resource (disk, database) is out of service for now
	TooMany      Kind = "rate_limited" // the caller is going too fast; Later says when to come back
	Internal     Kind = "internal"     // our bug or the machine's fault; details are logged only
)

// Error is an error with a kind and a message fit for users.
type Error struct {
	Kind    Kind
	Message string
	Err     error // the cause, if any; never shown to users

	Retry time.Duration // TooMany: how long the caller should wait
}

func (e *Error) Error() string {
	if e.Err != nil && !strings.Contains(e.Message, e.Err.Error()) {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an error of the given kind whose user message is the whole
// formatted text; a %w verb also keeps the cause for errors.Is and errors.As.
func Errorf(kind Kind, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &Error{Kind: kind, Message: err.Error(), Err: errors.Unwrap(err)}
}

// Wrap gives err a kind and a user message, keeping err as the cause.
func Wrap(kind Kind, err error, message string) error {
	return &Error{Kind: kind, Message: message, Err: err}
}

// Later returns an error of kind TooMany whose user message is the
// formatted text: the caller may try again after retry.
func Later(retry time.Duration, format string, args ...any) error {
	return &Error{Kind: TooMany, Message: fmt.Sprintf(format, args...), Retry: retry}
}

// KindOf returns the kind of the outermost classified error in err's chain,
// or Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Message returns what a user may be told about err: its message if it is
// classified and not internal, else a generic sentence.
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Kind != Internal {
		return e.Message
	}
	return "internal error"
}
