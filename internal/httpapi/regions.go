package httpapi

import "github.com/gin-gonic/gin"

// registerRegions mounts /regions/* (owned by the regions work).
func (s *Server) registerRegions(r *gin.RouterGroup) {}
