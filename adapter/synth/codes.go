package synth

// Code and identifier systems.
const (
	sysSNOMED      = "http://snomed.info/sct"
	sysLOINC       = "http://loinc.org"
	sysICD10       = "http://hl7.org/fhir/sid/icd-10"
	sysUCUM        = "http://unitsofmeasure.org"
	sysNHSNumber   = "https://fhir.nhs.uk/Id/nhs-number"
	sysODS         = "https://fhir.nhs.uk/Id/ods-organization-code"
	sysObsCategory = "http://terminology.hl7.org/CodeSystem/observation-category"
	sysClinical    = "http://terminology.hl7.org/CodeSystem/condition-clinical"
	sysVerStatus   = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
	sysCondCat     = "http://terminology.hl7.org/CodeSystem/condition-category"
	// The trust-epr-icd10 profile's local code systems.
	sysLocalObs     = "https://ryy.example.nhs.uk/CodeSystem/observation"
	sysLocalSetting = "https://ryy.example.nhs.uk/CodeSystem/care-setting"
	// CareBridge's episode type codes, read by the uk-core-trust profile.
	sysEpisodeType = "https://carebridge.example/CodeSystem/mh-episode-type"
)

// coding is a code in a system, with its display.
type coding struct{ system, code, display string }

func sct(code, display string) coding   { return coding{sysSNOMED, code, display} }
func icd(code, display string) coding   { return coding{sysICD10, code, display} }
func loinc(code, display string) coding { return coding{sysLOINC, code, display} }
func local(code, display string) coding { return coding{sysLocalObs, code, display} }

// category is a kind of SMI diagnosis (domain reference §1.5).
type category uint8

const (
	schizophrenia category = iota
	schizoaffective
	bipolar
	otherPsychosis
	psychoticDepression
	nCategories
)

// diagnoses are, per category, its share of the register (per mille, a
// rough English mix), SNOMED CT codes from MH_COD (mappings/codesets/smi.yaml;
// no "in remission" terms) and ICD-10 codes the trust-epr-icd10 profile maps
// into the same category.
var diagnoses = [nCategories]struct {
	name     string
	perMille int
	snomed   []coding
	icd10    []coding
}{
	schizophrenia: {"schizophrenia", 340,
		[]coding{sct("58214004", "Schizophrenia"), sct("64905009", "Paranoid schizophrenia"), sct("83746006", "Chronic schizophrenia"),
			sct("111484002", "Undifferentiated schizophrenia"), sct("26025008", "Residual schizophrenia"), sct("35252006", "Disorganized schizophrenia")},
		[]coding{icd("F20.0", "Paranoid schizophrenia"), icd("F20.1", "Hebephrenic schizophrenia"), icd("F20.3", "Undifferentiated schizophrenia"),
			icd("F20.5", "Residual schizophrenia"), icd("F20.9", "Schizophrenia, unspecified")}},
	schizoaffective: {"schizoaffective", 70,
		[]coding{sct("68890003", "Schizoaffective disorder"), sct("38368003", "Schizoaffective disorder, bipolar type"),
			sct("84760002", "Schizoaffective disorder, depressive type")},
		[]coding{icd("F25.0", "Schizoaffective disorder, manic type"), icd("F25.1", "Schizoaffective disorder, depressive type"),
			icd("F25.9", "Schizoaffective disorder, unspecified")}},
	bipolar: {"bipolar", 330,
		[]coding{sct("13746004", "Bipolar disorder"), sct("371596008", "Bipolar I disorder"), sct("83225003", "Bipolar II disorder"),
			sct("767631007", "Bipolar disorder, most recent episode depression"), sct("191618007", "Bipolar affective disorder, current episode manic"),
			sct("231494001", "Mania")},
		[]coding{icd("F31.0", "Bipolar affective disorder, current episode hypomanic"),
			icd("F31.3", "Bipolar affective disorder, current episode mild or moderate depression"),
			icd("F31.6", "Bipolar affective disorder, current episode mixed"), icd("F31.9", "Bipolar affective disorder, unspecified"),
			icd("F30.1", "Mania without psychotic symptoms")}},
	otherPsychosis: {"other-psychosis", 210,
		[]coding{sct("69322001", "Psychotic disorder"), sct("191525009", "Non-organic psychosis"), sct("1127191000000108", "First episode psychosis"),
			sct("48500005", "Delusional disorder"), sct("231489001", "Acute transient psychotic disorder")},
		[]coding{icd("F22.0", "Delusional disorder"), icd("F23.9", "Acute and transient psychotic disorder, unspecified"),
			icd("F28", "Other nonorganic psychotic disorders"), icd("F29", "Unspecified nonorganic psychosis")}},
	psychoticDepression: {"psychotic-depression", 50,
		[]coding{sct("73867007", "Severe major depression with psychotic features"),
			sct("28475009", "Severe recurrent major depression with psychotic features"),
			sct("191604000", "Single major depressive episode, severe, with psychosis"),
			sct("191613003", "Recurrent major depressive episodes, severe, with psychosis")},
		[]coding{icd("F32.3", "Severe depressive episode with psychotic symptoms"),
			icd("F33.3", "Recurrent depressive disorder, current episode severe with psychotic symptoms")}},
}

// SNOMED CT concepts every dialect may send as they are (each shipped
// profile passes SNOMED CT through), from mappings/codesets/smi.yaml.
var (
	codeFastingGlucose = sct("1003141000000105", "Plasma fasting glucose level")
	codeBPDeclined     = sct("413123006", "Blood pressure procedure declined") // BPDEC_COD
	smokingCurrent     = []coding{sct("77176002", "Smoker"), sct("65568007", "Cigarette smoker"),
		sct("160603005", "Light cigarette smoker"), sct("160606002", "Very heavy cigarette smoker")}
	smokingEx       = sct("8517006", "Ex-smoker")
	smokingNever    = sct("266919005", "Never smoked tobacco")
	alcoholFindings = []coding{sct("777671000000105", "Lower risk alcohol drinking"), sct("105542008", "Current non-drinker of alcohol"),
		sct("777631000000108", "Increasing risk alcohol drinking"), sct("777651000000101", "Higher risk alcohol drinking")}
	// tobaccoSmokingStatus asks the question whose coded answer is the
	// evidence; no profile maps it, and none needs to.
	tobaccoSmokingStatus = loinc("72166-2", "Tobacco smoking status")
)

// refStyle is how a dialect points at the Patient.
type refStyle uint8

const (
	literalRefs   refStyle = iota // urn:uuid fullUrls within the Bundle; PUT to stable ids
	nhsNumberRefs                 // NHS number identifiers; conditional creates on local identifiers
)

// episodeStyle is how a trust dialect sends episodes of care.
type episodeStyle uint8

const (
	noEpisodes episodeStyle = iota
	episodeOfCare
	carePlanCategories
)

// dialect is how one shipped profile's source system writes the same
// clinical facts: its codes, units and references.
type dialect struct {
	side     string
	refs     refStyle
	ukCore   bool // claims the UK Core Patient profile
	icd10    bool // diagnoses in ICD-10
	episodes episodeStyle

	bmi, bpPanel, bpSys, bpDia, chol, hba1c, auditC coding

	cholMgPerDL   bool // total cholesterol in mg/dL (converted by the profile)
	hba1cPercent  bool // HbA1c in DCCT % (converted by the profile)
	smokingAnswer bool // smoking status as LOINC 72166-2 with a coded answer
	localSmoking  bool // current and never smokers as local codes
	mmHgText      bool // blood pressure unit written "mmHg" (a profile rule reads it)
	unitSpellings bool // sometimes "mmHg" and "kg/m^2" as text, as GP systems write them
}

// dialectOf returns the dialect of a shipped profile.
func dialectOf(profile string) (dialect, bool) {
	ukCore := dialect{
		refs: literalRefs, ukCore: true,
		bmi:     sct("60621009", "Body mass index"),
		bpPanel: sct("75367002", "Blood pressure"),
		bpSys:   sct("271649006", "Systolic blood pressure"),
		bpDia:   sct("271650006", "Diastolic blood pressure"),
		chol:    sct("1005671000000105", "Serum cholesterol level"),
		hba1c:   sct("999791000000106", "Haemoglobin A1c level - IFCC standardised"),
		auditC:  sct("763256006", "AUDIT-C score"),
	}
	switch profile {
	case ProfileUKCoreGP:
		d := ukCore
		d.side, d.unitSpellings = SidePrimary, true
		return d, true
	case ProfileUKCoreTrust:
		d := ukCore
		d.side, d.episodes, d.smokingAnswer = SideSecondary, episodeOfCare, true
		return d, true
	case ProfileTrustEPRICD10:
		return dialect{
			side: SideSecondary, refs: literalRefs, icd10: true, episodes: carePlanCategories,
			bmi: local("BMI", "Body mass index"), bpPanel: local("BP", "Blood pressure"),
			bpSys: local("BPSYS", "Systolic blood pressure"), bpDia: local("BPDIA", "Diastolic blood pressure"),
			chol: local("CHOL", "Total cholesterol"), hba1c: local("HBA1C", "HbA1c"), auditC: local("AUDITC", "AUDIT-C score"),
			hba1cPercent: true, localSmoking: true, mmHgText: true,
		}, true
	case ProfileGPNHSNumberRefs:
		return dialect{
			side: SidePrimary, refs: nhsNumberRefs,
			bmi: loinc("39156-5", "Body mass index (BMI) [Ratio]"), bpPanel: loinc("85354-9", "Blood pressure panel with all children optional"),
			bpSys: loinc("8480-6", "Systolic blood pressure"), bpDia: loinc("8462-4", "Diastolic blood pressure"),
			chol:        loinc("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma"),
			hba1c:       loinc("59261-8", "Hemoglobin A1c/Hemoglobin.total in Blood by IFCC protocol"),
			auditC:      loinc("75626-2", "Total score [AUDIT-C]"),
			cholMgPerDL: true, smokingAnswer: true,
		}, true
	}
	return dialect{}, false
}

// Unit conversions as the profiles apply them (mappings/profile.go), so
// that the generator knows the value the gateway will use: converted values
// are rounded to 0.1.
func cholesterolMgPerDL(mmol float64) float64 { return roundTo(mmol*38.67, 0) }
func cholesterolFromMg(mg float64) float64    { return roundTo(mg/38.67, 1) }
func hba1cPercent(mmolPerMol float64) float64 { return roundTo(0.09148*mmolPerMol+2.152, 2) }
func hba1cFromPercent(pct float64) float64    { return roundTo((pct-2.152)/0.09148, 1) }
