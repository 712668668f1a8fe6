package httpapi

import "github.com/gin-gonic/gin"

// registerAuth mounts /auth/* and /me (owned by the identity work).
func (s *Server) registerAuth(r *gin.RouterGroup) {}
