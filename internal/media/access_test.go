package media_test

import (
	"context"
	"testing"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/media"
)

func TestRowAccess(t *testing.T) {
	c := media.CaseScope{RegionPath: "/320600/320613/320613001/320613001001/320613001001001/", GridCode: "320613001001001", LeadDepartmentID: 3, ReporterUserID: 7}
	tests := []struct {
		name string
		p    identity.Principal
		want bool
	}{
		{"all", identity.Principal{UserID: 1, Scope: identity.Scope{Kind: identity.ScopeAll}}, true},
		{"region above", identity.Principal{UserID: 1, Scope: identity.Scope{Kind: identity.ScopeRegion, RegionPath: "/320600/320613/"}}, true},
		{"sibling region", identity.Principal{UserID: 1, Scope: identity.Scope{Kind: identity.ScopeRegion, RegionPath: "/320600/320613/320613002/"}}, false},
		{"region without path", identity.Principal{UserID: 1, Scope: identity.Scope{Kind: identity.ScopeRegion}}, false},
		{"lead department", identity.Principal{UserID: 1, Scope: identity.Scope{Kind: identity.ScopeDepartment, DepartmentID: 3}}, true},
		{"other department", identity.Principal{UserID: 1, Scope: identity.Scope{Kind: identity.ScopeDepartment, DepartmentID: 4}}, false},
		{"its grid", identity.Principal{UserID: 1, Scope: identity.Scope{Kind: identity.ScopeGrids, GridCodes: []string{"x", "320613001001001"}}}, true},
		{"other grid", identity.Principal{UserID: 1, Scope: identity.Scope{Kind: identity.ScopeGrids, GridCodes: []string{"320613001001002"}}}, false},
		{"its reporter", identity.Principal{UserID: 7, Scope: identity.Scope{Kind: identity.ScopeGrids}}, true},
		{"an API key is no reporter", identity.Principal{APIKeyID: 7, Scope: identity.Scope{Kind: identity.ScopeGrids}}, false},
		{"no scope", identity.Principal{UserID: 1}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			access := media.RowAccess{Load: func(context.Context, int64) (media.CaseScope, error) { return c, nil }}
			err := access.CanSee(context.Background(), tc.p, 1)
			if tc.want && err != nil || !tc.want && !errs.Is(err, errs.NotFound) {
				t.Fatalf("CanSee = %v, want seen=%v", err, tc.want)
			}
		})
	}
	missing := media.RowAccess{Load: func(context.Context, int64) (media.CaseScope, error) {
		return media.CaseScope{}, errs.NotFoundf("no case")
	}}
	if err := missing.CanSee(context.Background(), identity.Principal{Scope: identity.Scope{Kind: identity.ScopeAll}}, 1); !errs.Is(err, errs.NotFound) {
		t.Fatalf("missing case: %v", err)
	}
}
