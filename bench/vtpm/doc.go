// Package vtpmbench measures the vTPM trust chain's costs: swtpm start,
// create with and without provisioning, quotes through the adapter against
// direct ones, enrol+quote+verify, and idle memory per vTPM (issue 4).
package vtpmbench
