package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Error is why a bearer token was refused: 401 with WWW-Authenticate
// error="invalid_token". Description is safe to show the caller: it never
// holds the token, nor the value of a claim.
type Error struct {
	Description string
}

func (e *Error) Error() string { return "invalid_token: " + e.Description }

func refuse(format string, args ...any) *Error {
	return &Error{Description: fmt.Sprintf(format, args...)}
}

// accessTokenType is the typ header of the gateway's access tokens (RFC
// 9068): a client assertion, or any other JWT signed by a key the gateway
// trusts, is not mistaken for one.
const accessTokenType = "at+jwt"

// Authenticate verifies an access token (the bearer credential, without
// "Bearer ") issued by the gateway or by a trusted issuer, and returns who it
// speaks for. Errors are *Error.
func (s *Service) Authenticate(ctx context.Context, bearer string) (Principal, error) {
	var unverified jwt.MapClaims
	if _, _, err := jwt.NewParser().ParseUnverified(bearer, &unverified); err != nil {
		return Principal{}, refuse("the token is not a JWT")
	}
	iss, _ := unverified["iss"].(string)
	if iss == s.cfg.Issuer {
		return s.authenticate(ctx, bearer, s.cfg.Issuer, s.cfg.Issuer, "client_id", s.ownKey)
	}
	ti, ok := s.issuers[iss]
	if !ok {
		return Principal{}, refuse("the token's issuer is not trusted")
	}
	return s.authenticate(ctx, bearer, ti.cfg.Issuer, ti.cfg.Audience, ti.cfg.ClientClaim, s.issuerKey(ti))
}

// keyLookup finds the verification key a token's header names.
type keyLookup func(ctx context.Context, kid string) (publicKey, bool)

func (s *Service) authenticate(ctx context.Context, bearer, iss, aud, clientClaim string, lookup keyLookup) (Principal, error) {
	var claims jwt.MapClaims
	token, err := s.parser(iss, aud).ParseWithClaims(bearer, &claims, s.keyfunc(ctx, lookup))
	if err != nil {
		return Principal{}, tokenError(err)
	}
	if iss == s.cfg.Issuer && token.Header["typ"] != accessTokenType {
		return Principal{}, refuse("the token is not an access token (typ %s)", accessTokenType)
	}
	if err := s.checkLifetime(claims, s.cfg.TokenLifetime+s.cfg.Leeway); err != nil {
		return Principal{}, err
	}
	clientID, _ := claims[clientClaim].(string)
	c, ok := s.clients[clientID]
	if !ok {
		return Principal{}, refuse("the token is not for a client of this gateway")
	}
	scope, _ := claims["scope"].(string)
	granted, err := ParseScopes(scope)
	if err != nil {
		return Principal{}, refuse("the token's scope does not parse")
	}
	granted = granted.intersect(c.allowed)
	if granted.Empty() {
		return Principal{}, refuse("the token grants no scope this client is allowed")
	}
	return Principal{ClientID: c.ID, ODS: c.ODS, Side: c.Side, Profile: c.Profile, Scopes: granted, Operator: c.Operator}, nil
}

// parser verifies signatures with asymmetric algorithms only and checks
// iss, aud, exp (required), nbf and iat with the leeway.
func (s *Service) parser(iss, aud string) *jwt.Parser {
	return jwt.NewParser(
		jwt.WithValidMethods(acceptedAlgs),
		jwt.WithIssuer(iss),
		jwt.WithAudience(aud),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(s.cfg.Leeway),
		jwt.WithTimeFunc(s.now),
	)
}

// keyfunc picks the key the token's kid names and checks that it may
// verify the token's alg.
func (s *Service) keyfunc(ctx context.Context, lookup keyLookup) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, refuse("the token names no key (kid)")
		}
		k, ok := lookup(ctx, kid)
		if !ok {
			return nil, refuse("the token's key (kid) is unknown")
		}
		alg := t.Method.Alg()
		if k.alg != "" && k.alg != alg {
			return nil, refuse("the token's key is for %s, not %s", k.alg, alg)
		}
		if err := checkKeyAlg(k.key, alg); err != nil {
			return nil, refuse("the token's key does not match its algorithm: %v", err)
		}
		return k.key, nil
	}
}

// ownKey looks a kid up among the gateway's keys, reloading them once
// (rate limited) when it is unknown: another gateway may have rotated.
func (s *Service) ownKey(ctx context.Context, kid string) (publicKey, bool) {
	if k, ok := s.keys.Load().own[kid]; ok {
		return k, true
	}
	s.reloadForUnknownKid(ctx)
	k, ok := s.keys.Load().own[kid]
	return k, ok
}

// issuerKey looks a kid up among a trusted issuer's keys.
func (s *Service) issuerKey(ti *trustedIssuer) keyLookup {
	if ti.remote != nil {
		return ti.remote.key
	}
	return s.fileKeys(func(st *keyState) keySet { return st.issuers[ti.cfg.Issuer] })
}

// fileKeys looks a kid up in a set loaded from files, reloading the files
// once (rate limited) when it is unknown.
func (s *Service) fileKeys(set func(*keyState) keySet) keyLookup {
	return func(ctx context.Context, kid string) (publicKey, bool) {
		if k, ok := set(s.keys.Load())[kid]; ok {
			return k, true
		}
		s.reloadForUnknownKid(ctx)
		k, ok := set(s.keys.Load())[kid]
		return k, ok
	}
}

// checkLifetime refuses a token that lives longer than max: exp-iat, or
// exp-now when it has no iat.
func (s *Service) checkLifetime(claims jwt.Claims, max time.Duration) *Error {
	exp, _ := claims.GetExpirationTime() // required and checked by the parser
	from := s.now()
	if iat, _ := claims.GetIssuedAt(); iat != nil {
		from = iat.Time
	}
	if exp.Sub(from) > max {
		return refuse("the token lives longer than %s", max)
	}
	return nil
}

// tokenError turns a jwt verification error into a description safe to
// show.
func tokenError(err error) *Error {
	if e, ok := errors.AsType[*Error](err); ok {
		return e
	}
	for _, c := range []struct {
		err  error
		desc string
	}{
		{jwt.ErrTokenMalformed, "the token is malformed"},
		{jwt.ErrTokenSignatureInvalid, "the token's signature or algorithm is not accepted"},
		{jwt.ErrTokenRequiredClaimMissing, "the token lacks a required claim (exp, iss or aud)"},
		{jwt.ErrTokenExpired, "the token has expired"},
		{jwt.ErrTokenNotValidYet, "the token is not valid yet"},
		{jwt.ErrTokenUsedBeforeIssued, "the token was issued in the future"},
		{jwt.ErrTokenInvalidIssuer, "the token's issuer is not accepted"},
		{jwt.ErrTokenInvalidAudience, "the token is not meant for this gateway (aud)"},
		{jwt.ErrTokenInvalidSubject, "the token's subject is not accepted"},
		{jwt.ErrTokenInvalidClaims, "the token's claims are not valid"},
	} {
		if errors.Is(err, c.err) {
			return refuse("%s", c.desc)
		}
	}
	return refuse("the token could not be verified")
}
