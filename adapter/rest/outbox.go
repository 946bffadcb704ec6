package rest

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/fhir"
)

// handleOutbox serves GET [base]/$outbox: the Subscription notifications in
// the outbox, oldest first, as Parameters with one notification part per
// entry. state (pending, delivered, dead) and subscription narrow the list,
// _count sizes the page, after (from the next parameter) pages on.
func (s *Server) handleOutbox(c echo.Context) error {
	q := store.OutboxQuery{}
	for name, vals := range c.QueryParams() {
		v := vals[len(vals)-1]
		switch name {
		case "state":
			q.State = store.OutboxState(v)
		case "subscription":
			q.Subscription = strings.TrimPrefix(v, "Subscription/")
		case "after":
			q.After = v
		case "_count":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return fhir.Errorf(fhir.Invalid, fhir.IssueValue, "_count", "_count must be a positive whole number, not %q", v)
			}
			q.Count = n
		case "_format", "_pretty":
		default:
			return fhir.Errorf(fhir.Invalid, fhir.IssueNotSupported, name, "$outbox has no parameter %q; it takes state, subscription, _count and after", name)
		}
	}
	page, err := s.gateway.Outbox(c.Request().Context(), q)
	if err != nil {
		return err
	}
	params := []fhir.Value{part("count", "valueInteger", fhir.Int(int64(len(page.Entries))))}
	if page.Next != "" {
		next := url.Values{"after": {page.Next}, "_count": {strconv.Itoa(len(page.Entries))}}
		if q.State != "" {
			next.Set("state", string(q.State))
		}
		if q.Subscription != "" {
			next.Set("subscription", q.Subscription)
		}
		params = append(params, part("next", "valueUri", fhir.String(s.base(c)+"/$outbox?"+next.Encode())))
	}
	for _, e := range page.Entries {
		params = append(params, notificationParameter(e))
	}
	return writeBody(c, http.StatusOK, parameters(params))
}

// notificationParameter is one outbox entry as a Parameters parameter.
func notificationParameter(e store.OutboxEntry) fhir.Value {
	ref := func(typ, id string, version int64) fhir.Value {
		return fhir.Object(fhir.Member{Name: "reference", Value: fhir.String(typ + "/" + id + "/_history/" + strconv.FormatInt(version, 10))})
	}
	parts := []fhir.Value{
		part("id", "valueString", fhir.String(e.ID)),
		part("state", "valueCode", fhir.String(string(e.State))),
		part("subscription", "valueReference", ref("Subscription", e.Subscription, e.SubscriptionVersion)),
		part("focus", "valueReference", ref(e.Type, e.ResourceID, e.ResourceVersion)),
		part("created", "valueInstant", fhir.String(fhir.FormatInstant(e.Created))),
		part("attempts", "valueInteger", fhir.Int(int64(e.Attempts))),
	}
	switch e.State {
	case store.OutboxPending:
		parts = append(parts, part("nextAttempt", "valueInstant", fhir.String(fhir.FormatInstant(e.NextAttempt))))
	case store.OutboxDelivered:
		parts = append(parts, part("delivered", "valueInstant", fhir.String(fhir.FormatInstant(e.Delivered))))
	}
	if e.LastError != "" {
		parts = append(parts, part("lastError", "valueString", fhir.String(e.LastError)))
	}
	if e.LeaseHolder != "" {
		parts = append(parts, part("leaseHolder", "valueString", fhir.String(e.LeaseHolder)))
	}
	return fhir.Object(
		fhir.Member{Name: "name", Value: fhir.String("notification")},
		fhir.Member{Name: "part", Value: fhir.Array(parts...)},
	)
}

// handleRedrive serves POST [base]/$redrive: the dead notifications named
// by a Parameters body (notification, repeated; subscription; or all) or
// by the same query parameters are delivered again from the first attempt.
// The answer counts and names them.
func (s *Server) handleRedrive(c echo.Context) error {
	var sel store.OutboxSelection
	add := func(name, v, expr string) error {
		switch name {
		case "notification":
			sel.IDs = append(sel.IDs, v)
		case "subscription":
			sel.Subscription = strings.TrimPrefix(v, "Subscription/")
		case "all":
			if v != "true" && v != "false" {
				return fhir.Errorf(fhir.Invalid, fhir.IssueValue, expr, "all is true or false, not %q", v)
			}
			sel.All = v == "true"
		case "_format", "_pretty":
		default:
			return fhir.Errorf(fhir.Invalid, fhir.IssueNotSupported, expr, "$redrive has no parameter %q; it takes notification, subscription or all", name)
		}
		return nil
	}
	for name, vals := range c.QueryParams() {
		for _, v := range vals {
			if err := add(name, v, name); err != nil {
				return err
			}
		}
	}
	params, err := s.parametersBody(c, "$redrive")
	if err != nil {
		return err
	}
	for i, p := range params {
		expr := "Parameters.parameter[" + strconv.Itoa(i) + "]"
		if err := add(p.Str("name"), parameterValue(p), expr); err != nil {
			return err
		}
	}
	redriven, err := s.gateway.Redrive(c.Request().Context(), sel)
	if err != nil {
		return err
	}
	out := []fhir.Value{part("redriven", "valueInteger", fhir.Int(int64(len(redriven))))}
	for _, e := range redriven {
		out = append(out, part("notification", "valueString", fhir.String(e.ID)))
	}
	return writeBody(c, http.StatusOK, parameters(out))
}

// parameterValue returns the value of a Parameters parameter as text: a
// string, id, code or boolean value, or a reference.
func parameterValue(p fhir.Value) string {
	for _, m := range p.Members() {
		switch m.Name {
		case "valueString", "valueId", "valueCode", "valueUri":
			return m.Value.Text()
		case "valueBoolean":
			return m.Value.Text()
		case "valueReference":
			return m.Value.Str("reference")
		}
	}
	return ""
}

// parameters returns a Parameters resource holding params.
func parameters(params []fhir.Value) []byte {
	return fhir.Object(
		fhir.Member{Name: "resourceType", Value: fhir.String("Parameters")},
		fhir.Member{Name: "parameter", Value: fhir.Array(params...)},
	).AppendJSON(nil)
}
