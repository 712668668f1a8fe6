package app_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gridcase/gridcase/internal/app"
	"github.com/gridcase/gridcase/internal/config"
	"github.com/gridcase/gridcase/internal/identity"
	"github.com/gridcase/gridcase/internal/store"
	"github.com/gridcase/gridcase/internal/store/storetest"
)

func userCmdEach(t *testing.T, fn func(t *testing.T, env map[string]string)) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			fn(t, map[string]string{
				"GRIDCASE_DATABASE_URL": storetest.URL(t, d),
				"GRIDCASE_DATA_DIR":     t.TempDir(),
				"GRIDCASE_LOG_LEVEL":    "error",
			})
		})
	}
}

func userCmdRun(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := app.Run(context.Background(), args, func(k string) string { return env[k] }, &out)
	return out.String(), err
}

func userCmdBuild(t *testing.T, env map[string]string) *app.App {
	t.Helper()
	cfg, err := config.Parse(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Build(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return a
}

func TestBootstrapPrintsGeneratedAdminPasswordOnce(t *testing.T) {
	userCmdEach(t, func(t *testing.T, env map[string]string) {
		a := userCmdBuild(t, env)
		var out bytes.Buffer
		if err := a.Bootstrap(context.Background(), &out); err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`created admin with password (\S+)`).FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("no password printed: %q", out.String())
		}
		if _, err := a.Identity.Login(context.Background(), identity.Credentials{Username: "admin", Password: m[1]}); err != nil {
			t.Fatalf("the printed password does not sign in: %v", err)
		}
		out.Reset()
		if err := a.Bootstrap(context.Background(), &out); err != nil || out.Len() != 0 {
			t.Fatalf("second bootstrap: %q %v", out.String(), err)
		}
	})
}

func TestUserCreateCommand(t *testing.T) {
	userCmdEach(t, func(t *testing.T, env map[string]string) {
		out, err := userCmdRun(t, env, "user", "create", "-username", "ops", "-role", "admin", "-password", "ops-password-1")
		if err != nil {
			t.Fatal(err)
		}
		if id, err := strconv.ParseInt(strings.TrimSpace(out), 10, 64); err != nil || id <= 0 {
			t.Fatalf("output %q is not an id", out)
		}

		// The password from standard input; a city-wide dispatcher.
		f, err := os.CreateTemp(t.TempDir(), "pw")
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("zhou-password-1\n")
		f.Seek(0, io.SeekStart)
		stdin := os.Stdin
		os.Stdin = f
		_, err = userCmdRun(t, env, "user", "create", "-username", "zhou", "-display-name", "周调度", "-role", "dispatcher", "-scope-all", "-password-stdin")
		os.Stdin = stdin
		f.Close()
		if err != nil {
			t.Fatal(err)
		}

		// No password given: one is generated and printed once.
		out, err = userCmdRun(t, env, "user", "create", "-username", "sun", "-role", "supervisor", "-scope-all")
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`generated password \(shown once\): (\S+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no generated password: %q", out)
		}

		for name, args := range map[string][]string{
			"unknown department":     {"-username", "h1x", "-role", "handler", "-scope-department", "NOPE", "-password", "a-good-password"},
			"dispatcher, no scope":   {"-username", "d1x", "-role", "dispatcher", "-password", "a-good-password"},
			"both password sources":  {"-username", "d2x", "-role", "admin", "-password", "a-good-password", "-password-stdin"},
			"taken username":         {"-username", "ops", "-role", "admin", "-password", "a-good-password"},
			"grid worker, bad grids": {"-username", "g1x", "-role", "grid_worker", "-scope-grids", "1,2", "-password", "a-good-password"},
		} {
			if _, err := userCmdRun(t, env, append([]string{"user", "create"}, args...)...); err == nil {
				t.Errorf("%s: accepted", name)
			}
		}
		if _, err := userCmdRun(t, env, "user", "delete"); err == nil {
			t.Error("user delete: accepted")
		}

		a := userCmdBuild(t, env)
		ctx := context.Background()
		for user, pw := range map[string]string{"ops": "ops-password-1", "zhou": "zhou-password-1", "sun": m[1]} {
			sess, err := a.Identity.Login(ctx, identity.Credentials{Username: user, Password: pw})
			if err != nil {
				t.Fatalf("%s cannot sign in: %v", user, err)
			}
			if user == "zhou" && (sess.User.DisplayName != "周调度" || sess.User.Scope.Kind != identity.ScopeAll) {
				t.Fatalf("zhou: %+v", sess.User)
			}
		}
	})
}
