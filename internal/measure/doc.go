// Package measure turns what a container launches into PCR extends and a TCG
// crypto-agile event log, and parses and replays such logs (R-TRUST-1, R-TRUST-5).
package measure
