package store

import (
	"context"
	"sort"
	"strings"
)

// Column describes one column of the live schema, with its type reduced to a family that both
// engines share (integer, text, real, bool, time, json, bytes), so two schemas can be compared.
type Column struct {
	Table    string
	Name     string
	Family   string
	Nullable bool
}

// Schema lists the application's tables and columns (migration bookkeeping excluded), sorted.
func (s *Store) Schema(ctx context.Context) ([]Column, error) {
	var cols []Column
	if s.dialect == Postgres {
		var rows []struct {
			TableName  string
			ColumnName string
			DataType   string
			IsNullable string
		}
		err := s.conn(ctx).Raw(`SELECT table_name, column_name, data_type, is_nullable
			FROM information_schema.columns WHERE table_schema = current_schema()`).Scan(&rows).Error
		if err != nil {
			return nil, s.translate(err, "read schema")
		}
		for _, r := range rows {
			cols = append(cols, Column{r.TableName, r.ColumnName, family(r.DataType), r.IsNullable == "YES"})
		}
	} else {
		var tables []string
		if err := s.conn(ctx).Raw(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).Scan(&tables).Error; err != nil {
			return nil, s.translate(err, "read schema")
		}
		for _, t := range tables {
			var rows []struct {
				Name    string
				Type    string
				Notnull int
				Pk      int
			}
			if err := s.conn(ctx).Raw(`SELECT name, type, "notnull", pk FROM pragma_table_info(?)`, t).Scan(&rows).Error; err != nil {
				return nil, s.translate(err, "read schema")
			}
			for _, r := range rows {
				// SQLite lets an INTEGER PRIMARY KEY be declared without NOT NULL; it is never null.
				cols = append(cols, Column{t, r.Name, family(r.Type), r.Notnull == 0 && r.Pk == 0})
			}
		}
	}
	out := cols[:0]
	for _, c := range cols {
		if c.Table == "goose_db_version" || strings.HasPrefix(c.Table, "river_") {
			continue
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Table != out[j].Table {
			return out[i].Table < out[j].Table
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

func family(t string) string {
	t = strings.ToLower(t)
	switch {
	case strings.Contains(t, "int") || t == "bigserial" || t == "serial":
		return "integer"
	case strings.Contains(t, "bool"):
		return "bool"
	case strings.Contains(t, "timestamp") || strings.Contains(t, "date") || strings.Contains(t, "time"):
		return "time"
	case strings.Contains(t, "json"):
		return "json"
	case strings.Contains(t, "double") || strings.Contains(t, "real") || strings.Contains(t, "numeric") || strings.Contains(t, "float"):
		return "real"
	case strings.Contains(t, "bytea") || strings.Contains(t, "blob"):
		return "bytes"
	default:
		return "text"
	}
}
