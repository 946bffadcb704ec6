package healthcheck

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"slices"

	"go.yaml.in/yaml/v3"
)

// Rules are the health check's data: due-soon days, follow-up thresholds
// and the concept groups they read, under a version label that every
// verdict records (rules/default.yaml documents each value and its source).
type Rules struct {
	Version       string `yaml:"version"`
	DueSoonDays   int    `yaml:"dueSoonDays"`
	BloodPressure struct {
		Systolic             []string `yaml:"systolic"`
		Diastolic            []string `yaml:"diastolic"`
		HighSystolicAtLeast  float64  `yaml:"highSystolicAtLeast"`
		HighDiastolicAtLeast float64  `yaml:"highDiastolicAtLeast"`
	} `yaml:"bloodPressure"`
	BMI struct {
		HighAtLeast float64 `yaml:"highAtLeast"`
	} `yaml:"bmi"`
	Glucose struct {
		HbA1c                        []string `yaml:"hba1c"`
		FastingGlucose               []string `yaml:"fastingGlucose"`
		HbA1cHyperglycaemiaAtLeast   float64  `yaml:"hba1cHyperglycaemiaAtLeast"`
		HbA1cDiabetesAtLeast         float64  `yaml:"hba1cDiabetesAtLeast"`
		FastingHyperglycaemiaAtLeast float64  `yaml:"fastingHyperglycaemiaAtLeast"`
		FastingDiabetesAtLeast       float64  `yaml:"fastingDiabetesAtLeast"`
	} `yaml:"glucose"`
	Lipids struct {
		TotalCholesterol      []string `yaml:"totalCholesterol"`
		TotalCholesterolAbove float64  `yaml:"totalCholesterolAbove"`
	} `yaml:"lipids"`
	Smoking struct {
		Current []string `yaml:"current"`
	} `yaml:"smoking"`
	Alcohol struct {
		AuditC                []string `yaml:"auditC"`
		AuditCPositiveAtLeast float64  `yaml:"auditCPositiveAtLeast"`
	} `yaml:"alcohol"`
}

//go:embed rules/default.yaml
var defaultRules []byte

// DefaultRules returns the shipped rules.
func DefaultRules() (*Rules, error) { return ParseRules(defaultRules) }

// ParseRules reads rules from YAML, refusing unknown keys, a missing
// version, and thresholds that are not positive.
func ParseRules(data []byte) (*Rules, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var r Rules
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("health check rules: %w", err)
	}
	var errs []error
	if r.Version == "" {
		errs = append(errs, errors.New("version is missing"))
	}
	if r.DueSoonDays < 0 {
		errs = append(errs, errors.New("dueSoonDays is negative"))
	}
	for _, t := range []struct {
		name string
		v    float64
	}{
		{"bloodPressure.highSystolicAtLeast", r.BloodPressure.HighSystolicAtLeast},
		{"bloodPressure.highDiastolicAtLeast", r.BloodPressure.HighDiastolicAtLeast},
		{"bmi.highAtLeast", r.BMI.HighAtLeast},
		{"glucose.hba1cHyperglycaemiaAtLeast", r.Glucose.HbA1cHyperglycaemiaAtLeast},
		{"glucose.hba1cDiabetesAtLeast", r.Glucose.HbA1cDiabetesAtLeast},
		{"glucose.fastingHyperglycaemiaAtLeast", r.Glucose.FastingHyperglycaemiaAtLeast},
		{"glucose.fastingDiabetesAtLeast", r.Glucose.FastingDiabetesAtLeast},
		{"lipids.totalCholesterolAbove", r.Lipids.TotalCholesterolAbove},
		{"alcohol.auditCPositiveAtLeast", r.Alcohol.AuditCPositiveAtLeast},
	} {
		if t.v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be above 0", t.name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("health check rules: %w", err)
	}
	return &r, nil
}

// in reports whether concept is one of set.
func in(set []string, concept string) bool { return slices.Contains(set, concept) }
