package learn

import "errors"

// Errors for responses that cannot be graded. Their messages are written for
// students (the server translates them, matching with errors.Is); a response
// that gets one of them is not an answer and should be asked for again.
var (
	// ErrEmpty: nothing was picked or typed.
	ErrEmpty = errors.New("no answer was given")
	// ErrNotANumber: a numeric answer does not read as a number.
	ErrNotANumber = errors.New("the answer is not a number")
	// ErrAmbiguousNumber: a comma stands before exactly three digits, as in
	// 1,500, which reads as 1.5 with a decimal comma and as 1500 with a
	// thousands comma.
	ErrAmbiguousNumber = errors.New("it is unclear whether the comma is a decimal comma: write 1.5 or 1500")
	// ErrUnexpectedUnit: a unit was typed for a number the item asks for
	// without a unit.
	ErrUnexpectedUnit = errors.New("type only the number, without a unit")
	// ErrBadChoice: a choice index is out of range or repeated, or more than
	// one choice was picked for a single-choice item.
	ErrBadChoice = errors.New("pick from the choices shown")
	// ErrBadResponse: the response has a value the form never sends, such as
	// a true/false answer other than "true" or "false".
	ErrBadResponse = errors.New("the answer is not one of the allowed values")
)
