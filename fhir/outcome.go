package fhir

// OperationOutcome returns the JSON of an OperationOutcome holding issues.
// An issue without a severity is an error; one without a code is "processing".
func OperationOutcome(issues []Issue) []byte {
	if len(issues) == 0 {
		issues = []Issue{{Severity: SeverityInformation, Code: IssueInformational, Diagnostics: "ok"}}
	}
	return OutcomeValue(issues).AppendJSON(make([]byte, 0, 128+96*len(issues)))
}

// OutcomeValue returns an OperationOutcome as a Value, for embedding in a
// Bundle entry's response.outcome.
func OutcomeValue(issues []Issue) Value {
	items := make([]Value, 0, len(issues))
	for _, is := range issues {
		sev := is.Severity
		if sev == "" {
			sev = SeverityError
		}
		code := is.Code
		if code == "" {
			code = IssueProcessing
		}
		m := []Member{
			{Name: "severity", Value: String(string(sev))},
			{Name: "code", Value: String(string(code))},
		}
		if is.Diagnostics != "" {
			m = append(m, Member{Name: "diagnostics", Value: String(is.Diagnostics)})
		}
		if is.Expression != "" {
			m = append(m, Member{Name: "expression", Value: Array(String(is.Expression))})
		}
		items = append(items, Object(m...))
	}
	return Object(
		Member{Name: "resourceType", Value: String("OperationOutcome")},
		Member{Name: "issue", Value: Array(items...)},
	)
}
