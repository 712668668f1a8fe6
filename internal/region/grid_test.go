package region_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/region"
	"github.com/gridcase/gridcase/internal/store"
	"github.com/gridcase/gridcase/internal/store/storetest"
)

const gridOne, gridTwo = "320613001001001", "320613001001002"

// people creates a grid worker and two departments through the identity store.
func people(t *testing.T, s *store.Store) (worker int64, chengguan, shichang int64) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	u := identity.User{Username: "zhang.wei", DisplayName: "张伟", PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA",
		Role: identity.RoleGridWorker, Scope: identity.Scope{Kind: identity.ScopeGrids, GridCodes: []string{gridOne}},
		WorkerKind: identity.WorkerFullTime, Active: true, CreatedAt: now, UpdatedAt: now, PasswordChangedAt: now}
	if err := s.CreateUser(ctx, &u); err != nil {
		t.Fatalf("create user: %v", err)
	}
	var ids []int64
	for _, d := range []identity.Department{{Code: "cg", Name: "城管局"}, {Code: "sj", Name: "市场监管局"}} {
		d.Active, d.CreatedAt, d.UpdatedAt = true, now, now
		if err := s.CreateDepartment(ctx, &d); err != nil {
			t.Fatalf("create department: %v", err)
		}
		ids = append(ids, d.ID)
	}
	return u.ID, ids[0], ids[1]
}

func TestGridTeam(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		svc := newService(t, s)
		fixture(t, svc)
		worker, _, _ := people(t, s)

		full, err := svc.AddMember(ctx, admin, gridOne, region.MemberInput{UserID: worker, Name: "张伟", Phone: "13800001111", Type: region.MemberFullTime})
		if err != nil || full.ID == 0 || !full.Active {
			t.Fatalf("add worker: %+v %v", full, err)
		}
		off := false
		vol, err := svc.AddMember(ctx, admin, gridOne, region.MemberInput{Name: "李阿姨", Type: region.MemberVolunteer, RoleNote: "楼栋长", Active: &off})
		if err != nil || vol.UserID != 0 || vol.Active {
			t.Fatalf("add volunteer: %+v %v", vol, err)
		}
		if _, err := svc.AddMember(ctx, admin, gridOne, region.MemberInput{UserID: worker, Name: "张伟", Type: region.MemberGridLeader}); errs.CodeOf(err) != errs.Conflict {
			t.Fatalf("same user twice: %v", err)
		}
		bad := []struct {
			name string
			in   region.MemberInput
			want string
		}{
			{"no name", region.MemberInput{Type: region.MemberVolunteer}, "name:required"},
			{"bad type", region.MemberInput{Name: "x", Type: "boss"}, "member_type:enum"},
			{"bad phone", region.MemberInput{Name: "x", Type: region.MemberVolunteer, Phone: "call me"}, "phone:format"},
			{"unknown user", region.MemberInput{Name: "x", Type: region.MemberFullTime, UserID: 999999}, "user_id:exists"},
		}
		for _, tt := range bad {
			if _, err := svc.AddMember(ctx, admin, gridOne, tt.in); fmt.Sprint(fieldRules(err)) != "["+tt.want+"]" {
				t.Errorf("%s: %v", tt.name, err)
			}
		}
		ms, err := svc.Members(ctx, gridOne)
		if err != nil || len(ms) != 2 || ms[0].ID != full.ID || ms[1].RoleNote != "楼栋长" {
			t.Fatalf("members %+v %v", ms, err)
		}
		if _, err := svc.Members(ctx, "320613001001"); fmt.Sprint(fieldRules(err)) != "[code:grid]" {
			t.Fatalf("members of a community: %v", err)
		}
		if _, err := svc.Members(ctx, "320613001001009"); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("members of an unknown grid: %v", err)
		}

		// Who may change the team.
		inScope := identity.Principal{UserID: 7, Role: identity.RoleDispatcher, Scope: identity.Scope{Kind: identity.ScopeRegion, RegionCode: "320613001", RegionPath: "/320600/320613/320613001/"}}
		outScope := identity.Principal{UserID: 8, Role: identity.RoleDispatcher, Scope: identity.Scope{Kind: identity.ScopeRegion, RegionCode: "320613002", RegionPath: "/320600/320613/320613002/"}}
		gridScoped := identity.Principal{UserID: 9, Role: identity.RoleDispatcher, Scope: identity.Scope{Kind: identity.ScopeGrids, GridCodes: []string{gridTwo}}}
		handler := identity.Principal{UserID: 10, Role: identity.RoleHandler, Scope: identity.Scope{Kind: identity.ScopeAll}}
		key := identity.Principal{APIKeyID: 3, Role: identity.RoleIntegrator, Scope: identity.Scope{Kind: identity.ScopeAll}}
		in := region.MemberInput{Name: "王物业", Type: region.MemberPropertyManager}
		for _, tt := range []struct {
			name string
			p    identity.Principal
			grid string
			want errs.Code
		}{
			{"dispatcher in scope", inScope, gridOne, ""},
			{"dispatcher out of scope", outScope, gridOne, errs.NotFound},
			{"dispatcher with the grid", gridScoped, gridTwo, ""},
			{"dispatcher without the grid", gridScoped, gridOne, errs.NotFound},
			{"handler", handler, gridOne, errs.Forbidden},
			{"api key", key, gridOne, errs.Forbidden},
		} {
			_, err := svc.AddMember(ctx, tt.p, tt.grid, in)
			if errs.CodeOf(err) != tt.want {
				t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
			}
		}
		if err := svc.RemoveMember(ctx, outScope, gridOne, vol.ID); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("remove out of scope: %v", err)
		}
		if err := svc.RemoveMember(ctx, inScope, gridOne, vol.ID); err != nil {
			t.Fatal(err)
		}
		if err := svc.RemoveMember(ctx, admin, gridOne, vol.ID); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("remove twice: %v", err)
		}
		if err := svc.RemoveMember(ctx, admin, gridTwo, full.ID); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("remove through another grid: %v", err)
		}
	})
}

func TestResponsibilityList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		svc := newService(t, s)
		fixture(t, svc)
		worker, cg, sj := people(t, s)

		list, err := svc.ReplaceResponsibilities(ctx, admin, gridOne, []region.ResponsibilityInput{
			{CategoryCode: "E01", DepartmentID: cg, Note: "市容环境"},
			{CategoryCode: "E0101", UserID: worker, Note: "暴露垃圾网格员自行处置"},
			{CategoryCode: "E05", DepartmentID: sj},
		})
		if err != nil || len(list) != 3 || list[0].CategoryCode != "E01" {
			t.Fatalf("replace: %+v %v", list, err)
		}
		created := list[0].CreatedAt
		for _, tt := range []struct{ category, wantDept, wantUser string }{
			{"E0101", "", "user"},
			{"E0102", "cg", ""},
			{"E0501", "sj", ""},
		} {
			r, err := svc.ResponsibleFor(ctx, gridOne, tt.category)
			if err != nil {
				t.Fatalf("%s: %v", tt.category, err)
			}
			got := ""
			switch {
			case r.UserID == worker:
				got = "user"
			case r.DepartmentID == cg:
				got = "cg"
			case r.DepartmentID == sj:
				got = "sj"
			}
			if got != tt.wantDept+tt.wantUser {
				t.Errorf("ResponsibleFor(%s) = %+v", tt.category, r)
			}
		}
		if _, err := svc.ResponsibleFor(ctx, gridOne, "C0101"); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("unlisted category: %v", err)
		}
		if _, err := svc.ResponsibleFor(ctx, gridTwo, "E0101"); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("another grid: %v", err)
		}

		time.Sleep(5 * time.Millisecond)
		list, err = svc.ReplaceResponsibilities(ctx, admin, gridOne, []region.ResponsibilityInput{
			{CategoryCode: "E01", DepartmentID: sj, Note: "改派市场监管"},
		})
		if err != nil || len(list) != 1 || list[0].DepartmentID != sj || !list[0].CreatedAt.Equal(created) || !list[0].UpdatedAt.After(created) {
			t.Fatalf("second replace: %+v %v", list, err)
		}
		got, _ := svc.Responsibilities(ctx, gridOne)
		if len(got) != 1 {
			t.Fatalf("list after replace: %+v", got)
		}

		_, err = svc.ReplaceResponsibilities(ctx, admin, gridOne, []region.ResponsibilityInput{
			{CategoryCode: "E01", DepartmentID: cg},
			{CategoryCode: "E01", DepartmentID: sj},
			{CategoryCode: "E02"},
			{CategoryCode: "E03", DepartmentID: cg, UserID: worker},
			{CategoryCode: "E04", DepartmentID: 999999},
			{CategoryCode: "E 05", UserID: 888888},
		})
		want := "[items[1].category_code:unique items[2].department_id:one_of items[3].department_id:one_of items[5].category_code:format items[4].department_id:exists items[5].user_id:exists]"
		if fmt.Sprint(fieldRules(err)) != want {
			t.Fatalf("bad list: %v\nwant %s", fieldRules(err), want)
		}
		if got, _ := svc.Responsibilities(ctx, gridOne); len(got) != 1 || got[0].DepartmentID != sj {
			t.Fatalf("a refused list changed the stored one: %+v", got)
		}
		if _, err := svc.ReplaceResponsibilities(ctx, identity.Principal{Role: identity.RoleGridWorker, Scope: identity.Scope{Kind: identity.ScopeGrids, GridCodes: []string{gridOne}}}, gridOne, nil); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("grid worker: %v", err)
		}
		if list, err := svc.ReplaceResponsibilities(ctx, admin, gridOne, nil); err != nil || len(list) != 0 {
			t.Fatalf("empty the list: %+v %v", list, err)
		}
	})
}
