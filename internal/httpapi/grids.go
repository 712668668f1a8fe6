package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/region"
)

// registerGrids mounts a grid's team (多元共治) and responsibility list (责任清单) under
// /regions/{code}.
func (s *Server) registerGrids(r *gin.RouterGroup, read, write []gin.HandlerFunc) {
	with := func(hs []gin.HandlerFunc, h gin.HandlerFunc) []gin.HandlerFunc {
		return append(append([]gin.HandlerFunc{}, hs...), h)
	}
	r.GET("/regions/:code/members", with(read, s.listGridMembers)...)
	r.POST("/regions/:code/members", with(write, s.addGridMember)...)
	r.DELETE("/regions/:code/members/:id", with(write, s.removeGridMember)...)
	r.GET("/regions/:code/responsibilities", with(read, s.listGridResponsibilities)...)
	r.PUT("/regions/:code/responsibilities", with(write, s.replaceGridResponsibilities)...)
}

// GridMember is one person on a grid's team: staff (a grid worker, the grid leader 网格长, a
// community police officer) linked to their user, or someone from the community without an
// account (a volunteer, the property manager, a party member registered with the community).
type GridMember struct {
	ID       int64  `json:"id" example:"12"`
	GridCode string `json:"grid_code" example:"320613001001001"`
	UserID   *int64 `json:"user_id,omitempty" example:"7"`
	Name     string `json:"name" example:"李阿姨"`
	Phone    string `json:"phone,omitempty" example:"13800001111"`
	// MemberType: full_time_worker 专职网格员, part_time_worker 兼职网格员, grid_leader 网格长,
	// volunteer 志愿者, property_manager 物业, party_member 在职党员, police_officer 社区民警, other.
	MemberType string    `json:"member_type" enums:"full_time_worker,part_time_worker,grid_leader,volunteer,property_manager,party_member,police_officer,other" example:"volunteer"`
	RoleNote   string    `json:"role_note,omitempty" example:"楼栋长"`
	Active     bool      `json:"active" example:"true"`
	CreatedAt  time.Time `json:"created_at" example:"2026-03-01T08:30:00Z"`
} //	@name	GridMember

// GridMemberList is a grid's team, active members first.
type GridMemberList struct {
	Items []GridMember `json:"items"`
} //	@name	GridMemberList

// CreateGridMemberRequest puts someone on a grid's team.
type CreateGridMemberRequest struct {
	UserID     int64  `json:"user_id,omitempty" example:"7"` // for staff with an account
	Name       string `json:"name" example:"李阿姨"`
	Phone      string `json:"phone,omitempty" example:"13800001111"`
	MemberType string `json:"member_type" enums:"full_time_worker,part_time_worker,grid_leader,volunteer,property_manager,party_member,police_officer,other" example:"volunteer"`
	RoleNote   string `json:"role_note,omitempty" example:"楼栋长"`
	Active     *bool  `json:"active,omitempty" example:"true"` // default true
} //	@name	CreateGridMemberRequest

// GridResponsibility is one row of a grid's responsibility list: who answers for a category
// of case in this grid (exactly one of department_id and user_id).
type GridResponsibility struct {
	// CategoryCode is a small class (E0101) or a whole class (E01) covering its small ones.
	CategoryCode string    `json:"category_code" example:"E0101"`
	DepartmentID *int64    `json:"department_id,omitempty" example:"3"`
	UserID       *int64    `json:"user_id,omitempty"`
	Note         string    `json:"note,omitempty" example:"沿街商铺垃圾由街道城管中队负责"`
	CreatedAt    time.Time `json:"created_at" example:"2026-03-01T08:30:00Z"`
	UpdatedAt    time.Time `json:"updated_at" example:"2026-03-01T08:30:00Z"`
} //	@name	GridResponsibility

// GridResponsibilityList is a grid's responsibility list by category code.
type GridResponsibilityList struct {
	Items []GridResponsibility `json:"items"`
} //	@name	GridResponsibilityList

// GridResponsibilityItem is one row of a new responsibility list.
type GridResponsibilityItem struct {
	CategoryCode string `json:"category_code" example:"E0101"`
	DepartmentID int64  `json:"department_id,omitempty" example:"3"`
	UserID       int64  `json:"user_id,omitempty"`
	Note         string `json:"note,omitempty" example:"沿街商铺垃圾由街道城管中队负责"`
} //	@name	GridResponsibilityItem

// ReplaceGridResponsibilitiesRequest is a grid's whole responsibility list.
type ReplaceGridResponsibilitiesRequest struct {
	Items []GridResponsibilityItem `json:"items"`
} //	@name	ReplaceGridResponsibilitiesRequest

func memberDTO(m region.Member) GridMember {
	out := GridMember{ID: m.ID, GridCode: m.GridCode, Name: m.Name, Phone: m.Phone, MemberType: string(m.Type),
		RoleNote: m.RoleNote, Active: m.Active, CreatedAt: m.CreatedAt}
	if m.UserID != 0 {
		id := m.UserID
		out.UserID = &id
	}
	return out
}

func responsibilitiesDTO(rs []region.Responsibility) GridResponsibilityList {
	out := GridResponsibilityList{Items: make([]GridResponsibility, len(rs))}
	for i, r := range rs {
		g := GridResponsibility{CategoryCode: r.CategoryCode, Note: r.Note, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
		if r.DepartmentID != 0 {
			id := r.DepartmentID
			g.DepartmentID = &id
		}
		if r.UserID != 0 {
			id := r.UserID
			g.UserID = &id
		}
		out.Items[i] = g
	}
	return out
}

// listGridMembers godoc
//
//	@Summary	A grid's team
//	@Description	The grid's team (多元共治), active members first. 422 when the region is not a grid.
//	@ID			listGridMembers
//	@Tags		grids
//	@Produce	json
//	@Security	BearerAuth
//	@Param		code	path		string	true	"grid code"
//	@Success	200		{object}	GridMemberList
//	@Failure	401,403,404,422	{object}	Problem
//	@Router		/api/v1/regions/{code}/members [get]
func (s *Server) listGridMembers(c *gin.Context) {
	ms, err := s.Regions.Members(c.Request.Context(), c.Param("code"))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := GridMemberList{Items: make([]GridMember, len(ms))}
	for i, m := range ms {
		out.Items[i] = memberDTO(m)
	}
	c.JSON(http.StatusOK, out)
}

// addGridMember godoc
//
//	@Summary	Add someone to a grid's team
//	@Description	An admin, or a dispatcher whose data scope holds the grid (404 outside it). A member who is a user names user_id; others have no account.
//	@ID			addGridMember
//	@Tags		grids
//	@Accept		json
//	@Produce	json
//	@Security	BearerAuth
//	@Param		code	path		string					true	"grid code"
//	@Param		body	body		CreateGridMemberRequest	true	"the member"
//	@Success	201		{object}	GridMember
//	@Failure	400,401,403,404,409,413,415,422	{object}	Problem
//	@Router		/api/v1/regions/{code}/members [post]
func (s *Server) addGridMember(c *gin.Context) {
	var req CreateGridMemberRequest
	if err := bindJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	m, err := s.Regions.AddMember(c.Request.Context(), mustPrincipal(c), c.Param("code"), region.MemberInput{
		UserID: req.UserID, Name: req.Name, Phone: req.Phone, Type: region.MemberType(req.MemberType), RoleNote: req.RoleNote, Active: req.Active,
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, memberDTO(m))
}

// removeGridMember godoc
//
//	@Summary	Take someone off a grid's team
//	@Description	An admin, or a dispatcher whose data scope holds the grid (404 outside it).
//	@ID			removeGridMember
//	@Tags		grids
//	@Security	BearerAuth
//	@Param		code	path	string	true	"grid code"
//	@Param		id		path	int		true	"member id"
//	@Success	204
//	@Failure	401,403,404,422	{object}	Problem
//	@Router		/api/v1/regions/{code}/members/{id} [delete]
func (s *Server) removeGridMember(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		s.fail(c, errs.NotFoundf("no member %q", c.Param("id")))
		return
	}
	if err := s.Regions.RemoveMember(c.Request.Context(), mustPrincipal(c), c.Param("code"), id); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// listGridResponsibilities godoc
//
//	@Summary	A grid's responsibility list
//	@Description	Who answers for which category of case in this grid (责任清单), by category code. 422 when the region is not a grid.
//	@ID			listGridResponsibilities
//	@Tags		grids
//	@Produce	json
//	@Security	BearerAuth
//	@Param		code	path		string	true	"grid code"
//	@Success	200		{object}	GridResponsibilityList
//	@Failure	401,403,404,422	{object}	Problem
//	@Router		/api/v1/regions/{code}/responsibilities [get]
func (s *Server) listGridResponsibilities(c *gin.Context) {
	rs, err := s.Regions.Responsibilities(c.Request.Context(), c.Param("code"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, responsibilitiesDTO(rs))
}

// replaceGridResponsibilities godoc
//
//	@Summary	Replace a grid's responsibility list
//	@Description	The list becomes exactly items: each names a category once and exactly one of an existing department and user. An admin, or a dispatcher whose data scope holds the grid (404 outside it).
//	@ID			replaceGridResponsibilities
//	@Tags		grids
//	@Accept		json
//	@Produce	json
//	@Security	BearerAuth
//	@Param		code	path		string								true	"grid code"
//	@Param		body	body		ReplaceGridResponsibilitiesRequest	true	"the whole list"
//	@Success	200		{object}	GridResponsibilityList
//	@Failure	400,401,403,404,413,415,422	{object}	Problem
//	@Router		/api/v1/regions/{code}/responsibilities [put]
func (s *Server) replaceGridResponsibilities(c *gin.Context) {
	var req ReplaceGridResponsibilitiesRequest
	if err := bindJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	items := make([]region.ResponsibilityInput, len(req.Items))
	for i, it := range req.Items {
		items[i] = region.ResponsibilityInput{CategoryCode: it.CategoryCode, DepartmentID: it.DepartmentID, UserID: it.UserID, Note: it.Note}
	}
	rs, err := s.Regions.ReplaceResponsibilities(c.Request.Context(), mustPrincipal(c), c.Param("code"), items)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, responsibilitiesDTO(rs))
}
