package rest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/carebridge/carebridge/adapter"
	"github.com/carebridge/carebridge/adapter/auth"
	"github.com/carebridge/carebridge/fhir"
)

// Authenticator is the authentication the REST layer runs: package auth's
// Service.
type Authenticator interface {
	Authenticate(ctx context.Context, bearer string) (auth.Principal, error)
	Token(ctx context.Context, form url.Values) (auth.TokenResponse, error)
	JWKS() []byte
	SMARTConfiguration() []byte
}

// ctxPrincipal is the echo.Context key of the authenticated client's
// auth.Principal (its id is under ctxClientID, the rate limiter's key).
const ctxPrincipal = "principal"

// anonymous is the client id of requests to a gateway run without
// authentication, in the audit trail.
const anonymous = "anonymous"

// publicPaths answer without a token: probes, metrics, discovery and the
// token endpoint itself. The CapabilityStatement is public, as FHIR
// expects.
var publicPaths = map[string]bool{
	"/healthz": true, "/readyz": true, "/metrics": true,
	"/auth/token": true, "/auth/jwks": true,
	"/.well-known/smart-configuration": true, "/fhir/.well-known/smart-configuration": true,
	"/fhir/metadata": true,
}

// authenticate requires a valid bearer token on every route but the
// public ones, and makes the request's context carry who acts: the
// client's organisation, side, scopes and meta.source. Without an
// Authenticator (serve --insecure-no-auth) every request acts as one
// anonymous client, unrestricted but audited.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if publicPaths[c.Path()] {
			return next(c)
		}
		req := c.Request()
		if s.cfg.Auth == nil {
			c.SetRequest(req.WithContext(adapter.WithActor(req.Context(), adapter.Actor{Client: anonymous})))
			return next(c)
		}
		scheme, token, _ := strings.Cut(req.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return unauthorized(c, "a bearer token is required: get one from /auth/token (SMART backend services)")
		}
		p, err := s.cfg.Auth.Authenticate(req.Context(), strings.TrimSpace(token))
		if err != nil {
			var ae *auth.Error
			if errors.As(err, &ae) {
				return unauthorized(c, ae.Description)
			}
			return err
		}
		c.Set(ctxClientID, p.ClientID)
		c.Set(ctxPrincipal, p)
		actor := adapter.Actor{ODS: p.ODS, Side: p.Side, Client: p.ClientID, Scopes: scopes{p.Scopes}}
		if src := s.cfg.ProfileSources[p.Profile]; src != "" {
			actor.Source = src + "#" + p.ClientID
		}
		c.SetRequest(req.WithContext(adapter.WithActor(req.Context(), actor)))
		return next(c)
	}
}

// unauthorized answers 401 with the challenge RFC 6750 asks for. The
// description never holds the token.
func unauthorized(c echo.Context, description string) error {
	c.Response().Header().Set("WWW-Authenticate",
		`Bearer realm="CareBridge", error="invalid_token", error_description="`+strings.ReplaceAll(description, `"`, `'`)+`"`)
	return fhir.Errorf(fhir.Unauthorized, fhir.IssueLogin, "", "%s", description)
}

// scopes lets the Gateway ask a token's scopes.
type scopes struct{ auth.Scopes }

func (s scopes) Allows(resourceType, interaction string) bool {
	return s.Scopes.Allows(resourceType, auth.Interaction(interaction))
}

// principal returns the authenticated client, and false for a gateway run
// without authentication.
func principal(c echo.Context) (auth.Principal, bool) {
	p, ok := c.Get(ctxPrincipal).(auth.Principal)
	return p, ok
}

// operatorOnly refuses a gateway-wide operation to a client not
// configured as an operator.
func (s *Server) operatorOnly(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if p, ok := principal(c); s.cfg.Auth != nil && !(ok && p.Operator) {
			return fhir.Errorf(fhir.Forbidden, fhir.IssueForbidden, "", "this operation is for operator clients only (operator: true in the gateway's configuration)")
		}
		return next(c)
	}
}

// requireAuditor refuses the audit trail to a client without a scope that
// names AuditEvent (system/AuditEvent.read or system/AuditEvent.rs; a
// wildcard does not do).
func (s *Server) requireAuditor(c echo.Context) error {
	if s.cfg.Auth == nil {
		return nil
	}
	if p, ok := principal(c); ok && p.Scopes.Names("AuditEvent", auth.Search) {
		return nil
	}
	return fhir.Errorf(fhir.Forbidden, fhir.IssueForbidden, "", "the audit trail is for auditors only: a scope naming AuditEvent (system/AuditEvent.rs) is needed")
}

// handleToken serves POST /auth/token: SMART backend services
// client_credentials. Answers are OAuth 2.0 JSON (RFC 6749 section 5), not
// FHIR.
func (s *Server) handleToken(c echo.Context) error {
	if s.cfg.Auth == nil {
		return oauthJSON(c, http.StatusNotFound, &auth.OAuthError{Code: "invalid_request", Description: "this gateway runs without authentication"})
	}
	req := c.Request()
	ct := req.Header.Get("Content-Type")
	if !strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
		return oauthJSON(c, http.StatusBadRequest, &auth.OAuthError{Code: "invalid_request", Description: "send the token request as application/x-www-form-urlencoded"})
	}
	req.Body = http.MaxBytesReader(c.Response(), req.Body, 64<<10)
	if err := req.ParseForm(); err != nil {
		return oauthJSON(c, http.StatusBadRequest, &auth.OAuthError{Code: "invalid_request", Description: "the form cannot be read"})
	}
	tok, err := s.cfg.Auth.Token(req.Context(), req.PostForm)
	if err != nil {
		var oe *auth.OAuthError
		if !errors.As(err, &oe) {
			return err
		}
		if oe.Status >= 500 {
			s.log.ErrorContext(req.Context(), "token endpoint failed", "request_id", requestIDOf(c), "error", oe.Err)
		}
		if oe.Code == "invalid_client" {
			s.log.WarnContext(req.Context(), "token request refused", "request_id", requestIDOf(c), "reason", oe.Description)
		}
		return oauthJSON(c, oe.Status, oe)
	}
	c.Response().Header().Set("Pragma", "no-cache")
	return oauthJSON(c, http.StatusOK, tok)
}

// oauthJSON writes an OAuth 2.0 answer.
func oauthJSON(c echo.Context, status int, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.Blob(status, "application/json", data)
}

// handleJWKS serves the gateway's public signing keys.
func (s *Server) handleJWKS(c echo.Context) error {
	if s.cfg.Auth == nil {
		return echo.ErrNotFound
	}
	return c.Blob(http.StatusOK, "application/json", s.cfg.Auth.JWKS())
}

// handleSMARTConfiguration serves the SMART discovery document.
func (s *Server) handleSMARTConfiguration(c echo.Context) error {
	if s.cfg.Auth == nil {
		return echo.ErrNotFound
	}
	return c.Blob(http.StatusOK, "application/json", s.cfg.Auth.SMARTConfiguration())
}

// handleAuditEvents serves GET [base]/AuditEvent: the audit trail, for
// auditors.
func (s *Server) handleAuditEvents(c echo.Context) error {
	if err := s.requireAuditor(c); err != nil {
		return err
	}
	page, err := s.gateway.AuditEvents(c.Request().Context(), c.QueryParams())
	if err != nil {
		return err
	}
	base := s.base(c)
	self := base + "/AuditEvent"
	if enc := page.Self.Encode(); enc != "" {
		self += "?" + enc
	}
	b := fhir.BundleOut{Type: "searchset", Total: -1, Links: []fhir.Link{{Relation: "self", URL: self}}}
	if page.Next != nil {
		b.Links = append(b.Links, fhir.Link{Relation: "next", URL: base + "/AuditEvent?" + page.Next.Encode()})
	}
	for _, r := range page.Events {
		b.Entries = append(b.Entries, fhir.EntryOut{FullURL: base + "/AuditEvent/" + r.ID, Resource: r.Body, SearchMode: "match"})
	}
	return writeBody(c, http.StatusOK, b.Encode())
}
