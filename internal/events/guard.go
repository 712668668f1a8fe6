package events

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/gridcase/gridcase/internal/errs"
)

// Webhooks must not become a way into the server's own network (SSRF): an endpoint may not
// reach a loopback, private (RFC 1918, ULA), link-local (the 169.254.169.254 cloud metadata
// service among them), unspecified, multicast, carrier-grade NAT or otherwise reserved address,
// unless the operator allowed its host in GRIDCASE_WEBHOOK_ALLOW_HOSTS.
//
// The check runs twice: when an admin registers the URL (its host is resolved, for a clear
// 422), and at every connection, on the address actually dialled (net.Dialer.Control), so a
// DNS answer that changes after registration (DNS rebinding) gains nothing, and a redirect to
// a forbidden address fails the same way. Proxies from the environment are ignored, for the
// same reason.

// blockedPrefixes are the special-purpose ranges that netip's predicates do not name.
var blockedPrefixes = []struct {
	prefix netip.Prefix
	what   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "a \"this network\" address"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a carrier-grade NAT address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "an IETF protocol address"},
	{netip.MustParsePrefix("192.0.2.0/24"), "a documentation address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address"},
	{netip.MustParsePrefix("198.51.100.0/24"), "a documentation address"},
	{netip.MustParsePrefix("203.0.113.0/24"), "a documentation address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address"},
	{netip.MustParsePrefix("100::/64"), "a discard address"},
	{netip.MustParsePrefix("2001:db8::/32"), "a documentation address"},
	{netip.MustParsePrefix("fec0::/10"), "a site-local address"},
}

// nat64 and sixToFour embed an IPv4 address, which is checked in turn.
var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// forbidden says why a webhook may not connect to ip ("" when it may).
func forbidden(ip netip.Addr) string {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid():
		return "an invalid address"
	case ip.IsUnspecified():
		return "an unspecified address"
	case ip.IsLoopback():
		return "a loopback address"
	case ip.IsPrivate():
		return "a private address"
	case ip.IsLinkLocalUnicast():
		return "a link-local address (such as the cloud metadata service)"
	case ip.IsMulticast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast():
		return "a multicast address"
	case ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "the broadcast address"
	}
	for _, b := range blockedPrefixes {
		if b.prefix.Contains(ip) {
			return b.what
		}
	}
	if nat64.Contains(ip) {
		b := ip.As16()
		return forbidden(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	}
	if sixToFour.Contains(ip) {
		b := ip.As16()
		return forbidden(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
	}
	return ""
}

// BlockedError is a refused connection.
type BlockedError struct {
	Addr string
	Why  string
}

func (e *BlockedError) Error() string {
	return fmt.Sprintf("refused to connect to %s: %s (allow the host in GRIDCASE_WEBHOOK_ALLOW_HOSTS if it is really meant)", e.Addr, e.Why)
}

// Guard decides which hosts webhooks may reach and makes the HTTP client that enforces it.
type Guard struct {
	hosts    map[string]bool // "host" (any port) or "host:port", lower case, IPv6 without brackets
	resolver *net.Resolver
}

// NewGuard builds a guard from the allow-list: entries "host" (any port) or "host:port"
// ("[::1]:8443" for IPv6). Hosts on the list skip every address check.
func NewGuard(allowHosts []string) (*Guard, error) {
	g := &Guard{hosts: map[string]bool{}, resolver: net.DefaultResolver}
	for _, h := range allowHosts {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" {
			continue
		}
		if host, port, err := net.SplitHostPort(h); err == nil {
			if host == "" || port == "" {
				return nil, fmt.Errorf("GRIDCASE_WEBHOOK_ALLOW_HOSTS: %q: want host or host:port", h)
			}
			g.hosts[net.JoinHostPort(host, port)] = true
			continue
		}
		g.hosts[strings.Trim(h, "[]")] = true
	}
	return g, nil
}

// allowed reports whether host:port (as dialled, or from a URL) is on the allow-list.
func (g *Guard) allowed(host, port string) bool {
	host = strings.ToLower(strings.Trim(host, "[]"))
	return g.hosts[host] || g.hosts[net.JoinHostPort(host, port)]
}

// CheckURL validates an endpoint URL for registration: http or https, a host, no user info,
// no fragment, at most 2,048 characters; and unless its host is allowed, it must resolve and
// every address it resolves to must be public. Failures are Invalid errors on field.
func (g *Guard) CheckURL(ctx context.Context, field, raw string) (*url.URL, error) {
	var f errs.Fields
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		f.Add(field, "required", "%s is required", field)
	case len(raw) > 2048:
		f.Add(field, "max_length", "%s must be at most 2048 characters", field)
	case err != nil:
		f.Add(field, "url", "%s is not a URL: %v", field, err)
	case u.Scheme != "https" && u.Scheme != "http":
		f.Add(field, "scheme", "%s must be an http or https URL", field)
	case u.Hostname() == "":
		f.Add(field, "host", "%s has no host", field)
	case u.User != nil:
		f.Add(field, "userinfo", "%s must not carry a user name or password", field)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		f.Add(field, "fragment", "%s must not have a fragment", field)
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	host, port := u.Hostname(), urlPort(u)
	if g.allowed(host, port) {
		return u, nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if why := forbidden(ip); why != "" {
			f.Add(field, "forbidden_address", "%s points to %s, which webhooks may not reach", field, why)
		}
		return u, f.Err()
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := g.resolver.LookupNetIP(rctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		f.Add(field, "unresolvable", "the host %s of %s does not resolve", host, field)
		return nil, f.Err()
	}
	for _, a := range addrs {
		if why := forbidden(a); why != "" {
			f.Add(field, "forbidden_address", "the host %s resolves to %s (%s), which webhooks may not reach", host, a, why)
			return nil, f.Err()
		}
	}
	return u, nil
}

func urlPort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

// ClientOptions bound the webhook HTTP client.
type ClientOptions struct {
	ConnectTimeout time.Duration // per connection (default 5 s)
	Timeout        time.Duration // the whole request with redirects and body (default 10 s)
	MaxRedirects   int           // followed, each re-checked (default 3)
}

// Client returns an HTTP client that dials only permitted addresses, re-checks every
// redirect, follows at most MaxRedirects, ignores proxy settings and gives up after Timeout.
func (g *Guard) Client(o ClientOptions) *http.Client {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 5 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MaxRedirects <= 0 {
		o.MaxRedirects = 3
	}
	checked := &net.Dialer{
		Timeout: o.ConnectTimeout,
		Control: func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return &BlockedError{Addr: address, Why: "an unreadable address"}
			}
			ip, err := netip.ParseAddr(host)
			if err != nil {
				return &BlockedError{Addr: address, Why: "an unreadable address"}
			}
			if why := forbidden(ip); why != "" {
				return &BlockedError{Addr: address, Why: why}
			}
			return nil
		},
	}
	open := &net.Dialer{Timeout: o.ConnectTimeout}
	transport := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err == nil && g.allowed(host, port) {
				return open.DialContext(ctx, network, addr)
			}
			return checked.DialContext(ctx, network, addr)
		},
		TLSHandshakeTimeout:   o.ConnectTimeout,
		ResponseHeaderTimeout: o.Timeout,
		MaxIdleConns:          50,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	max := o.MaxRedirects
	return &http.Client{
		Transport: transport,
		Timeout:   o.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > max {
				return fmt.Errorf("stopped after %d redirects", max)
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("refused a redirect to a %s URL", req.URL.Scheme)
			}
			if req.URL.User != nil {
				return errors.New("refused a redirect to a URL with a user name or password")
			}
			return nil
		},
	}
}
