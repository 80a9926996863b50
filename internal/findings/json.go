package findings

import (
	"encoding/json"
	"fmt"
	"io"
)

// JSONSchemaVersion is bumped when a field of the JSON output changes meaning.
const JSONSchemaVersion = 1

type jsonReport struct {
	Schema  int         `json:"schemaVersion"`
	Summary jsonSummary `json:"summary"`
	Report  *Report     `json:"report"`
}

type jsonSummary struct {
	Score    string        `json:"score"`
	Counts   map[Level]int `json:"counts"`
	ExitCode int           `json:"exitCode"`
}

// WriteJSON writes the report as one indented JSON document.
func WriteJSON(w io.Writer, r *Report) error {
	doc := jsonReport{
		Schema:  JSONSchemaVersion,
		Summary: jsonSummary{Score: r.Score(), Counts: r.Counts(), ExitCode: r.ExitCode()},
		Report:  r,
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	return nil
}

// Write writes the report in the named format: text, json or sarif.
func Write(w io.Writer, r *Report, format string) error {
	switch format {
	case "text", "":
		return WriteText(w, r)
	case "json":
		return WriteJSON(w, r)
	case "sarif":
		return WriteSARIF(w, r)
	}
	return fmt.Errorf("unknown format %q (want text, json or sarif)", format)
}
