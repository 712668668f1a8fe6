package httpapi

import "github.com/gridcase/gridcase/internal/errs"

var (
	errNoRoute       = errs.E(errs.NotFound, "no such route")
	errNoMethod      = errs.E(errs.NoMethod, "method not allowed on this route")
	errPanic         = errs.E(errs.Internal, "internal error")
	errBadAuthHeader = errs.E(errs.Unauthorized, "the Authorization header must be \"Bearer <token>\"")
	errNoCredentials = errs.E(errs.Unauthorized, "sign in first: send an access token or an API key")
)
