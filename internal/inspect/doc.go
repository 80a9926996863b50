// Package inspect is the in-container inspector of the demo: it reads its own confinement from /proc and tries forbidden operations in child processes.
package inspect
