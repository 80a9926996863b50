// Package runtime runs the container lifecycle (create, start, exec, kill, delete, state, list, pause, update) over a state directory.
package runtime
