// Package httpapi is gridcase's HTTP layer and the only package that imports Gin. A handler
// binds the request, calls one service method and writes one response; errors become
// application/problem+json through the single status table in problem.go.
//
// The swag annotations on the handlers generate the OpenAPI documents in api/ (make spec).
//
//	@title						gridcase API
//	@version					1.0
//	@description				Case tracking for grid-based community governance (网格化管理): report, verify, file, dispatch, handle, feed back, check, close.
//	@BasePath					/
//	@securityDefinitions.apikey	BearerAuth
//	@in							header
//	@name						Authorization
//	@description				"Bearer " + an access token from /api/v1/auth/login, or "Bearer gk_…" with an integrator API key.
//	@securityDefinitions.apikey	APIKey
//	@in							header
//	@name						X-API-Key
//	@description				An integrator API key (gk_…).
package httpapi
