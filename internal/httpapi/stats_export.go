package httpapi

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/xuri/excelize/v2"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/stats"
)

// statsExport godoc
//
//	@Summary		Export assessment statistics (CSV or Excel)
//	@Description	The table of GET /stats/{grouping} with the same parameters, as CSV (UTF-8 with a byte-order mark, so that Excel reads Chinese) or as an Excel workbook (xlsx, rates as percentages, a second sheet with the period and scope), with Chinese (lang=zh, the default) or English headers. One row per group and a total row (合计).
//	@ID				exportStats
//	@Tags			stats
//	@Produce		text/csv
//	@Produce		application/vnd.openxmlformats-officedocument.spreadsheetml.sheet
//	@Produce		json
//	@Security		BearerAuth
//	@Param			grouping	path		string	true	"what the rows are"	Enums(region, department, grid, worker, category)
//	@Param			format		query		string	false	"csv (default) or xlsx"	Enums(csv, xlsx)
//	@Param			lang		query		string	false	"header language (default zh)"	Enums(zh, en)
//	@Param			from		query		string	false	"first day, YYYY-MM-DD (default: the first of this month)"
//	@Param			to			query		string	false	"last day, included (default: the end of from's month)"
//	@Param			region		query		string	false	"region subtree (default: your scope)"
//	@Param			level		query		string	false	"region grouping: district|street|community|grid; category grouping: minor|major"
//	@Success		200			{file}		file
//	@Header			200			{string}	Content-Disposition	"attachment; filename=\"stats-region-20260301-20260331.csv\""
//	@Failure		401,403,404,422	{object}	Problem
//	@Router			/api/v1/stats/{grouping}/export [get]
func (s *Server) statsExport(c *gin.Context) {
	format, lang := c.DefaultQuery("format", "csv"), c.DefaultQuery("lang", "zh")
	var f errs.Fields
	if format != "csv" && format != "xlsx" {
		f.Add("format", "enum", "format must be csv or xlsx")
	}
	if lang != "zh" && lang != "en" {
		f.Add("lang", "enum", "lang must be zh or en")
	}
	if err := f.Err(); err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	t, err := s.Stats.Table(ctx, mustPrincipal(c), statsQuery(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Content-Disposition", statsDisposition(t, format, lang))
	if format == "xlsx" {
		err = writeStatsXLSX(c, t, lang)
	} else {
		err = writeStatsCSV(c, t, lang)
	}
	if err != nil {
		// The status went with the first byte: cut the connection so that the client sees a
		// broken download, not a file that silently lacks rows.
		s.log.ErrorContext(ctx, "stats export failed", "request_id", requestID(c), "error", err)
		panic(http.ErrAbortHandler)
	}
}

var groupingZH = map[stats.Grouping]string{
	stats.ByRegion: "区域", stats.ByDepartment: "部门", stats.ByGrid: "网格", stats.ByWorker: "网格员", stats.ByCategory: "类别",
}

// statsDisposition names the download: stats-region-20260301-20260331.csv, and with Chinese
// headers 考核统计-区域-20260301-20260331.csv as filename* (RFC 6266).
func statsDisposition(t stats.Table, format, lang string) string {
	span := strings.ReplaceAll(t.From, "-", "") + "-" + strings.ReplaceAll(t.To, "-", "")
	v := fmt.Sprintf("attachment; filename=%q", "stats-"+string(t.Grouping)+"-"+span+"."+format)
	if lang == "zh" {
		v += "; filename*=UTF-8''" + url.PathEscape("考核统计-"+groupingZH[t.Grouping]+"-"+span+"."+format)
	}
	return v
}

// statsSheet is a table as header and rows of values, shared by both formats.
type statsSheet struct {
	t    stats.Table
	lang string
}

func (x statsSheet) header() []string {
	k, n := stats.KeyHeaders(x.t.Grouping, x.lang)
	out := []string{k, n}
	for _, col := range x.t.Columns {
		if x.lang == "en" {
			out = append(out, col.EN)
		} else {
			out = append(out, col.ZH)
		}
	}
	return out
}

// rows calls fn with each row and then the total, with their key and name as shown.
func (x statsSheet) rows(fn func(key, name string, r stats.Row, total bool) error) error {
	none, total := stats.NoKeyName(x.t.Grouping, x.lang)
	for _, r := range x.t.Rows {
		name := r.Name
		if r.Key == "" {
			name = none
		}
		if err := fn(r.Key, name, r, false); err != nil {
			return err
		}
	}
	return fn("", total, x.t.Total, true)
}

// text writes a figure for CSV: counts as integers, rates as percentages with two decimals,
// hours and multiples with two decimals; "" when there is no value.
func statsText(col stats.Column, r stats.Row) string {
	v, ok := col.Value(r)
	if !ok {
		return ""
	}
	switch col.Kind {
	case stats.Count:
		return strconv.Itoa(int(v))
	case stats.Rate:
		return strconv.FormatFloat(v*100, 'f', 2, 64) + "%"
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func writeStatsCSV(c *gin.Context, t stats.Table, lang string) error {
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Status(http.StatusOK)
	return statsCSV(c.Writer, t, lang)
}

// statsCSV writes the table as CSV with a UTF-8 byte-order mark (Excel needs it for Chinese).
func statsCSV(w io.Writer, t stats.Table, lang string) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	x := statsSheet{t: t, lang: lang}
	if err := cw.Write(x.header()); err != nil {
		return err
	}
	err := x.rows(func(key, name string, r stats.Row, _ bool) error {
		cells := []string{key, name}
		for _, col := range t.Columns {
			cells = append(cells, statsText(col, r))
		}
		return cw.Write(csvSafe(cells))
	})
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	return err
}

func writeStatsXLSX(c *gin.Context, t stats.Table, lang string) error {
	c.Header("Content-Type", xlsxType)
	c.Status(http.StatusOK)
	return statsXLSX(c.Writer, t, lang)
}

// statsXLSX writes the table as a workbook through excelize's stream writer: figures are
// numbers (rates with a percentage format, so that Excel can sum and chart them), codes are
// text, and a second sheet says what the table covers.
func statsXLSX(w io.Writer, t stats.Table, lang string) error {
	f := excelize.NewFile()
	defer func() { _ = f.Close() }()
	zh := lang != "en"
	sheet, about := "Statistics", "About"
	if zh {
		sheet, about = "考核统计", "说明"
	}
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	styles := map[stats.Kind]int{}
	for kind, st := range map[stats.Kind]*excelize.Style{
		stats.Count: {NumFmt: 1}, stats.Rate: {NumFmt: 10}, stats.Hours: {NumFmt: 2}, stats.Multiple: {NumFmt: 2}, stats.Score: {NumFmt: 2},
	} {
		if styles[kind], err = f.NewStyle(st); err != nil {
			return err
		}
	}
	boldStyles := map[stats.Kind]int{}
	for kind, n := range map[stats.Kind]int{stats.Count: 1, stats.Rate: 10, stats.Hours: 2, stats.Multiple: 2, stats.Score: 2} {
		if boldStyles[kind], err = f.NewStyle(&excelize.Style{NumFmt: n, Font: &excelize.Font{Bold: true}}); err != nil {
			return err
		}
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	if err := sw.SetColWidth(1, 1, 17); err != nil {
		return err
	}
	if err := sw.SetColWidth(2, 2, 18); err != nil {
		return err
	}
	if err := sw.SetColWidth(3, 2+len(t.Columns), 12); err != nil {
		return err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, XSplit: 2, YSplit: 1, TopLeftCell: "C2", ActivePane: "bottomRight"}); err != nil {
		return err
	}
	x := statsSheet{t: t, lang: lang}
	header := x.header()
	cells := make([]any, len(header))
	for i, h := range header {
		cells[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	if err := sw.SetRow("A1", cells); err != nil {
		return err
	}
	n := 1
	err = x.rows(func(key, name string, r stats.Row, total bool) error {
		n++
		vals := []any{key, name}
		if total {
			vals = []any{excelize.Cell{StyleID: bold, Value: key}, excelize.Cell{StyleID: bold, Value: name}}
		}
		for _, col := range t.Columns {
			v, ok := col.Value(r)
			if !ok {
				vals = append(vals, nil)
				continue
			}
			style := styles[col.Kind]
			if total {
				style = boldStyles[col.Kind]
			}
			vals = append(vals, excelize.Cell{StyleID: style, Value: v})
		}
		cell, _ := excelize.CoordinatesToCellName(1, n)
		return sw.SetRow(cell, vals)
	})
	if err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	if _, err := f.NewSheet(about); err != nil {
		return err
	}
	region := t.RegionName
	if t.RegionCode != "" {
		region = t.RegionCode + " " + t.RegionName
	}
	info := [][2]string{
		{"统计周期", t.From + " 至 " + t.To}, {"区域", orAll(region, zh)}, {"分组", groupingZH[t.Grouping] + " " + t.Level},
		{"时区", t.Zone}, {"生成时间", t.GeneratedAt.In(chinaTime).Format("2006-01-02 15:04")},
		{"口径", "docs/assessment.md: 按流转记录(事件日志)计算; 计数为案件数; 比率分母为 0 时留空"},
	}
	if !zh {
		info = [][2]string{
			{"Period", t.From + " to " + t.To}, {"Region", orAll(region, zh)}, {"Grouping", string(t.Grouping) + " " + t.Level},
			{"Time zone", t.Zone}, {"Generated", t.GeneratedAt.UTC().Format("2006-01-02 15:04 UTC")},
			{"Definitions", "docs/assessment.md: computed from the case event log; counts are cases; a rate without a base is empty"},
		}
	}
	for i, kv := range info {
		if err := f.SetSheetRow(about, "A"+strconv.Itoa(i+1), &[]any{kv[0], kv[1]}); err != nil {
			return err
		}
	}
	_, err = f.WriteTo(w)
	return err
}

func orAll(region string, zh bool) string {
	switch {
	case region != "":
		return region
	case zh:
		return "全部"
	}
	return "all"
}
