package auth

import (
	"context"
	"crypto"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ClientAssertionType is the client_assertion_type of SMART backend
// services (RFC 7523).
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// TokenResponse is the token endpoint's answer (RFC 6749 §5.1).
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope"`
}

// OAuthError is a refusal at the token endpoint, answered as RFC 6749 §5.2
// error JSON with Status: 400 invalid_request, invalid_grant,
// invalid_scope and unsupported_grant_type; 401 invalid_client. Status 500
// server_error is a failure of the gateway (Err says which, for the log).
// Description is safe to show the caller.
type OAuthError struct {
	Status      int    `json:"-"`
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	Err         error  `json:"-"`
}

func (e *OAuthError) Error() string {
	if e.Err != nil {
		return e.Code + ": " + e.Description + ": " + e.Err.Error()
	}
	return e.Code + ": " + e.Description
}

func (e *OAuthError) Unwrap() error { return e.Err }

func oauthError(status int, code, format string, args ...any) *OAuthError {
	return &OAuthError{Status: status, Code: code, Description: fmt.Sprintf(format, args...)}
}

func invalidClient(format string, args ...any) *OAuthError {
	return oauthError(http.StatusUnauthorized, "invalid_client", format, args...)
}

// Token runs the SMART backend services client_credentials grant: the
// client authenticates with a client_assertion JWT signed by one of its
// registered keys, and gets a short-lived access token signed by the
// gateway. form is the request's form body. Errors are *OAuthError.
func (s *Service) Token(ctx context.Context, form url.Values) (TokenResponse, error) {
	for name, values := range form {
		if len(values) > 1 {
			return TokenResponse{}, oauthError(http.StatusBadRequest, "invalid_request", "parameter %s is given more than once", name)
		}
	}
	if g := form.Get("grant_type"); g != "client_credentials" {
		if g == "" {
			return TokenResponse{}, oauthError(http.StatusBadRequest, "invalid_request", "grant_type is missing")
		}
		return TokenResponse{}, oauthError(http.StatusBadRequest, "unsupported_grant_type", "only grant_type client_credentials is supported")
	}
	if form.Get("client_assertion_type") != ClientAssertionType {
		return TokenResponse{}, oauthError(http.StatusBadRequest, "invalid_request", "client_assertion_type must be %s", ClientAssertionType)
	}
	assertion := form.Get("client_assertion")
	if assertion == "" {
		return TokenResponse{}, oauthError(http.StatusBadRequest, "invalid_request", "client_assertion is missing")
	}
	requested, err := ParseScopes(form.Get("scope"))
	if err != nil {
		return TokenResponse{}, oauthError(http.StatusBadRequest, "invalid_scope", "%v", err)
	}
	c, oerr := s.authenticateClient(ctx, assertion)
	if oerr != nil {
		return TokenResponse{}, oerr
	}
	if id := form.Get("client_id"); id != "" && id != c.ID {
		return TokenResponse{}, invalidClient("client_id is not the client the assertion is from")
	}
	if requested.Empty() {
		requested = c.allowed
	} else if scope, ok := requested.within(c.allowed); !ok {
		return TokenResponse{}, oauthError(http.StatusBadRequest, "invalid_scope", "scope %s is not allowed for this client", scope)
	}
	token, err := s.issue(c.ID, requested)
	if err != nil {
		return TokenResponse{}, &OAuthError{Status: http.StatusInternalServerError, Code: "server_error", Description: "the token could not be signed", Err: err}
	}
	return TokenResponse{AccessToken: token, TokenType: "bearer", ExpiresIn: int(s.cfg.TokenLifetime / time.Second), Scope: requested.String()}, nil
}

// authenticateClient verifies a client assertion: signed by a key of the
// client its iss and sub name, for this token endpoint (aud), short-lived,
// and with a jti never seen before.
func (s *Service) authenticateClient(ctx context.Context, assertion string) (*client, *OAuthError) {
	var unverified jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(assertion, &unverified); err != nil {
		return nil, invalidClient("client_assertion is not a JWT")
	}
	c, ok := s.clients[unverified.Issuer]
	if !ok {
		return nil, invalidClient("client_assertion is not from a client of this gateway")
	}
	var claims jwt.RegisteredClaims
	parser := jwt.NewParser(
		jwt.WithValidMethods(acceptedAlgs),
		jwt.WithIssuer(c.ID),
		jwt.WithSubject(c.ID),
		jwt.WithAudience(s.cfg.TokenURL),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(s.cfg.Leeway),
		jwt.WithTimeFunc(s.now),
	)
	if _, err := parser.ParseWithClaims(assertion, &claims, s.keyfunc(ctx, s.clientKey(c))); err != nil {
		return nil, invalidClient("client_assertion: %s", tokenError(err).Description)
	}
	if claims.IssuedAt != nil && claims.ExpiresAt.Sub(claims.IssuedAt.Time) > s.cfg.MaxAssertionLifetime {
		return nil, invalidClient("client_assertion lives longer than %s (exp - iat)", s.cfg.MaxAssertionLifetime)
	}
	if claims.IssuedAt == nil && claims.ExpiresAt.Sub(s.now()) > s.cfg.MaxAssertionLifetime+s.cfg.Leeway {
		return nil, invalidClient("client_assertion expires more than %s from now", s.cfg.MaxAssertionLifetime)
	}
	if claims.ID == "" {
		return nil, invalidClient("client_assertion has no jti")
	}
	fresh, err := s.nonces.UseNonce(ctx, "client-assertion:"+c.ID+":"+claims.ID, claims.ExpiresAt.Add(s.cfg.Leeway))
	if err != nil {
		return nil, &OAuthError{Status: http.StatusInternalServerError, Code: "server_error", Description: "the client assertion could not be checked for replay", Err: err}
	}
	if !fresh {
		return nil, invalidClient("client_assertion has been used before (jti)")
	}
	return c, nil
}

// clientKey looks a kid up among a client's keys: its JWKS URL, or its key
// files.
func (s *Service) clientKey(c *client) keyLookup {
	if c.remote != nil {
		return c.remote.key
	}
	return s.fileKeys(func(st *keyState) keySet { return st.clients[c.ID] })
}

// issue signs an access token for a client with the newest gateway key.
func (s *Service) issue(clientID string, scopes Scopes) (string, error) {
	signer := s.keys.Load().signer
	now := s.now()
	claims := jwt.MapClaims{
		"iss":       s.cfg.Issuer,
		"aud":       s.cfg.Issuer,
		"sub":       clientID,
		"client_id": clientID,
		"scope":     scopes.String(),
		"iat":       now.Unix(),
		"nbf":       now.Unix(),
		"exp":       now.Add(s.cfg.TokenLifetime).Unix(),
		"jti":       rand.Text(),
	}
	return sign(signer.key, signer.kid, signer.alg, accessTokenType, claims)
}

// sign makes a JWS with key, naming kid and typ in the header.
func sign(key crypto.Signer, kid, alg, typ string, claims jwt.Claims) (string, error) {
	method := jwt.GetSigningMethod(alg)
	if method == nil {
		return "", fmt.Errorf("unknown algorithm %q", alg)
	}
	if err := checkKeyAlg(key.Public(), alg); err != nil {
		return "", err
	}
	t := jwt.NewWithClaims(method, claims)
	t.Header["kid"] = kid
	t.Header["typ"] = typ
	return t.SignedString(key)
}

// MintAssertion makes a client assertion for the SMART backend services
// token endpoint at tokenURL: iss and sub clientID, a random jti, iat now
// and exp now+lifetime, signed with key. kid defaults to the key's
// thumbprint and alg to the key's usual algorithm (RS256, ES256, ES384).
func MintAssertion(key crypto.Signer, kid, alg, clientID, tokenURL string, lifetime time.Duration, now time.Time) (string, error) {
	if clientID == "" || tokenURL == "" {
		return "", errors.New("a client assertion needs a client id and the token URL")
	}
	if lifetime <= 0 || lifetime > DefaultMaxAssertionLifetime {
		return "", fmt.Errorf("assertion lifetime %s: allow at most %s", lifetime, DefaultMaxAssertionLifetime)
	}
	var err error
	if kid == "" {
		if kid, err = Thumbprint(key.Public()); err != nil {
			return "", err
		}
	}
	if alg == "" {
		if alg, err = defaultAlg(key.Public()); err != nil {
			return "", err
		}
	}
	claims := jwt.RegisteredClaims{
		Issuer:    clientID,
		Subject:   clientID,
		Audience:  jwt.ClaimStrings{tokenURL},
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(lifetime)),
		ID:        rand.Text(),
	}
	return sign(key, kid, alg, "JWT", claims)
}
