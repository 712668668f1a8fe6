package httpapi

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/gridcase/gridcase/internal/errs"
)

// ProblemTypeBase prefixes every problem type; the code follows it.
const ProblemTypeBase = "https://gridcase.dev/problems/"

// statusOf is the one table that maps error codes to HTTP statuses.
var statusOf = map[errs.Code]int{
	errs.BadRequest:   http.StatusBadRequest,
	errs.Invalid:      http.StatusUnprocessableEntity,
	errs.Unauthorized: http.StatusUnauthorized,
	errs.Forbidden:    http.StatusForbidden,
	errs.NotFound:     http.StatusNotFound,
	errs.Conflict:     http.StatusConflict,
	errs.Precondition: http.StatusPreconditionFailed,
	errs.TooLarge:     http.StatusRequestEntityTooLarge,
	errs.Unsupported:  http.StatusUnsupportedMediaType,
	errs.RateLimited:  http.StatusTooManyRequests,
	errs.Unavailable:  http.StatusServiceUnavailable,
	errs.Internal:     http.StatusInternalServerError,
	errs.NoMethod:     http.StatusMethodNotAllowed,
}

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type      string         `json:"type" example:"https://gridcase.dev/problems/invalid"`
	Title     string         `json:"title" example:"Unprocessable Entity"`
	Status    int            `json:"status" example:"422"`
	Detail    string         `json:"detail,omitempty" example:"the request has invalid fields"`
	Instance  string         `json:"instance,omitempty" example:"/api/v1/regions"`
	Code      string         `json:"code" example:"invalid"`
	RequestID string         `json:"request_id,omitempty" example:"3f2a9c1e7b5d4a60"`
	Errors    []ProblemField `json:"errors,omitempty"`
	// Extra members for some problems, e.g. a case's current state and allowed actions on 409.
	Extra map[string]any `json:"extra,omitempty"`
} //	@name	Problem

// ProblemField is one validation failure.
type ProblemField struct {
	Field   string `json:"field" example:"lat"`
	Rule    string `json:"rule" example:"range"`
	Message string `json:"message" example:"lat must be between -90 and 90"`
} //	@name	ProblemField

// problemFor renders err as a problem document and its status.
func problemFor(err error, instance, requestID string) (int, Problem) {
	code := errs.CodeOf(err)
	status, ok := statusOf[code]
	if !ok {
		code, status = errs.Internal, http.StatusInternalServerError
	}
	p := Problem{
		Type:      ProblemTypeBase + string(code),
		Title:     http.StatusText(status),
		Status:    status,
		Instance:  instance,
		Code:      string(code),
		RequestID: requestID,
	}
	if e, ok := errs.As(err); ok && code != errs.Internal {
		p.Detail = e.Message
		for _, f := range e.Fields {
			p.Errors = append(p.Errors, ProblemField{Field: f.Field, Rule: f.Rule, Message: f.Message})
		}
		if len(e.Extra) > 0 {
			p.Extra = e.Extra
		}
	} else {
		p.Detail = "an internal error occurred; quote the request id when reporting it"
	}
	return status, p
}

// fail writes err as application/problem+json and aborts the request. Only internal errors
// are logged here; the access log records every status.
func (s *Server) fail(c *gin.Context, err error) {
	status, p := problemFor(err, c.Request.URL.Path, requestID(c))
	if status >= 500 && !errors.Is(err, errAlreadyLogged) {
		s.log.ErrorContext(c.Request.Context(), "request failed", slog.String("request_id", p.RequestID),
			slog.String("path", c.Request.URL.Path), slog.Any("error", err))
	}
	if status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Bearer realm="gridcase"`)
	}
	c.Header("Content-Type", "application/problem+json")
	// Gin keeps a Content-Type that is already set, so the problem type survives.
	c.AbortWithStatusJSON(status, p)
}

var errAlreadyLogged = errors.New("already logged")
