package httpapi

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/xuri/excelize/v2"

	"github.com/gridcase/gridcase/internal/casework"
	"github.com/gridcase/gridcase/internal/errs"
)

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// exportCases godoc
//
//	@Summary		Export cases (CSV or Excel)
//	@Description	The cases of GET /cases with the same filters and sort (cursor, limit and updated_since are ignored), as CSV (UTF-8 with a byte-order mark, so that Excel reads Chinese) or as an Excel workbook (xlsx), with Chinese (lang=zh, the default) or English headers. Rows are streamed as they are read. More than 100,000 matching cases is 422 before anything is sent: narrow the filters. Times are China time (UTC+8).
//	@ID				exportCases
//	@Tags			exports
//	@Produce		text/csv
//	@Produce		application/vnd.openxmlformats-officedocument.spreadsheetml.sheet
//	@Produce		json
//	@Security		BearerAuth
//	@Param			format			query		string		false	"csv (default) or xlsx"	Enums(csv, xlsx)
//	@Param			lang			query		string		false	"header language (default zh)"	Enums(zh, en)
//	@Param			state			query		[]string	false	"states"	collectionFormat(multi)
//	@Param			category		query		[]string	false	"small classes, 大类 or types"	collectionFormat(multi)
//	@Param			region			query		string		false	"region subtree"
//	@Param			grid			query		[]string	false	"grid codes"	collectionFormat(multi)
//	@Param			department		query		int			false	"lead or active co-handling department id"
//	@Param			assignee		query		string		false	"a user id or me"
//	@Param			reporter		query		string		false	"a user id or me"
//	@Param			source			query		[]string	false	"sources"	collectionFormat(multi)
//	@Param			overdue			query		bool		false	"open cases past (true) or within (false) their stage deadline"
//	@Param			light			query		[]string	false	"traffic lights"	collectionFormat(multi)
//	@Param			created_from	query		string		false	"created at or after"
//	@Param			created_to		query		string		false	"created before"
//	@Param			updated_from	query		string		false	"changed at or after"
//	@Param			updated_to		query		string		false	"changed before"
//	@Param			q				query		string		false	"text in the description, address or number"
//	@Param			bbox			query		string		false	"minLng,minLat,maxLng,maxLat"
//	@Param			sort			query		string		false	"order (default -updated_at)"	Enums(-updated_at, updated_at, -created_at, created_at, stage_deadline, -stage_deadline)
//	@Success		200				{file}		file
//	@Header			200				{string}	Content-Disposition	"attachment; filename=\"cases-20260316-0930.csv\""
//	@Header			200				{integer}	X-Total-Count		"the cases that matched"
//	@Failure		401,403,422		{object}	Problem
//	@Router			/api/v1/cases/export [get]
func (s *Server) exportCases(c *gin.Context) {
	in, err := caseListInput(c)
	format, lang := c.DefaultQuery("format", "csv"), c.DefaultQuery("lang", "zh")
	if err == nil {
		var f errs.Fields
		if format != "csv" && format != "xlsx" {
			f.Add("format", "enum", "format must be csv or xlsx")
		}
		if lang != "zh" && lang != "en" {
			f.Add("lang", "enum", "lang must be zh or en")
		}
		err = f.Err()
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	exp, err := s.Cases.PrepareExport(ctx, mustPrincipal(c), in, s.exportMaxRows())
	if err != nil {
		s.fail(c, err)
		return
	}
	rows := &exportRows{s: s, zh: lang == "zh", depts: map[int64]string{}, grids: map[string]string{}}
	name := "cases-" + time.Now().In(chinaTime).Format("20060102-1504") + "." + format
	c.Header("Content-Disposition", contentDisposition(name, rows.zh))
	c.Header("X-Total-Count", strconv.FormatInt(exp.Count, 10))
	if format == "xlsx" {
		err = writeXLSX(ctx, c, exp, rows)
	} else {
		err = writeCSV(ctx, c, exp, rows)
	}
	if err != nil {
		// The status is gone with the first byte: cut the connection, so that the client sees a
		// broken download rather than a file that silently lacks rows.
		s.log.ErrorContext(ctx, "export failed", "request_id", requestID(c), "error", err)
		panic(http.ErrAbortHandler)
	}
}

// exportMaxRows caps an export (GRIDCASE_EXPORT_MAX_ROWS, 100,000 by default): a larger one
// is refused before anything is written; people export a month of a district, not the archive.
func (s *Server) exportMaxRows() int {
	if s.Config.ExportMaxRows > 0 {
		return s.Config.ExportMaxRows
	}
	return 100_000
}

// contentDisposition names the download; with Chinese headers the name is Chinese too
// (filename* per RFC 6266, the ASCII name for old clients).
func contentDisposition(name string, zh bool) string {
	v := fmt.Sprintf("attachment; filename=%q", name)
	if zh {
		v += "; filename*=UTF-8''" + url.PathEscape("案件-"+strings.TrimPrefix(name, "cases-"))
	}
	return v
}

func writeCSV(ctx context.Context, c *gin.Context, exp *casework.Export, rows *exportRows) error {
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Status(http.StatusOK)
	if _, err := c.Writer.Write([]byte("\ufeff")); err != nil { // Excel reads UTF-8 only after a BOM
		return err
	}
	w := csv.NewWriter(c.Writer)
	w.UseCRLF = true
	if err := w.Write(rows.header()); err != nil {
		return err
	}
	n := 0
	err := exp.Each(ctx, func(v casework.View) error {
		if err := w.Write(csvSafe(rows.row(ctx, v))); err != nil {
			return err
		}
		if n++; n%500 == 0 { // a page at a time reaches the client as it is read
			w.Flush()
			c.Writer.Flush()
		}
		return w.Error()
	})
	if err == nil && exp.Truncated {
		err = w.Write([]string{rows.truncated(exp.Max)})
	}
	w.Flush()
	if err == nil {
		err = w.Error()
	}
	return err
}

// csvSafe keeps a spreadsheet from reading a cell as a formula (CSV injection): a cell that
// starts with = + - @ or a control character gets a leading apostrophe.
func csvSafe(cells []string) []string {
	for i, v := range cells {
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			continue // a number (a negative longitude) is not a formula
		}
		if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			cells[i] = "'" + v
		}
	}
	return cells
}

func writeXLSX(ctx context.Context, c *gin.Context, exp *casework.Export, rows *exportRows) error {
	f := excelize.NewFile()
	defer func() { _ = f.Close() }()
	sheet := "Cases"
	if rows.zh {
		sheet = "案件"
	}
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	for i, w := range exportWidths {
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			return err
		}
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	header := rows.header()
	cells := make([]any, len(header))
	for i, h := range header {
		cells[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	if err := sw.SetRow("A1", cells); err != nil {
		return err
	}
	n := 1
	err = exp.Each(ctx, func(v casework.View) error {
		n++
		r := rows.row(ctx, v)
		vals := make([]any, len(r))
		for i, x := range r {
			vals[i] = x
		}
		cell, _ := excelize.CoordinatesToCellName(1, n)
		return sw.SetRow(cell, vals)
	})
	if err != nil {
		return err
	}
	if exp.Truncated {
		cell, _ := excelize.CoordinatesToCellName(1, n+1)
		if err := sw.SetRow(cell, []any{rows.truncated(exp.Max)}); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	c.Header("Content-Type", xlsxType)
	c.Status(http.StatusOK)
	_, err = f.WriteTo(c.Writer)
	return err
}

// exportRows renders cases as export rows, naming departments and grids (each read once).
type exportRows struct {
	s     *Server
	zh    bool
	depts map[int64]string
	grids map[string]string
}

var exportHeaders = [][2]string{
	{"案件编号", "Number"}, {"状态", "State"}, {"类别编码", "Category code"}, {"类别", "Category"}, {"紧急程度", "Urgency"},
	{"描述", "Description"}, {"地址", "Address"}, {"网格编码", "Grid code"}, {"网格", "Grid"}, {"责任部门", "Lead department"},
	{"来源", "Source"}, {"发生时间", "Occurred at"}, {"上报时间", "Reported at"}, {"当前环节", "Stage"}, {"环节时限", "Stage deadline"},
	{"处置时限", "Handling deadline"}, {"红黄绿灯", "Light"}, {"结案时间", "Closed at"}, {"满意度", "Satisfaction"},
	{"经度", "Longitude"}, {"纬度", "Latitude"},
}

var exportWidths = []float64{20, 9, 9, 16, 8, 40, 28, 17, 16, 16, 11, 17, 17, 8, 17, 17, 8, 17, 7, 11, 10}

func (r *exportRows) header() []string {
	out := make([]string, len(exportHeaders))
	for i, h := range exportHeaders {
		if r.zh {
			out[i] = h[0]
		} else {
			out[i] = h[1]
		}
	}
	return out
}

func (r *exportRows) truncated(max int) string {
	if r.zh {
		return fmt.Sprintf("（导出截断：超过 %d 行，请缩小筛选范围）", max)
	}
	return fmt.Sprintf("(truncated at %d rows: narrow the filters)", max)
}

func (r *exportRows) row(ctx context.Context, v casework.View) []string {
	c := v.Case
	catName := ""
	if v.Category != nil {
		catName = v.Category.Name
	}
	lat, lng := "", ""
	if c.Point != nil {
		lat, lng = strconv.FormatFloat(c.Point.Lat, 'f', 6, 64), strconv.FormatFloat(c.Point.Lng, 'f', 6, 64)
	}
	sat := ""
	if c.Satisfaction != nil {
		sat = strconv.Itoa(*c.Satisfaction)
	}
	return []string{
		c.Number, r.label(string(c.State), stateZH), c.CategoryCode, catName, r.label(string(c.Urgency), urgencyZH),
		c.Description, c.Address, c.GridCode, r.grid(ctx, c.GridCode), r.dept(ctx, c.LeadDepartmentID),
		r.label(string(c.Source), sourceZH), chinaClock(&c.OccurredAt), chinaClock(&c.CreatedAt), r.label(string(c.Stage), stageZH),
		chinaClock(c.StageDeadline), chinaClock(c.HandleDeadline), r.label(string(v.Light), lightZH), chinaClock(c.ClosedAt), sat, lng, lat,
	}
}

func (r *exportRows) label(v string, zh map[string]string) string {
	if r.zh {
		if l, ok := zh[v]; ok {
			return l
		}
	}
	return v
}

func (r *exportRows) dept(ctx context.Context, id int64) string {
	if id == 0 {
		return ""
	}
	name, ok := r.depts[id]
	if !ok {
		name = strconv.FormatInt(id, 10)
		if d, err := r.s.Identity.DepartmentByID(ctx, id); err == nil {
			name = d.Name
		}
		r.depts[id] = name
	}
	return name
}

func (r *exportRows) grid(ctx context.Context, code string) string {
	if code == "" {
		return ""
	}
	name, ok := r.grids[code]
	if !ok {
		if d, err := r.s.Regions.Get(ctx, code); err == nil {
			name = d.Name
		}
		r.grids[code] = name
	}
	return name
}

// chinaClock writes a time as China's wall clock, minutes precision ("" for none).
func chinaClock(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.In(chinaTime).Format("2006-01-02 15:04")
}

var (
	stateZH = map[string]string{"reported": "待受理", "verifying": "核实中", "filed": "待派遣", "dispatched": "待签收", "handling": "处置中",
		"suspended": "挂账", "handled": "待核查", "checked": "待结案", "closed": "已结案", "rejected": "不予立案", "cancelled": "已作废"}
	stageZH = map[string]string{"accept": "受理", "verify": "核实", "dispatch": "派遣", "sign": "签收", "handle": "处置",
		"check": "核查", "close": "结案", "none": "—"}
	sourceZH = map[string]string{"grid_worker": "网格员上报", "resident": "群众举报", "hotline": "12345热线", "video": "视频发现",
		"integrator": "系统对接", "leader": "领导交办"}
	lightZH   = map[string]string{"green": "绿灯", "yellow": "黄灯", "red": "红灯"}
	urgencyZH = map[string]string{"normal": "一般", "urgent": "紧急"}
)
