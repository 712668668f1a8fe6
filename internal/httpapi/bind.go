package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/gridcase/gridcase/internal/errs"
)

// bindJSON decodes the request body into dst strictly: JSON only, no unknown fields, no
// trailing data, within the body limit. Errors are caller-friendly errs values.
func bindJSON(c *gin.Context, dst any) error {
	ct := c.GetHeader("Content-Type")
	if ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return errs.E(errs.Unsupported, "send the body as application/json")
		}
	}
	return decodeJSON(c.Request.Body, dst)
}

func decodeJSON(r io.Reader, dst any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return errs.E(errs.BadRequest, "the body has data after its JSON value")
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err != io.EOF {
		return errs.E(errs.BadRequest, "the body has data after its JSON value")
	}
	return nil
}

func jsonError(err error) error {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
		tooBig *http.MaxBytesError
	)
	switch {
	case errors.Is(err, io.EOF):
		return errs.E(errs.BadRequest, "the body is empty; send a JSON object")
	case errors.As(err, &tooBig):
		return errs.E(errs.TooLarge, "the body is larger than %d bytes", tooBig.Limit)
	case errors.As(err, &syntax):
		return errs.E(errs.BadRequest, "malformed JSON at byte %d: %v", syntax.Offset, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errs.E(errs.BadRequest, "malformed JSON: the body ends early")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return &errs.Error{Code: errs.Invalid, Message: "a field has the wrong type",
			Fields: []errs.FieldError{{Field: field, Rule: "type", Message: fmt.Sprintf("%s must be %s, not %s", field, typ.Type.String(), typ.Value)}}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &errs.Error{Code: errs.Invalid, Message: "the body has an unknown field",
			Fields: []errs.FieldError{{Field: name, Rule: "unknown", Message: fmt.Sprintf("unknown field %q", name)}}}
	default:
		return errs.Wrap(errs.BadRequest, err, "the body could not be read as JSON")
	}
}

// peekBody reads the whole (limited) body so it can be decoded twice.
func peekBody(c *gin.Context) ([]byte, error) {
	b, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, errs.E(errs.TooLarge, "the body is larger than %d bytes", tooBig.Limit)
		}
		return nil, errs.Wrap(errs.BadRequest, err, "the body could not be read")
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(b))
	return b, nil
}
