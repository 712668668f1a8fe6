package events_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gridcase/gridcase/internal/errs"
	"github.com/gridcase/gridcase/internal/events"
)

func TestCheckURLRefusesInternalAddresses(t *testing.T) {
	g, err := events.NewGuard(nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		url  string
		rule string // "" when allowed
	}{
		{"public IPv4", "https://93.184.216.34/hook", ""},
		{"public IPv6", "https://[2606:2800:220:1:248:1893:25c8:1946]/hook", ""},
		{"loopback", "http://127.0.0.1:8080/hook", "forbidden_address"},
		{"loopback, other", "http://127.8.9.10/hook", "forbidden_address"},
		{"RFC 1918 10/8", "http://10.0.0.1/hook", "forbidden_address"},
		{"RFC 1918 172.16/12", "http://172.16.5.4/hook", "forbidden_address"},
		{"RFC 1918 192.168/16", "https://192.168.1.1/hook", "forbidden_address"},
		{"metadata service", "http://169.254.169.254/latest/meta-data/", "forbidden_address"},
		{"IPv6 loopback", "http://[::1]:8080/hook", "forbidden_address"},
		{"IPv6 link-local", "http://[fe80::1]/hook", "forbidden_address"},
		{"IPv6 ULA", "http://[fd12:3456::1]/hook", "forbidden_address"},
		{"IPv4-mapped loopback", "http://[::ffff:127.0.0.1]/hook", "forbidden_address"},
		{"NAT64 of a private address", "http://[64:ff9b::a00:1]/hook", "forbidden_address"},
		{"unspecified", "http://0.0.0.0/hook", "forbidden_address"},
		{"carrier-grade NAT", "http://100.64.0.1/hook", "forbidden_address"},
		{"multicast", "http://224.0.0.1/hook", "forbidden_address"},
		{"broadcast", "http://255.255.255.255/hook", "forbidden_address"},
		{"a name for loopback", "http://localhost:8080/hook", "forbidden_address"},
		{"not http", "ftp://93.184.216.34/hook", "scheme"},
		{"no host", "https:///hook", "host"},
		{"user info", "https://user:pw@93.184.216.34/hook", "userinfo"},
		{"fragment", "https://93.184.216.34/hook#x", "fragment"},
		{"empty", "", "required"},
		{"does not resolve", "https://no-such-host.invalid/hook", "unresolvable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := g.CheckURL(context.Background(), "url", tc.url)
			if tc.rule == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			e, ok := errs.As(err)
			if !ok || e.Code != errs.Invalid || len(e.Fields) == 0 || e.Fields[0].Rule != tc.rule || e.Fields[0].Field != "url" {
				t.Fatalf("err = %v, want an invalid url (%s)", err, tc.rule)
			}
		})
	}
}

func TestAllowListLetsAnOperatorReachAnInternalHost(t *testing.T) {
	g, err := events.NewGuard([]string{"127.0.0.1:8443", "LOCALHOST", "[::1]:9000"})
	if err != nil {
		t.Fatal(err)
	}
	for _, ok := range []string{"https://127.0.0.1:8443/h", "http://localhost:1234/h", "http://localhost/h", "http://[::1]:9000/h"} {
		if _, err := g.CheckURL(context.Background(), "url", ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"https://127.0.0.1:8444/h", "http://[::1]:9001/h", "http://10.0.0.1/h"} {
		if _, err := g.CheckURL(context.Background(), "url", bad); err == nil {
			t.Errorf("%s allowed", bad)
		}
	}
	if _, err := events.NewGuard([]string{"host:"}); err == nil {
		t.Error("an entry without a port after the colon was accepted")
	}
}

// hostPort is a test server's host:port.
func hostPort(t *testing.T, s *httptest.Server) string {
	t.Helper()
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// TestClientChecksEveryConnection: the check runs on the address dialled, so a name that
// resolves to loopback at send time and a redirect to loopback fail, whatever the URL looked
// like when it was registered; the allow-list opens exactly what it names.
func TestClientChecksEveryConnection(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer target.Close()
	hops := 0
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-target":
			http.Redirect(w, r, target.URL+"/", http.StatusTemporaryRedirect)
		case "/to-self":
			http.Redirect(w, r, "/self", http.StatusTemporaryRedirect)
		case "/self":
			hops++
			http.Redirect(w, r, "/self", http.StatusTemporaryRedirect)
		default:
			w.WriteHeader(http.StatusOK)
		}
	}))
	defer redirector.Close()

	post := func(c *http.Client, u string) (*http.Response, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader("{}"))
		res, err := c.Do(req)
		if err == nil {
			res.Body.Close()
		}
		return res, err
	}
	blocked := func(t *testing.T, err error) {
		t.Helper()
		var b *events.BlockedError
		if !errors.As(err, &b) || !strings.Contains(b.Why, "loopback") {
			t.Fatalf("err = %v, want a refused loopback connection", err)
		}
	}

	none, _ := events.NewGuard(nil)
	c := none.Client(events.ClientOptions{})
	_, err := post(c, target.URL)
	blocked(t, err)
	_, port, _ := net.SplitHostPort(hostPort(t, target))
	_, err = post(c, "http://localhost:"+port+"/")
	blocked(t, err)

	// Only the redirector is allowed: reaching it works, its redirect to the target fails.
	only, _ := events.NewGuard([]string{hostPort(t, redirector)})
	c = only.Client(events.ClientOptions{})
	if res, err := post(c, redirector.URL+"/"); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("the allowed host: %v", err)
	}
	_, err = post(c, redirector.URL+"/to-target")
	blocked(t, err)
	_, err = post(c, redirector.URL+"/to-self")
	if err == nil || !strings.Contains(err.Error(), "stopped after 3 redirects") {
		t.Fatalf("a redirect loop: %v", err)
	}
	if hops != 3 {
		t.Fatalf("followed %d redirects of the loop, want 3", hops-0)
	}

	// Both allowed: the redirect is followed.
	both, _ := events.NewGuard([]string{hostPort(t, redirector), hostPort(t, target)})
	if res, err := post(both.Client(events.ClientOptions{}), redirector.URL+"/to-target"); err != nil || res.StatusCode != http.StatusNoContent {
		t.Fatalf("an allowed redirect: %v", err)
	}
}
