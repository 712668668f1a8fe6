package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/identity"
)

func (s *Server) registerDepartments(r *gin.RouterGroup) {
	r.GET("/departments", s.requireAuth, s.listDepartments)
	r.POST("/departments", s.requireAuth, s.createDepartment)
	r.GET("/departments/:id", s.requireAuth, s.getDepartment)
	r.PATCH("/departments/:id", s.requireAuth, s.updateDepartment)
}

// Department is a functional department cases are dispatched to (职能部门).
type Department struct {
	ID   int64  `json:"id" example:"3"`
	Code string `json:"code" example:"CG-320613"`
	Name string `json:"name" example:"崇川区城市管理局"`
	// Kind is e.g. city_management (城管), market_regulation (市场监管), housing (住建),
	// environment (环保), police (公安), water, power, telecom, civil_affairs.
	Kind string `json:"kind,omitempty" example:"city_management"`
	// RegionCode is the level the department belongs to; absent: city-wide.
	RegionCode string    `json:"region_code,omitempty" example:"320613"`
	Phone      string    `json:"phone,omitempty" example:"0513-12319"`
	Active     bool      `json:"active" example:"true"`
	CreatedAt  time.Time `json:"created_at" example:"2025-03-01T08:30:00Z"`
	UpdatedAt  time.Time `json:"updated_at" example:"2025-03-01T08:30:00Z"`
} //	@name	Department

func departmentDTO(d identity.Department) Department {
	return Department{ID: d.ID, Code: d.Code, Name: d.Name, Kind: d.Kind, RegionCode: d.RegionCode, Phone: d.Phone,
		Active: d.Active, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
}

// DepartmentList is one page of departments.
type DepartmentList struct {
	Items  []Department `json:"items"`
	Total  int64        `json:"total" example:"1"`
	Limit  int          `json:"limit" example:"50"`
	Offset int          `json:"offset" example:"0"`
} //	@name	DepartmentList

// listDepartments godoc
//
//	@Summary		List departments
//	@Description	Any signed-in caller may read the departments (ordered by code).
//	@ID				listDepartments
//	@Tags			departments
//	@Produce		json
//	@Security		BearerAuth
//	@Security		APIKey
//	@Param			kind		query		string	false	"kind, e.g. city_management"
//	@Param			region_code	query		string	false	"departments of exactly this region"
//	@Param			q			query		string	false	"part of the code or name"
//	@Param			active		query		bool	false	"active or deactivated departments only"
//	@Param			limit		query		int		false	"page size (1–200, default 50)"
//	@Param			offset		query		int		false	"items to skip"
//	@Success		200			{object}	DepartmentList
//	@Failure		401,422		{object}	Problem
//	@Router			/api/v1/departments [get]
func (s *Server) listDepartments(c *gin.Context) {
	var f errs.Fields
	filter := identity.DepartmentFilter{
		Kind: c.Query("kind"), RegionCode: c.Query("region_code"), Query: c.Query("q"),
		Active: authQueryBool(c, &f, "active"),
		Limit:  int(authQueryInt(c, &f, "limit")), Offset: int(authQueryInt(c, &f, "offset")),
	}
	if err := f.Err(); err != nil {
		s.fail(c, err)
		return
	}
	page, err := s.Identity.ListDepartments(c.Request.Context(), mustPrincipal(c), filter)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := DepartmentList{Items: make([]Department, len(page.Departments)), Total: page.Total, Limit: page.Limit, Offset: page.Offset}
	for i, d := range page.Departments {
		out.Items[i] = departmentDTO(d)
	}
	c.JSON(http.StatusOK, out)
}

// getDepartment godoc
//
//	@Summary	Get a department
//	@ID			getDepartment
//	@Tags		departments
//	@Produce	json
//	@Security	BearerAuth
//	@Security	APIKey
//	@Param		id	path		int	true	"department id"
//	@Success	200	{object}	Department
//	@Failure	401,404	{object}	Problem
//	@Router		/api/v1/departments/{id} [get]
func (s *Server) getDepartment(c *gin.Context) {
	id, err := authIDParam(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	d, err := s.Identity.GetDepartment(c.Request.Context(), mustPrincipal(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, departmentDTO(d))
}

// CreateDepartmentRequest creates a department.
type CreateDepartmentRequest struct {
	// Code is unique and never changes (1–64 letters, digits, '.', '_' or '-').
	Code       string `json:"code" example:"CG-320613" binding:"required"`
	Name       string `json:"name" example:"崇川区城市管理局" binding:"required"`
	Kind       string `json:"kind,omitempty" example:"city_management"`
	RegionCode string `json:"region_code,omitempty" example:"320613"`
	Phone      string `json:"phone,omitempty" example:"0513-12319"`
} //	@name	CreateDepartmentRequest

// createDepartment godoc
//
//	@Summary		Create a department
//	@Description	Admins only.
//	@ID				createDepartment
//	@Tags			departments
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			body	body		CreateDepartmentRequest	true	"the new department"
//	@Success		201		{object}	Department
//	@Failure		400,401,403,413,415,422	{object}	Problem
//	@Router			/api/v1/departments [post]
func (s *Server) createDepartment(c *gin.Context) {
	var req CreateDepartmentRequest
	if err := bindJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	d, err := s.Identity.CreateDepartment(c.Request.Context(), mustPrincipal(c), identity.NewDepartment{
		Code: req.Code, Name: req.Name, Kind: req.Kind, RegionCode: req.RegionCode, Phone: req.Phone,
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/departments/"+strconv.FormatInt(d.ID, 10))
	c.JSON(http.StatusCreated, departmentDTO(d))
}

// UpdateDepartmentRequest changes some fields of a department; absent fields stay, "" clears
// an optional one.
type UpdateDepartmentRequest struct {
	Name       *string `json:"name,omitempty" example:"崇川区城市管理局"`
	Kind       *string `json:"kind,omitempty" example:"city_management"`
	RegionCode *string `json:"region_code,omitempty" example:"320613"`
	Phone      *string `json:"phone,omitempty" example:"0513-12319"`
	Active     *bool   `json:"active,omitempty" example:"true"`
} //	@name	UpdateDepartmentRequest

// updateDepartment godoc
//
//	@Summary		Change a department
//	@Description	Admins only. The code cannot change.
//	@ID				updateDepartment
//	@Tags			departments
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id		path		int						true	"department id"
//	@Param			body	body		UpdateDepartmentRequest	true	"the fields to change"
//	@Success		200		{object}	Department
//	@Failure		400,401,403,404,413,415,422	{object}	Problem
//	@Router			/api/v1/departments/{id} [patch]
func (s *Server) updateDepartment(c *gin.Context) {
	id, err := authIDParam(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	var req UpdateDepartmentRequest
	if err := bindJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	d, err := s.Identity.UpdateDepartment(c.Request.Context(), mustPrincipal(c), id, identity.DepartmentPatch{
		Name: req.Name, Kind: req.Kind, RegionCode: req.RegionCode, Phone: req.Phone, Active: req.Active,
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, departmentDTO(d))
}
