package fhir

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// subscriptionJSON is a valid rest-hook Subscription whose members the
// cases below replace.
func subscriptionJSON(t *testing.T, members map[string]string) Value {
	t.Helper()
	m := map[string]string{
		"status":   `"requested"`,
		"reason":   `"Tell the practice about its Tasks"`,
		"criteria": `"Task?owner:identifier=https://fhir.nhs.uk/Id/ods-organization-code|A81001&status=requested"`,
		"channel":  `{"type":"rest-hook","endpoint":"https://gp.example.nhs.uk/hooks/carebridge","payload":"application/fhir+json","header":["Authorization: Bearer abc"]}`,
	}
	for k, v := range members {
		m[k] = v
	}
	var b strings.Builder
	b.WriteString(`{"resourceType":"Subscription"`)
	for _, k := range []string{"status", "reason", "criteria", "channel", "end"} {
		if v, ok := m[k]; ok && v != "" {
			b.WriteString(`,"` + k + `":` + v)
		}
	}
	b.WriteString(`}`)
	res, err := DecodeResource([]byte(b.String()))
	if err != nil {
		t.Fatalf("the test Subscription is not valid FHIR: %v\n%s", err, b.String())
	}
	return res
}

func TestReadSubscriptionAcceptsARestHook(t *testing.T) {
	res := subscriptionJSON(t, map[string]string{"end": `"2027-03-31T23:59:59Z"`})
	got, err := ReadSubscription(res, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "requested" || got.Endpoint != "https://gp.example.nhs.uk/hooks/carebridge" || got.Payload != "application/fhir+json" {
		t.Errorf("status, endpoint, payload = %q, %q, %q", got.Status, got.Endpoint, got.Payload)
	}
	if diff := cmp.Diff([]Header{{"Authorization", "Bearer abc"}}, got.Headers); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	if !got.End.Equal(time.Date(2027, 3, 31, 23, 59, 59, 0, time.UTC)) {
		t.Errorf("end = %v", got.End)
	}
	if got.Criteria.Type != "Task" || len(got.Criteria.Clauses) != 2 {
		t.Errorf("criteria = %+v, want two clauses on Task", got.Criteria)
	}
}

func TestReadSubscriptionPayload(t *testing.T) {
	for _, c := range []struct{ payload, want string }{
		{"", ""},
		{`"application/fhir+json"`, "application/fhir+json"},
		{`"application/json"`, "application/json"},
		{`"application/fhir+json; charset=utf-8"`, "application/fhir+json"},
	} {
		channel := `{"type":"rest-hook","endpoint":"http://127.0.0.1:9/x"}`
		if c.payload != "" {
			channel = `{"type":"rest-hook","endpoint":"http://127.0.0.1:9/x","payload":` + c.payload + `}`
		}
		res := subscriptionJSON(t, map[string]string{"channel": channel})
		got, err := ReadSubscription(res, time.UTC)
		if err != nil {
			t.Errorf("payload %s: %v", c.payload, err)
			continue
		}
		if got.Payload != c.want {
			t.Errorf("payload %s read as %q, want %q", c.payload, got.Payload, c.want)
		}
	}
}

func TestReadSubscriptionRefusesWhatItCannotRun(t *testing.T) {
	for _, c := range []struct {
		name    string
		members map[string]string
		expr    string
		code    IssueType
		says    string
	}{
		{"a websocket channel", map[string]string{"channel": `{"type":"websocket","endpoint":"wss://x.example/ws"}`},
			"Subscription.channel.type", IssueNotSupported, "rest-hook"},
		{"an email channel without endpoint", map[string]string{"channel": `{"type":"email"}`},
			"Subscription.channel.type", IssueNotSupported, "rest-hook"},
		{"a rest-hook without endpoint", map[string]string{"channel": `{"type":"rest-hook"}`},
			"Subscription.channel.endpoint", IssueValue, "needs an endpoint"},
		{"a relative endpoint", map[string]string{"channel": `{"type":"rest-hook","endpoint":"hooks/carebridge"}`},
			"Subscription.channel.endpoint", IssueValue, "absolute http or https"},
		{"an ftp endpoint", map[string]string{"channel": `{"type":"rest-hook","endpoint":"ftp://x.example/hooks"}`},
			"Subscription.channel.endpoint", IssueValue, "absolute http or https"},
		{"an endpoint with a fragment", map[string]string{"channel": `{"type":"rest-hook","endpoint":"https://x.example/hooks#a"}`},
			"Subscription.channel.endpoint", IssueValue, "fragment"},
		{"an XML payload", map[string]string{"channel": `{"type":"rest-hook","endpoint":"https://x.example/h","payload":"application/fhir+xml"}`},
			"Subscription.channel.payload", IssueNotSupported, "application/fhir+json"},
		{"a header without a colon", map[string]string{"channel": `{"type":"rest-hook","endpoint":"https://x.example/h","header":["Authorization: a","Bearer xyz"]}`},
			"Subscription.channel.header[1]", IssueValue, "Name: value"},
		{"a header name with a space", map[string]string{"channel": `{"type":"rest-hook","endpoint":"https://x.example/h","header":["X Api Key: 1"]}`},
			"Subscription.channel.header[0]", IssueValue, "Name: value"},
		{"a Content-Type header", map[string]string{"channel": `{"type":"rest-hook","endpoint":"https://x.example/h","header":["Content-Type: text/plain"]}`},
			"Subscription.channel.header[0]", IssueValue, "set by the gateway"},
		{"the gateway's own header", map[string]string{"channel": `{"type":"rest-hook","endpoint":"https://x.example/h","header":["X-CareBridge-Notification-Id: 1"]}`},
			"Subscription.channel.header[0]", IssueValue, "set by the gateway"},
		{"criteria on a type not served", map[string]string{"criteria": `"Appointment?status=booked"`},
			"Subscription.criteria", IssueNotSupported, "resource type"},
		{"criteria without a type", map[string]string{"criteria": `"?status=requested"`},
			"Subscription.criteria", IssueNotSupported, "resource type"},
		{"criteria with an unknown parameter", map[string]string{"criteria": `"Task?colour=red"`},
			"Subscription.criteria", IssueNotSupported, "colour"},
		{"criteria with a malformed date", map[string]string{"criteria": `"Task?authored-on=2025-13-01"`},
			"Subscription.criteria", IssueValue, "authored-on"},
		{"criteria with a result parameter", map[string]string{"criteria": `"Task?status=requested&_count=10"`},
			"Subscription.criteria", IssueNotSupported, "_count"},
		{"criteria with a bad escape", map[string]string{"criteria": `"Task?status=%zz"`},
			"Subscription.criteria", IssueValue, "not a valid search"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadSubscription(subscriptionJSON(t, c.members), time.UTC)
			e := AsError(err)
			if err == nil || e.Kind != Unprocessable {
				t.Fatalf("ReadSubscription = %v, want an Unprocessable error", err)
			}
			found := false
			for _, is := range e.Issues {
				if is.Expression == c.expr && is.Code == c.code && strings.Contains(is.Diagnostics, c.says) {
					found = true
				}
			}
			if !found {
				t.Errorf("issues %+v; want one at %s, code %s, saying %q", e.Issues, c.expr, c.code, c.says)
			}
		})
	}
}

func TestParseCriteriaReadsIdentifiersOfReferenceParameters(t *testing.T) {
	owned := func(ods string) *Index {
		task := `{"resourceType":"Task","status":"requested","intent":"order","owner":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"` + ods + `"}}}`
		res, err := DecodeResource([]byte(task))
		if err != nil {
			t.Fatal(err)
		}
		ix, err := ExtractIndex("Task", res, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		return ix
	}
	for _, c := range []struct {
		criteria string
		a81001   bool // matches a Task owned by A81001
		b82002   bool
	}{
		{"Task?owner=https://fhir.nhs.uk/Id/ods-organization-code|A81001", true, false},
		{"Task?owner:identifier=https://fhir.nhs.uk/Id/ods-organization-code|A81001", true, false},
		{"Task?owner=https://fhir.nhs.uk/Id/ods-organization-code|A81001,https://fhir.nhs.uk/Id/ods-organization-code|B82002", true, true},
		{"Task?owner=Organization/123", false, false},
		{"Task?status=requested", true, true},
		{"Task", true, true},
		{"Task?status=completed", false, false},
	} {
		q, err := ParseCriteria(c.criteria, time.UTC)
		if err != nil {
			t.Errorf("%s: %v", c.criteria, err)
			continue
		}
		if got := q.Matches("t1", time.Now(), owned("A81001")); got != c.a81001 {
			t.Errorf("%s matches a Task owned by A81001: %v, want %v", c.criteria, got, c.a81001)
		}
		if got := q.Matches("t1", time.Now(), owned("B82002")); got != c.b82002 {
			t.Errorf("%s matches a Task owned by B82002: %v, want %v", c.criteria, got, c.b82002)
		}
	}
}
