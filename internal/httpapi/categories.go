package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gridcase/gridcase/internal/category"
	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/worktime"
)

func (s *Server) registerCategories(r *gin.RouterGroup) {
	r.GET("/categories", s.requireAuth, s.listCategories)
	r.POST("/categories", s.requireAuth, s.createCategory)
	r.GET("/categories/:code", s.requireAuth, s.getCategory)
	r.PATCH("/categories/:code", s.requireAuth, s.updateCategory)
}

// TimeLimit is a time limit (处置时限): value units, plus minutes for the hour units.
type TimeLimit struct {
	Value int `json:"value" example:"1"`
	// urgent_hours: a continuous clock (紧急工作时); work_hours: work windows only (工作时);
	// work_days: N × the daily work time (工作日); natural_days: calendar days (自然日).
	Unit    string `json:"unit" enums:"urgent_hours,work_hours,work_days,natural_days" example:"work_days"`
	Minutes int    `json:"minutes,omitempty" example:"0"`
} //	@name	TimeLimit

func timeLimitDTO(l worktime.Limit) TimeLimit {
	return TimeLimit{Value: l.Value, Unit: string(l.Unit), Minutes: l.Minutes}
}

func (t TimeLimit) domain() worktime.Limit {
	return worktime.Limit{Value: t.Value, Unit: worktime.Unit(t.Unit), Minutes: t.Minutes}
}

// Category is a small class (小类) of the case catalogue.
type Category struct {
	// Code is C (component 部件) or E (event 事件), the 大类's two digits and the 小类's two.
	Code              string     `json:"code" example:"E0101"`
	Type              string     `json:"type" enums:"component,event" example:"event"`
	MajorCode         string     `json:"major_code" example:"01"`
	MajorName         string     `json:"major_name" example:"市容环境"`
	Name              string     `json:"name" example:"暴露垃圾"`
	FilingCondition   string     `json:"filing_condition" example:"道路、广场、绿地等公共区域出现暴露垃圾"`
	ClosingCondition  string     `json:"closing_condition" example:"垃圾清理干净，无残留"`
	DefaultDepartment string     `json:"default_department,omitempty" example:"cgj"` // department code (责任主体)
	NormalLimit       TimeLimit  `json:"normal_limit"`
	UrgentLimit       *TimeLimit `json:"urgent_limit,omitempty"`
	CheckRequired     bool       `json:"check_required" example:"true"`      // on-site check (核查) before closing
	SelfHandleAllowed bool       `json:"self_handle_allowed" example:"true"` // a grid worker may fix and close it at once
	Active            bool       `json:"active" example:"true"`
	Keywords          []string   `json:"keywords"`
	CreatedAt         time.Time  `json:"created_at" example:"2026-03-01T08:30:00Z"`
	UpdatedAt         time.Time  `json:"updated_at" example:"2026-03-01T08:30:00Z"`
} //	@name	Category

func categoryDTO(c category.Category) Category {
	out := Category{Code: c.Code, Type: string(c.Type), MajorCode: c.MajorCode, MajorName: c.MajorName, Name: c.Name,
		FilingCondition: c.FilingCondition, ClosingCondition: c.ClosingCondition, DefaultDepartment: c.DefaultDepartment,
		NormalLimit: timeLimitDTO(c.NormalLimit), CheckRequired: c.CheckRequired, SelfHandleAllowed: c.SelfHandleAllowed,
		Active: c.Active, Keywords: c.Keywords, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	if c.UrgentLimit != (worktime.Limit{}) {
		u := timeLimitDTO(c.UrgentLimit)
		out.UrgentLimit = &u
	}
	if out.Keywords == nil {
		out.Keywords = []string{}
	}
	return out
}

// CategoryMajor is a 大类 with its small classes.
type CategoryMajor struct {
	Type       string     `json:"type" enums:"component,event" example:"event"`
	Code       string     `json:"code" example:"01"`
	Name       string     `json:"name" example:"市容环境"`
	Categories []Category `json:"categories"`
} //	@name	CategoryMajor

// CategoryList is the catalogue: flat in items, or grouped by 大类 in majors (view=tree).
type CategoryList struct {
	Items  []Category      `json:"items,omitempty"`
	Majors []CategoryMajor `json:"majors,omitempty"`
} //	@name	CategoryList

// listCategories godoc
//
//	@Summary		List the case categories
//	@Description	The catalogue of small classes, sorted by code: flat (items), or with view=tree grouped by 大类 (majors), components first. Every signed-in user may read it, and API keys with cases:read, cases:write or open311.
//	@ID				listCategories
//	@Tags			categories
//	@Produce		json
//	@Security		BearerAuth
//	@Param			view	query		string	false	"flat (default) or tree"	Enums(flat, tree)
//	@Param			type	query		string	false	"component or event"		Enums(component, event)
//	@Param			active	query		bool	false	"true: only classes that take new reports"
//	@Param			q		query		string	false	"part of the name, 大类 name, code or a keyword"
//	@Success		200		{object}	CategoryList
//	@Failure		401,403,422	{object}	Problem
//	@Router			/api/v1/categories [get]
func (s *Server) listCategories(c *gin.Context) {
	var f errs.Fields
	filter := category.Filter{Type: category.Type(c.Query("type")), Query: c.Query("q")}
	if v := c.Query("active"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			f.Add("active", "type", "active must be true or false")
		}
		filter.ActiveOnly = b
	}
	view := c.DefaultQuery("view", "flat")
	if view != "flat" && view != "tree" {
		f.Add("view", "enum", "view must be flat or tree")
	}
	if err := f.Err(); err != nil {
		s.fail(c, err)
		return
	}
	cats, err := s.Categories.List(c.Request.Context(), mustPrincipal(c), filter)
	if err != nil {
		s.fail(c, err)
		return
	}
	var out CategoryList
	if view == "tree" {
		out.Majors = []CategoryMajor{}
		for _, m := range category.Tree(cats) {
			cm := CategoryMajor{Type: string(m.Type), Code: m.Code, Name: m.Name, Categories: make([]Category, len(m.Categories))}
			for i, cat := range m.Categories {
				cm.Categories[i] = categoryDTO(cat)
			}
			out.Majors = append(out.Majors, cm)
		}
	} else {
		out.Items = make([]Category, len(cats))
		for i, cat := range cats {
			out.Items[i] = categoryDTO(cat)
		}
	}
	c.JSON(http.StatusOK, out)
}

// getCategory godoc
//
//	@Summary	Get a case category
//	@ID			getCategory
//	@Tags		categories
//	@Produce	json
//	@Security	BearerAuth
//	@Param		code	path		string	true	"category code, e.g. E0101"
//	@Success	200		{object}	Category
//	@Failure	401,403,404	{object}	Problem
//	@Router		/api/v1/categories/{code} [get]
func (s *Server) getCategory(c *gin.Context) {
	cat, err := s.Categories.Get(c.Request.Context(), mustPrincipal(c), c.Param("code"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, categoryDTO(cat))
}

// CreateCategoryRequest adds a small class to the catalogue.
type CreateCategoryRequest struct {
	Code              string     `json:"code" example:"E0107"`
	Type              string     `json:"type" enums:"component,event" example:"event"`
	MajorCode         string     `json:"major_code" example:"01"`
	MajorName         string     `json:"major_name" example:"市容环境"`
	Name              string     `json:"name" example:"绿地脏乱"`
	FilingCondition   string     `json:"filing_condition" example:"绿地内有明显垃圾、杂物"`
	ClosingCondition  string     `json:"closing_condition" example:"绿地清理干净"`
	DefaultDepartment string     `json:"default_department,omitempty" example:"cgj"`
	NormalLimit       TimeLimit  `json:"normal_limit"`
	UrgentLimit       *TimeLimit `json:"urgent_limit,omitempty"`
	CheckRequired     *bool      `json:"check_required,omitempty" example:"true"` // default true
	SelfHandleAllowed bool       `json:"self_handle_allowed" example:"false"`
	Active            *bool      `json:"active,omitempty" example:"true"` // default true
	Keywords          []string   `json:"keywords,omitempty"`
} //	@name	CreateCategoryRequest

// createCategory godoc
//
//	@Summary	Add a case category (admin)
//	@ID			createCategory
//	@Tags		categories
//	@Accept		json
//	@Produce	json
//	@Security	BearerAuth
//	@Param		body	body		CreateCategoryRequest	true	"the new class"
//	@Success	201		{object}	Category
//	@Failure	400,401,403,409,413,415,422	{object}	Problem
//	@Router		/api/v1/categories [post]
func (s *Server) createCategory(c *gin.Context) {
	var in CreateCategoryRequest
	if err := bindJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	cat := category.Category{Code: in.Code, Type: category.Type(in.Type), MajorCode: in.MajorCode, MajorName: in.MajorName,
		Name: in.Name, FilingCondition: in.FilingCondition, ClosingCondition: in.ClosingCondition,
		DefaultDepartment: in.DefaultDepartment, NormalLimit: in.NormalLimit.domain(), CheckRequired: in.CheckRequired == nil || *in.CheckRequired,
		SelfHandleAllowed: in.SelfHandleAllowed, Active: in.Active == nil || *in.Active, Keywords: in.Keywords}
	if in.UrgentLimit != nil {
		cat.UrgentLimit = in.UrgentLimit.domain()
	}
	out, err := s.Categories.Create(c.Request.Context(), mustPrincipal(c), cat)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/categories/"+out.Code)
	c.JSON(http.StatusCreated, categoryDTO(out))
}

// UpdateCategoryRequest changes a class; absent fields stay. Code and type never change.
type UpdateCategoryRequest struct {
	MajorName         *string    `json:"major_name,omitempty"`
	Name              *string    `json:"name,omitempty"`
	FilingCondition   *string    `json:"filing_condition,omitempty"`
	ClosingCondition  *string    `json:"closing_condition,omitempty"`
	DefaultDepartment *string    `json:"default_department,omitempty" example:"cgj"` // "" removes it
	NormalLimit       *TimeLimit `json:"normal_limit,omitempty"`
	UrgentLimit       *TimeLimit `json:"urgent_limit,omitempty"`
	CheckRequired     *bool      `json:"check_required,omitempty"`
	SelfHandleAllowed *bool      `json:"self_handle_allowed,omitempty"`
	Active            *bool      `json:"active,omitempty"`
	Keywords          *[]string  `json:"keywords,omitempty"`
} //	@name	UpdateCategoryRequest

// updateCategory godoc
//
//	@Summary	Change a case category (admin)
//	@ID			updateCategory
//	@Tags		categories
//	@Accept		json
//	@Produce	json
//	@Security	BearerAuth
//	@Param		code	path		string					true	"category code"
//	@Param		body	body		UpdateCategoryRequest	true	"the fields to change"
//	@Success	200		{object}	Category
//	@Failure	400,401,403,404,413,415,422	{object}	Problem
//	@Router		/api/v1/categories/{code} [patch]
func (s *Server) updateCategory(c *gin.Context) {
	var in UpdateCategoryRequest
	if err := bindJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	patch := category.Patch{MajorName: in.MajorName, Name: in.Name, FilingCondition: in.FilingCondition,
		ClosingCondition: in.ClosingCondition, DefaultDepartment: in.DefaultDepartment, CheckRequired: in.CheckRequired,
		SelfHandleAllowed: in.SelfHandleAllowed, Active: in.Active, Keywords: in.Keywords}
	if in.NormalLimit != nil {
		l := in.NormalLimit.domain()
		patch.NormalLimit = &l
	}
	if in.UrgentLimit != nil {
		l := in.UrgentLimit.domain()
		patch.UrgentLimit = &l
	}
	out, err := s.Categories.Update(c.Request.Context(), mustPrincipal(c), c.Param("code"), patch)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, categoryDTO(out))
}
