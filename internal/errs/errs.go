// Package errs holds the handful of error codes every layer of gridcase speaks.
//
// Domain and store code return *Error values with one of these codes; only the HTTP layer
// maps a code to a status (one table, at the edge). The package knows nothing of HTTP.
package errs

import (
	"errors"
	"fmt"
	"strings"
)

// Code classifies an error for callers; it is stable and appears in problem types.
type Code string

// The codes. Keep this list short: a new code needs a new row in the HTTP status table.
const (
	BadRequest   Code = "bad_request"         // the request cannot be read (malformed JSON, wrong content type)
	Invalid      Code = "invalid"             // well-formed but fails validation (fields say why)
	Unauthorized Code = "unauthorized"        // no or bad credentials
	Forbidden    Code = "forbidden"           // authenticated, but the role may not do this
	NotFound     Code = "not_found"           // absent, or out of the caller's scope
	Conflict     Code = "conflict"            // state or uniqueness conflict
	Precondition Code = "precondition_failed" // a stale version or If-Match
	TooLarge     Code = "too_large"           // body or upload over its limit
	Unsupported  Code = "unsupported_media"   // a media type we do not take
	RateLimited  Code = "rate_limited"        // too many attempts
	Unavailable  Code = "unavailable"         // a dependency is down
	Internal     Code = "internal"            // a bug or an unexpected failure
	NoMethod     Code = "method_not_allowed"  // the route exists but not for this method
)

// FieldError says which input field broke which rule.
type FieldError struct {
	Field   string
	Rule    string
	Message string
}

// Error is gridcase's error value.
type Error struct {
	Code    Code
	Message string         // safe to show to the caller
	Fields  []FieldError   // for Invalid
	Extra   map[string]any // extra members for the problem document (e.g. current state)
	Err     error          // the cause, never shown to the caller
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Code))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an error with a code and a caller-safe message.
func E(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap builds an error with a code, a caller-safe message and a hidden cause.
func Wrap(code Code, err error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// With adds an extra problem member and returns e.
func (e *Error) With(key string, value any) *Error {
	if e.Extra == nil {
		e.Extra = map[string]any{}
	}
	e.Extra[key] = value
	return e
}

// CodeOf returns the code of the first *Error in err's chain, Internal for any other error,
// and "" for nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Is reports whether err carries code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }

// As returns the first *Error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// NotFoundf is a shorthand for the most common error.
func NotFoundf(format string, args ...any) *Error { return E(NotFound, format, args...) }

// Fields collects validation failures; its Err method returns nil when none were added.
type Fields []FieldError

// Add records that field broke rule.
func (f *Fields) Add(field, rule, format string, args ...any) {
	*f = append(*f, FieldError{Field: field, Rule: rule, Message: fmt.Sprintf(format, args...)})
}

// Required records a missing field when empty is true.
func (f *Fields) Required(field string, empty bool) {
	if empty {
		f.Add(field, "required", "%s is required", field)
	}
}

// Err returns an Invalid error listing the fields, or nil.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &Error{Code: Invalid, Message: "the request has invalid fields", Fields: f}
}
