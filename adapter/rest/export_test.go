package rest

import "github.com/labstack/echo/v4"

// TakeClientFromHeader makes s read the client id from the X-Test-Client
// header, as the authentication middleware leaves it, so that tests can
// speak as several clients.
func TakeClientFromHeader(s *Server) {
	s.echo.Pre(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if id := c.Request().Header.Get("X-Test-Client"); id != "" {
				c.Set(ctxClientID, id)
			}
			return next(c)
		}
	})
}

// AddRoute adds a route with handler h, behind the same middleware as
// every route: tests use it for handlers that panic or take too long.
func AddRoute(s *Server, method, path string, h echo.HandlerFunc) {
	s.echo.Add(method, path, h)
}
