package httpapi

import "github.com/gin-gonic/gin"

// registerUsers mounts /users, /departments and /api-keys (owned by the identity work).
func (s *Server) registerUsers(r *gin.RouterGroup) {}
