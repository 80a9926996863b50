// Package findings models the result of a trustbox assurance check (a report of findings, each naming its rule, requirement IDs, evidence and fix) and writes it as text, JSON or SARIF 2.1.0.
package findings
